"""Decoder benchmark: loop port vs vectorised reference mode vs fast mode on rendered multi-person maps.

Usage (from the repository root)::

    python bench/bench_decode.py [--repeats 30] [--seed 0]

For 1, 4 and 8 people and 64x48 / 80x60 maps it renders ground-truth maps of realistic standing people (with a
little noise), checks that reference mode returns exactly the loop port's people, and prints p50 / p95 wall times
in ms with the speed-up over the loop port. Then the worst case: garbage 64x48 maps (uniform noise; a dense
grid of peaks with PAFs that accept every limb) in both modes, where the ``max_peaks`` cap (64 per joint) binds,
with the joints capped. Figures only mean something on a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loop_reference import decode_loop  # noqa: E402  (sibling script module)

from depthpose_core.decode import PUBLISHED, DecodeCounts, DecoderParams, decode  # noqa: E402
from depthpose_core.skeleton import Skeleton  # noqa: E402
from depthpose_core.targets import render_maps  # noqa: E402

FRAME = (640, 480)
MAP_SIZES = ((64, 48), (80, 60))
PEOPLE = (1, 4, 8)

# A standing person facing the camera, network joint order; x right, y down, neck at the origin, unit = height.
_TEMPLATE = np.array([
    (0.0, -0.10), (0.0, 0.0),
    (-0.09, 0.0), (-0.12, 0.17), (-0.13, 0.32),
    (0.09, 0.0), (0.12, 0.17), (0.13, 0.32),
    (-0.055, 0.33), (-0.06, 0.55), (-0.06, 0.77),
    (0.055, 0.33), (0.06, 0.55), (0.06, 0.77),
    (-0.025, -0.125), (0.025, -0.125), (-0.05, -0.11), (0.05, -0.11),
])  # fmt: skip
_ARM_JOINTS = ((2, 3, 4), (5, 6, 7))  # shoulder, elbow, wrist


def random_people(rng: np.random.Generator, count: int, frame: tuple[int, int] = FRAME) -> np.ndarray:
    """``(count, 18, 3)`` people (x, y in frame pixels, flag 1) with random size, place and arm poses."""
    people = np.ones((count, 18, 3))
    for person in people:
        joints = _TEMPLATE.copy()
        for shoulder, elbow, wrist in _ARM_JOINTS:
            for joint, pivot in ((elbow, shoulder), (wrist, shoulder)):
                angle = rng.uniform(-0.6, 0.6)
                rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
                joints[joint] = joints[pivot] + (joints[joint] - joints[pivot]) @ rot.T
        height = rng.uniform(150.0, 300.0)
        centre = rng.uniform((60.0, 60.0), (frame[0] - 60.0, frame[1] - 0.5 * height))
        person[:, :2] = centre + joints * height + rng.normal(0.0, 1.5, (18, 2))
    return people


def render_scene(
    rng: np.random.Generator, count: int, map_size: tuple[int, int], noise: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """Maps of ``count`` random people with Gaussian noise of std ``noise`` added (float32)."""
    paf, heat = render_maps(random_people(rng, count), map_size, FRAME)
    paf += rng.normal(0.0, noise, paf.shape).astype(np.float32)
    heat += rng.normal(0.0, noise, heat.shape).astype(np.float32)
    return paf, heat


def same_people(a: list[Skeleton], b: list[Skeleton]) -> bool:
    """True if both lists hold the same people in the same order, bit for bit."""
    return len(a) == len(b) and all(
        np.array_equal(p.keypoints, q.keypoints, equal_nan=True)
        and np.array_equal(p.scores, q.scores)
        and p.score == q.score
        for p, q in zip(a, b)
    )


def _times_ms(fn, repeats: int) -> np.ndarray:
    fn()  # warm-up (caches, lazy imports)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return np.array(times) * 1e3


def garbage_maps(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Maps no trained network should give, 64x48: the decoder's worst cases."""
    h, w = 48, 64
    noise = (rng.uniform(-1, 1, (38, h, w)).astype(np.float32), rng.uniform(0, 1, (19, h, w)).astype(np.float32))
    grid = np.zeros((19, h, w), np.float32)
    grid[:, ::2, ::2] = 1.0  # a peak at every other cell of every joint
    return {"uniform noise": noise, "dense peak grid": (np.full((38, h, w), 0.7, np.float32), grid)}


def worst_case(rng: np.random.Generator, repeats: int) -> None:
    print(f"\nWorst case (garbage 64x48 maps, max_peaks {DecoderParams().max_peaks})")
    print(f"{'maps':>16} {'mode':>10} {'p50 ms':>9} {'p95 ms':>9} {'joints capped':>14} {'people':>7}")
    for label, (paf, heat) in garbage_maps(rng).items():
        for mode in ("reference", "fast"):
            counts = DecodeCounts()
            people = decode(paf, heat, FRAME, mode=mode, counts=counts)
            p50, p95 = np.percentile(_times_ms(lambda: decode(paf, heat, FRAME, mode=mode), repeats), [50, 95])
            print(f"{label:>16} {mode:>10} {p50:9.1f} {p95:9.1f} {counts.capped_joints:>14} {len(people):>7}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per case (the loop port gets a third)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    print(f"{'maps':>6} {'people':>6} {'method':>10} {'p50 ms':>9} {'p95 ms':>9} {'x loop':>8} {'found':>6}")
    all_equal = True
    for map_size in MAP_SIZES:
        for count in PEOPLE:
            paf, heat = render_scene(rng, count, map_size)
            loop_out = decode_loop(paf, heat, FRAME)
            ref_out = decode(paf, heat, FRAME, mode="reference", params=PUBLISHED)
            fast_out = decode(paf, heat, FRAME, mode="fast", params=PUBLISHED)
            equal = same_people(loop_out, ref_out)
            all_equal &= equal
            loop_ms = _times_ms(lambda: decode_loop(paf, heat, FRAME), max(3, args.repeats // 3))
            rows = (
                ("loop", loop_ms, loop_out),
                ("reference", _times_ms(lambda: decode(paf, heat, FRAME, mode="reference", params=PUBLISHED),
                                        args.repeats), ref_out),
                ("fast", _times_ms(lambda: decode(paf, heat, FRAME, mode="fast", params=PUBLISHED), args.repeats),
                 fast_out),
            )
            label = f"{map_size[0]}x{map_size[1]}"
            for name, ms, out in rows:
                p50, p95 = np.percentile(ms, [50, 95])
                ratio = np.median(loop_ms) / p50
                print(f"{label:>6} {count:>6} {name:>10} {p50:9.2f} {p95:9.2f} {ratio:8.1f} {len(out):>6}")
            print(f"{'':>6} {'':>6} reference == loop port: {equal}")
    print(f"reference mode identical to the loop port on every scene: {all_equal}")
    worst_case(rng, max(3, args.repeats // 3))
    return 0 if all_equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
