"""A randomly initialised narrow DepthPose (width 0.125) saved as a project checkpoint, for tests that need a
network fast enough to follow frames on a busy CPU but do not care what it finds."""

from __future__ import annotations

from pathlib import Path

import torch

from depthpose_core.checkpoint import save_checkpoint
from depthpose_core.models import build_model
from depthpose_core.preprocess import Preprocessing


def save_narrow_model(path: Path, lowres: tuple[int, int]) -> Path:
    """Write the checkpoint (seeded, so every run has the same weights) for input ``lowres`` (width, height)."""
    torch.manual_seed(0)
    return save_checkpoint(path, build_model("depthpose", width=0.125).state_dict(), model_name="depthpose",
                           model_kwargs={"width": 0.125}, preprocessing=Preprocessing(lowres, lowres))  # fmt: skip
