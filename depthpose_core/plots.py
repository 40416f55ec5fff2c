"""Plots people look at, as PNG files: training curves and PCK bars (matplotlib, imported only when drawing)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from depthpose_core.eval.pck import PCKResult

__all__ = ["plot_curves", "plot_pck_bars"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: Sequence[dict[str, float]], path: str | os.PathLike[str]) -> None:
    """Training loss (log scale) and validation PCK over iterations, from the logged rows (``iteration``,
    ``loss``, ``loss_pose``, ``loss_sr``, ``val_pck_average``)."""
    plt = _pyplot()
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


def plot_pck_bars(results: Mapping[str, PCKResult], path: str | os.PathLike[str]) -> None:
    """MVOR PCK per joint group (bars) for one or more models side by side, like the paper's Table 1."""
    plt = _pyplot()
    groups = list(next(iter(results.values())).groups)
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(9, 4))
    for i, (label, result) in enumerate(results.items()):
        ax.bar(np.arange(len(groups)) + i * width, [result.groups[g] for g in groups], width, label=label)
    ax.set_xticks(np.arange(len(groups)) + width * (len(results) - 1) / 2, groups)
    ax.set(ylabel="PCK@0.2 (%)", ylim=(0, 100), title="MVOR PCK")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
