"""Offline evaluation on rosbag2 recordings (no ROS runtime): replay a bag through a model into a bag of skeleton
arrays, with the PCK against ground truth when given."""

from __future__ import annotations

from depthpose_core.replay.bags import SKELETON_ARRAY, msg_dir, open_bag, storage_of, typestore
from depthpose_core.replay.offline import (
    IMAGE,
    GroundTruthIndex,
    ReplaySummary,
    evaluate_replay,
    output_topic,
    replay_bag,
    select_topics,
    stamp_ns,
)

__all__ = [
    "IMAGE",
    "SKELETON_ARRAY",
    "GroundTruthIndex",
    "ReplaySummary",
    "evaluate_replay",
    "msg_dir",
    "open_bag",
    "output_topic",
    "replay_bag",
    "select_topics",
    "stamp_ns",
    "storage_of",
    "typestore",
]
