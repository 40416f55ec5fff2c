"""Validation of MVOR ground truth and COCO result records, and their conversion to arrays.

Every problem raises :class:`~depthpose_core.errors.EvaluationError` naming the record (index in its list and,
where it has one, its id) and the bad value. Coordinates stay in image pixels throughout; a keypoint at (0, 0)
is missing, whatever its visibility flag or score.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from depthpose_core.errors import EvaluationError
from depthpose_core.keypoints import COCO17_NAMES, MVOR10_NAMES, coco17_to_mvor10

__all__ = ["Detections", "GroundTruth", "parse_ground_truth", "parse_results"]

_NUM_COCO = len(COCO17_NAMES)
_NUM_MVOR = len(MVOR10_NAMES)
_NUMBER_TYPES = (int, float, np.integer, np.floating)


@dataclass(frozen=True)
class GroundTruth:
    """The evaluated ground-truth persons (``only_bbox == 0`` with at least one present joint).

    Attributes:
        joints: ``(P, 10, 2)`` float64 x, y in image pixels, MVOR-10 order; NaN where the joint is missing.
        image_index: ``(P,)`` int64 position of each person's image in ``image_ids``.
        image_ids: every id of the ground-truth ``images`` list, in file order.
        unlabelled_boxes: ``(U, 4)`` float64 x1, y1, x2, y2 (inclusive pixel bounds) of the people that are not
            evaluated but have a COCO ``bbox`` (``only_bbox == 1``, or no present joint): detections on them are
            not false positives.
        unlabelled_image_index: ``(U,)`` int64 position of each such person's image in ``image_ids``.
    """

    joints: np.ndarray
    image_index: np.ndarray
    image_ids: tuple[Hashable, ...]
    unlabelled_boxes: np.ndarray
    unlabelled_image_index: np.ndarray

    @property
    def index_of(self) -> dict[Hashable, int]:
        """Image id -> position in ``image_ids``."""
        return {image_id: i for i, image_id in enumerate(self.image_ids)}


@dataclass(frozen=True)
class Detections:
    """Result records as arrays, in result-list order.

    Attributes:
        joints: ``(D, 10, 2)`` float64 MVOR-10 x, y in image pixels (COCO-17 records converted by the MVOR rules);
            NaN where missing.
        boxes: ``(D, 4)`` float64 x_min, y_min, x_max, y_max of the record's present keypoints as given (all 17
            for COCO-17 records, the 10 for MVOR-10 records); NaN for a record without keypoints.
        scores: ``(D,)`` float64 detection scores.
        image_index: ``(D,)`` int64 position of each record's image in the ground truth's ``image_ids``.
    """

    joints: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    image_index: np.ndarray


def parse_ground_truth(gt: Any) -> GroundTruth:
    """Validate COCO-style MVOR ground truth and keep the persons the PCK protocol evaluates.

    Annotations need ``image_id`` (an id of ``images``) and ``only_bbox`` (0 or 1); those with ``only_bbox == 0``
    also need ``keypoints``: 30 finite numbers (10 MVOR x, y, visibility triplets). Annotations with
    ``only_bbox == 1`` are not evaluated and their keypoints are not read. An ``only_bbox == 0`` annotation
    whose keypoints are all missing has no box and is skipped, as the reference evaluator does. The people not
    evaluated keep their COCO ``bbox`` (x, y, width, height: 4 finite numbers, width and height >= 0) where they
    have one, for the false-positive count.

    Raises:
        EvaluationError: a missing key, a wrong type or count, a non-finite number, a duplicate image id or an
            annotation of an unknown image; the message names the record.
    """
    if not isinstance(gt, dict):
        raise EvaluationError(f"ground truth must be a COCO-style object (dict), got {type(gt).__name__}")
    images = _require_list(gt, "images", "ground truth")
    annotations = _require_list(gt, "annotations", "ground truth")

    index_of: dict[Hashable, int] = {}
    for i, image in enumerate(images):
        where = f"ground truth image {i}"
        image_id = _image_id(_require_dict(image, where), "id", where)
        if image_id in index_of:
            raise EvaluationError(f"{where}: duplicate image id {_shown(image_id)} (also image {index_of[image_id]})")
        index_of[image_id] = i

    joints: list[np.ndarray] = []
    image_index: list[int] = []
    unlabelled: list[tuple[float, float, float, float]] = []
    unlabelled_index: list[int] = []
    for i, ann in enumerate(annotations):
        where = f"ground truth annotation {i}"
        ann = _require_dict(ann, where)
        if "id" in ann:
            where += f" (id {_shown(ann['id'])})"
        image_id = _image_id(ann, "image_id", where)
        if image_id not in index_of:
            raise EvaluationError(f"{where}: image_id {_shown(image_id)} is not in the ground-truth images")
        if "only_bbox" not in ann:
            raise EvaluationError(f"{where}: missing key 'only_bbox'")
        only_bbox = ann["only_bbox"]
        if isinstance(only_bbox, bool) or only_bbox not in (0, 1):
            raise EvaluationError(f"{where}: 'only_bbox' must be 0 or 1, got {_shown(only_bbox)}")
        present = np.zeros(0, dtype=bool)
        if only_bbox == 0:
            xy = _keypoints(ann, "keypoints", (_NUM_MVOR,), where)[:, :2]
            present = (xy != 0).any(axis=1)
        if not present.any():
            if "bbox" in ann:
                unlabelled.append(_box(ann["bbox"], where))
                unlabelled_index.append(index_of[image_id])
            continue
        joints.append(np.where(present[:, None], xy, np.nan))
        image_index.append(index_of[image_id])

    return GroundTruth(
        joints=np.array(joints, dtype=np.float64).reshape(-1, _NUM_MVOR, 2),
        image_index=np.array(image_index, dtype=np.int64),
        image_ids=tuple(index_of),
        unlabelled_boxes=np.array(unlabelled, dtype=np.float64).reshape(-1, 4),
        unlabelled_image_index=np.array(unlabelled_index, dtype=np.int64),
    )


def parse_results(results: Any, index_of: Mapping[Hashable, int]) -> Detections:
    """Validate a COCO results list and convert every record to MVOR-10.

    Each record needs ``image_id`` (an id of the ground-truth images; unknown ids are an error, since they mean
    the results and the ground truth do not belong together), a finite ``score`` and keypoints: under
    ``coco_keypoints`` 51 numbers (COCO-17 x, y, score triplets), or under ``keypoints`` 51 numbers (COCO-17) or 30
    numbers (MVOR-10, used as is). When both keys exist ``coco_keypoints`` is used and ``keypoints`` is ignored.

    Args:
        results: the parsed results list.
        index_of: ground-truth image id -> image position (see :attr:`GroundTruth.index_of`).

    Raises:
        EvaluationError: a missing key, a wrong type or count, a non-finite number or an unknown image id; the
            message names the record index and its image id.
    """
    if not isinstance(results, list):
        raise EvaluationError(f"results must be a COCO results list, got {type(results).__name__}")
    count = len(results)
    joints = np.full((count, _NUM_MVOR, 2), np.nan)
    boxes = np.full((count, 4), np.nan)
    scores = np.empty(count)
    image_index = np.empty(count, dtype=np.int64)
    for i, record in enumerate(results):
        where = f"results record {i}"
        record = _require_dict(record, where)
        image_id = _image_id(record, "image_id", where)
        where += f" (image_id {_shown(image_id)})"
        if image_id not in index_of:
            raise EvaluationError(f"{where}: image_id is not in the ground-truth images")
        image_index[i] = index_of[image_id]
        scores[i] = _number(record, "score", where)

        if "coco_keypoints" in record:
            kps = _keypoints(record, "coco_keypoints", (_NUM_COCO,), where)
        elif "keypoints" in record:
            kps = _keypoints(record, "keypoints", (_NUM_COCO, _NUM_MVOR), where)
        else:
            raise EvaluationError(f"{where}: no keypoints (neither 'coco_keypoints' nor 'keypoints')")
        present = (kps[:, :2] != 0).any(axis=1)
        if not present.any():
            continue
        mvor = coco17_to_mvor10(kps)[:, :2] if len(kps) == _NUM_COCO else kps[:, :2]
        joints[i] = np.where((mvor != 0).any(axis=1)[:, None], mvor, np.nan)
        xy = kps[present, :2]
        boxes[i] = (*xy.min(axis=0), *xy.max(axis=0))
    return Detections(joints=joints, boxes=boxes, scores=scores, image_index=image_index)


def _require_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvaluationError(f"{where}: expected an object (dict), got {type(value).__name__}")
    return value


def _require_list(container: dict[str, Any], key: str, where: str) -> list[Any]:
    if key not in container:
        raise EvaluationError(f"{where}: missing key {key!r}")
    value = container[key]
    if not isinstance(value, list):
        raise EvaluationError(f"{where}: {key!r} must be a list, got {type(value).__name__}")
    return value


def _image_id(record: dict[str, Any], key: str, where: str) -> Hashable:
    if key not in record:
        raise EvaluationError(f"{where}: missing key {key!r}")
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise EvaluationError(f"{where}: {key!r} must be an integer or a string, got {_shown(value)}")
    return value


def _finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number; None for bools, non-numbers, NaN, infinities and integers
    too large for a float (JSON allows any number of digits)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, _NUMBER_TYPES):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _shown(value: Any) -> str:
    """``repr(value)``, shortened: a huge JSON integer would fill the screen."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _number(record: dict[str, Any], key: str, where: str) -> float:
    if key not in record:
        raise EvaluationError(f"{where}: missing key {key!r}")
    number = _finite(record[key])
    if number is None:
        raise EvaluationError(f"{where}: {key!r} must be a finite number, got {_shown(record[key])}")
    return number


def _box(value: Any, where: str) -> tuple[float, float, float, float]:
    """A COCO ``bbox`` (x, y, width, height) as inclusive pixel bounds x1, y1, x2, y2 (the +1 convention)."""
    numbers = [_finite(v) for v in value] if isinstance(value, list) and len(value) == 4 else []
    x, y, w, h = (n if n is not None else math.nan for n in numbers) if numbers else (math.nan,) * 4
    if not (math.isfinite(x) and math.isfinite(y) and w >= 0 and h >= 0):  # NaN compares False
        raise EvaluationError(f"{where}: 'bbox' must be 4 finite numbers x, y, width >= 0, height >= 0, got "
                              f"{_shown(value)}")  # fmt: skip
    return x, y, x + max(w - 1.0, 0.0), y + max(h - 1.0, 0.0)


def _keypoints(record: dict[str, Any], key: str, joint_counts: tuple[int, ...], where: str) -> np.ndarray:
    """``record[key]`` as a ``(K, 3)`` float64 array of x, y, visibility-or-score triplets, K in ``joint_counts``."""
    if key not in record:
        raise EvaluationError(f"{where}: missing key {key!r}")
    values = record[key]
    expected = " or ".join(f"{3 * k}" for k in joint_counts)
    if not isinstance(values, list):
        raise EvaluationError(f"{where}: {key!r} must be a list of {expected} numbers, got {type(values).__name__}")
    if len(values) not in tuple(3 * k for k in joint_counts):
        raise EvaluationError(
            f"{where}: {key!r} must hold {expected} numbers (x, y, v triplets), got {len(values)}"
        )
    numbers = [_finite(value) for value in values]
    for j, number in enumerate(numbers):
        if number is None:
            raise EvaluationError(f"{where}: {key}[{j}] must be a finite number, got {_shown(values[j])}")
    return np.array(numbers, dtype=np.float64).reshape(-1, 3)
