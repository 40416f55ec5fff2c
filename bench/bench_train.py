"""Training-step benchmark on this machine: seconds per optimiser step (batch 12 unless told) for the full-size
DepthPose 64x48 (the paper's model) and the reduced-width demo model, in fp32 and bf16 + channels-last.

Usage (from the repository root)::

    python bench/bench_train.py [--steps 3] [--batch 12] [--full-steps 1]

Generates a small synthetic set, builds each model through the real ``Trainer`` from the shipped configs, and
times ``Trainer.run_step`` on batches from its data set (the first step, with its one-off allocations, is not
counted). Baseline in the same run: the demo model in fp32; ratios are step times relative to it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from torch.utils.data import default_collate  # noqa: E402

from depthpose_core.synth import SynthConfig, load_mvor_geometry, write_dataset  # noqa: E402
from depthpose_core.train import Trainer, load_train_config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CASES = (  # (label, config, precision, channels_last)
    ("demo w0.125 fp32", "demo_depthpose_w0125_64x48.yaml", "fp32", False),
    ("demo w0.125 bf16+CL", "demo_depthpose_w0125_64x48.yaml", "bf16", True),
    ("full-size fp32", "depthpose_64x48.yaml", "fp32", False),
    ("full-size bf16+CL", "depthpose_64x48.yaml", "bf16", True),
)


def step_seconds(config_name: str, precision: str, channels_last: bool, labels: Path, out: Path, batch: int,
                 steps: int) -> float:  # fmt: skip
    config = load_train_config(REPO / "config" / "train" / config_name, out_dir=str(out), device="cpu",
                               precision=precision, channels_last=channels_last)  # fmt: skip
    config = replace(config, data=replace(config.data, train=str(labels), val=None),
                     optim=replace(config.optim, batch_size=batch))  # fmt: skip
    trainer = Trainer(config, progress=False)
    data = trainer.dataset
    batches = [default_collate([data[(k * batch + i) % len(data)] for i in range(batch)]) for k in range(steps + 1)]
    trainer.run_step(batches[0])  # warm-up: allocations, kernel selection
    t0 = time.perf_counter()
    for b in batches[1:]:
        trainer.run_step(b)
    return (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps of the demo model")
    parser.add_argument("--full-steps", type=int, default=1, help="timed steps of the full-size model")
    parser.add_argument("--batch", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ds = Path(tmp) / "ds"
        write_dataset(ds, load_mvor_geometry(), SynthConfig(sequences=args.batch, frames=1), progress=False)
        print(f"batch {args.batch}, CPU, seconds per optimiser step (data loading excluded)")
        print(f"{'model':<22} {'s/step':>8} {'samples/s':>9} {'x demo fp32':>11}")
        baseline = None
        for label, config, precision, cl in CASES:
            steps = args.full_steps if label.startswith("full") else args.steps
            s = step_seconds(config, precision, cl, ds / "annotations.json", Path(tmp) / label.replace(" ", "_"),
                             args.batch, steps)  # fmt: skip
            baseline = baseline or s
            print(f"{label:<22} {s:8.2f} {args.batch / s:9.2f} {s / baseline:11.1f}", flush=True)


if __name__ == "__main__":
    main()
