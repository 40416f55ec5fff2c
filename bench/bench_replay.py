"""Offline replay benchmark: frames per second of ``depthpose replay`` apart from inference, next to reading the
same bag with ``rosbags`` alone.

Usage (from the repository root)::

    python bench/bench_replay.py [--frames 600]

Writes a bag of 640x480 16UC1 depth images (the project's demo scene, a new stamp per frame) in sqlite3 and mcap,
then times, in the same run: the raw read (message bytes only), the read with CDR deserialisation (baselines),
and ``replay_bag`` with the shipped DepthPose 64x48 width-0.125 demo weights, whose time outside the estimator (reading,
decoding, reduction to 64x48, serialising and writing the skeleton arrays) is the replay overhead. Target: the
overhead >= 1,000 frames/s. The same replay with the network's answer for the bag's frame computed once and
handed back for every frame ('no network') measures the overhead alone, without the network's threads and cache
traffic interleaved with it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rosbags.rosbag2 import Reader, StoragePlugin  # noqa: E402

from depthpose_core.bags import IMAGE, create_bag, typestore  # noqa: E402
from depthpose_core.config import RuntimeConfig  # noqa: E402
from depthpose_core.demo_scene import make_demo_frame  # noqa: E402
from depthpose_core.inference import PoseEstimator  # noqa: E402
from depthpose_core.replay import replay_bag  # noqa: E402


def write_bag(path: Path, frames: int, storage: StoragePlugin) -> None:
    """``frames`` 640x480 16UC1 images on ``/cam/depth/image_raw`` at 30 Hz."""
    store = typestore()
    depth = make_demo_frame(seed=0)[0].astype("<u2")
    image_t, header_t = store.types[IMAGE], store.types["std_msgs/msg/Header"]
    time_t = store.types["builtin_interfaces/msg/Time"]
    data = depth.view(np.uint8).reshape(-1)
    with create_bag(path, storage) as writer:
        conn = writer.add_connection("/cam/depth/image_raw", IMAGE, typestore=store)
        for i in range(frames):
            stamp = 1_767_225_600_000_000_000 + i * 33_333_333
            header = header_t(stamp=time_t(sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id="cam")
            msg = image_t(header=header, height=480, width=640, encoding="16UC1", is_bigendian=0, step=1280, data=data)
            writer.write(conn, stamp, store.serialize_cdr(msg, IMAGE))


class PrecomputedAnswers:
    """The estimator's people for one frame, computed once and returned for every frame: replay without the
    network (the bag repeats one frame, so the answers are the ones the network gives)."""

    def __init__(self, estimator: PoseEstimator, depth: np.ndarray) -> None:
        self.preprocessing, self.info, self.to_lowres = estimator.preprocessing, estimator.info, estimator.to_lowres
        self.people = estimator.estimate_lowres([estimator.to_lowres(depth)], [depth.shape[::-1]])[0]

    def estimate_lowres(self, lows: list[np.ndarray], sizes: list[tuple[int, int]]) -> list:
        return [self.people for _ in lows]


def read_rate(path: Path, deserialize: bool) -> float:
    store = typestore()
    t0 = time.perf_counter()
    with Reader(path) as reader:
        n = 0
        for conn, _, raw in reader.messages():
            if deserialize:
                store.deserialize_cdr(raw, conn.msgtype)
            n += 1
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    estimator = PoseEstimator.from_request("", RuntimeConfig(device="cpu", flip_test=False))  # the demo weights
    answers = PrecomputedAnswers(estimator, make_demo_frame(seed=0)[0])
    print(f"model: {estimator.info.name} {estimator.info.weights}; {len(answers.people)} people per frame")
    header = (f"{'storage':>7} {'raw read':>9} {'read+CDR':>9} {'replay rest':>11} {'rest/raw':>8} "
              f"{'no network':>10} {'replay all':>10} {'written':>7}")  # fmt: skip
    print(f"{args.frames} frames 640x480 16UC1; frames/s; 'replay rest' = replay time outside inference")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for storage in (StoragePlugin.SQLITE3, StoragePlugin.MCAP):
            name = storage.name.lower()
            bag = Path(tmp) / f"in_{name}"
            write_bag(bag, args.frames, storage)
            raw, cdr = read_rate(bag, False), read_rate(bag, True)
            summary = replay_bag(bag, Path(tmp) / f"out_{name}", estimator, progress=False)
            rest = summary.overhead_frames_per_second
            alone = replay_bag(bag, Path(tmp) / f"alone_{name}", answers, progress=False).frames_per_second
            print(f"{name:>7} {raw:9.0f} {cdr:9.0f} {rest:11.0f} {rest / raw:8.2f} {alone:10.0f} "
                  f"{summary.frames_per_second:10.1f} {summary.written:7d}")  # fmt: skip


if __name__ == "__main__":
    main()
