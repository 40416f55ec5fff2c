"""Ground truth built from known skeletons scores a perfect detection at 100 % and a missing one at 0 %."""

from __future__ import annotations

import numpy as np

from depthpose_core.demo_scene import make_demo_frame
from depthpose_core.eval import evaluate, mvor_ground_truth
from depthpose_core.skeleton import Skeleton


def test_perfect_and_missing_detections() -> None:
    _, people = make_demo_frame(seed=3, num_people=2)
    people[1, 0, 2] = 0  # an unlabelled nose stays missing (the head comes from the eyes)
    empty = np.zeros((1, 18, 3))
    gt = mvor_ground_truth([people, empty])
    assert [a["image_id"] for a in gt["annotations"]] == [0, 0]  # the all-unlabelled person is left out
    assert gt["images"][1] == {"id": 1, "width": 640, "height": 480}
    results = [
        Skeleton(p[:, :2].copy(), np.ones(18), 10.0, (640, 480)).to_coco_result(0) for p in people[:1]
    ]
    result = evaluate(gt, results)
    assert result.num_persons == 2
    assert result.groups["Average"] == 50.0  # first person perfect, second unmatched
