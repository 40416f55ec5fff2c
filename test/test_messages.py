"""depthpose_core.messages without a ROS runtime (``rosbags`` message classes): every depth encoding, padding and
byte order, bad images by cause, skeleton arrays both ways, the low-resolution debug image, header stamps."""

from __future__ import annotations

import numpy as np
import pytest
from samples import shoulders_person

from depthpose_core.bags import IMAGE, SKELETON3D_ARRAY, SKELETON_ARRAY, typestore
from depthpose_core.messages import (
    ImageError,
    debug_image,
    image_to_depth,
    image_to_rgb,
    skeleton3d_array,
    skeleton_array,
    skeletons_from_array,
    stamp_ns,
)
from depthpose_core.preprocess import normalise_depth
from depthpose_core.viz import track_colour

STORE = typestore()
T = STORE.types
RNG = np.random.default_rng(0)
MM = RNG.integers(0, 7000, (48, 64)).astype(np.uint16)


def _header(stamp: int = 1, frame_id: str = "cam") -> object:
    sec, nanosec = divmod(stamp, 1_000_000_000)
    return T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id=frame_id)


def _image(depth: np.ndarray, encoding: str = "16UC1", *, bigendian: bool = False, pad: int = 0) -> object:
    arr = depth.astype(depth.dtype.newbyteorder(">" if bigendian else "<"))
    h, w = arr.shape
    rows = arr.view(np.uint8).reshape(h, w * arr.itemsize)
    if pad:
        rows = np.concatenate([rows, np.full((h, pad), 0xAB, np.uint8)], axis=1)
    return T[IMAGE](header=_header(), height=h, width=w, encoding=encoding, is_bigendian=int(bigendian),
                    step=rows.shape[1], data=np.ascontiguousarray(rows).reshape(-1))  # fmt: skip


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
    msg = _image(depth, encoding, bigendian=bigendian, pad=pad)
    view = image_to_depth(msg, max_pixels=10**6)
    assert view.shape == depth.shape
    np.testing.assert_array_equal(view, depth)  # byte order and row padding honoured
    assert np.shares_memory(view, msg.data)  # a view: no copy of the frame
    # Millimetres and metres give the same normalised depth.
    np.testing.assert_allclose(normalise_depth(view, 500, 6000),
                               normalise_depth(depth.astype(depth.dtype.newbyteorder("=")), 500, 6000))  # fmt: skip


def test_nan_inf_and_zero_are_no_reading() -> None:
    metres = np.full((12, 16), 2.0, np.float32)
    metres[0, :4] = [np.nan, np.inf, -np.inf, 0.0]
    out = normalise_depth(image_to_depth(_image(metres, "32FC1"), max_pixels=1000), 500, 6000)
    assert (out[0, :4] == 0).all() and np.isfinite(out).all() and (out[1:] > 0).all()


def _raw(encoding: str = "16UC1", width: int = 4, height: int = 3, step: int = 8, size: int = 24) -> object:
    return T[IMAGE](header=_header(), height=height, width=width, encoding=encoding, is_bigendian=0, step=step,
                    data=np.zeros(size, np.uint8))  # fmt: skip


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
def test_bad_images_name_the_cause(msg: object, cause: str, match: str) -> None:
    with pytest.raises(ImageError, match=match) as info:
        image_to_depth(msg, max_pixels=10**6)
    assert info.value.cause == cause


@pytest.mark.parametrize(("encoding", "order"), [("rgb8", [0, 1, 2]), ("bgr8", [2, 1, 0]), ("rgba8", [0, 1, 2, 3]),
                                               ("bgra8", [2, 1, 0, 3])])  # fmt: skip
@pytest.mark.parametrize("pad", [0, 5])
def test_colour_encodings_read_as_rgb(encoding: str, order: list[int], pad: int) -> None:
    rgb = RNG.integers(0, 256, (6, 7, 3)).astype(np.uint8)
    pixels = np.concatenate([rgb, np.full((6, 7, 1), 255, np.uint8)], axis=2)[:, :, order]
    rows = np.concatenate([pixels.reshape(6, -1), np.full((6, pad), 0xAB, np.uint8)], axis=1)
    msg = T[IMAGE](header=_header(), height=6, width=7, encoding=encoding, is_bigendian=0, step=rows.shape[1],
                   data=np.ascontiguousarray(rows).reshape(-1))  # fmt: skip
    out = image_to_rgb(msg)
    np.testing.assert_array_equal(out, rgb)
    assert out.flags.c_contiguous and not np.shares_memory(out, msg.data)


@pytest.mark.parametrize(
    ("msg", "cause", "match"),
    [
        (_raw(encoding="16UC1"), "encoding", "'16UC1' is not a colour encoding"),
        (_raw(encoding="rgb8", width=0, step=0, size=0), "size", "empty"),
        (_raw(encoding="rgb8", step=11, size=33), "step", "shorter than one row of 4 rgb8 pixels \\(12 bytes\\)"),
        (_raw(encoding="rgb8", step=12, size=35), "data", "holds 35 bytes .* needs 36"),
    ],
)
def test_bad_colour_images_name_the_cause(msg: object, cause: str, match: str) -> None:
    with pytest.raises(ImageError, match=match) as info:
        image_to_rgb(msg, max_pixels=10**6)
    assert info.value.cause == cause


def test_skeleton_arrays_serialise_and_read_back() -> None:
    header = _header(12_000_000_345, "ceiling_cam_optical")
    people = [shoulders_person(), shoulders_person(200.0)]
    msg = skeleton_array(header, (640, 480), people, [7, 9], array=T[SKELETON_ARRAY],
                         skeleton=T["depthpose_ros/msg/Skeleton2D"],
                         keypoint=T["depthpose_ros/msg/Keypoint2D"])  # fmt: skip
    back = STORE.deserialize_cdr(STORE.serialize_cdr(msg, SKELETON_ARRAY), SKELETON_ARRAY)
    assert stamp_ns(back.header) == 12_000_000_345 and back.header.frame_id == "ceiling_cam_optical"
    assert (back.image_width, back.image_height) == (640, 480)
    found, ids = skeletons_from_array(back)
    assert ids == [7, 9] and len(found) == 2
    for original, read in zip(people, found):
        np.testing.assert_array_equal(read.present, original.present)  # absent joints stay absent (NaN)
        np.testing.assert_allclose(read.keypoints[original.present], original.keypoints[original.present])
        assert read.score == pytest.approx(4.2) and read.frame_size == (640, 480)
    nose = back.skeletons[0].keypoints[0]
    assert not nose.present and (nose.x, nose.y, nose.score) == (0.0, 0.0, 0.0)  # explicit, never NaN on the wire


def test_3d_skeletons_serialise_with_invalid_joints_as_nan_never_0_m() -> None:
    header = _header(5_000_000_001, "cam2_depth_optical_frame")
    person = shoulders_person()
    lifted = np.full((18, 3), np.nan)
    lifted[1] = (0.1, -0.2, 2.5)  # neck
    lifted[2] = (0.3, np.inf, 2.4)  # a right shoulder with a broken coordinate is no point either
    msg = skeleton3d_array(header, [person], [4], [lifted], array=T[SKELETON3D_ARRAY],
                           skeleton=T["depthpose_ros/msg/Skeleton3D"], keypoint=T["depthpose_ros/msg/Keypoint3D"],
                           point=T["geometry_msgs/msg/Point"])  # fmt: skip
    back = STORE.deserialize_cdr(STORE.serialize_cdr(msg, SKELETON3D_ARRAY), SKELETON3D_ARRAY)
    assert stamp_ns(back.header) == 5_000_000_001 and back.header.frame_id == "cam2_depth_optical_frame"
    (skeleton,) = back.skeletons
    assert skeleton.id == 4 and skeleton.score == pytest.approx(4.2) and len(skeleton.keypoints) == 18
    neck = skeleton.keypoints[1]
    assert neck.valid and (neck.position.x, neck.position.y, neck.position.z) == pytest.approx((0.1, -0.2, 2.5))
    assert neck.score == pytest.approx(0.8)
    for j in (0, 2):  # not detected; detected but without a finite point
        k = skeleton.keypoints[j]
        assert not k.valid and np.isnan([k.position.x, k.position.y, k.position.z]).all()
    assert skeleton.keypoints[0].score == 0.0 and skeleton.keypoints[2].score == pytest.approx(0.8)


def test_debug_image_is_the_low_resolution_in_track_colours() -> None:
    lowres = np.full((48, 64), 0.5, np.float32)
    msg = debug_image(_header(), lowres, [shoulders_person()], [3], image=T[IMAGE])
    assert (msg.width, msg.height, msg.encoding, msg.step) == (64, 48, "bgr8", 192)
    assert msg.data.size == 64 * 48 * 3  # never more pixels than the low resolution
    pixels = msg.data.reshape(48, 64, 3)
    r, g, b = track_colour(3)
    assert ((pixels == (b, g, r)).all(axis=2)).any()  # the skeleton is drawn in track 3's colour
    assert len(STORE.serialize_cdr(msg, IMAGE)) > msg.data.size  # a valid message for a bag


def test_stamp_ns() -> None:
    assert stamp_ns(_header(3 * 1_000_000_000 + 7)) == 3_000_000_007
