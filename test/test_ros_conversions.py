"""The rclpy adapter (``depthpose_ros.conversions``): output messages built with rclpy's classes (2D and 3D), RViz
markers of the 3D skeletons in track colours. The message logic itself is tested without ROS in test_messages.py."""

from __future__ import annotations

import numpy as np
import pytest
from depthpose_ros.msg import Skeleton2D
from samples import shoulders_person
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from depthpose_core.lift import lift_skeleton
from depthpose_core.preprocess import Preprocessing
from depthpose_core.viz import track_colour
from depthpose_ros.conversions import (
    debug_image_msg,
    intrinsics_of,
    skeleton_markers,
    skeletons3d_to_msg,
    skeletons_to_msg,
)


def test_skeleton_array_carries_header_frame_ids_and_explicit_missing_joints() -> None:
    header = Header(frame_id="ceiling_cam_optical")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    msg = skeletons_to_msg(header, (640, 480), [shoulders_person(), shoulders_person(200.0)], [7, 9])
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
    msg = debug_image_msg(Header(frame_id="cam"), np.zeros((48, 64), np.float32), [shoulders_person()], [1])
    assert (msg.width, msg.height, msg.encoding, msg.step, len(msg.data)) == (64, 48, "bgr8", 192, 64 * 48 * 3)
    assert msg.header.frame_id == "cam"


def test_3d_skeletons_and_markers_show_the_same_points_in_the_track_colour() -> None:
    pre = Preprocessing(near_mm=500.0, far_mm=6000.0)
    lowres = np.full((48, 64), (2700.0 - 500.0) / 5500.0, np.float32)  # everything 2.7 m away
    info = CameraInfo(width=640, height=480)
    info.k = [500.0, 0.0, 319.5, 0.0, 500.0, 239.5, 0.0, 0.0, 1.0]
    person = shoulders_person()
    lifted = [lift_skeleton(person, lowres, pre, intrinsics_of(info))]
    header = Header(frame_id="cam")
    msg = skeletons3d_to_msg(header, [person], [3], lifted)
    assert msg.header == header and [s.id for s in msg.skeletons] == [3]
    keypoints = msg.skeletons[0].keypoints
    assert [j for j, k in enumerate(keypoints) if k.valid] == [1, 2, 5]
    neck = keypoints[1].position
    assert neck.z == pytest.approx(2.7, abs=1e-4)
    assert neck.x == pytest.approx((100.0 - 0.5 - 319.5) * 2.7 / 500.0, abs=1e-4)
    assert neck.y == pytest.approx((50.0 - 0.5 - 239.5) * 2.7 / 500.0, abs=1e-4)
    assert np.isnan(keypoints[0].position.z)  # missing: NaN, never 0 m
    joints, limbs = skeleton_markers(header, [3], lifted, 0.5).markers
    assert (joints.ns, joints.id, limbs.ns, limbs.id) == ("joints", 3, "limbs", 3)
    assert len(joints.points) == 3 and len(limbs.points) == 4  # neck, two shoulders; two neck-shoulder limbs
    assert [(p.x, p.y, p.z) for p in joints.points] == [
        (k.position.x, k.position.y, k.position.z) for k in keypoints if k.valid]
    # The same colour as the debug image gives track 3.
    assert (joints.color.r, joints.color.g, joints.color.b) == pytest.approx(tuple(c / 255 for c in track_colour(3)))
    # No valid depth around a joint: the joint is left out rather than placed at a made-up distance.
    empty = [lift_skeleton(person, np.zeros_like(lowres), pre, intrinsics_of(info))]
    assert skeleton_markers(Header(), [3], empty, 0.5).markers[0].points == []
    assert not any(k.valid for k in skeletons3d_to_msg(header, [person], [3], empty).skeletons[0].keypoints)
