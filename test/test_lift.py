"""The 3D lift: joints placed with the low-resolution depth and pinhole intrinsics, missing depth left out."""

from __future__ import annotations

import numpy as np
import pytest

from depthpose_core.intrinsics import Intrinsics
from depthpose_core.lift import LiftParams, joint_depth_samples, lift_skeleton
from depthpose_core.preprocess import Preprocessing, denormalise_depth, normalise_depth
from depthpose_core.skeleton import Skeleton

PRE = Preprocessing(near_mm=500.0, far_mm=6000.0)
K = Intrinsics(fx=500.0, fy=500.0, cx=319.5, cy=239.5, width=640, height=480)


def _person() -> Skeleton:
    keypoints = np.full((18, 2), np.nan)
    keypoints[1] = (100.0, 50.0)
    keypoints[2] = (90.0, 52.0)
    return Skeleton(keypoints, np.where(np.isnan(keypoints[:, 0]), 0.0, 0.8), 2.0, (640, 480))


def test_denormalise_inverts_normalise() -> None:
    mm = np.array([[500, 1200, 2700, 6000]], np.uint16)
    np.testing.assert_allclose(denormalise_depth(normalise_depth(mm, 500.0, 6000.0), PRE), mm, atol=1e-3)


def test_joints_are_placed_at_the_depth_in_the_optical_frame() -> None:
    lowres = np.full((48, 64), (2700.0 - 500.0) / 5500.0, np.float32)  # everything 2.7 m away
    points = lift_skeleton(_person(), lowres, PRE, K)
    assert points.shape == (18, 3)
    assert np.isnan(points[0]).all() and np.isfinite(points[[1, 2]]).all()  # only the present joints
    np.testing.assert_allclose(points[1], [(100.0 - 0.5 - 319.5) * 2.7 / 500.0, (50.0 - 0.5 - 239.5) * 2.7 / 500.0,
                                           2.7], atol=1e-4)  # fmt: skip


def test_a_frame_of_another_size_is_scaled_to_the_calibrated_image() -> None:
    lowres = np.full((48, 64), (2700.0 - 500.0) / 5500.0, np.float32)
    half = Intrinsics(fx=250.0, fy=250.0, cx=159.5, cy=119.5, width=320, height=240)
    full = lift_skeleton(_person(), lowres, PRE, K)
    np.testing.assert_allclose(lift_skeleton(_person(), lowres, PRE, half)[1], full[1], atol=1e-6)


def test_no_valid_depth_leaves_the_joint_out() -> None:
    assert np.isnan(lift_skeleton(_person(), np.zeros((48, 64), np.float32), PRE, K)).all()


@pytest.mark.parametrize(("k", "width", "calibrated"), [([500.0, 0, 319.5, 0, 500.0, 239.5, 0, 0, 1], 640, True),
                                                          ([0.0] * 9, 640, False),
                                                          ([500.0, 0, 319.5, 0, 500.0, 239.5, 0, 0, 1], 0, False)])
def test_intrinsics_from_a_camera_matrix(k: list[float], width: int, calibrated: bool) -> None:
    intr = Intrinsics.from_k(k, width, 480)
    assert intr.calibrated is calibrated
    if calibrated:
        assert (intr.fx, intr.fy, intr.cx, intr.cy) == (500.0, 500.0, 319.5, 239.5)


def _norm(mm: float) -> float:
    return (mm - PRE.near_mm) / (PRE.far_mm - PRE.near_mm)


def _arm() -> Skeleton:
    """A right arm seen from above: shoulder (2), elbow (3) and wrist (4) along a row, in 640x480 pixels."""
    keypoints = np.full((18, 2), np.nan)
    keypoints[2], keypoints[3], keypoints[4] = (205.0, 245.0), (255.0, 245.0), (305.0, 245.0)
    return Skeleton(keypoints, np.where(np.isnan(keypoints[:, 0]), 0.0, 0.9), 3.0, (640, 480))


def test_artefacts_and_background_around_a_joint_do_not_move_it() -> None:
    # Floor at 3.0 m; the arm a one-cell-wide strip at 1.6 m along row 24 ending at the wrist's cell (column
    # 30); beside the wrist the reduction blended a hole into two cells (0.6 m): the nearest reading in its 3x3
    # cells, which the rule before issue 14 took.
    lowres = np.full((48, 64), _norm(3000.0), np.float32)
    lowres[24, 20:31] = _norm(1600.0)
    lowres[23, 31] = lowres[25, 29] = _norm(600.0)
    old = lift_skeleton(_arm(), lowres, PRE, K, LiftParams(reach=0.0, quantile=0.0))
    new = lift_skeleton(_arm(), lowres, PRE, K)
    assert old[4, 2] == pytest.approx(0.6, abs=0.01)  # the artefact
    np.testing.assert_allclose(new[[2, 3, 4], 2], 1.6, atol=0.01)  # the arm's surface at every joint
    # A median of the 3x3 cells alone would put the wrist on the floor (6 of its 9 cells).
    assert lift_skeleton(_arm(), lowres, PRE, K, LiftParams(reach=0.0, quantile=0.5))[4, 2] == pytest.approx(3.0)


def test_the_samples_follow_the_limbs_of_present_joints_only() -> None:
    lowres = np.full((48, 64), 0.5, np.float32)
    arm = _arm()
    # Wrist: its own cell and half a cell steps up to reach (1 cell) towards the elbow: 2 cells (column 30, 29).
    assert joint_depth_samples(arm, 4, lowres, LiftParams(reach=1.0)).size == 2
    # Elbow: towards both neighbours.
    assert joint_depth_samples(arm, 3, lowres, LiftParams(reach=1.0)).size == 3
    lonely = Skeleton(np.where(np.arange(18)[:, None] == 4, arm.keypoints, np.nan), arm.scores, 1.0, (640, 480))
    assert joint_depth_samples(lonely, 4, lowres, LiftParams(reach=1.0)).size == 1
    holes = lowres.copy()
    holes[24, 29:31] = 1.0  # no reading (valid_area's hole value) along the wrist's samples
    assert np.isnan(lift_skeleton(lonely, holes, PRE, K)[4]).all()  # no depth: no point, never 0 m


@pytest.mark.parametrize("bad", [{"reach": -1.0}, {"quantile": 1.5}, {"quantile": float("nan")}])
def test_lift_params_are_checked(bad: dict) -> None:
    with pytest.raises(ValueError, match="LiftParams"):
        LiftParams(**bad)


def test_two_samples_give_one_of_them_never_a_depth_between_the_surfaces() -> None:
    lowres = np.full((48, 64), _norm(3000.0), np.float32)  # floor
    lowres[24, 29] = _norm(1600.0)  # the forearm's cell next to the wrist's (the wrist's own: floor)
    arm = _arm()
    assert joint_depth_samples(arm, 4, lowres, LiftParams(reach=1.0)).size == 2
    assert lift_skeleton(arm, lowres, PRE, K)[4, 2] == pytest.approx(1.6)  # the nearer of the two, not 2.3 m


def test_a_joint_on_the_frames_far_edge_reads_the_last_cell() -> None:
    keypoints = np.full((18, 2), np.nan)
    keypoints[4] = (640.0, 480.0)  # the bottom-right corner, a valid continuous coordinate
    corner = Skeleton(keypoints, np.where(np.isnan(keypoints[:, 0]), 0.0, 0.9), 1.0, (640, 480))
    lowres = np.full((48, 64), _norm(2000.0), np.float32)
    for reach in (0.0, 1.0):
        assert lift_skeleton(corner, lowres, PRE, K, LiftParams(reach=reach))[4, 2] == pytest.approx(2.0)
