"""End-to-end inference benchmark: depth frame -> skeletons, split into ingress, network and decoding.

Usage (from the repository root)::

    python bench/bench_inference.py [--repeats 3] [--device auto]

For the 64x48 and 80x60 DepthPose models (random weights: the cost does not depend on them) it times
``PoseEstimator`` on a generated 640x480 operating-room depth frame, with and without the flip test, and prints
p50 milliseconds per frame for each step and the frame rate, with the ratio against the flip-test run of the same
model. The network dominates; on a CPU expect seconds per frame.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depthpose_core.demo_scene import make_demo_frame  # noqa: E402
from depthpose_core.inference import PoseEstimator  # noqa: E402
from depthpose_core.models import count_macs  # noqa: E402
from depthpose_core.preprocess import Preprocessing  # noqa: E402


def _time_steps(est: PoseEstimator, depth: np.ndarray, repeats: int) -> dict[str, float]:
    steps: dict[str, list[float]] = {"ingress": [], "network": [], "decode": [], "total": []}
    size = [(depth.shape[1], depth.shape[0])]
    for _ in range(repeats + 1):  # the first run warms up and is not counted
        t0 = time.perf_counter()
        lowres = est.to_lowres(depth)
        t1 = time.perf_counter()
        paf, heat = est.maps([lowres])
        t2 = time.perf_counter()
        est.decode_maps(paf, heat, size)
        t3 = time.perf_counter()
        for name, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
            steps[name].append(value * 1e3)
    return {name: float(np.median(values[1:])) for name, values in steps.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    depth, _ = make_demo_frame(0)
    print(f"{'model':>15} {'flip':>5} {'GMAC':>6} {'ingress ms':>11} {'network ms':>11} {'decode ms':>10} "
          f"{'total ms':>9} {'frames/s':>9} {'x flip':>7}")  # fmt: skip
    for size in ((64, 48), (80, 60)):
        pre = Preprocessing(lowres_size=size, model_size=size)
        baseline = None
        for flip in (True, False):
            est = PoseEstimator.untrained(preprocessing=pre, device=args.device, flip_test=flip)
            macs = count_macs(est.model, size) * (2 if flip else 1) / 1e9
            t = _time_steps(est, depth, args.repeats)
            baseline = baseline or t["total"]
            print(f"{f'depthpose {size[0]}x{size[1]}':>15} {'on' if flip else 'off':>5} {macs:6.0f} "
                  f"{t['ingress']:11.2f} {t['network']:11.0f} {t['decode']:10.2f} {t['total']:9.0f} "
                  f"{1e3 / t['total']:9.2f} {baseline / t['total']:7.2f}")  # fmt: skip
    print(f"device: {est.info.device}")


if __name__ == "__main__":
    main()
