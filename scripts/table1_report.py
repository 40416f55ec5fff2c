"""Table 1 re-run report: our rows (mean ± sd over seeds) next to the paper's, as a Markdown table and a bar plot.

Usage (from the repository root, after ``make table1``)::

    python scripts/table1_report.py runs/table1/eval/pck.json docs/table1.png

The input is the ``pck.json`` that ``depthpose eval --compare`` writes (name -> one result per run). The paper's
rows are DepthPose (Srivastav et al., MICCAI 2019), Table 1: MVOR depth, PCK@0.2, flip test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depthpose_core.eval.pck import GROUPS, PCKResult, seed_summary  # noqa: E402
from depthpose_core.plots import plot_pck_bars  # noqa: E402

#: The paper's Table 1 rows of the models re-run here (Head, Shoulder, Hip, Elbow, Wrist, Average).
PAPER: dict[str, tuple[float, ...]] = {
    "paper: DepthPose 64x48": (84.1, 83.4, 54.3, 69.0, 41.4, 66.5),
    "paper: SR+RTPose 64x48": (82.5, 81.3, 51.0, 66.3, 37.8, 63.8),
    "paper: RTPose 64x48 (bicubic)": (77.8, 76.4, 52.9, 60.7, 32.0, 60.0),
    "paper: DepthPose 80x60": (84.3, 83.8, 55.3, 69.9, 43.3, 67.3),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pck_json", type=Path, help="pck.json of depthpose eval --compare")
    parser.add_argument("plot", type=Path, help="bar plot to write (PNG)")
    args = parser.parse_args()
    saved = json.loads(args.pck_json.read_text(encoding="utf-8"))
    runs = {name: [PCKResult(**r) for r in results] for name, results in saved.items()}
    reference = {name: dict(zip(GROUPS, values)) for name, values in PAPER.items()}
    print("| model | runs | " + " | ".join(GROUPS) + " | Recall | FP/img |")
    print("| --- " * (len(GROUPS) + 4) + "|")
    for name, results in runs.items():
        summary = seed_summary(results)
        cells = [f"{m:.1f} ± {sd:.1f}" for m, sd in (summary[g] for g in (*GROUPS, "Recall"))]
        fp_mean, fp_sd = summary["FP/img"]
        print(f"| {name} | {len(results)} | " + " | ".join(cells) + f" | {fp_mean:.2f} ± {fp_sd:.2f} |")
    for name, values in PAPER.items():
        print(f"| {name} | | " + " | ".join(f"{v:.1f}" for v in values) + " | | |")
    plot_pck_bars(runs, args.plot, reference=reference,
                  title="Table 1: here (synthetic test set, mean ± sd over seeds) and the paper (hatched: real MVOR)")
    print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
