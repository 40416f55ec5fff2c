"""Pseudo ground truth from colour: person keypoint detections on registered colour frames (from a folder or an
RGB-D rosbag2), filtered by the paper's rule, become labels of the depth frames."""

from __future__ import annotations

from depthpose_core.pseudo_label.bag import BagPairing, TopicPair, bag_frames, match_stamps, topic_pairs
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
from depthpose_core.pseudo_label.pipeline import (
    FramePair,
    LabelSummary,
    find_pairs,
    folder_frames,
    labels_as_results,
    pseudo_label,
    write_labels,
)

__all__ = [
    "BACKENDS",
    "REJECTIONS",
    "BagPairing",
    "ColourFrame",
    "Detection",
    "FilterParams",
    "FramePair",
    "KeypointRCNNDetector",
    "LabelSummary",
    "PoseDetector",
    "ResultsFileDetector",
    "TopicPair",
    "YoloPoseDetector",
    "bag_frames",
    "coco17_to_label",
    "filter_detections",
    "find_pairs",
    "folder_frames",
    "labels_as_results",
    "image_ids_from",
    "make_detector",
    "match_stamps",
    "pseudo_label",
    "topic_pairs",
    "write_labels",
]
