"""Pseudo ground truth from colour: person keypoint detections on registered colour frames, filtered by the
paper's rule, become labels of the depth frames."""

from __future__ import annotations

from depthpose_core.pseudo_label.detectors import (
    BACKENDS,
    ColourFrame,
    KeypointRCNNDetector,
    PoseDetector,
    ResultsFileDetector,
    YoloPoseDetector,
    image_ids_from,
    make_detector,
)
from depthpose_core.pseudo_label.filter import REJECTIONS, Detection, FilterParams, coco17_to_label, filter_detections
from depthpose_core.pseudo_label.pipeline import FramePair, LabelSummary, find_pairs, pseudo_label, write_labels

__all__ = [
    "BACKENDS",
    "REJECTIONS",
    "ColourFrame",
    "Detection",
    "FilterParams",
    "FramePair",
    "KeypointRCNNDetector",
    "LabelSummary",
    "PoseDetector",
    "ResultsFileDetector",
    "YoloPoseDetector",
    "coco17_to_label",
    "filter_detections",
    "find_pairs",
    "image_ids_from",
    "make_detector",
    "pseudo_label",
    "write_labels",
]
