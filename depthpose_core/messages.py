"""Image messages as depth arrays, skeletons and debug overlays as messages, header stamps: the ROS-shaped parts
of the data flow, written against the messages' fields only (duck typing), so that rclpy messages (the node,
live replay) and ``rosbags`` messages (offline replay, synthetic bags) share them and this module imports no ROS
package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from depthpose_core.errors import InputError
from depthpose_core.skeleton import Skeleton
from depthpose_core.viz import draw_overlay

__all__ = ["COLOUR_ENCODINGS", "DEPTH_ENCODINGS", "MAX_PIXELS", "ImageError", "debug_image", "image_to_depth",
           "image_to_rgb", "skeleton3d_array", "skeleton_array", "skeletons_from_array", "stamp_ns"]  # fmt: skip

#: Largest image accepted by default, width x height (a 4096x4096 frame): a bigger one is refused before any
#: copy, so a corrupt size cannot make the reader allocate without bound.
MAX_PIXELS = 16_777_216

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


def image_to_depth(msg: Any, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A read-only numpy view of an image message's depth (no copy; honours ``step`` and ``is_bigendian``).

    Args:
        msg: a ``sensor_msgs/Image`` (rclpy or rosbags): ``encoding``, ``width``, ``height``, ``step``,
            ``is_bigendian`` and ``data`` (bytes-like); see :data:`DEPTH_ENCODINGS`.
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


#: Accepted colour encodings: channel count and the order that gives RGB.
COLOUR_ENCODINGS: dict[str, tuple[int, list[int]]] = {
    "rgb8": (3, [0, 1, 2]),
    "bgr8": (3, [2, 1, 0]),
    "rgba8": (4, [0, 1, 2]),
    "bgra8": (4, [2, 1, 0]),
}


def image_to_rgb(msg: Any, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An image message's colour as a new ``(height, width, 3)`` uint8 RGB array (honours ``step``).

    Args:
        msg: a ``sensor_msgs/Image`` with an encoding of :data:`COLOUR_ENCODINGS`.
        max_pixels: largest accepted width x height.

    Raises:
        ImageError: not a colour encoding, empty or oversized image, row step too small, or a data length that
            does not match ``step x height``.
    """
    spec = COLOUR_ENCODINGS.get(msg.encoding)
    if spec is None:
        raise ImageError("encoding", f"encoding {msg.encoding!r} is not a colour encoding: use rgb8, bgr8, rgba8 or "
                                     "bgra8")  # fmt: skip
    channels, order = spec
    width, height, step = int(msg.width), int(msg.height), int(msg.step)
    if width == 0 or height == 0:
        raise ImageError("size", f"image is empty ({width}x{height} pixels)")
    if width * height > max_pixels:
        raise ImageError("size", f"image of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")
    if step < width * channels:
        raise ImageError("step", f"step of {step} bytes is shorter than one row of {width} {msg.encoding} pixels "
                                 f"({width * channels} bytes)")  # fmt: skip
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size != step * height:
        raise ImageError("data", f"data holds {data.size} bytes but {width}x{height} {msg.encoding} with a step of "
                                 f"{step} bytes needs {step * height}")  # fmt: skip
    rows = data.reshape(height, step)[:, : width * channels].reshape(height, width, channels)
    return np.ascontiguousarray(rows[:, :, order])


def stamp_ns(header: Any) -> int:
    """A ``std_msgs/Header``'s stamp in nanoseconds."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def debug_image(header: Any, lowres: np.ndarray, people: Sequence[Skeleton], ids: Sequence[int], *,
                image: Callable[..., Any]) -> Any:  # fmt: skip
    """The ``debug_image`` output: the low-resolution depth (never more) with the skeletons in their track
    colours (:func:`~depthpose_core.viz.draw_overlay`), as a ``bgr8`` ``sensor_msgs/Image`` built with
    ``image`` (rclpy's class or a ``rosbags`` typestore's) and the input image's header.

    Args:
        header: the input image's header (copied unchanged).
        lowres: (h, w) float32 normalised low-resolution depth (the network input).
        people: the frame's skeletons, in any pixel frame of the same field of view.
        ids: track id per person.
    """
    overlay = draw_overlay(lowres, people, scale=1, ids=ids)
    h, w, _ = overlay.shape
    return image(header=header, height=h, width=w, encoding="bgr8", is_bigendian=0, step=3 * w,
                 data=np.ascontiguousarray(overlay).reshape(-1))  # fmt: skip


def skeleton_array(
    header: Any, frame_size: tuple[int, int], people: Sequence[Skeleton], ids: Sequence[int], *,
    array: Callable[..., Any], skeleton: Callable[..., Any], keypoint: Callable[..., Any],
) -> Any:  # fmt: skip
    """A ``depthpose_ros/Skeleton2DArray`` from skeletons, built with the given message classes.

    Args:
        header: the input image's header (copied unchanged).
        frame_size: (width, height) of the input image, the pixel frame of ``people``.
        people: the frame's skeletons, in input-image pixels.
        ids: track id per person.
        array, skeleton, keypoint: the ``Skeleton2DArray``, ``Skeleton2D`` and ``Keypoint2D`` classes (rclpy's,
            or a ``rosbags`` typestore's); called with keyword arguments for every field.
    """
    skeletons = []
    for person, track_id in zip(people, ids):
        present = person.present.tolist()
        xy = np.nan_to_num(person.keypoints).tolist()
        scores = person.scores.tolist()
        keypoints = [keypoint(present=p, x=x if p else 0.0, y=y if p else 0.0, score=s if p else 0.0)
                     for p, (x, y), s in zip(present, xy, scores)]  # fmt: skip
        skeletons.append(skeleton(id=int(track_id), score=float(person.score), keypoints=keypoints))
    return array(header=header, image_width=int(frame_size[0]), image_height=int(frame_size[1]), skeletons=skeletons)


def skeleton3d_array(
    header: Any, people: Sequence[Skeleton], ids: Sequence[int], lifted: Sequence[np.ndarray], *,
    array: Callable[..., Any], skeleton: Callable[..., Any], keypoint: Callable[..., Any], point: Callable[..., Any],
) -> Any:  # fmt: skip
    """A ``depthpose_ros/Skeleton3DArray`` from skeletons and their 3D joints, built with the given classes.

    Args:
        header: the input image's header (copied unchanged; its frame is the points' optical frame).
        people: the frame's skeletons (their person and joint scores are copied).
        ids: track id per person.
        lifted: per person ``(18, 3)`` x, y, z in metres in the optical frame, NaN where the joint has no point
            (:func:`depthpose_core.lift.lift_skeleton`).
        array, skeleton, keypoint, point: the ``Skeleton3DArray``, ``Skeleton3D``, ``Keypoint3D`` and
            ``geometry_msgs/Point`` classes (rclpy's or a ``rosbags`` typestore's).
    """
    skeletons = []
    for person, track_id, xyz in zip(people, ids, lifted):
        clean = np.where(np.isfinite(xyz).all(axis=1, keepdims=True), xyz, np.nan)
        valid = (~np.isnan(clean[:, 0])).tolist()
        scores = np.where(person.present, person.scores, 0.0).tolist()
        keypoints = [keypoint(valid=v, position=point(x=x, y=y, z=z), score=s)
                     for v, (x, y, z), s in zip(valid, clean.tolist(), scores)]  # fmt: skip
        skeletons.append(skeleton(id=int(track_id), score=float(person.score), keypoints=keypoints))
    return array(header=header, skeletons=skeletons)


def skeletons_from_array(msg: Any) -> tuple[list[Skeleton], list[int]]:
    """The skeletons (input-image pixels; absent joints NaN) and track ids of a ``Skeleton2DArray`` (rclpy's or
    a ``rosbags`` typestore's): the inverse of :func:`skeleton_array`."""
    people, ids = [], []
    size = (int(msg.image_width), int(msg.image_height))
    for s in msg.skeletons:
        present = np.array([bool(k.present) for k in s.keypoints])
        xy = np.array([(k.x, k.y) for k in s.keypoints], dtype=np.float64)
        xy[~present] = np.nan
        scores = np.array([k.score for k in s.keypoints], dtype=np.float64)
        people.append(Skeleton(xy, scores, float(s.score), size))
        ids.append(int(s.id))
    return people, ids

