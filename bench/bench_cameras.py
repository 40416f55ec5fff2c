"""Several cameras: one node serving three cameras (one model, batched forward passes) against three nodes.

Usage (from the repository root, in the venv that scripts/setup_env.sh builds)::

    python bench/bench_cameras.py [--seconds 20] [--rate 15] [--model demo]

Three synchronised 640x480 16UC1 cameras publish at ``--rate`` Hz each (the same stamp per tick, as MVOR's
cameras), to (a) one ``depthpose_node`` process with ``cameras: [cam1, cam2, cam3]`` and (b) three
``depthpose_node`` processes, one per camera, with the same parameters otherwise (the shipped params file: the
default weights, flip test on, the fastest backend). Measured after every camera's first answer (model loading
and graph compilation excluded): frames answered per camera of those sent, dropped (newest frame only) and
lost, latency from the image stamp to the arrival of its Skeleton2DArray here (p50, p95), and the CPU time the
node processes used per second of wall time (cores) and their resident memory.
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
os.environ.setdefault("ROS_DOMAIN_ID", "88")

import rclpy  # noqa: E402
from depthpose_ros.msg import Skeleton2DArray  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from depthpose_core.demo_scene import make_demo_frame  # noqa: E402

CAMERAS = ("cam1", "cam2", "cam3")
NODE = str(Path(sys.executable).with_name("depthpose_node"))
PARAMS = str(REPO / "config" / "depthpose.yaml")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _start(setup: str, model: str) -> list[subprocess.Popen]:
    extra = ["-p", f"model:={model}"] if model else []
    if setup == "one node":
        args = [NODE, "--ros-args", "--params-file", PARAMS, "-p", f"cameras:=[{','.join(CAMERAS)}]", *extra]
        return [subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    return [subprocess.Popen([NODE, "--ros-args", "--params-file", PARAMS, "-r", f"__node:=depthpose_{c}",
                              "-r", f"depth/image:={c}/depth/image", "-r", f"skeletons:={c}/skeletons",
                              "-r", f"skeletons_3d:={c}/skeletons_3d", *extra],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in CAMERAS]  # fmt: skip


def run(setup: str, seconds: float, rate_hz: float, model: str) -> dict[str, float]:
    """One setup; returns its row of the table."""
    depth, _ = make_demo_frame(0)
    procs = _start(setup, model)
    context = Context()
    rclpy.init(context=context)
    client = Node("bench_cameras", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(client)
    pubs = {c: client.create_publisher(Image, f"{c}/depth/image", 10) for c in CAMERAS}
    arrivals: dict[str, list[tuple[int, float]]] = {c: [] for c in CAMERAS}
    for c in CAMERAS:
        client.create_subscription(Skeleton2DArray, f"{c}/skeletons",
                                   lambda m, c=c: arrivals[c].append((m.header.stamp.sec * 1_000_000_000
                                                                      + m.header.stamp.nanosec, time.time_ns())),
                                   10)  # fmt: skip
    msg = Image(height=depth.shape[0], width=depth.shape[1], encoding="16UC1", step=2 * depth.shape[1],
                data=depth.tobytes())  # fmt: skip
    sent: dict[str, list[int]] = {c: [] for c in CAMERAS}

    def tick() -> None:
        stamp = time.time_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        for c, pub in pubs.items():
            msg.header.frame_id = f"{c}_optical"
            pub.publish(msg)
            sent[c].append(stamp)
        until = time.monotonic() + 1.0 / rate_hz
        while time.monotonic() < until:
            executor.spin_once(timeout_sec=0.002)

    deadline = time.monotonic() + 120
    while not all(arrivals.values()) and time.monotonic() < deadline:  # warm-up: every camera answered once
        tick()
    for c in CAMERAS:
        arrivals[c].clear()
        sent[c].clear()
    cpu0, wall0 = sum(_cpu_seconds(p.pid) for p in procs), time.monotonic()
    while time.monotonic() - wall0 < seconds:
        tick()
    cpu1, wall1 = sum(_cpu_seconds(p.pid) for p in procs), time.monotonic()
    rss = sum(_rss_mb(p.pid) for p in procs)
    until = time.monotonic() + 1.0
    while time.monotonic() < until:
        executor.spin_once(timeout_sec=0.01)
    for p in procs:
        p.send_signal(signal.SIGINT)
    for p in procs:
        p.wait(timeout=30)
    client.destroy_node()
    context.try_shutdown()
    latencies, answered, total = [], 0, 0
    for c in CAMERAS:
        measured = set(sent[c])
        got = [(s, t) for s, t in arrivals[c] if s in measured]
        answered += len(got)
        total += len(sent[c])
        latencies += [(t - s) / 1e6 for s, t in got]
    p50, p95 = np.percentile(latencies, [50, 95]) if latencies else (float("nan"), float("nan"))
    return {"sent": total, "answered": answered, "p50": float(p50), "p95": float(p95),
            "cores": (cpu1 - cpu0) / (wall1 - wall0), "rss": rss}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per setup")
    parser.add_argument("--rate", type=float, default=15.0, help="frames per second per camera")
    parser.add_argument("--model", default="", help="checkpoint or shipped name (default: the params file's)")
    args = parser.parse_args()
    rows = {setup: run(setup, args.seconds, args.rate, args.model) for setup in ("3 nodes", "one node")}
    base = rows["3 nodes"]
    print(f"3 cameras x {args.rate:g} Hz, 640x480, {args.seconds:g} s measured; node processes on this machine "
          f"({os.cpu_count()} CPUs)")  # fmt: skip
    print(f"{'setup':<10} {'sent':>5} {'answered':>9} {'answered %':>10} {'e2e p50 ms':>10} {'e2e p95 ms':>10} "
          f"{'CPU cores':>9} {'RSS MB':>7} {'answered vs 3 nodes':>19}")  # fmt: skip
    for setup, r in rows.items():
        share = 100.0 * r["answered"] / max(r["sent"], 1)
        print(f"{setup:<10} {r['sent']:>5} {r['answered']:>9} {share:>10.1f} {r['p50']:>10.1f} {r['p95']:>10.1f} "
              f"{r['cores']:>9.2f} {r['rss']:>7.0f} {r['answered'] / max(base['answered'], 1):>18.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
