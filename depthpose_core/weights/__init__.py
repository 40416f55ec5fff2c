"""Weights that ship with depthpose: the demo model (see MODEL_CARD.md in this folder).

Trained on synthetic data only (``depthpose synth``): it shows the pipeline working out of the box; it is not a
model for real operating rooms. Train on your own pseudo-labelled recordings for that.
"""

from __future__ import annotations

from pathlib import Path

from depthpose_core.errors import DepthPoseError

__all__ = ["DEMO_WEIGHTS", "demo_weights"]

#: The demo checkpoint: DepthPose 64x48 at width 0.125, trained on the synthetic operating room.
DEMO_WEIGHTS = Path(__file__).with_name("depthpose_w0125_64x48_synth.pth")


def demo_weights() -> Path:
    """Path of the shipped demo checkpoint.

    Raises:
        DepthPoseError: the file is missing (a broken install; ``make demo-weights`` rebuilds it).
    """
    if not DEMO_WEIGHTS.is_file():
        raise DepthPoseError(f"the demo weights {DEMO_WEIGHTS} are missing: reinstall depthpose, or rebuild them "
                             "with `make demo-weights`")  # fmt: skip
    return DEMO_WEIGHTS
