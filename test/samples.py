"""Small hand-made values shared by several test modules."""

from __future__ import annotations

import numpy as np

from depthpose_core.skeleton import Skeleton


def shoulders_person(offset: float = 0.0) -> Skeleton:
    """A person with only the neck (100 + offset, 50) and both shoulders (+-10 px, 2 px lower) present, scores
    0.8, person score 4.2, in a 640x480 frame."""
    keypoints = np.full((18, 2), np.nan)
    keypoints[1] = (100.0 + offset, 50.0)  # neck
    keypoints[2] = (90.0 + offset, 52.0)  # right shoulder
    keypoints[5] = (110.0 + offset, 52.0)  # left shoulder
    scores = np.where(np.isnan(keypoints[:, 0]), 0.0, 0.8)
    return Skeleton(keypoints, scores, 4.2, (640, 480))


#: Run-time settings of tests that are not about backends: today's eager PyTorch path in float32 on the CPU,
#: so results compare exactly and no backend compiles a graph per estimator.
EAGER = {"device": "cpu", "backend": "torch", "precision": "fp32"}
