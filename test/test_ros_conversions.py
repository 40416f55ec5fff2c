"""Message conversions as pure functions: image encodings, padding, byte order, bad images, output messages."""

from __future__ import annotations

import numpy as np
import pytest
from depthpose_ros.msg import Skeleton2D
from ros_support import depth_image
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from depthpose_core.messages import ImageError, image_to_depth
from depthpose_core.preprocess import Preprocessing, normalise_depth
from depthpose_core.skeleton import Skeleton
from depthpose_ros.conversions import bgr_image, skeleton_markers, skeletons_to_msg

RNG = np.random.default_rng(0)
MM = RNG.integers(0, 7000, (48, 64)).astype(np.uint16)


@pytest.mark.parametrize(
    ("encoding", "depth"),
    [
        ("16UC1", MM),
        ("mono16", MM),
        ("32FC1", MM.astype(np.float32) / 1000.0),
        ("mono8", (MM // 30).astype(np.uint8)),
        ("8UC1", (MM // 30).astype(np.uint8)),
    ],
)
@pytest.mark.parametrize("bigendian", [False, True])
@pytest.mark.parametrize("pad", [0, 6])
def test_every_depth_encoding_reads_back(encoding: str, depth: np.ndarray, bigendian: bool, pad: int) -> None:
    msg = depth_image(depth, encoding=encoding, bigendian=bigendian, pad=pad)
    view = image_to_depth(msg, max_pixels=10**6)
    assert view.shape == depth.shape
    np.testing.assert_array_equal(view, depth)  # byte order and row padding honoured
    assert np.shares_memory(view, np.frombuffer(msg.data, np.uint8))  # a view: no copy of the frame
    # Millimetres and metres give the same normalised depth.
    np.testing.assert_allclose(normalise_depth(view, 500, 6000),
                               normalise_depth(depth.astype(depth.dtype.newbyteorder("=")), 500, 6000))  # fmt: skip


def test_nan_inf_and_zero_are_no_reading() -> None:
    metres = np.full((12, 16), 2.0, np.float32)
    metres[0, :4] = [np.nan, np.inf, -np.inf, 0.0]
    out = normalise_depth(image_to_depth(depth_image(metres, encoding="32FC1"), max_pixels=1000), 500, 6000)
    assert (out[0, :4] == 0).all() and np.isfinite(out).all()


def _raw(encoding: str = "16UC1", width: int = 4, height: int = 3, step: int = 8, size: int = 24) -> Image:
    return Image(width=width, height=height, encoding=encoding, step=step, data=bytes(size))


@pytest.mark.parametrize(
    ("msg", "cause", "match"),
    [
        (_raw(encoding="rgb8"), "encoding", "'rgb8' is not a depth encoding"),
        (_raw(encoding="bgr8"), "encoding", "16UC1"),
        (_raw(encoding=""), "encoding", "not a depth encoding"),
        (_raw(width=0, step=0, size=0), "size", "empty"),
        (_raw(width=5000, height=5000, step=10000, size=0), "size", "exceeds the limit"),
        (_raw(step=6), "step", "shorter than one row"),
        (_raw(size=20), "data", "holds 20 bytes .* needs 24"),
        (_raw(size=0), "data", "holds 0 bytes"),
        (_raw(size=30), "data", "holds 30 bytes"),
    ],
)
def test_bad_images_name_the_cause(msg: Image, cause: str, match: str) -> None:
    with pytest.raises(ImageError, match=match) as info:
        image_to_depth(msg, max_pixels=10**6)
    assert info.value.cause == cause


def _person(offset: float = 0.0) -> Skeleton:
    keypoints = np.full((18, 2), np.nan)
    keypoints[1] = (100.0 + offset, 50.0)  # neck
    keypoints[2] = (90.0 + offset, 52.0)  # right shoulder
    keypoints[5] = (110.0 + offset, 52.0)  # left shoulder
    scores = np.where(np.isnan(keypoints[:, 0]), 0.0, 0.8)
    return Skeleton(keypoints, scores, 4.2, (640, 480))


def test_skeleton_array_carries_header_frame_ids_and_explicit_missing_joints() -> None:
    header = Header(frame_id="ceiling_cam_optical")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    msg = skeletons_to_msg(header, (640, 480), [_person(), _person(200.0)], [7, 9])
    assert msg.header == header and (msg.image_width, msg.image_height) == (640, 480)
    assert [s.id for s in msg.skeletons] == [7, 9]
    first = msg.skeletons[0]
    assert first.score == pytest.approx(4.2)
    neck = first.keypoints[Skeleton2D.NECK]
    assert neck.present and (neck.x, neck.y) == (100.0, 50.0) and neck.score == pytest.approx(0.8)
    nose = first.keypoints[Skeleton2D.NOSE]
    assert not nose.present and (nose.x, nose.y, nose.score) == (0.0, 0.0, 0.0)
    assert msg.skeletons[1].keypoints[Skeleton2D.LEFT_SHOULDER].x == 310.0


def test_debug_image_is_the_low_resolution() -> None:
    header = Header(frame_id="cam")
    overlay = np.zeros((48, 64, 3), np.uint8)
    msg = bgr_image(header, overlay)
    assert (msg.width, msg.height, msg.encoding, msg.step, len(msg.data)) == (64, 48, "bgr8", 192, 64 * 48 * 3)


def test_markers_lift_joints_with_the_low_resolution_depth() -> None:
    pre = Preprocessing(near_mm=500.0, far_mm=6000.0)
    lowres = np.full((48, 64), (2700.0 - 500.0) / 5500.0, np.float32)  # everything 2.7 m away
    info = CameraInfo(width=640, height=480)
    info.k = [500.0, 0.0, 319.5, 0.0, 500.0, 239.5, 0.0, 0.0, 1.0]
    person = _person()
    markers = skeleton_markers(Header(frame_id="cam"), [person], [3], lowres, pre, info, 0.5).markers
    joints, limbs = markers
    assert (joints.ns, joints.id, limbs.ns, limbs.id) == ("joints", 3, "limbs", 3)
    assert len(joints.points) == 3 and len(limbs.points) == 4  # neck, two shoulders; two neck-shoulder limbs
    neck = joints.points[0]
    assert neck.z == pytest.approx(2.7, abs=1e-4)
    assert neck.x == pytest.approx((100.0 - 0.5 - 319.5) * 2.7 / 500.0, abs=1e-4)
    assert neck.y == pytest.approx((50.0 - 0.5 - 239.5) * 2.7 / 500.0, abs=1e-4)
    # No valid depth around a joint: the joint is left out rather than placed at a made-up distance.
    assert skeleton_markers(Header(), [person], [3], np.zeros_like(lowres), pre, info, 0.5).markers[0].points == []
