"""Live replay through the node (``depthpose_replay_live``): a synthetic bag is published to the real node
process over Fast DDS on loopback, the answers are recorded into a bag, and the report is honest about drops;
and the live demo (``depthpose_demo_live``) that the README's main command runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from ros_support import TINY_PARAMS, NodeProcess
from rosbags.rosbag2 import Reader, Writer

from depthpose_core.backends import select_backend
from depthpose_core.bags import SKELETON_ARRAY, typestore
from depthpose_core.compressed_depth import depth_to_compressed
from depthpose_core.messages import image_to_depth, stamp_ns
from depthpose_core.synth import WorldParams
from depthpose_ros import demo_live
from depthpose_ros.counters import Count
from depthpose_ros.live_replay import live_replay, main

FRAMES = 12
IMAGES, SKELETONS = "/cam1/depth/image_raw", "/cam1/depth/skeletons"


@pytest.fixture(scope="module")
def synth_bag(synth_dataset: Callable[..., Path]) -> Path:
    return synth_dataset(frames=FRAMES, cameras=(1,), fps=15.0, bag="sqlite3", seed=5, world=WorldParams(max_people=3))


@pytest.fixture(scope="module")
def small_model(checkpoint_file: Callable[..., Path]) -> Path:
    """A narrow network at 64x48 (the product's resolution): it follows a few frames per second on a busy CPU."""
    return checkpoint_file((64, 48))


def _node(tmp_path: Path, **params: object) -> NodeProcess:
    node = NodeProcess(tmp_path, {**TINY_PARAMS, **params}, remaps={"depth/image": IMAGES, "skeletons": SKELETONS})
    assert node.wait_output(f"subscribed to {IMAGES}"), node.output()
    return node


def test_at_a_followable_rate_every_frame_is_answered_and_recorded(
    synth_bag: Path, small_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = _node(tmp_path, model=str(small_model), input_width=0, input_height=0)
    try:
        out = tmp_path / "answers"
        code = main([str(synth_bag / "bags/seq000"), "--out", str(out), "--rate", "0.15", "--settle", "3",
                     "--gt", str(synth_bag / "annotations.json")])  # fmt: skip
        text = capsys.readouterr().out
    finally:
        node.stop()
    assert code == 0, text + node.output()
    assert f"frames published {FRAMES}, skeleton arrays received {FRAMES} (answering no frame sent 0)" in text, text
    node_line = (f"node: images received {FRAMES}, frames processed {FRAMES}, dropped (newest frame only) 0, lost "
                 "before the node 0, bad input 0, failed 0; still pending 0, published but unaccounted for 0")
    assert node_line in text, text
    assert "end-to-end latency" in text and "p50 nan" not in text
    assert "MVOR PCK@0.2 of the node's answers" in text and "\nall " in text, text  # the exact evaluator
    with Reader(out) as reader:
        store = typestore()
        arrays = [(t, store.deserialize_cdr(raw, c.msgtype)) for c, t, raw in reader.messages() if c.topic == SKELETONS]
        assert all(c.msgtype == SKELETON_ARRAY for c in reader.connections)
    with Reader(synth_bag / "bags/seq000") as reader:
        sent = [stamp_ns(store.deserialize_cdr(raw, c.msgtype).header)
                for c, _, raw in reader.messages() if c.topic == IMAGES]  # fmt: skip
    assert sorted(stamp_ns(a.header) for _, a in arrays) == sorted(sent)  # each frame once, by its header stamp
    assert json.loads((tmp_path / "answers_results.json").read_text()) == []  # the untrained network finds nobody


def test_under_overload_the_drops_match_what_the_node_reports(synth_bag: Path, tmp_path: Path) -> None:
    # A 64x48 full-width network on the CPU takes far longer per frame than the 30 fps played here (twice the
    # bag's rate); the node's callback itself keeps up, so its queue loses nothing after its last image.
    node = _node(tmp_path, input_width=64, input_height=48)
    try:
        report = live_replay(synth_bag / "bags/seq000", tmp_path / "answers", rate=2.0, settle_s=60.0)
    finally:
        node.stop()
    n = report.node
    assert n, "no diagnostics from the node"
    assert report.published == FRAMES and n[Count.DROPPED] > 0, report.text()
    assert report.received == n[Count.PROCESSED] and report.pending() == 0 and not n[Count.FAILED], report.text()
    assert n[Count.RECEIVED] + n[Count.LOST] == report.published, report.text()
    # every unanswered frame is explained by the node's own counters
    assert report.published - report.received == n[Count.DROPPED] + n[Count.LOST]
    assert len(report.latencies_ms) == report.received and not report.unmatched and not report.missing_diagnostics


def test_without_a_node_it_says_so(synth_bag: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = str(synth_bag / "bags/seq000")
    assert main([bag, "--out", str(tmp_path / "o"), "--wait", "1"]) == 1
    assert f"no node subscribed to ['{IMAGES}'] within 1 s" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing recorded: no empty bag left behind to block the next run
    assert main([str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 1
    assert "not a readable rosbag2" in capsys.readouterr().err
    assert main([bag, "--out", str(tmp_path / "o3"), "--topic", "/cam9/depth"]) == 1
    assert "has no image topic ['/cam9/depth']" in capsys.readouterr().err
    assert main([bag, "--out", str(tmp_path / "o4"), "--rate", "0"]) == 1
    assert "rate must be > 0" in capsys.readouterr().err


def test_live_demo_runs_the_node_with_the_shipped_weights(tmp_path: Path, mvor_dir: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "demo"
    code = demo_live.main(["--out", str(out), "--frames", "8", "--fps", "2", "--mvor",
                           str(mvor_dir / "camma_mvor_2018.json")])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text + (out / "node.log").read_text()
    assert "trained on SYNTHETIC data only" in text
    assert "frames published 8, skeleton arrays received 8" in text and "still pending 0" in text, text
    assert "MVOR PCK@0.2 of the node's answers" in text and "\nall " in text
    chosen = select_backend("auto", torch.device("cpu"))  # the node's auto choice, from its /diagnostics
    assert f"node reading /cam1/depth/image_raw: backend {chosen} (" in text, text
    assert cv2.imread(str(out / "demo_sheet.png")).shape == (2 * 192, 4 * 256, 3)  # 8 low-res frames, 4x enlarged
    with Reader(out / "answers") as reader:  # the node's outputs only: skeleton arrays, no image
        assert {c.msgtype for c in reader.connections} == {SKELETON_ARRAY}
    assert "running the shipped demo weights" in (out / "node.log").read_text()
    # The node's answers are matched to the scene's truth: results carry its image ids (none was left unmatched).
    results = json.loads((out / "answers_results.json").read_text())
    gt_ids = {i["id"] for i in json.loads((out / "synth" / "annotations.json").read_text())["images"]}
    assert results, "the shipped weights found nobody in the demo scene"
    assert {r["image_id"] for r in results} <= gt_ids


def test_a_compressed_depth_bag_replays_through_the_node_reading_compressed_depth(
    synth_bag: Path, small_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The synthetic bag re-recorded as image_transport's compressedDepth: published as CompressedImage on
    <image topic>/compressedDepth, every frame answered by a node with input_transport compressedDepth."""
    store = typestore()
    packed_bag = tmp_path / "packed"
    with Reader(synth_bag / "bags/seq000") as reader, Writer(packed_bag, version=9) as writer:
        packed = writer.add_connection(f"{IMAGES}/compressedDepth", "sensor_msgs/msg/CompressedImage", typestore=store)
        for conn, t, raw in reader.messages():
            if conn.topic != IMAGES:
                continue
            image = store.deserialize_cdr(raw, conn.msgtype)
            depth = image_to_depth(image).astype("<u2")
            fmt, data = depth_to_compressed(np.ascontiguousarray(depth))
            msg = store.types["sensor_msgs/msg/CompressedImage"](header=image.header, format=fmt,
                                                                 data=np.frombuffer(data, np.uint8))  # fmt: skip
            writer.write(packed, t, bytes(store.serialize_cdr(msg, "sensor_msgs/msg/CompressedImage")))
    node = NodeProcess(tmp_path, {**TINY_PARAMS, "model": str(small_model), "input_width": 0, "input_height": 0,
                                  "input_transport": "compressedDepth"},
                       remaps={"depth/image": IMAGES, "skeletons": SKELETONS})  # fmt: skip
    assert node.wait_output(f"subscribed to {IMAGES}/compressedDepth"), node.output()
    try:
        code = main([str(packed_bag), "--out", str(tmp_path / "answers"), "--rate", "0.15", "--settle", "3",
                     "--skeletons", f"{IMAGES}/compressedDepth={SKELETONS}"])  # fmt: skip
        text = capsys.readouterr().out
    finally:
        node.stop()
    assert code == 0, text + node.output()
    assert f"frames published {FRAMES}, skeleton arrays received {FRAMES} (answering no frame sent 0)" in text, text
    assert "bad input 0, failed 0" in text, text
