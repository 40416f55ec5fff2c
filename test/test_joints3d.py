"""3D joint error against exact joints: which people and joints are scored, pairing, summaries, bad labels."""

from __future__ import annotations

import numpy as np
import pytest

from depthpose_core.errors import EvaluationError
from depthpose_core.eval.joints3d import Joint3DErrors, exact_people, match_to_truth
from depthpose_core.skeleton import Skeleton


def _label(x: float, v: int = 2) -> np.ndarray:
    kp = np.zeros((18, 3))
    kp[1], kp[2], kp[5] = (x, 100.0, v), (x - 20.0, 105.0, v), (x + 20.0, 105.0, v)
    return kp


def _detection(x: float) -> Skeleton:
    keypoints = np.full((18, 2), np.nan)
    keypoints[[1, 2, 5]] = _label(x)[[1, 2, 5], :2]
    return Skeleton(keypoints, np.where(np.isnan(keypoints[:, 0]), 0.0, 0.7), 2.0, (640, 480))


def test_only_keypoint_labelled_people_with_exact_joints_are_read() -> None:
    xyz = np.arange(54, dtype=float).reshape(18, 3) / 10.0
    exact3d = xyz.reshape(-1).tolist()
    anns = [
        {"id": 1, "only_bbox": 0, "keypoints18": _label(100.0).reshape(-1).tolist(), "joints3d": exact3d},
        {"id": 2, "only_bbox": 1, "keypoints18": _label(300.0).reshape(-1).tolist(), "joints3d": exact3d},
        {"id": 3, "only_bbox": 0, "keypoints18": _label(500.0).reshape(-1).tolist()},  # MVOR: no 3D labels
    ]  # fmt: skip
    ((kp, exact),) = exact_people(anns)
    np.testing.assert_array_equal(exact, xyz)
    assert kp[1].tolist() == [100.0, 100.0, 2.0]


@pytest.mark.parametrize("joints3d", [[1.0] * 53, [float("nan")] * 54, "x" * 54, None])
def test_malformed_exact_joints_are_refused_naming_the_record(joints3d: object) -> None:
    ann = {"id": 42, "only_bbox": 0, "keypoints18": _label(100.0).reshape(-1).tolist(), "joints3d": joints3d}
    with pytest.raises(EvaluationError, match="annotation 42"):
        exact_people([ann])


def test_detections_pair_with_the_nearest_labelled_person_once() -> None:
    truth = [_label(100.0), _label(200.0)]
    people = [_detection(203.0), _detection(99.0), _detection(101.0), _detection(400.0)]
    # Nearest first: 99 or 101 takes person 0 (both 1 px away, the first wins), 203 takes person 1; the other
    # near one has nobody left, and 400 is farther than half the person's size from everyone.
    assert sorted(match_to_truth(people, truth)) == [(0, 1), (1, 0)]


def test_errors_are_summarised_per_group_with_missing_points_counted() -> None:
    errors = Joint3DErrors()
    exact = np.zeros((18, 3))
    exact[:, 2] = 2.0
    lifted = exact.copy()
    lifted[1, 2] = 1.95  # neck 50 mm too near
    lifted[2, 2] = 2.2  # right shoulder 200 mm too far
    lifted[5] = np.nan  # left shoulder without a point
    visible = np.zeros(18, bool)
    visible[[1, 2, 5]] = True
    errors.add(lifted, exact, visible)
    table = errors.table()
    assert table["Neck"]["median"] == pytest.approx(50.0) and table["Neck"]["bias"] == pytest.approx(-50.0)
    shoulder = table["Shoulder"]
    assert shoulder["n"] == 2 and shoulder["missing"] == 50.0 and shoulder["median"] == pytest.approx(200.0)
    assert shoulder["within_100"] == 0.0
    assert table["All"]["n"] == 3 and table["All"]["within_100"] == pytest.approx(50.0)
    assert np.isnan(table["Wrist"]["median"]) and table["Wrist"]["n"] == 0
