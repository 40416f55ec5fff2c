"""Evaluation: the MVOR PCK protocol and the JSON loading it needs."""

from __future__ import annotations

from depthpose_core.eval.ground_truth import mvor_ground_truth
from depthpose_core.eval.pck import GROUPS, PCKResult, evaluate, format_table, load_json

__all__ = ["GROUPS", "PCKResult", "evaluate", "format_table", "load_json", "mvor_ground_truth"]
