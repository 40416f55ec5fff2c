"""Conversions between ROS messages and depthpose_core values, as pure functions (no node, no executor).

Images: ``sensor_msgs/Image`` -> zero-copy numpy view of the depth (``depthpose_core.messages``; the node reduces
it to the low resolution at once). Results: skeletons + ids -> ``depthpose_ros/Skeleton2DArray``; low-resolution
overlay -> ``Image``;
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

from depthpose_core.keypoints import LIMBS, NUM_JOINTS
from depthpose_core.messages import skeleton_array
from depthpose_core.preprocess import Preprocessing
from depthpose_core.skeleton import Skeleton
from depthpose_ros.msg import Keypoint2D, Skeleton2D, Skeleton2DArray

__all__ = ["bgr_image", "skeleton_markers", "skeletons_to_msg"]

def skeletons_to_msg(
    header: Header, frame_size: tuple[int, int], people: Sequence[Skeleton], ids: Sequence[int]
) -> Skeleton2DArray:
    """The per-frame output message (see :func:`depthpose_core.messages.skeleton_array`)."""
    return skeleton_array(header, frame_size, people, ids, array=Skeleton2DArray, skeleton=Skeleton2D,
                          keypoint=Keypoint2D)  # fmt: skip


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
