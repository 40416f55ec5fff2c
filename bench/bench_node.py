"""ROS node benchmark: per-frame overhead outside the network, and end-to-end latency through the real node.

Usage (from the repository root, in the venv that scripts/setup_env.sh builds)::

    python bench/bench_node.py [--frames 200] [--people 0 4 8]

1. Overhead per 640x480 16UC1 frame, excluding the network: ingress (message -> zero-copy view -> low
   resolution, the node's callback), building the Skeleton2DArray for N people, and publishing it through real
   rclpy. The baseline in the same run is a common naive ingress (copying ``msg.data`` into a new array, then the
   same reduction). Target: total <= 2 ms p50.
2. End to end: 640x480 frames published at 5 Hz to the ``depthpose_node`` process, once with a small untrained
   model (full-size DepthPose at 16x12, no flip test), with the shipped default weights (DepthPose-Lite 64x48,
   flip test on, the node's defaults) and with the earlier default (DepthPose 64x48 at width 0.125); latency
   from the image's header stamp to the arrival of its Skeleton2DArray here.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(REPO / "config" / "fastdds_localhost.xml"))
os.environ.setdefault("ROS_DOMAIN_ID", "87")

import rclpy  # noqa: E402
from bench_decode import random_people  # noqa: E402
from depthpose_ros.msg import Skeleton2DArray  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from depthpose_core.demo_scene import make_demo_frame  # noqa: E402
from depthpose_core.messages import image_to_depth  # noqa: E402
from depthpose_core.preprocess import Preprocessing, to_lowres  # noqa: E402
from depthpose_core.skeleton import Skeleton  # noqa: E402
from depthpose_ros.conversions import skeletons_to_msg  # noqa: E402


def _image(depth: np.ndarray, stamp_ns: int = 1) -> Image:
    msg = Image(height=depth.shape[0], width=depth.shape[1], encoding="16UC1", step=2 * depth.shape[1])
    msg.header.frame_id = "cam"
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    msg.data = depth.tobytes()
    return msg


def _p50_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def overhead(frames: int, people_counts: list[int]) -> None:
    depth, _ = make_demo_frame(0)
    msg = _image(depth)
    pre = Preprocessing()
    rng = np.random.default_rng(0)
    context = Context()
    rclpy.init(context=context)
    node = Node("bench_publisher", context=context)
    pub = node.create_publisher(Skeleton2DArray, "bench_skeletons", 10)
    node.create_subscription(Skeleton2DArray, "bench_skeletons", lambda m: None, 10)

    def naive() -> np.ndarray:
        return to_lowres(np.array(msg.data, dtype=np.uint8).view(np.uint16).reshape(msg.height, msg.width), pre)

    ingress = _p50_ms(lambda: to_lowres(image_to_depth(msg, max_pixels=1 << 24), pre), frames)
    baseline = _p50_ms(naive, frames)
    print("Node overhead per 640x480 16UC1 frame, excluding the network (p50, ms)")
    print(f"{'people':>6} {'ingress':>8} {'build msg':>10} {'publish':>8} {'total':>7} {'naive ingress':>14} "
          f"{'x naive':>8}")  # fmt: skip
    for count in people_counts:
        skeletons = [Skeleton(p[:, :2], np.full(18, 0.8), 12.0, (640, 480)) for p in random_people(rng, count)]
        ids = list(range(1, count + 1))
        build = _p50_ms(lambda: skeletons_to_msg(msg.header, (640, 480), skeletons, ids), frames)
        out = skeletons_to_msg(msg.header, (640, 480), skeletons, ids)
        publish = _p50_ms(lambda: pub.publish(out), frames)
        total = ingress + build + publish
        print(f"{count:>6} {ingress:8.3f} {build:10.3f} {publish:8.3f} {total:7.3f} {baseline:14.3f} "
              f"{(baseline + build + publish) / total:8.2f}")  # fmt: skip
    node.destroy_node()
    context.try_shutdown()


#: End-to-end cases: label, node parameters on top of config/depthpose.yaml.
E2E_CASES = (
    ("DepthPose 16x12 untrained, no flip", ("model:=untrained", "device:=cpu", "input_width:=16",
                                            "input_height:=12", "flip_test:=false")),
    ("default weights (lite 64x48), flip", ("device:=cpu",)),
    ("earlier default 64x48 w0.125, flip", ("device:=cpu", "model:=depthpose_w0125")),
)  # fmt: skip


def end_to_end(label: str, params: tuple[str, ...], frames: int, rate_hz: float) -> None:
    """Frames to a node process started like users start it (console script), latency measured here."""
    depth, _ = make_demo_frame(0)
    args = [str(Path(sys.executable).with_name("depthpose_node")), "--ros-args", "--params-file",
            str(REPO / "config" / "depthpose.yaml"), *(a for p in params for a in ("-p", p))]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = Context()
    rclpy.init(context=context)
    client = Node("bench_camera", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(client)
    pub = client.create_publisher(Image, "depth/image", 10)
    latencies: list[float] = []
    diagnostics: list[DiagnosticArray] = []

    def arrived(msg: Skeleton2DArray) -> None:
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        latencies.append((time.time_ns() - stamp) / 1e6)

    client.create_subscription(Skeleton2DArray, "skeletons", arrived, 10)
    client.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
    deadline = time.monotonic() + 60
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    template = _image(depth)
    for _ in range(frames):
        template.header.stamp.sec, template.header.stamp.nanosec = divmod(time.time_ns(), 1_000_000_000)
        pub.publish(template)
        until = time.monotonic() + 1.0 / rate_hz
        while time.monotonic() < until:
            executor.spin_once(timeout_sec=0.005)
    until = time.monotonic() + 2.5
    while time.monotonic() < until:
        executor.spin_once(timeout_sec=0.05)
    values = {kv.key: kv.value for kv in diagnostics[-1].status[0].values} if diagnostics else {}
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    client.destroy_node()
    context.try_shutdown()
    p50, p95 = np.percentile(latencies, [50, 95])
    print(f"{label:<36} {frames:>5} {len(latencies):>8} {values.get('frames dropped', '?'):>7} "
          f"{values.get('images lost before the node', '?'):>5} {values.get('inference p50 (ms)', '?'):>16} "
          f"{p50:10.1f} {p95:10.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="repeats of each overhead measurement")
    parser.add_argument("--people", type=int, nargs="+", default=[0, 4, 8])
    parser.add_argument("--e2e-frames", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5.0, help="frame rate of the end-to-end run (Hz)")
    args = parser.parse_args()
    overhead(args.frames, args.people)
    print(f"\nEnd to end through the node process (CPU), {args.e2e_frames} frames at {args.rate:g} Hz; latency = "
          "arrival here - image header stamp")  # fmt: skip
    print(f"{'model':<36} {'sent':>5} {'answered':>8} {'dropped':>7} {'lost':>5} {'inference p50 ms':>16} "
          f"{'e2e p50 ms':>10} {'e2e p95 ms':>10}")  # fmt: skip
    for label, params in E2E_CASES:
        end_to_end(label, params, args.e2e_frames, args.rate)


if __name__ == "__main__":
    main()
