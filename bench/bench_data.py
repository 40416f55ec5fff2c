"""Training data benchmark: samples per second into batches of 12, with 0 and 2 DataLoader workers.

Usage (from the repository root)::

    python bench/bench_data.py [--images 120]

Generates a small synthetic set (MVOR cameras, 1-6 people), then times a full pass of ``PoseDataset`` with
augmentation for DepthPose 64x48 (SR target 512x384) and 80x60 (SR target 640x480). Baseline in the same run:
decoding the 16-bit PNGs alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from torch.utils.data import DataLoader  # noqa: E402

from depthpose_core.data import AugmentParams, PoseDataset, load_records  # noqa: E402
from depthpose_core.preprocess import Preprocessing  # noqa: E402
from depthpose_core.synth import SynthConfig, load_mvor_geometry, write_dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ds"
        write_dataset(out, load_mvor_geometry(), SynthConfig(sequences=args.images // 3, frames=1), progress=False)
        records = load_records(out / "annotations.json")
        t0 = time.perf_counter()
        for r in records:
            cv2.imread(str(r.path), cv2.IMREAD_UNCHANGED)
        png_rate = len(records) / (time.perf_counter() - t0)
        print(f"{'input':>6} {'workers':>7} {'samples/s':>9} {'x PNG decode':>12}")
        for size in ((64, 48), (80, 60)):
            pre = Preprocessing(lowres_size=size, model_size=size)
            data = PoseDataset(records, pre, augment_params=AugmentParams())
            for workers in (0, 2):
                loader = DataLoader(data, batch_size=12, shuffle=True, num_workers=workers,
                                    persistent_workers=workers > 0)
                next(iter(loader))  # start-up of the workers is not counted
                t0 = time.perf_counter()
                count = sum(len(batch["index"]) for batch in loader)
                rate = count / (time.perf_counter() - t0)
                print(f"{size[0]}x{size[1]:<3} {workers:>7} {rate:9.1f} {rate / png_rate:12.3f}")
        print(f"PNG decode alone (baseline): {png_rate:.0f} images/s; {len(records)} images")


if __name__ == "__main__":
    main()
