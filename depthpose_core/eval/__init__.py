"""Evaluation: the MVOR PCK protocol, ground truth for generated frames, and runs over labelled datasets."""

from __future__ import annotations

from depthpose_core.eval.ground_truth import mvor_ground_truth
from depthpose_core.eval.pck import GROUPS, PCKResult, evaluate, format_table

__all__ = ["GROUPS", "PCKResult", "evaluate", "format_table", "mvor_ground_truth"]
