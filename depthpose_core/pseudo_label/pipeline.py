"""``depthpose pseudo-label``: detections on colour frames -> COCO-style labels for the paired depth frames.

Colour and depth frames must be registered (the same pixel grid, as MVOR's are); keypoints are rescaled when the
two differ only in resolution (a different aspect ratio is an error). The output is read by
:func:`depthpose_core.data.load_records` like any other label file: per kept person ``keypoints18`` (network
order, flag 2 = kept), ``keypoints`` (MVOR-10, for the evaluator), ``bbox``, ``score``; per rejected person its
box with ``only_bbox`` = 1, so that training masks it instead of learning "nobody here"; per image the depth
``file_name`` (relative to the data root) and the colour file it came from.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from depthpose_core.errors import DepthPoseError, InputError
from depthpose_core.io import read_depth, write_text
from depthpose_core.keypoints import COCO17_FROM_NET, MVOR10_NAMES, NET_JOINTS, coco17_to_mvor10
from depthpose_core.pseudo_label.detectors import ColourFrame, PoseDetector
from depthpose_core.pseudo_label.filter import REJECTIONS, FilterParams, filter_detections

__all__ = ["FramePair", "LabelSummary", "find_pairs", "folder_frames", "labels_as_results", "pseudo_label",
           "write_labels"]

_COLOUR_DIRS = ("color", "colour", "rgb")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class FramePair:
    """A colour frame and its registered depth frame, with paths relative to the data root."""

    colour: str
    depth: str


@dataclass
class LabelSummary:
    """What pseudo-labelling found: frames, persons detected, kept and rejected by rule, frames without depth."""

    frames: int = 0
    detected: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    missing_depth: int = 0

    def table(self) -> str:
        """A small text table of the counts."""
        rows = [("frames", self.frames), ("persons detected", self.detected), ("persons kept", self.kept)]
        rows += [(f"rejected: {reason}", self.rejected[reason]) for reason in REJECTIONS]
        rows.append(("frames skipped (depth file missing or unreadable)", self.missing_depth))
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value:>7}" for name, value in rows)


def find_pairs(root: str | os.PathLike[str]) -> list[FramePair]:
    """Colour frames under ``root`` in a ``color``/``colour``/``rgb`` folder with a ``depth`` folder beside it
    (MVOR's ``dayD/camC/{color,depth}/NNNNNN.png`` layout); the depth frame has the same stem, ``.png``."""
    root = Path(root)
    pairs = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in _IMAGE_SUFFIXES and path.parent.name in _COLOUR_DIRS:
            depth = path.parent.with_name("depth") / (path.stem + ".png")
            pairs.append(FramePair(str(path.relative_to(root)), str(depth.relative_to(root))))
    return pairs


def folder_frames(root: str | os.PathLike[str], pairs: Sequence[FramePair]) -> list[tuple[ColourFrame, str]]:
    """:func:`pseudo_label`'s input for frame pairs in a folder: each colour frame (read when needed, keyed by its
    path under ``root``) with its depth file."""
    return [(ColourFrame(Path(root) / pair.colour, pair.colour), pair.depth) for pair in pairs]


def pseudo_label(root: str | os.PathLike[str], frames: Sequence[tuple[ColourFrame, str]], detector: PoseDetector,
                 params: FilterParams, *, progress: bool = True) -> tuple[dict, LabelSummary]:  # fmt: skip
    """Label depth frames from detections on their colour frames.

    Args:
        root: the data root the depth files are relative to.
        frames: each colour frame with its registered depth frame's file under ``root`` (:func:`folder_frames`,
            :func:`~depthpose_core.pseudo_label.bag.bag_frames`); the colour frame's key is recorded as the
            image's ``colour_file``.

    Returns:
        The COCO-style label file content and the summary.

    Raises:
        DepthPoseError: a colour frame is unreadable (a missing depth frame is counted and skipped instead).
    """
    root = Path(root)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    summary = LabelSummary()
    for frame, depth_file in tqdm(frames, unit="frame", desc=f"pseudo-label ({detector.name})", disable=not progress):
        try:
            depth = read_depth(root / depth_file)
        except InputError:
            summary.missing_depth += 1
            continue
        summary.frames += 1
        detections = detector.detect(frame)
        colour_size = (frame.pixels.shape[1], frame.pixels.shape[0]) if detections else depth.shape[::-1]
        scale = np.array([depth.shape[1] / colour_size[0], depth.shape[0] / colour_size[1]])
        if abs(scale[0] / scale[1] - 1.0) > 0.01:
            raise DepthPoseError(f"colour frame {frame.key} ({colour_size[0]}x{colour_size[1]}) and depth frame "
                                 f"{depth_file} ({depth.shape[1]}x{depth.shape[0]}) have different aspect ratios: "
                                 "the pairs must be registered")  # fmt: skip
        kept, rejected = filter_detections(detections, params)
        summary.detected += len(detections)
        summary.kept += len(kept)
        summary.rejected.update(rejected)
        image_id = len(images) + 1
        images.append({"id": image_id, "file_name": depth_file, "colour_file": frame.key,
                       "width": int(depth.shape[1]), "height": int(depth.shape[0])})  # fmt: skip
        for det, label in kept:
            label = label.copy()
            label[:, :2] *= scale
            coco = label[list(COCO17_FROM_NET)]
            x, y, w, h = det.box
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "only_bbox": 0,
                "keypoints18": [round(float(v), 2) for v in label.ravel()],
                "keypoints": [round(float(v), 2) for v in coco17_to_mvor10(coco).ravel()],
                "num_keypoints": int((label[:, 2] > 0).sum()), "score": round(det.score, 4),
                "bbox": [round(float(v), 2) for v in (x * scale[0], y * scale[1], w * scale[0], h * scale[1])],
            })  # fmt: skip
        kept_ids = {id(det) for det, _ in kept}
        for det in detections:  # seen but rejected: masked in training, never taught as background
            if id(det) not in kept_ids:
                x, y, w, h = det.box
                annotations.append({
                    "id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "only_bbox": 1,
                    "keypoints": [0] * 30, "num_keypoints": 0, "score": round(det.score, 4),
                    "bbox": [round(float(v), 2) for v in (x * scale[0], y * scale[1], w * scale[0], h * scale[1])],
                })  # fmt: skip
    data = {
        "info": {"description": "depthpose pseudo labels", "detector": detector.name,
                 "filter": {"person_score": params.person_score, "keypoint_score": params.keypoint_score,
                            "min_keypoints": params.min_keypoints}},
        "categories": [{"id": 1, "name": "person", "keypoints": list(MVOR10_NAMES),
                        "keypoints18": list(NET_JOINTS)}],
        "images": images,
        "annotations": annotations,
    }  # fmt: skip
    return data, summary


def write_labels(data: dict, path: str | os.PathLike[str]) -> None:
    """Write the label file."""
    write_text(path, json.dumps(data), what="label file")


def labels_as_results(labels: dict, gt: dict) -> list[dict]:
    """A pseudo label file's labelled persons as a COCO results list on ``gt``'s images (matched by the depth
    ``file_name``), so that the MVOR evaluator scores the labels against exact ground truth.

    Raises:
        DepthPoseError: a labelled image is not among the ground truth's images, or a file lacks images or
            annotations.
    """
    try:
        gt_ids = {img["file_name"]: img["id"] for img in gt["images"]}
        names = {img["id"]: img["file_name"] for img in labels["images"]}
        annotations = labels["annotations"]
    except (KeyError, TypeError):
        raise DepthPoseError("pseudo labels and ground truth need images with id and file_name, and annotations")
    missing = sorted(set(names.values()) - set(gt_ids))
    if missing:
        raise DepthPoseError(f"{len(missing)} labelled frame(s) are not in the ground truth, e.g. {missing[0]}")
    return [{"image_id": gt_ids[names[ann["image_id"]]], "score": ann.get("score", 1.0), "keypoints": ann["keypoints"]}
            for ann in annotations if not ann.get("only_bbox")]  # fmt: skip
