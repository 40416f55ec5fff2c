"""Conversions between ROS messages and depthpose_core values, as pure functions (no node, no executor): rclpy's
message classes bound to the duck-typed builders of ``depthpose_core.messages``, and RViz markers of the 3D
skeletons (``depthpose_core.lift``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from depthpose_core.intrinsics import Intrinsics
from depthpose_core.keypoints import LIMBS
from depthpose_core.messages import debug_image, skeleton3d_array, skeleton_array
from depthpose_core.skeleton import Skeleton
from depthpose_core.viz import track_colour
from depthpose_ros.msg import Keypoint2D, Keypoint3D, Skeleton2D, Skeleton2DArray, Skeleton3D, Skeleton3DArray

__all__ = ["debug_image_msg", "intrinsics_of", "skeleton_markers", "skeletons3d_to_msg", "skeletons_to_msg"]


def skeletons_to_msg(
    header: Header, frame_size: tuple[int, int], people: Sequence[Skeleton], ids: Sequence[int]
) -> Skeleton2DArray:
    """The per-frame output message (see :func:`depthpose_core.messages.skeleton_array`)."""
    return skeleton_array(header, frame_size, people, ids, array=Skeleton2DArray, skeleton=Skeleton2D,
                          keypoint=Keypoint2D)  # fmt: skip


def skeletons3d_to_msg(
    header: Header, people: Sequence[Skeleton], ids: Sequence[int], lifted: Sequence[np.ndarray]
) -> Skeleton3DArray:
    """The ``skeletons_3d`` message (see :func:`depthpose_core.messages.skeleton3d_array`)."""
    return skeleton3d_array(header, people, ids, lifted, array=Skeleton3DArray, skeleton=Skeleton3D,
                            keypoint=Keypoint3D, point=Point)  # fmt: skip


def debug_image_msg(header: Header, lowres: np.ndarray, people: Sequence[Skeleton], ids: Sequence[int]) -> Image:
    """The ``~/debug_image`` message (see :func:`depthpose_core.messages.debug_image`)."""
    return debug_image(header, lowres, people, ids, image=Image)


def intrinsics_of(info: CameraInfo) -> Intrinsics:
    """The intrinsics of a ``CameraInfo`` (its K for its own image size)."""
    return Intrinsics.from_k(info.k, info.width, info.height)


def skeleton_markers(
    header: Header, ids: Sequence[int], lifted: Sequence[np.ndarray], lifetime_s: float
) -> MarkerArray:
    """RViz markers of the 3D skeletons: per person a sphere list of joints and a line list of limbs.

    Args:
        header: the input image's header (frame and stamp of the markers: the points' optical frame).
        ids: track id per person (marker namespaces ``joints`` and ``limbs`` with id = track id; the colour is
            the track's, as in the debug image).
        lifted: per person ``(18, 3)`` points in metres, NaN where a joint has none (as in ``skeletons_3d``).
        lifetime_s: how long RViz keeps a marker that is not refreshed.
    """
    out = MarkerArray()
    lifetime = Duration(sec=int(lifetime_s), nanosec=int((lifetime_s % 1.0) * 1e9))
    for track_id, xyz in zip(ids, lifted):
        points = [Point(x=p[0], y=p[1], z=p[2]) if np.isfinite(p).all() else None for p in xyz.tolist()]
        r, g, b = (c / 255.0 for c in track_colour(track_id))
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
        limbs.points = [q for a, c in LIMBS if points[a] and points[c] for q in (points[a], points[c])]
        out.markers += [joints, limbs]
    return out
