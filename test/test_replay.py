"""Offline replay of rosbag2 files (no ROS runtime): every image answered once with its header and bag time,
cameras batched, bad messages counted, interruptions leave a valid bag, PCK per camera, the CLI."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_typestore
from samples import EAGER

from depthpose_core.bags import MESSAGES, SKELETON_ARRAY, typestore
from depthpose_core.cli import main
from depthpose_core.compressed_depth import depth_to_compressed
from depthpose_core.config import RuntimeConfig
from depthpose_core.demo_scene import make_demo_frame
from depthpose_core.errors import DepthPoseError
from depthpose_core.inference import PoseEstimator
from depthpose_core.messages import stamp_ns
from depthpose_core.preprocess import Preprocessing
from depthpose_core.replay import evaluate_replay, replay_bag
from depthpose_core.synth import WorldParams


@pytest.fixture(scope="module")
def tiny_model(checkpoint_file: Callable[..., Path]) -> Path:
    return checkpoint_file((16, 12))


def _estimator(path: Path) -> PoseEstimator:
    return PoseEstimator.from_checkpoint(path, **EAGER, flip_test=False)


@pytest.fixture(scope="module")
def finder() -> PoseEstimator:
    """The shipped demo weights: they find the synthetic clinicians, so result-to-truth mappings are exercised."""
    return PoseEstimator.from_request("", RuntimeConfig(**EAGER, flip_test=False))


@pytest.fixture(scope="module", params=["sqlite3", "mcap"])
def synth_bag(request: pytest.FixtureRequest, synth_dataset: Callable[..., Path]) -> Path:
    return synth_dataset(frames=5, cameras=(1, 2), bag=request.param, seed=5, world=WorldParams(max_people=3))


def _read(path: Path) -> list[tuple[str, str, int, object]]:
    store = typestore()
    with Reader(path) as reader:
        return [(c.topic, c.msgtype, t, store.deserialize_cdr(raw, c.msgtype)) for c, t, raw in reader.messages()]


def test_every_image_is_answered_once_with_its_header_and_bag_time(synth_bag: Path, tiny_model: Path,
                                                                  tmp_path: Path) -> None:  # fmt: skip
    summary = replay_bag(synth_bag / "bags/seq000", tmp_path / "out", _estimator(tiny_model), debug_image=True,
                         progress=False)  # fmt: skip
    assert summary.images == summary.written == 10 and not summary.skipped and summary.passed_through == 10
    inputs = [m for m in _read(synth_bag / "bags/seq000") if m[1] == "sensor_msgs/msg/Image"]
    outputs = _read(tmp_path / "out")
    arrays = [m for m in outputs if m[1] == SKELETON_ARRAY]
    assert len(arrays) == 10
    for topic, _, bag_time, image in inputs:
        [answer] = [a for a in arrays if a[0] == topic.replace("image_raw", "skeletons")
                    and stamp_ns(a[3].header) == stamp_ns(image.header)]  # fmt: skip
        assert answer[2] == bag_time and answer[3].header.frame_id == image.header.frame_id
        assert (answer[3].image_width, answer[3].image_height) == (image.width, image.height)
    infos = [m for m in outputs if m[1] == "sensor_msgs/msg/CameraInfo"]
    assert len(infos) == 10 and {m[0] for m in infos} == {"/cam1/depth/camera_info", "/cam2/depth/camera_info"}
    debug = [m[3] for m in outputs if m[0].endswith("debug_image")]
    assert len(debug) == 10 and {(d.width, d.height) for d in debug} == {(16, 12)}  # low resolution only


def test_cameras_sharing_a_stamp_go_through_one_forward_pass(synth_bag: Path, tiny_model: Path, tmp_path: Path) -> None:
    est = _estimator(tiny_model)
    batches: list[int] = []
    handle = est.model.register_forward_pre_hook(lambda _m, args: batches.append(args[0].shape[0]))
    try:
        replay_bag(synth_bag / "bags/seq000", tmp_path / "out", est, progress=False)
    finally:
        handle.remove()
    assert batches == [2] * 5  # five time steps, both cameras in each forward pass


def _write_bag(path: Path, frames: list[tuple[str, int, bytes]]) -> None:
    store = get_typestore(Stores.ROS2_KILTED)
    with Writer(path, version=9) as writer:
        conns: dict[str, object] = {}
        for topic, t, raw in frames:
            if topic not in conns:
                conns[topic] = writer.add_connection(topic, "sensor_msgs/msg/Image", typestore=store)
            writer.write(conns[topic], t, raw)


def _image(store: object, t: int, *, encoding: str = "16UC1", data_bytes: int | None = None) -> bytes:
    types = store.types
    header = types["std_msgs/msg/Header"](stamp=types["builtin_interfaces/msg/Time"](sec=t, nanosec=0),
                                          frame_id="cam")  # fmt: skip
    data = np.full(640 * 480 * 2 if data_bytes is None else data_bytes, 7, np.uint8)
    msg = types["sensor_msgs/msg/Image"](header=header, height=480, width=640, encoding=encoding, is_bigendian=0,
                                         step=1280, data=data)  # fmt: skip
    return bytes(store.serialize_cdr(msg, "sensor_msgs/msg/Image"))


def test_bad_messages_are_reported_counted_and_skipped(tiny_model: Path, tmp_path: Path) -> None:
    store = get_typestore(Stores.ROS2_KILTED)
    good = [("/d", t * 10**9, _image(store, t)) for t in (1, 2, 6)]
    bad = [("/d", 3 * 10**9, _image(store, 3, data_bytes=1000)),     # truncated data
           ("/d", 4 * 10**9, _image(store, 4, encoding="rgb8")),      # not depth
           ("/d", 5 * 10**9, b"\x00\x01\x00\x00garbage")]             # corrupt CDR  # fmt: skip
    _write_bag(tmp_path / "in", sorted(good + bad, key=lambda f: f[1]))
    summary = replay_bag(tmp_path / "in", tmp_path / "out", _estimator(tiny_model), progress=False)
    assert summary.images == 6 and summary.written == 3
    assert summary.skipped == {"data": 1, "encoding": 1, "undecodable message": 1}
    assert summary.images == summary.written + sum(summary.skipped.values())
    assert any("/d @ 3000000000" in p and "holds 1000 bytes" in p for p in summary.problems)
    assert any("/d @ 4000000000" in p and "rgb8" in p for p in summary.problems)
    stamps = sorted(stamp_ns(m[3].header) for m in _read(tmp_path / "out") if m[1] == SKELETON_ARRAY)
    assert stamps == [1 * 10**9, 2 * 10**9, 6 * 10**9]  # nothing lost, nothing twice


def _compressed(store: object, t: int, fmt: str, data: bytes) -> bytes:
    types = store.types
    header = types["std_msgs/msg/Header"](stamp=types["builtin_interfaces/msg/Time"](sec=t, nanosec=0),
                                          frame_id="cam")  # fmt: skip
    msg = types["sensor_msgs/msg/CompressedImage"](header=header, format=fmt, data=np.frombuffer(data, np.uint8))
    return bytes(store.serialize_cdr(msg, "sensor_msgs/msg/CompressedImage"))


def test_compressed_depth_topics_replay_like_raw_ones_and_colour_topics_are_refused(tiny_model: Path,
                                                                                   tmp_path: Path) -> None:  # fmt: skip
    """A .../compressedDepth topic is read by default (outputs beside its image topic, exactly the raw image's
    skeletons); a bad message on it is counted; a plain compressed (colour) topic is not depth."""
    store = get_typestore(Stores.ROS2_KILTED)
    depth, _ = make_demo_frame(seed=2)
    fmt, data = depth_to_compressed(depth)
    raw = store.types["sensor_msgs/msg/Image"](
        header=store.types["std_msgs/msg/Header"](stamp=store.types["builtin_interfaces/msg/Time"](sec=1, nanosec=0),
                                                  frame_id="cam"),
        height=480, width=640, encoding="16UC1", is_bigendian=0, step=1280,
        data=depth.view(np.uint8).ravel())  # fmt: skip
    with Writer(tmp_path / "in", version=9) as writer:
        image = writer.add_connection("/cam/depth/image_raw", "sensor_msgs/msg/Image", typestore=store)
        packed = writer.add_connection("/cam/depth/image_raw/compressedDepth", "sensor_msgs/msg/CompressedImage",
                                       typestore=store)  # fmt: skip
        colour = writer.add_connection("/cam/color/image_raw/compressed", "sensor_msgs/msg/CompressedImage",
                                       typestore=store)  # fmt: skip
        writer.write(image, 10**9, bytes(store.serialize_cdr(raw, "sensor_msgs/msg/Image")))
        writer.write(packed, 10**9, _compressed(store, 1, fmt, data))
        writer.write(packed, 2 * 10**9, _compressed(store, 2, "16UC1; compressedDepth rvl", data))
        writer.write(colour, 10**9, _compressed(store, 1, "jpeg", b"\xff\xd8"))
    by_default = replay_bag(tmp_path / "in", tmp_path / "raw", _estimator(tiny_model), progress=False)
    assert by_default.images == 1 and set(by_default.topics) == {"/cam/depth/image_raw"}  # raw where a camera has both
    summary = replay_bag(tmp_path / "in", tmp_path / "out", _estimator(tiny_model),
                         topics=["/cam/depth/image_raw/compressedDepth"], progress=False)  # fmt: skip
    assert summary.images == 2 and summary.written == 1 and summary.skipped == {"encoding": 1}
    assert summary.topics == {"/cam/depth/image_raw/compressedDepth": "/cam/depth/skeletons"}
    [from_raw] = [m[3] for m in _read(tmp_path / "raw") if m[1] == SKELETON_ARRAY]
    [from_compressed] = [m[3] for m in _read(tmp_path / "out") if m[1] == SKELETON_ARRAY]
    assert from_compressed.skeletons == from_raw.skeletons and from_raw.header == from_compressed.header
    both = ["/cam/depth/image_raw", "/cam/depth/image_raw/compressedDepth"]
    colour = ["/cam/color/image_raw/compressed"]
    for topics, match in ((colour, "compressed \\(colour JPEG/PNG\\) transport, not depth"),
                          (both, "both raw and compressedDepth")):
        with pytest.raises(DepthPoseError, match=match):
            replay_bag(tmp_path / "in", tmp_path / "out2", _estimator(tiny_model), topics=topics, progress=False)


@pytest.mark.parametrize(("stop", "said"), [(KeyboardInterrupt(), "INTERRUPTED"),
                                            (RuntimeError("out of memory"), "FAILED: RuntimeError: out of memory")])
def test_a_stopped_run_leaves_a_valid_bag_and_says_what_it_holds(
    synth_bag: Path, tiny_model: Path, tmp_path: Path, stop: BaseException, said: str
) -> None:
    est = _estimator(tiny_model)
    real = est.estimate_lowres
    calls = []

    def stopping(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise stop
        return real(*args, **kwargs)

    est.estimate_lowres = stopping
    summary = replay_bag(synth_bag / "bags/seq000", tmp_path / "out", est, progress=False)
    # two batches of two cameras written, the third batch failed, and the next image had been read
    assert summary.written == 4 and summary.unprocessed == 3
    assert summary.images == summary.written + sum(summary.skipped.values()) + summary.unprocessed
    assert said in summary.report() and "not processed (run stopped) 3" in summary.report()
    arrays = [m for m in _read(tmp_path / "out") if m[1] == SKELETON_ARRAY]  # the bag opens: it was closed
    assert len(arrays) == summary.written


def test_models_beyond_the_privacy_limit_are_refused(synth_bag: Path, tmp_path: Path) -> None:
    est = PoseEstimator.untrained("depthpose", Preprocessing((320, 240), (320, 240)), **EAGER)
    with pytest.raises(DepthPoseError, match="320x240 pixels.*at most 160x120"):
        replay_bag(synth_bag / "bags/seq000", tmp_path / "out", est, debug_image=True, progress=False)
    assert not (tmp_path / "out").exists()


def test_ground_truth_without_topics_matches_by_stamp_or_by_frame_index(
    synth_bag: Path, tiny_model: Path, finder: PoseEstimator, tmp_path: Path
) -> None:
    gt = json.loads((synth_bag / "annotations.json").read_text())
    camera = "/cam1/depth/image_raw"
    images = [i for i in gt["images"] if i["topic"] == camera]
    by_stamp = {**gt, "images": [{k: v for k, v in i.items() if k not in ("topic", "frame_index")} for i in images]}
    by_index = {**gt, "images": [{k: v for k, v in i.items() if k not in ("topic", "stamp_ns")} for i in images]}
    for k, labels in enumerate((by_stamp, by_index)):
        summary = replay_bag(synth_bag / "bags/seq000", tmp_path / f"out{k}", finder, topics=[camera],
                             ground_truth=labels, progress=False)  # fmt: skip
        assert summary.written == 5 and summary.without_ground_truth == 0
        ids = {r["image_id"] for r in summary.results[camera]}
        assert ids and ids <= {i["id"] for i in images}
    # Two cameras and labels by frame index without a topic: ambiguous, so nothing matches, and the summary says so.
    summary = replay_bag(synth_bag / "bags/seq000", tmp_path / "out2", _estimator(tiny_model), ground_truth=by_index,
                         progress=False)  # fmt: skip
    assert summary.without_ground_truth == 10
    assert "10 written frame(s) matched no ground-truth image" in summary.report()


def test_several_connections_on_one_topic_make_one_output_topic(tiny_model: Path, tmp_path: Path) -> None:
    store = get_typestore(Stores.ROS2_KILTED)
    t0 = QosTime(0, 0)
    qos = [Qos(QosHistory.KEEP_LAST, 1, reliability, QosDurability.VOLATILE, t0, t0, QosLiveliness.AUTOMATIC, t0,
               False) for reliability in (QosReliability.RELIABLE, QosReliability.BEST_EFFORT)]  # fmt: skip
    with Writer(tmp_path / "in", version=9) as writer:  # two publishers on /d with different QoS
        conns = [writer.add_connection("/d", "sensor_msgs/msg/Image", typestore=store, offered_qos_profiles=[q])
                 for q in qos]  # fmt: skip
        for t in (1, 2, 3, 4):
            writer.write(conns[t % 2], t * 10**9, _image(store, t))
    summary = replay_bag(tmp_path / "in", tmp_path / "out", _estimator(tiny_model), progress=False)
    assert summary.written == 4 and list(summary.topics) == ["/d"]
    outputs = _read(tmp_path / "out")
    assert [stamp_ns(m[3].header) for m in outputs] == [t * 10**9 for t in (1, 2, 3, 4)]


def test_ground_truth_gives_pck_per_camera_and_overall(synth_bag: Path, tiny_model: Path, finder: PoseEstimator,
                                                        tmp_path: Path) -> None:  # fmt: skip
    gt = json.loads((synth_bag / "annotations.json").read_text())
    summary = replay_bag(synth_bag / "bags/seq000", tmp_path / "out", finder, ground_truth=gt, progress=False)
    tables = evaluate_replay(summary.results, gt)
    labelled = [a for a in gt["annotations"] if not a["only_bbox"]]
    cam_of = {i["id"]: i["topic"] for i in gt["images"]}
    per_camera = {topic: sum(cam_of[a["image_id"]] == topic for a in labelled) for topic in set(cam_of.values())}
    assert set(tables) == {"all"} | {topic for topic, n in per_camera.items() if n}
    assert tables["all"].num_persons == len(labelled)
    for topic, n in per_camera.items():
        assert n == 0 or tables[topic].num_persons == n
    # One camera replayed: the other camera's people are not counted as missed.
    camera = max(per_camera, key=per_camera.__getitem__)
    one = replay_bag(synth_bag / "bags/seq000", tmp_path / "out2", _estimator(tiny_model), ground_truth=gt,
                     topics=[camera], progress=False)  # fmt: skip
    assert 0 < per_camera[camera] < len(labelled)
    assert evaluate_replay(one.results, gt)["all"].num_persons == per_camera[camera]
    found = [r["image_id"] for results in summary.results.values() for r in results]
    assert found and set(found) <= {i["id"] for i in gt["images"]}


def test_replay_command(
    synth_bag: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag, gt = str(synth_bag / "bags/seq000"), str(synth_bag / "annotations.json")
    args = ["--model", str(tiny_model), "--gt", gt, "--topic", "/cam2/depth/image_raw", "--no-flip"]
    code = main(["replay", bag, "--out", str(tmp_path / "out"), *args])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "images read 5, skeleton arrays written 5, skipped 0, camera infos copied 5" in text, text
    assert "/cam2/depth/skeletons" in text  # and only cam2's camera infos were copied
    assert "MVOR PCK@0.2" in text and isinstance(json.loads((tmp_path / "out_results.json").read_text()), list)
    assert main(["replay", str(tmp_path / "nothing"), "--out", str(tmp_path / "o2"), "--model", str(tiny_model)]) == 1
    assert "not a readable rosbag2" in capsys.readouterr().err
    with pytest.raises(DepthPoseError, match="no image topic"):
        replay_bag(synth_bag / "bags/seq000", tmp_path / "o3", _estimator(tiny_model), topics=["/x"], progress=False)


@pytest.mark.parametrize("which", ["--out", "--results"])
def test_replay_outputs_that_cannot_be_written_fail_before_anything_is_written(
    synth_bag: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    (tmp_path / "a_file").write_text("")
    blocked = tmp_path / "a_file" / "x"  # a path under a file cannot be created, whoever runs the test (even root)
    paths = {"--out": str(tmp_path / "out"), "--results": str(tmp_path / "r.json")} | {which: str(blocked)}
    args = ["replay", str(synth_bag / "bags/seq000"), "--model", str(tiny_model), "--no-flip"]
    code = main([*args, "--out", paths["--out"], "--results", paths["--results"]])
    captured = capsys.readouterr()
    what = "output bag" if which == "--out" else "results file"
    assert code == 1 and f"ERROR: cannot write {what} {blocked}: {tmp_path / 'a_file'} is a file" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.json").exists()  # nothing half-written


def test_cameras_with_camera_info_get_3d_skeletons_near_the_exact_joints(synth_bag: Path, finder: PoseEstimator,
                                                                         tmp_path: Path) -> None:  # fmt: skip
    from depthpose_core.bags import SKELETON3D_ARRAY
    from depthpose_core.eval.joints3d import Joint3DErrors, exact_people, match_to_truth
    from depthpose_core.messages import skeletons_from_array

    summary = replay_bag(synth_bag / "bags/seq000", tmp_path / "out", finder, progress=False)
    assert summary.written == summary.written_3d == 10 and summary.without_camera_info == 0
    assert "3D skeleton arrays written 10" in summary.report()
    outputs = _read(tmp_path / "out")
    arrays = {(m[0], stamp_ns(m[3].header)): m[3] for m in outputs if m[1] == SKELETON_ARRAY}
    arrays_3d = {(m[0].replace("skeletons_3d", "skeletons"), stamp_ns(m[3].header)): m[3]
                 for m in outputs if m[1] == SKELETON3D_ARRAY}  # fmt: skip
    assert arrays_3d.keys() == arrays.keys()
    gt = json.loads((synth_bag / "annotations.json").read_text())
    images = {(i["topic"].replace("image_raw", "skeletons"), i["stamp_ns"]): i["id"] for i in gt["images"]}
    errors = Joint3DErrors()
    for key, array in arrays.items():
        people, ids = skeletons_from_array(array)
        assert [s.id for s in arrays_3d[key].skeletons] == ids
        truth = exact_people([a for a in gt["annotations"] if a["image_id"] == images[key]])
        for i, t in match_to_truth(people, [kp for kp, _ in truth]):
            kp, xyz = truth[t]
            joints = arrays_3d[key].skeletons[i].keypoints
            points = np.array([(k.position.x, k.position.y, k.position.z) for k in joints])
            errors.add(points, xyz, (kp[:, 2] == 2) & people[i].present)
    summary_3d = errors.group(range(18))
    assert summary_3d["n"] >= 30 and summary_3d["median"] < 150.0, summary_3d  # mm, the node's lift


def test_message_types_hash_like_rosidl() -> None:
    # The typestore registers our messages from msg/*.msg; rosidl generated the same types for rclpy, with hashes
    # in share/depthpose_ros/msg/*.json (the venv's ROS build). Bags written here are readable by ROS 2 tools.
    store = typestore()
    checked = set()
    for array in ("Skeleton2DArray", "Skeleton3DArray"):
        built = json.loads((Path(sys.prefix) / f"share/depthpose_ros/msg/{array}.json").read_text())
        for entry in built["type_hashes"]:
            name = entry["type_name"]
            if name.startswith("depthpose_ros/"):
                assert store.hash_rihs01(name) == entry["hash_string"], name
                checked.add(name.split("/")[-1])
    assert checked == set(MESSAGES)
