"""Plots people look at, as PNG files: training curves and PCK bars (matplotlib, imported only when drawing)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from depthpose_core.eval.pck import GROUPS, PCKResult, seed_summary

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


def plot_pck_bars(results: Mapping[str, PCKResult | Sequence[PCKResult]], path: str | os.PathLike[str],
                  *, reference: Mapping[str, Mapping[str, float]] | None = None, title: str = "MVOR PCK") -> None:
    """MVOR PCK per joint group (bars) for one or more models side by side, like the paper's Table 1. A model
    given several results (seeds) shows their mean with a standard-deviation error bar; ``reference`` rows
    (e.g. the paper's published figures, group -> PCK) are drawn hatched after them, under ``title``."""
    plt = _pyplot()
    groups = list(GROUPS)
    rows: list[tuple[str, list[float], list[float] | None, bool]] = []
    for label, value in results.items():
        summary = seed_summary([value] if isinstance(value, PCKResult) else list(value))
        several = not isinstance(value, PCKResult) and len(value) > 1
        rows.append((label, [summary[g][0] for g in groups], [summary[g][1] for g in groups] if several else None,
                     False))  # fmt: skip
    for label, figures in (reference or {}).items():
        rows.append((label, [figures[g] for g in groups], None, True))
    width = 0.8 / len(rows)
    fig, ax = plt.subplots(figsize=(12, 4.5))
    for i, (label, means, spread, hatched) in enumerate(rows):
        ax.bar(np.arange(len(groups)) + i * width, means, width, yerr=spread, capsize=2, label=label,
               hatch="//" if hatched else None, alpha=0.6 if hatched else 1.0)  # fmt: skip
    ax.set_xticks(np.arange(len(groups)) + width * (len(rows) - 1) / 2, groups)
    ax.set(ylabel="PCK@0.2 (%)", ylim=(0, 100), title=title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never on them
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
