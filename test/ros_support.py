"""Helpers for the ROS tests: real rclpy contexts, image messages, the node as a process, waiting on deadlines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
import yaml
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image

REPO = Path(__file__).resolve().parents[1]
NODE_SCRIPT = Path(sys.executable).with_name("depthpose_node")

#: A small input keeps the full DepthPose network cheap on the CPU: 16x12 low resolution.
TINY_PARAMS: dict[str, Any] = {"model": "untrained", "device": "cpu", "input_width": 16, "input_height": 12,
                               "flip_test": False}  # fmt: skip


@contextmanager
def ros_context() -> Iterator[Context]:
    """A fresh rclpy context on the worker's domain (see conftest), shut down afterwards."""
    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        context.try_shutdown()


def spin_until(executor: SingleThreadedExecutor, done: Callable[[], bool], timeout: float) -> bool:
    """Spin until ``done()`` or ``timeout`` seconds; returns ``done()``."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.02)
    return done()


def wait_for_match(executor: SingleThreadedExecutor, pub: Any, timeout: float = 20.0) -> None:
    """Wait until a subscriber matches ``pub`` (a burst sent earlier could be missed)."""
    matched = spin_until(executor, lambda: pub.get_subscription_count() > 0, timeout)
    assert matched, f"nobody subscribed to {pub.topic_name}"


def depth_image(depth: np.ndarray, *, encoding: str = "16UC1", stamp_ns: int = 1, frame_id: str = "cam",
                bigendian: bool = False, pad: int = 0) -> Image:  # fmt: skip
    """An Image message of ``depth`` with the given encoding, byte order and ``pad`` bytes of row padding."""
    arr = depth.astype(depth.dtype.newbyteorder(">" if bigendian else "<"))
    h, w = arr.shape
    rows = arr.view(np.uint8).reshape(h, w * arr.itemsize)
    if pad:
        rows = np.concatenate([rows, np.full((h, pad), 0xAB, np.uint8)], axis=1)
    msg = Image(height=h, width=w, encoding=encoding, is_bigendian=bigendian, step=rows.shape[1])
    msg.header.frame_id = frame_id
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    msg.data = rows.tobytes()
    return msg


class NodeProcess:
    """The ``depthpose_node`` console script in its own process, with a params file written from the shipped
    ``config/depthpose.yaml`` plus overrides, and optional remaps. Output (stdout + stderr) is kept. Another
    ``executable`` (e.g. an installed ``lib/depthpose_ros/depthpose_node``) and ``env`` may be given."""

    def __init__(self, tmp_path: Path, params: dict[str, Any], remaps: dict[str, str] | None = None,
                 extra_args: list[str] | None = None, *, executable: Path = NODE_SCRIPT,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        config = yaml.safe_load((REPO / "config" / "depthpose.yaml").read_text())
        flat = config["/**"]["ros__parameters"]
        for key, value in params.items():
            target = flat
            *parents, leaf = key.split(".")
            for part in parents:
                target = target[part]
            target[leaf] = value
        self.params_file = tmp_path / "params.yaml"
        self.params_file.write_text(yaml.safe_dump(config))
        self.log_file = tmp_path / "node.log"
        args = [str(executable), "--ros-args", "--params-file", str(self.params_file)]
        for src, dst in (remaps or {}).items():
            args += ["-r", f"{src}:={dst}"]
        args += extra_args or []
        self._log = self.log_file.open("w")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=dict(env or os.environ))

    def output(self) -> str:
        """Everything the node printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_file.read_text()

    def wait_output(self, text: str, timeout: float = 60.0) -> bool:
        """Wait until the node printed ``text`` (or exited)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if self.proc.poll() is not None:
                return text in self.output()
            time.sleep(0.05)
        return False

    def stop(self) -> int:
        """SIGINT, then wait (kill after 20 s); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def make_node(context: Context, name: str) -> tuple[Node, SingleThreadedExecutor]:
    """A plain test node and its executor in ``context``."""
    node = Node(name, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    return node, executor
