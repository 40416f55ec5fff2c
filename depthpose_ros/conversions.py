"""Conversions between ROS messages and depthpose_core values, as pure functions (no node, no executor).

Images: ``sensor_msgs/Image`` -> zero-copy numpy view of the depth (the node reduces it to the low resolution at
once). Results: skeletons + ids -> ``depthpose_ros/Skeleton2DArray``; low-resolution overlay -> ``Image``;
skeletons lifted with the low-resolution depth and ``CameraInfo`` -> ``visualization_msgs/MarkerArray``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from depthpose_core.errors import InputError
from depthpose_core.keypoints import LIMBS, NUM_JOINTS
from depthpose_core.preprocess import Preprocessing
from depthpose_core.skeleton import Skeleton
from depthpose_ros.msg import Skeleton2D, Skeleton2DArray

__all__ = [
    "DEPTH_ENCODINGS",
    "ImageError",
    "bgr_image",
    "image_to_depth",
    "skeleton_markers",
    "skeletons_to_msg",
]

#: Accepted input encodings and their numpy element types: 16-bit depth in millimetres, 32-bit float depth in
#: metres (REP 118), 8-bit images that are already depth normalised to [0, 255] (a privacy-reduced stream).
DEPTH_ENCODINGS: dict[str, type[np.generic]] = {
    "16UC1": np.uint16,
    "mono16": np.uint16,
    "32FC1": np.float32,
    "mono8": np.uint8,
    "8UC1": np.uint8,
}


class ImageError(InputError):
    """An image message that cannot be read as depth.

    Attributes:
        cause: short key of the problem, used to count and throttle it: ``encoding``, ``size``, ``step`` or
            ``data``.
    """

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


def image_to_depth(msg: Image, *, max_pixels: int) -> np.ndarray:
    """A read-only numpy view of an image message's depth (no copy; honours ``step`` and ``is_bigendian``).

    Args:
        msg: the image; see :data:`DEPTH_ENCODINGS`.
        max_pixels: largest accepted width x height.

    Returns:
        ``(height, width)`` array in the message's units (uint16 mm, float32 m, uint8 normalised), possibly
        non-native byte order and row padding; it shares memory with ``msg.data``.

    Raises:
        ImageError: unsupported encoding, empty or oversized image, row step too small, or a data length that
            does not match ``step x height``.
    """
    dtype = DEPTH_ENCODINGS.get(msg.encoding)
    if dtype is None:
        raise ImageError(
            "encoding",
            f"encoding {msg.encoding!r} is not a depth encoding: use 16UC1 or mono16 (mm), 32FC1 (m) or mono8 "
            "(depth already normalised to 0-255)",
        )
    width, height, step = int(msg.width), int(msg.height), int(msg.step)
    if width == 0 or height == 0:
        raise ImageError("size", f"image is empty ({width}x{height} pixels)")
    if width * height > max_pixels:
        raise ImageError("size", f"image of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")
    element = np.dtype(dtype).newbyteorder(">" if msg.is_bigendian else "<")
    row_bytes = width * element.itemsize
    if step < row_bytes:
        raise ImageError(
            "step", f"step of {step} bytes is shorter than one row of {width} {msg.encoding} pixels ({row_bytes} bytes)"
        )
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size != step * height:
        raise ImageError(
            "data",
            f"data holds {data.size} bytes but {width}x{height} {msg.encoding} with a step of {step} bytes needs "
            f"{step * height}",
        )
    return np.ndarray((height, width), dtype=element, buffer=data, strides=(step, element.itemsize))


def skeletons_to_msg(
    header: Header, frame_size: tuple[int, int], people: Sequence[Skeleton], ids: Sequence[int]
) -> Skeleton2DArray:
    """The per-frame output message.

    Args:
        header: the input image's header (copied unchanged).
        frame_size: (width, height) of the input image, the pixel frame of ``people``.
        people: the frame's skeletons, in input-image pixels.
        ids: track id per person.
    """
    out = Skeleton2DArray(header=header, image_width=int(frame_size[0]), image_height=int(frame_size[1]))
    for person, track_id in zip(people, ids):
        skeleton = Skeleton2D(id=int(track_id), score=float(person.score))
        present = person.present.tolist()
        xy = np.nan_to_num(person.keypoints).tolist()
        scores = person.scores.tolist()
        for j, keypoint in enumerate(skeleton.keypoints):
            if present[j]:
                keypoint.present = True
                keypoint.x, keypoint.y = xy[j]
                keypoint.score = scores[j]
        out.skeletons.append(skeleton)
    return out


def bgr_image(header: Header, image: np.ndarray) -> Image:
    """An ``bgr8`` image message of an ``(h, w, 3)`` uint8 BGR array, with the given header."""
    h, w, _ = image.shape
    return Image(header=header, height=h, width=w, encoding="bgr8", is_bigendian=False, step=3 * w,
                 data=np.ascontiguousarray(image).tobytes())  # fmt: skip


# One RGB colour per track id modulo the palette (markers).
_COLOURS = ((0.9, 0.1, 0.1), (0.1, 0.8, 0.1), (0.1, 0.3, 1.0), (1.0, 0.8, 0.0), (0.9, 0.1, 0.9), (0.0, 0.8, 0.8))


def _lift(
    person: Skeleton, lowres: np.ndarray, pre: Preprocessing, info: CameraInfo
) -> list[Point | None]:
    """Each joint as a 3D point in the camera's optical frame (m), or None where it or its depth is missing.

    The depth comes from the low-resolution image: the nearest valid reading in the 3x3 low-resolution pixels
    around the joint (the person is the nearest surface there), mapped back through the near/far normalisation.
    """
    h, w = lowres.shape
    fx, fy, cx, cy = info.k[0], info.k[4], info.k[2], info.k[5]
    sx, sy = info.width / person.frame_size[0], info.height / person.frame_size[1]
    points: list[Point | None] = [None] * NUM_JOINTS
    for j in np.flatnonzero(person.present):
        u, v = person.keypoints[j]
        col = min(int(u * w / person.frame_size[0]), w - 1)
        row = min(int(v * h / person.frame_size[1]), h - 1)
        patch = lowres[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2]
        valid = patch[patch > 0]
        if valid.size == 0:
            continue
        z = (pre.near_mm + float(valid.min()) * (pre.far_mm - pre.near_mm)) / 1000.0
        # Pixel centres in the calibrated image: CameraInfo's K refers to centres at integer coordinates.
        points[j] = Point(x=(u * sx - 0.5 - cx) * z / fx, y=(v * sy - 0.5 - cy) * z / fy, z=z)
    return points


def skeleton_markers(
    header: Header, people: Sequence[Skeleton], ids: Sequence[int], lowres: np.ndarray, pre: Preprocessing,
    info: CameraInfo, lifetime_s: float,
) -> MarkerArray:  # fmt: skip
    """RViz markers: per person a sphere list of joints and a line list of limbs, in the image's optical frame.

    Args:
        header: the input image's header (frame and stamp of the markers).
        people: skeletons in input-image pixels.
        ids: track id per person (marker namespace ``person`` with id = track id).
        lowres: the frame's normalised low-resolution depth (the network input).
        pre: the preprocessing that produced ``lowres`` (near/far mapping).
        info: the camera's intrinsics (``k``) for the image size ``info.width`` x ``info.height``.
        lifetime_s: how long RViz keeps a marker that is not refreshed.
    """
    out = MarkerArray()
    lifetime = Duration(sec=int(lifetime_s), nanosec=int((lifetime_s % 1.0) * 1e9))
    for person, track_id in zip(people, ids):
        points = _lift(person, lowres, pre, info)
        r, g, b = _COLOURS[track_id % len(_COLOURS)]
        colour = ColorRGBA(r=r, g=g, b=b, a=1.0)
        joints = Marker(header=header, ns="joints", id=int(track_id), type=Marker.SPHERE_LIST,
                        action=Marker.ADD, lifetime=lifetime, color=colour)  # fmt: skip
        joints.pose.orientation.w = 1.0
        joints.scale.x = joints.scale.y = joints.scale.z = 0.06
        joints.points = [p for p in points if p is not None]
        limbs = Marker(header=header, ns="limbs", id=int(track_id), type=Marker.LINE_LIST,
                       action=Marker.ADD, lifetime=lifetime, color=colour)  # fmt: skip
        limbs.pose.orientation.w = 1.0
        limbs.scale.x = 0.02
        limbs.points = [q for a, b in LIMBS if points[a] and points[b] for q in (points[a], points[b])]
        out.markers += [joints, limbs]
    return out
