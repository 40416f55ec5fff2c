"""Offline evaluation on rosbag2 recordings (no ROS runtime): replay a bag through a model into a bag of skeleton
arrays (``offline``), with the PCK against ground truth when given (``matching``, shared with live replay)."""

from __future__ import annotations

from depthpose_core.replay.matching import GroundTruthIndex, evaluate_replay
from depthpose_core.replay.offline import ReplaySummary, replay_bag

__all__ = ["GroundTruthIndex", "ReplaySummary", "evaluate_replay", "replay_bag"]
