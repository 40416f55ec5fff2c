"""The MVOR PCK protocol (Srivastav et al. 2018), exactly as the published MVOR and DepthPose tables use it.

1. Every ground-truth annotation with ``only_bbox == 0`` is evaluated; a joint at (0, 0) is missing, the
   visibility flag is otherwise ignored.
2. Boxes are the min/max of the present keypoints, for ground truth and detections alike.
3. Each ground-truth person takes, among the detections of its image whose overlap = intersection / GT-box area
   (widths and heights + 1 pixel) is > ``min_overlap``, the one with the highest score (the first in result-list
   order on a tie). No one-to-one constraint, false positives are free, an unmatched person scores 0 everywhere.
4. The matched detection is converted to MVOR-10; a joint is correct if its distance to the GT joint is
   <= ``threshold`` x max(GT box width + 1, GT box height + 1). Missing predicted or GT joints are wrong.
5. Per-joint PCK over all evaluated persons; left/right pairs are averaged; Head = mean(head, neck); Average =
   mean of the 10 joints.

Beyond the protocol (which leaves false positives free), every result also counts its false positives, per
ground-truth image: detections that are no evaluated person's match in step 3 (phantom skeletons, fragments,
duplicates of a matched person) and do not lie on a person who is not evaluated (``only_bbox`` people, e.g. the
draped patient, with a COCO ``bbox``): a detection lies on one when their boxes' intersection is more than
``min_overlap`` of the smaller box.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from depthpose_core.errors import EvaluationError
from depthpose_core.eval.records import Detections, GroundTruth, parse_ground_truth, parse_results
from depthpose_core.keypoints import MVOR10_NAMES

__all__ = ["GROUPS", "PCKResult", "evaluate", "format_table", "seed_summary"]

#: Reported groups -> the MVOR-10 joints they average.
GROUPS: dict[str, tuple[str, ...]] = {
    "Head": ("head", "neck"),
    "Shoulder": ("left_shoulder", "right_shoulder"),
    "Hip": ("left_hip", "right_hip"),
    "Elbow": ("left_elbow", "right_elbow"),
    "Wrist": ("left_wrist", "right_wrist"),
    "Average": MVOR10_NAMES,
}


@dataclass(frozen=True)
class PCKResult:
    """PCK of one result list against the MVOR ground truth.

    Attributes:
        per_joint: MVOR-10 joint name -> PCK in % (unrounded), in MVOR-10 order.
        groups: ``GROUPS`` name (Head, Shoulder, Hip, Elbow, Wrist, Average) -> PCK in % (unrounded).
        num_persons: evaluated ground-truth persons.
        num_images: images holding at least one evaluated person.
        num_matched: evaluated persons that were matched to a detection (step 3); the others score 0.
        num_false_positives: detections that are no evaluated person's match (see the module docstring).
        num_frames: ground-truth images, with or without people (the false positives' denominator).
    """

    per_joint: dict[str, float]
    groups: dict[str, float]
    num_persons: int
    num_images: int
    num_matched: int
    num_false_positives: int
    num_frames: int

    @property
    def recall(self) -> float:
        """Persons matched to a detection / persons evaluated, in %."""
        return 100.0 * self.num_matched / self.num_persons if self.num_persons else 0.0

    @property
    def false_positives_per_image(self) -> float:
        """Detections that are no evaluated person's match, per ground-truth image."""
        return self.num_false_positives / self.num_frames if self.num_frames else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy: plain dicts, floats and ints."""
        return asdict(self)


def evaluate(
    gt: dict[str, Any], results: list[dict[str, Any]], *, threshold: float = 0.2, min_overlap: float = 0.3
) -> PCKResult:
    """Score COCO results against MVOR ground truth with the MVOR PCK protocol (see the module docstring).

    Args:
        gt: COCO-style ground truth (``images``; ``annotations`` with ``image_id``, ``only_bbox`` and 10 MVOR
            x, y, v keypoint triplets in image pixels).
        results: COCO results list (``image_id``, ``score``, keypoints in image pixels under ``coco_keypoints``
            (COCO-17) or ``keypoints`` (COCO-17 or MVOR-10); see :func:`~depthpose_core.eval.records.parse_results`).
        threshold: correct-joint radius as a fraction of the GT box's longer side (+1 pixel convention).
        min_overlap: a detection must cover strictly more than this fraction of the GT box to be matched.

    Returns:
        The per-joint and grouped PCK in %.

    Raises:
        EvaluationError: malformed ground truth or results (the message names the record), results for an image
            absent from the ground truth, no person to evaluate, or a non-finite/negative parameter.
    """
    for name, value in (("threshold", threshold), ("min_overlap", min_overlap)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise EvaluationError(f"{name} must be a finite number >= 0, got {value!r}")
    truth = parse_ground_truth(gt)
    if len(truth.joints) == 0:
        raise EvaluationError("ground truth has no person to evaluate (no only_bbox == 0 annotation with keypoints)")
    detections = parse_results(results, truth.index_of)

    matched = _match(truth, detections, min_overlap)
    predicted = np.full_like(truth.joints, np.nan)
    hit = matched >= 0
    predicted[hit] = detections.joints[matched[hit]]

    gt_min, gt_max = np.nanmin(truth.joints, axis=1), np.nanmax(truth.joints, axis=1)
    scale = np.max(gt_max - gt_min + 1, axis=1)
    distance = np.sqrt(np.sum(np.square(predicted - truth.joints), axis=2))
    correct = distance <= threshold * scale[:, None]  # NaN (missing) compares False

    pck = correct.mean(axis=0) * 100.0
    per_joint = dict(zip(MVOR10_NAMES, pck.tolist()))
    groups = {name: float(np.mean([per_joint[j] for j in joints])) for name, joints in GROUPS.items()}
    return PCKResult(
        per_joint=per_joint,
        groups=groups,
        num_persons=len(truth.joints),
        num_images=len(np.unique(truth.image_index)),
        num_matched=int(hit.sum()),
        num_false_positives=_count_false_positives(truth, detections, matched, min_overlap),
        num_frames=len(truth.image_ids),
    )


def seed_summary(results: Sequence[PCKResult]) -> dict[str, tuple[float, float]]:
    """Mean and sample standard deviation (0 for one result) over runs (e.g. training seeds) of every group's
    PCK and of the recall, in %, and of the false positives per image (key ``FP/img``)."""
    if not results:
        raise EvaluationError("seed_summary needs at least one result")
    values = {group: [r.groups[group] for r in results] for group in GROUPS}
    values["Recall"] = [r.recall for r in results]
    values["FP/img"] = [r.false_positives_per_image for r in results]
    ddof = 1 if len(results) > 1 else 0
    return {key: (float(np.mean(v)), float(np.std(v, ddof=ddof))) for key, v in values.items()}


def format_table(rows: Mapping[str, PCKResult | Sequence[PCKResult]]) -> str:
    """One-decimal PCK table (%) with one row per named result and aligned columns, like DepthPose's Table 1,
    followed by the recall (persons matched to a detection, %) and the false positives per image (two decimals:
    detections that are no evaluated person's match). A row given several results (seeds) shows
    "mean ± standard deviation" and, in a last column, how many.

    Raises:
        EvaluationError: ``rows`` is empty.
    """
    if not rows:
        raise EvaluationError("format_table needs at least one named result")
    runs = {name: [value] if isinstance(value, PCKResult) else list(value) for name, value in rows.items()}
    several = any(len(v) > 1 for v in runs.values())
    header = ["Method", *GROUPS, "Recall", "FP/img", *(["Runs"] if several else [])]
    body = []
    for name, results in runs.items():
        cells = []
        for key, (m, sd) in seed_summary(results).items():
            digits = 2 if key == "FP/img" else 1
            cells.append(f"{m:.{digits}f}" if len(results) == 1 else f"{m:.{digits}f} ± {sd:.{digits}f}")
        body.append([name, *cells, *([str(len(results))] if several else [])])
    widths = [max(len(row[c]) for row in (header, *body)) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:]))
        return "  ".join((first, *rest)).rstrip()

    rule = ["-" * width for width in widths]
    return "\n".join(line(row) for row in (header, rule, *body))


def _match(truth: GroundTruth, detections: Detections, min_overlap: float) -> np.ndarray:
    """Index of each GT person's matched detection, or -1 (no detection of its image overlaps enough)."""
    num_persons = len(truth.joints)
    matched = np.full(num_persons, -1, dtype=np.int64)
    if len(detections.scores) == 0:
        return matched

    # Candidate pairs: every GT person with every detection of the same image.
    order = np.argsort(detections.image_index, kind="stable")
    per_image = np.bincount(detections.image_index, minlength=len(truth.image_ids))
    first = np.cumsum(per_image) - per_image
    pairs_per_person = per_image[truth.image_index]
    person = np.repeat(np.arange(num_persons), pairs_per_person)
    offset = np.arange(len(person)) - np.repeat(np.cumsum(pairs_per_person) - pairs_per_person, pairs_per_person)
    detection = order[first[truth.image_index][person] + offset]

    gt_boxes = np.concatenate([np.nanmin(truth.joints, axis=1), np.nanmax(truth.joints, axis=1)], axis=1)[person]
    overlap = _intersection(gt_boxes, detections.boxes[detection]) / _area(gt_boxes)
    keep = overlap > min_overlap  # NaN boxes (no keypoints) compare False
    person, detection = person[keep], detection[keep]

    # Highest score first, then result-list order; the first pair of each person wins.
    ranked = np.lexsort((detection, -detections.scores[detection], person))
    winners, first_pair = np.unique(person[ranked], return_index=True)
    matched[winners] = detection[ranked][first_pair]
    return matched


def _count_false_positives(truth: GroundTruth, detections: Detections, matched: np.ndarray,
                           min_overlap: float) -> int:  # fmt: skip
    """Detections that are no person's match and lie on no unevaluated person (see the module docstring)."""
    free = np.ones(len(detections.scores), dtype=bool)
    free[matched[matched >= 0]] = False
    candidates = np.flatnonzero(free)
    count = 0
    for image in np.unique(detections.image_index[candidates]):
        d = detections.boxes[candidates[detections.image_index[candidates] == image]][:, None, :]
        u = truth.unlabelled_boxes[truth.unlabelled_image_index == image][None, :, :]
        on_person = _intersection(d, u) > min_overlap * np.minimum(_area(d), _area(u))  # NaN boxes compare False
        count += int(np.count_nonzero(~on_person.any(axis=1)))
    return count


def _area(boxes: np.ndarray) -> np.ndarray:
    """Pixel area of ``(..., 4)`` boxes x1, y1, x2, y2 with inclusive bounds (widths and heights + 1)."""
    return (boxes[..., 2] - boxes[..., 0] + 1) * (boxes[..., 3] - boxes[..., 1] + 1)


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixel area shared by boxes ``a`` and ``b`` (broadcast ``(..., 4)``, as :func:`_area`); 0 when apart."""
    width = np.maximum(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + 1, 0)
    height = np.maximum(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + 1, 0)
    return width * height
