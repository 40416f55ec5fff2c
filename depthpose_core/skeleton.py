"""The decoder's output: one person as 18 keypoints in a stated pixel frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from depthpose_core.keypoints import COCO17_FROM_NET, NET_JOINTS, NUM_JOINTS, coco17_to_mvor10

__all__ = ["Skeleton", "format_people"]


@dataclass(frozen=True)
class Skeleton:
    """One detected person.

    Coordinates are continuous pixel coordinates of the frame the skeleton was decoded for: the top-left corner
    of the top-left pixel is (0, 0) and the centre of pixel (column i, row j) is (i + 0.5, j + 0.5); x grows to
    the right, y downwards.

    Attributes:
        keypoints: ``(18, 2)`` float64 x, y in the network joint order (see ``keypoints.NET_JOINTS``); NaN where
            the joint is missing.
        scores: ``(18,)`` float64 peak confidence in [0, 1] (heatmap value); 0 where missing.
        score: person score = (sum of part and limb scores) x (number of parts), as in the reference decoder.
        frame_size: (width, height) in pixels of the frame the coordinates refer to.
    """

    keypoints: np.ndarray
    scores: np.ndarray
    score: float
    frame_size: tuple[int, int]

    def __post_init__(self) -> None:
        if self.keypoints.shape != (NUM_JOINTS, 2) or self.scores.shape != (NUM_JOINTS,):
            raise ValueError(
                f"Skeleton needs keypoints (18, 2) and scores (18,), got {self.keypoints.shape} and {self.scores.shape}"
            )

    @property
    def present(self) -> np.ndarray:
        """``(18,)`` bool: True where the joint was detected."""
        return ~np.isnan(self.keypoints[:, 0])

    @property
    def num_parts(self) -> int:
        """Number of detected joints."""
        return int(self.present.sum())

    def rescaled(self, frame_size: tuple[int, int]) -> Skeleton:
        """The same skeleton expressed in another pixel frame covering the same field of view."""
        sx = frame_size[0] / self.frame_size[0]
        sy = frame_size[1] / self.frame_size[1]
        return Skeleton(self.keypoints * np.array([sx, sy]), self.scores.copy(), self.score,
                        (int(frame_size[0]), int(frame_size[1])))

    def box(self) -> tuple[float, float, float, float] | None:
        """Keypoint bounding box (x_min, y_min, x_max, y_max) in frame pixels, or None without keypoints."""
        pts = self.keypoints[self.present]
        if len(pts) == 0:
            return None
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))

    def coco17(self, *, unit_scores: bool = False) -> np.ndarray:
        """``(17, 3)`` COCO-17 keypoints x, y, score; missing joints are (0, 0, 0).

        Args:
            unit_scores: write 1 as every present keypoint's score (what the reference result files hold).
        """
        out = np.zeros((17, 3), dtype=np.float64)
        idx = np.asarray(COCO17_FROM_NET)
        present = self.present[idx]
        out[present, :2] = self.keypoints[idx][present]
        out[present, 2] = 1.0 if unit_scores else self.scores[idx][present]
        return out

    def mvor10(self) -> np.ndarray:
        """``(10, 3)`` MVOR-10 keypoints (head, neck, shoulders, hips, elbows, wrists); missing = (0, 0, 0)."""
        return coco17_to_mvor10(self.coco17())

    def to_coco_result(self, image_id: int, *, unit_scores: bool = False) -> dict:
        """A COCO keypoint result record (``category_id`` 1) for this person."""
        return {
            "image_id": image_id,
            "category_id": 1,
            "keypoints": [round(float(v), 3) for v in self.coco17(unit_scores=unit_scores).ravel()],
            "score": float(self.score),
        }


def format_people(people: Sequence[Skeleton]) -> str:
    """A readable listing: one block per person with the present keypoints (x, y in frame pixels, score)."""
    if not people:
        return "no people found"
    lines = [f"{len(people)} people found (keypoints: x, y in {people[0].frame_size[0]}x{people[0].frame_size[1]} "
             "frame pixels, score)"]  # fmt: skip
    for i, p in enumerate(people):
        lines.append(f"person {i}: score {p.score:.2f}, {p.num_parts} of 18 joints")
        for j in np.flatnonzero(p.present):
            x, y = p.keypoints[j]
            lines.append(f"  {NET_JOINTS[j]:<15} {x:7.1f} {y:7.1f}  {p.scores[j]:.2f}")
    return "\n".join(lines)
