"""Training curves as a PNG: loss (log scale) and validation PCK over iterations."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

__all__ = ["plot_curves"]


def plot_curves(history: Sequence[dict[str, float]], path: str | os.PathLike[str]) -> None:
    """Plot the logged rows (``iteration``, ``loss``, ``loss_pose``, ``loss_sr``, ``val_pck_average``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_pck) = plt.subplots(1, 2, figsize=(11, 4))
    its = [row["iteration"] for row in history]
    for key, label in (("loss", "total"), ("loss_pose", "L_P (pose)"), ("loss_sr", "L_HR (super-resolution)")):
        values = [row[key] for row in history]
        if any(v > 0 for v in values):
            ax_loss.plot(its, values, label=label)
    ax_loss.set(xlabel="iteration", ylabel="loss per sample", yscale="log", title="training loss")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    val = [(row["iteration"], row["val_pck_average"]) for row in history if not math.isnan(row["val_pck_average"])]
    if val:
        ax_pck.plot(*zip(*val), marker="o")
    ax_pck.set(xlabel="iteration", ylabel="PCK@0.2 average (%)", title="validation MVOR PCK", ylim=(0, 100))
    ax_pck.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
