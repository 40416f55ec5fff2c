"""The tracker: ids stay with people who move smoothly, new people get new ids, lost tracks end."""

from __future__ import annotations

import numpy as np
import pytest

from depthpose_core.demo_scene import make_demo_frame
from depthpose_core.skeleton import Skeleton
from depthpose_core.tracking import SkeletonTracker, TrackerParams

FPS = 15.0


def _skeleton(joints: np.ndarray, shift: tuple[float, float]) -> Skeleton:
    return Skeleton(joints[:, :2] + np.array(shift), np.full(18, 0.9), 10.0, (640, 480))


@pytest.fixture(scope="module")
def people() -> np.ndarray:
    """Three standing clinicians of the demo scene, (3, 18, 3)."""
    return make_demo_frame(seed=1, num_people=3)[1]


def test_ids_follow_people_walking_past_each_other(people: np.ndarray) -> None:
    # Person 0 walks right and person 2 walks left at 1.5 m/s-ish (6 px per frame), crossing person 1's place;
    # the detector lists people in a shuffled order every frame.
    tracker = SkeletonTracker()
    rng = np.random.default_rng(0)
    first_ids = None
    for t in range(40):
        shifts = [(6.0 * t, 0.0), (0.0, 0.5 * np.sin(t)), (-6.0 * t, 0.0)]
        order = rng.permutation(3)
        frame = [_skeleton(people[i], shifts[i]) for i in order]
        ids = tracker.update(frame, t / FPS)
        by_person = dict(zip(order.tolist(), ids))
        if first_ids is None:
            first_ids = by_person
            assert sorted(ids) == [1, 2, 3]
        assert by_person == first_ids, f"ids changed at frame {t}"


def test_a_new_person_gets_a_new_id_and_a_lost_track_ends(people: np.ndarray) -> None:
    tracker = SkeletonTracker(TrackerParams(max_age_s=0.5))
    a, b = people[0], people[2]
    assert tracker.update([_skeleton(a, (0, 0))], 0.0) == [1]
    assert tracker.update([_skeleton(a, (3, 0)), _skeleton(b, (0, 0))], 0.1) == [1, 2]
    assert tracker.update([_skeleton(b, (0, 0))], 0.2) == [2]  # a is out of view
    # a comes back at the same place within max_age_s: same id; after a longer absence: a new id.
    assert tracker.update([_skeleton(a, (6, 0)), _skeleton(b, (0, 0))], 0.5) == [1, 2]
    assert tracker.update([_skeleton(b, (0, 0))], 0.6) == [2]
    assert tracker.update([_skeleton(b, (0, 0))], 1.0) == [2]
    assert tracker.update([_skeleton(a, (6, 0)), _skeleton(b, (0, 0))], 1.3) == [3, 2]


def test_time_going_backwards_restarts_tracking_with_fresh_ids(people: np.ndarray) -> None:
    tracker = SkeletonTracker()
    assert tracker.update([_skeleton(people[0], (0, 0))], 10.0) == [1]
    assert tracker.update([_skeleton(people[0], (0, 0))], 2.0) == [2]  # a replayed bag started over


def test_a_jump_across_the_room_is_a_different_person(people: np.ndarray) -> None:
    tracker = SkeletonTracker()
    assert tracker.update([_skeleton(people[0], (0, 0))], 0.0) == [1]
    assert tracker.update([_skeleton(people[0], (300, 0))], 1 / FPS) == [2]


def test_params_are_checked() -> None:
    for kwargs in ({"min_iou": 0.0}, {"max_age_s": -1.0}, {"box_margin": -0.1}, {"velocity_smoothing": 1.0}):
        with pytest.raises(ValueError, match="TrackerParams"):
            TrackerParams(**kwargs)
