"""The node as users run it: the ``depthpose_node`` console script with a params file and remaps, in its own
process, talking to this test process through real Fast DDS on loopback."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from depthpose_ros.msg import Skeleton2DArray
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_support import (
    NODE_SCRIPT,
    TINY_PARAMS,
    NodeProcess,
    depth_image,
    make_node,
    ros_context,
    spin_until,
    wait_for_match,
)
from sensor_msgs.msg import Image

from depthpose_core.demo_scene import make_demo_frame
from depthpose_core.messages import stamp_ns

DEPTH_MM = make_demo_frame(seed=0)[0]


@pytest.fixture
def context() -> Iterator[object]:
    with ros_context() as ctx:
        yield ctx


def _warm_up(executor: object, pub: object, outputs: list, node: NodeProcess) -> None:
    """Publish a frame every 0.5 s until the node answers one: afterwards both sides of the discovery are done
    (a best-effort writer drops samples for a reader it has not matched yet)."""
    msg = depth_image(DEPTH_MM, stamp_ns=1, frame_id="warm_up")
    deadline = time.monotonic() + 60
    while not outputs and time.monotonic() < deadline:
        pub.publish(msg)
        spin_until(executor, lambda: bool(outputs), 0.5)
    assert outputs, node.output()
    # A slow machine may still be answering warm-up frames published before the first answer came back.
    seen = len(outputs)
    while spin_until(executor, lambda: len(outputs) > seen, 1.0):
        seen = len(outputs)
    outputs.clear()


def _cases() -> list[tuple[str, Image]]:
    metres = DEPTH_MM.astype(np.float32) / 1000.0
    metres[::7, ::5] = np.nan
    mono8 = (DEPTH_MM // 30).astype(np.uint8)
    return [
        ("16UC1", depth_image(DEPTH_MM, encoding="16UC1")),
        ("mono16", depth_image(DEPTH_MM, encoding="mono16")),
        ("32FC1 with NaN", depth_image(metres, encoding="32FC1")),
        ("mono8", depth_image(mono8, encoding="mono8")),
        ("16UC1 big-endian", depth_image(DEPTH_MM, encoding="16UC1", bigendian=True)),
        ("16UC1 padded rows", depth_image(DEPTH_MM, encoding="16UC1", pad=64)),
        ("already low resolution", depth_image(np.ascontiguousarray(DEPTH_MM[::40, ::40]))),
        ("1280x960", depth_image(np.repeat(np.repeat(DEPTH_MM, 2, 0), 2, 1))),
    ]


def test_console_script_with_params_file_and_remaps_answers_every_encoding(context: object, tmp_path: Path) -> None:
    node = NodeProcess(tmp_path, {**TINY_PARAMS, "publish_debug_image": True},
                       remaps={"depth/image": "/ceiling/depth", "skeletons": "/or/skeletons"})  # fmt: skip
    try:
        assert node.wait_output("subscribed to /ceiling/depth"), node.output()
        tester, executor = make_node(context, "publisher")
        pub = tester.create_publisher(Image, "/ceiling/depth", 10)
        arrays: list[Skeleton2DArray] = []
        debug: list[Image] = []
        tester.create_subscription(Skeleton2DArray, "/or/skeletons", arrays.append, 10)
        tester.create_subscription(Image, "/depthpose/debug_image", debug.append, 10)
        wait_for_match(executor, pub)
        _warm_up(executor, pub, arrays, node)
        spin_until(executor, lambda: False, 0.3)
        debug.clear()
        for i, (name, msg) in enumerate(_cases()):
            msg.header.frame_id = f"ceiling_{i}"
            msg.header.stamp.sec, msg.header.stamp.nanosec = 1000 + i, 123456789
            pub.publish(msg)
            assert spin_until(executor, lambda: any(a.header == msg.header for a in arrays), 30), (name, node.output())
            out = next(a for a in arrays if a.header == msg.header)
            assert (out.image_width, out.image_height) == (msg.width, msg.height), name
        assert len(arrays) == len(_cases())  # one array per image, none twice
        assert spin_until(executor, lambda: len(debug) == len(arrays), 10)
        assert {(d.width, d.height) for d in debug} == {(16, 12)}  # debug images only at the low resolution
        tester.destroy_node()
    finally:
        assert node.stop() == 0, node.output()
    assert "no trained weights" in node.output()


def test_lifecycle_console_script_waits_for_its_transitions(context: object, tmp_path: Path) -> None:
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState

    node = NodeProcess(tmp_path, TINY_PARAMS, executable=NODE_SCRIPT.with_name("depthpose_lifecycle_node"))
    try:
        tester, executor = make_node(context, "manager")
        change = tester.create_client(ChangeState, "/depthpose/change_state")
        assert change.wait_for_service(timeout_sec=60), node.output()
        assert "subscribed to" not in node.output()  # unconfigured: no model, no topics
        for transition in (Transition.TRANSITION_CONFIGURE, Transition.TRANSITION_ACTIVATE):
            future = change.call_async(ChangeState.Request(transition=Transition(id=transition)))
            assert spin_until(executor, future.done, 60) and future.result().success, node.output()
        assert node.wait_output("subscribed to /depth/image"), node.output()
        pub = tester.create_publisher(Image, "depth/image", 10)
        arrays: list[Skeleton2DArray] = []
        tester.create_subscription(Skeleton2DArray, "skeletons", arrays.append, 10)
        wait_for_match(executor, pub)
        _warm_up(executor, pub, arrays, node)
        tester.destroy_node()
    finally:
        assert node.stop() == 0, node.output()


def test_newest_frame_only_under_load(context: object, tmp_path: Path) -> None:
    # Flip test on at 32x24: inference takes several 30 Hz frame periods on this CPU.
    node = NodeProcess(tmp_path, {**TINY_PARAMS, "input_width": 32, "input_height": 24, "flip_test": True})
    try:
        assert node.wait_output("subscribed to"), node.output()
        tester, executor = make_node(context, "load")
        pub = tester.create_publisher(Image, "depth/image", 10)
        outputs: list[Skeleton2DArray] = []
        arrivals: dict[int, float] = {}

        def arrived(msg: Skeleton2DArray) -> None:
            outputs.append(msg)
            arrivals[stamp_ns(msg.header)] = time.monotonic()

        tester.create_subscription(Skeleton2DArray, "skeletons", arrived, 100)
        diagnostics: list[DiagnosticArray] = []
        tester.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
        wait_for_match(executor, pub)
        _warm_up(executor, pub, outputs, node)

        def settled() -> dict[str, str]:
            """The node's counters once no frame is pending (every received image is accounted for)."""
            keys = ("frames processed", "frames dropped", "bad input", "frames failed")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                diagnostics.clear()
                assert spin_until(executor, lambda: len(diagnostics) >= 1, 5)
                values = {kv.key: kv.value for kv in diagnostics[-1].status[0].values}
                if int(values["images received"]) == sum(int(values[k]) for k in keys):
                    return values
            raise AssertionError(f"the node never settled: {values}")

        before = settled()
        outputs.clear()
        arrivals.clear()
        sent: dict[int, float] = {}
        template = depth_image(DEPTH_MM)
        start = time.monotonic()
        for i in range(90):  # 3 s at 30 Hz
            while time.monotonic() < start + i / 30.0:
                executor.spin_once(timeout_sec=0.002)
            template.header.stamp.sec, template.header.stamp.nanosec = 50, i + 1
            pub.publish(template)
            sent[stamp_ns(template.header)] = time.monotonic()
        after = settled()
        tester.destroy_node()
    finally:
        assert node.stop() == 0, node.output()
    delta = {k: int(after[k]) - int(before[k]) for k in ("images received", "frames processed", "frames dropped",
                                                         "images lost before the node", "bad input", "frames failed")}
    received, processed, dropped = delta["images received"], delta["frames processed"], delta["frames dropped"]
    assert received + delta["images lost before the node"] == 90  # every frame published is accounted for
    assert received == processed + dropped and delta["bad input"] == delta["frames failed"] == 0  # none pending
    stamps = [stamp_ns(a.header) for a in outputs]
    assert processed == len(stamps) == len(set(stamps))  # one output per processed frame, none processed twice
    assert stamps == sorted(stamps)  # in order: the newest frame each time
    inference_s = float(after["inference p50 (ms)"]) / 1e3
    assert processed <= 3.0 / inference_s + 3  # the node cannot process more than its inference allows ...
    assert dropped + delta["images lost before the node"] >= 90 - (3.0 / inference_s + 3)  # ... the rest is dropped
    # Bounded latency: a frame waits at most for the inference in progress, then its own (plus slack for DDS
    # and scheduling on a busy 2-core machine); a queueing node would reach seconds by the end of the burst.
    latencies = [arrivals[s] - sent[s] for s in arrivals]
    p95 = float(after["inference p95 (ms)"]) / 1e3
    assert max(latencies) < 2 * p95 + 0.5, (latencies, p95)


def test_incompatible_qos_is_reported(context: object, tmp_path: Path) -> None:
    node = NodeProcess(tmp_path, {**TINY_PARAMS, "qos.reliability": "reliable"})
    try:
        assert node.wait_output("subscribed to"), node.output()
        tester, executor = make_node(context, "best_effort_camera")
        tester.create_publisher(Image, "depth/image", QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
        diagnostics: list[DiagnosticArray] = []
        tester.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
        assert spin_until(executor, lambda: "incompatible QoS" in node.output(), 20), node.output()
        assert spin_until(executor, lambda: any("incompatible QoS" in d.status[0].message for d in diagnostics), 10)
        tester.destroy_node()
    finally:
        node.stop()
    assert "policy reliability" in node.output() and "qos.reliability" in node.output()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"device": "cuda:99"}, "'cuda:99'"),
        ({"model": "/nonexistent/model.pth"}, "does not exist"),
        ({"decoder.mode": "slow"}, "decoder.mode"),
        ({"input_width": 16, "input_height": 0}, "both be set"),
        ({"max_rate": "fast"}, "parameter max_rate must be a number, got 'fast'"),
        ({"publish_markers": "yes"}, "parameter publish_markers must be true or false, got 'yes'"),
        ({"depth_near_mm": -5}, "parameter depth_near_mm must be in [0.0, 100000.0], got -5"),
        ({"qos.depth": 0}, "qos.depth"),
        ({"depth_near_mm": 4000.0, "depth_far_mm": 3000.0}, "near_mm < far_mm"),
        ({"input_width": 320, "input_height": 240}, "input_width"),
        ({"backend": "tensorrt"}, "backend"),
        ({"model": "{tmp}/corrupt.onnx"}, "corrupt.onnx is not a readable ONNX file"),
    ],
)
def test_start_up_errors_are_clear_and_exit_non_zero(tmp_path: Path, params: dict, message: str) -> None:
    (tmp_path / "corrupt.onnx").write_bytes(b"\x08\x07 not a protobuf" * 64)
    params = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in params.items()}
    node = NodeProcess(tmp_path, {**TINY_PARAMS, **params})
    code = node.proc.wait(timeout=60)
    node.stop()
    assert code == 1, node.output()
    assert "cannot start" in node.output() and message in node.output(), node.output()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read: No such file or directory"),
        ("depthpose:\n  ros__parameters: [\n", "is not valid YAML"),
        ("- just\n- a list\n", "must map node names to ros__parameters, got list"),
    ],
)
def test_a_bad_params_file_is_one_line_on_stderr(tmp_path: Path, content: str | None, message: str) -> None:
    params = tmp_path / "params.yaml"
    if content is not None:
        params.write_text(content)
    proc = subprocess.run([str(NODE_SCRIPT), "--ros-args", "--params-file", str(params)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))  # fmt: skip
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ERROR: depthpose: params file {params} {message}"), lines


def test_malformed_ros_arguments_exit_1_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([str(NODE_SCRIPT), "--ros-args", "-p"], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "ERROR: depthpose cannot start ROS: failed to initialize rcl: Couldn't parse trailing -p flag" in proc.stderr
