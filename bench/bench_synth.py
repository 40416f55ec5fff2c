"""Synthetic world benchmark: 640x480 frames per second, split into scene, ray casting, sensor and labels.

Usage (from the repository root)::

    python bench/bench_synth.py [--frames 30]

For worlds of 1, 3 and 6 clinicians (MVOR's three cameras in turn) it times ``render_frame`` and its parts, and
the whole ``write_dataset`` path (PNG encoding and the rosbag2 included). Baseline in the same run: the
image-space demo frame painter (``demo_scene.make_demo_frame``). Target: >= 10 frames/s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depthpose_core.demo_scene import make_demo_frame  # noqa: E402
from depthpose_core.synth import SynthConfig, World, WorldParams, load_mvor_geometry, write_dataset  # noqa: E402
from depthpose_core.synth.frames import render_frame  # noqa: E402
from depthpose_core.synth.render import Capsules, render  # noqa: E402
from depthpose_core.synth.sensor import apply_sensor  # noqa: E402


def _ms(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    geometry = load_mvor_geometry()
    n = args.frames
    baseline = _ms(lambda i: make_demo_frame(i), n)
    print(f"{'people':>6} {'scene ms':>9} {'raycast ms':>10} {'sensor ms':>9} {'frame ms':>9} {'frames/s':>9} "
          f"{'x demo painter':>14}")  # fmt: skip
    for people in (1, 3, 6):
        worlds = [World(geometry, seed, WorldParams(min_people=people, max_people=people)) for seed in range(n)]
        cams = geometry.cameras
        rng = np.random.default_rng(0)

        def scene(i: int) -> None:
            worlds[i].bodies(i * 0.7)

        def raycast(i: int) -> None:
            w = worlds[i]
            groups = list(w.static_capsules) + [Capsules(b.capsules, k) for k, b in w.bodies(i * 0.7)]
            render(cams[i % 3], w.room, w.boxes, groups)

        clean = render(cams[0], worlds[0].room, worlds[0].boxes, list(worlds[0].static_capsules)).depth
        sensor = _ms(lambda i: apply_sensor(clean, cams[0], rng), n)
        frame = _ms(lambda i: render_frame(worlds[i], cams[i % 3], i * 0.7, rng), n)
        print(f"{people:>6} {_ms(scene, n):9.1f} {_ms(raycast, n):10.1f} {sensor:9.1f} {frame:9.1f} "
              f"{1e3 / frame:9.1f} {frame / baseline:14.2f}")  # fmt: skip
    print(f"demo painter (baseline): {baseline:.1f} ms per frame")
    with tempfile.TemporaryDirectory() as tmp:
        config = SynthConfig(sequences=2, frames=n // 2, cameras=(1, 2, 3), bag="mcap")
        summary = write_dataset(Path(tmp) / "ds", geometry, config, progress=False)
    print(f"write_dataset (1-6 people, 3 cameras, PNG + mcap bag): {summary.images} frames at "
          f"{summary.frames_per_second:.1f} frames/s")  # fmt: skip


if __name__ == "__main__":
    main()
