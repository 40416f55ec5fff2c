"""The paper's pseudo-label rule: which colour detections become depth training labels, and how.

A detected person is kept when its detection score is at least ``person_score`` (0.7) and at least
``min_keypoints`` (4) of its COCO-17 keypoints score above ``keypoint_score`` (0.35). Keypoints at or below that
score are dropped (unlabelled). COCO-17 becomes the network's 18 joints; the neck is the midpoint of the two
shoulders when both are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from depthpose_core.errors import ConfigError
from depthpose_core.keypoints import COCO17_FROM_NET, NET_JOINTS, NUM_JOINTS

__all__ = ["Detection", "FilterParams", "REJECTIONS", "coco17_to_label", "filter_detections"]

_NECK = NET_JOINTS.index("neck")
#: Reasons a detection is rejected, in the order they are checked.
REJECTIONS = ("person score", "too few keypoints")


@dataclass(frozen=True)
class Detection:
    """One person found in a colour image.

    Attributes:
        score: detection (person) score in [0, 1].
        keypoints: ``(17, 3)`` COCO-17 x, y (colour image pixels, centres at +0.5) and score in [0, 1].
        box: ``(x, y, w, h)`` in colour image pixels.
    """

    score: float
    keypoints: np.ndarray
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class FilterParams:
    """Thresholds of the pseudo-label rule (defaults: the paper's)."""

    person_score: float = 0.7
    keypoint_score: float = 0.35
    min_keypoints: int = 4

    def __post_init__(self) -> None:
        if not (0 <= self.person_score <= 1 and 0 <= self.keypoint_score <= 1 and 1 <= self.min_keypoints <= 17):
            raise ConfigError(f"FilterParams out of range: {self}")


def coco17_to_label(keypoints: np.ndarray, keypoint_score: float) -> np.ndarray:
    """``(17, 3)`` COCO-17 detections -> ``(18, 3)`` label (x, y, flag 2 = kept, 0 = dropped; network order)."""
    out = np.zeros((NUM_JOINTS, 3))
    kept = keypoints[:, 2] > keypoint_score
    idx = np.asarray(COCO17_FROM_NET)
    out[idx[kept], :2] = keypoints[kept, :2]
    out[idx[kept], 2] = 2.0
    if kept[5] and kept[6]:  # COCO-17 5, 6 = left, right shoulder
        out[_NECK] = (*keypoints[[5, 6], :2].mean(axis=0), 2.0)
    return out


def filter_detections(
    detections: Sequence[Detection], params: FilterParams
) -> tuple[list[tuple[Detection, np.ndarray]], Counter[str]]:
    """Apply the rule to one image's detections.

    Returns:
        The kept detections with their ``(18, 3)`` labels, and the count of rejections by reason
        (:data:`REJECTIONS`).
    """
    kept: list[tuple[Detection, np.ndarray]] = []
    rejected: Counter[str] = Counter()
    for det in detections:
        if det.score < params.person_score:
            rejected["person score"] += 1
        elif int((det.keypoints[:, 2] > params.keypoint_score).sum()) < params.min_keypoints:
            rejected["too few keypoints"] += 1
        else:
            kept.append((det, coco17_to_label(det.keypoints, params.keypoint_score)))
    return kept, rejected
