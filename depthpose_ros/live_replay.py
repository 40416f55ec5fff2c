"""``depthpose_replay_live``: play a bag to a running depthpose node and record its answers (``ros2 bag play`` +
``ros2 bag record`` for this task), then report honestly and evaluate.

The bag's images (and camera infos) are published with their original messages, paced by the bag time stamps
(times a rate factor), optionally with ``/clock`` for a node on ``use_sim_time``. The node's skeleton arrays are
recorded into a bag (timestamped at arrival, in ROS time) and matched to what was sent by their header stamps.
The report: frames published, skeleton arrays received, what the node says it received, dropped (newest frame
only) and lost (never reached it), from its ``/diagnostics``, and end-to-end latency percentiles (arrival here
minus publication of the frame with the same header stamp).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image

from depthpose_core.errors import DepthPoseError
from depthpose_core.eval.io import load_json
from depthpose_core.eval.pck import PCKResult, evaluate, format_table
from depthpose_core.replay import SKELETON_ARRAY, GroundTruthIndex, output_topic, stamp_ns, typestore
from depthpose_core.skeleton import Skeleton
from depthpose_ros.msg import Skeleton2DArray

__all__ = ["LiveReport", "live_replay", "main", "result_of"]

_IMAGE, _INFO = "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo"


@dataclass
class LiveReport:
    """What a live replay saw (see the module docstring); ``node`` holds the node's last diagnostics values."""

    topics: list[str] = field(default_factory=list)
    published: int = 0
    received: int = 0
    duplicates: int = 0
    unmatched: int = 0
    node: dict[str, str] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        p50, p95 = (np.percentile(self.latencies_ms, [50, 95]) if self.latencies_ms else (float("nan"),) * 2)
        node = self.node
        return "\n".join([
            f"frames published {self.published}, skeleton arrays received {self.received} "
            f"(duplicates {self.duplicates}, not matching a published frame {self.unmatched}) in {self.seconds:.1f} s",
            f"node: images received {node.get('images received', '?')}, frames processed "
            f"{node.get('frames processed', '?')}, dropped (newest frame only) {node.get('frames dropped', '?')}, "
            f"lost before the node {node.get('images lost before the node', '?')}, bad input "
            f"{node.get('bad input', '?')}",
            f"end-to-end latency (arrival here - publication): p50 {p50:.1f} ms, p95 {p95:.1f} ms",
        ])  # fmt: skip


def result_of(msg: Skeleton2DArray, image_id: object) -> list[dict]:
    """COCO-17 result records of a received skeleton array."""
    out = []
    for s in msg.skeletons:
        present = np.array([k.present for k in s.keypoints])
        xy = np.array([(k.x, k.y) for k in s.keypoints], dtype=np.float64)
        xy[~present] = np.nan
        scores = np.array([k.score for k in s.keypoints], dtype=np.float64)
        out.append(Skeleton(xy, scores, float(s.score), (msg.image_width, msg.image_height)).to_coco_result(image_id))
    return out


def live_replay(
    bag: Path, out: Path, *, topics: Sequence[str] | None = None, skeleton_topics: dict[str, str] | None = None,
    rate: float = 1.0, clock: bool = False, wait_s: float = 30.0, settle_s: float = 5.0,
    ground_truth: dict | None = None,
) -> LiveReport:  # fmt: skip
    """Publish ``bag`` to a running node, record its outputs into ``out``; see the module docstring.

    Args:
        bag: the input rosbag2 (sqlite3 or mcap).
        out: the bag to record into (must not exist).
        topics: image topics to publish (default: all); camera infos always go with them.
        skeleton_topics: image topic -> the topic the node answers on (default: ``<namespace>/skeletons``).
        rate: playback speed factor (0.5 = half speed).
        clock: also publish ``/clock`` with the bag time.
        wait_s: how long to wait for the node to subscribe.
        settle_s: how long to wait for the last answers after the last frame.
        ground_truth: labels with ``stamp_ns`` and ``topic`` per image, for the results' image ids.

    Raises:
        DepthPoseError: unreadable bag, existing output, no node subscribed in time.
    """
    store = typestore()
    if out.exists():
        raise DepthPoseError(f"output bag {out} already exists")
    reader = Reader(bag)
    try:
        reader.open()
    except Exception as err:  # noqa: BLE001 - rosbags raises several kinds for broken bags
        raise DepthPoseError(f"{bag} is not a readable rosbag2: {err}") from None
    report = LiveReport()
    index = GroundTruthIndex(ground_truth)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("depthpose_replay", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    writer = Writer(out, version=9, storage_plugin=StoragePlugin.MCAP if any(bag.glob("*.mcap"))
                    else StoragePlugin.SQLITE3)  # fmt: skip
    writer.open()
    try:
        images = [c for c in reader.connections if c.msgtype == _IMAGE and (not topics or c.topic in topics)]
        if not images:
            raise DepthPoseError(f"{bag} holds no image topic to play (asked for {topics or 'any'})")
        report.topics = [c.topic for c in images]
        infos = [c for c in reader.connections if c.msgtype == _INFO]
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        pubs = {c.topic: node.create_publisher(Image, c.topic, reliable) for c in images}
        pubs.update({c.topic: node.create_publisher(CameraInfo, c.topic, reliable) for c in infos})
        clock_pub = node.create_publisher(Clock, "/clock", 10) if clock else None
        sent: dict[tuple[str, int], float] = {}
        seen: set[tuple[str, int]] = set()
        answer_topics = {c.topic: (skeleton_topics or {}).get(c.topic, output_topic(c.topic, "skeletons"))
                         for c in images}  # fmt: skip

        def record(image_topic: str, conn: object) -> object:
            def on_array(msg: Skeleton2DArray) -> None:
                arrived = time.monotonic()
                writer.write(conn, node.get_clock().now().nanoseconds, serialize_message(msg))
                key = (image_topic, stamp_ns(msg.header))
                report.received += 1
                if key in seen:
                    report.duplicates += 1
                    return
                seen.add(key)
                if key not in sent:
                    report.unmatched += 1
                    return
                report.latencies_ms.append((arrived - sent[key]) * 1e3)
                image_id = index.find(image_topic, key[1], -1)
                report.results += result_of(msg, image_id if image_id is not None else f"{image_topic}@{key[1]}")
            return on_array

        for image_topic, answer in answer_topics.items():
            conn = writer.add_connection(answer, SKELETON_ARRAY, typestore=store)
            node.create_subscription(Skeleton2DArray, answer, record(image_topic, conn), 100)
        diagnostics: list[DiagnosticArray] = []
        node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
        deadline = time.monotonic() + wait_s
        while any(pubs[c.topic].get_subscription_count() == 0 for c in images):
            if time.monotonic() > deadline:
                raise DepthPoseError(f"no node subscribed to {[c.topic for c in images]} within {wait_s:.0f} s")
            executor.spin_once(timeout_sec=0.05)
        start, first = time.monotonic(), None
        for conn, bag_time, raw in reader.messages(connections=images + infos):
            first = bag_time if first is None else first
            due = start + (bag_time - first) * 1e-9 / rate
            while time.monotonic() < due:
                executor.spin_once(timeout_sec=min(0.005, max(due - time.monotonic(), 0.0)))
            if clock_pub is not None:
                clock_msg = Clock()
                clock_msg.clock.sec, clock_msg.clock.nanosec = divmod(bag_time, 1_000_000_000)
                clock_pub.publish(clock_msg)
            msg = deserialize_message(raw, Image if conn.msgtype == _IMAGE else CameraInfo)
            pubs[conn.topic].publish(msg)
            if conn.msgtype == _IMAGE:
                report.published += 1
                sent[(conn.topic, stamp_ns(msg.header))] = time.monotonic()
        end = time.monotonic() + settle_s
        diagnostics.clear()
        while time.monotonic() < end or not diagnostics:
            executor.spin_once(timeout_sec=0.05)
            if time.monotonic() > end + 10.0:
                break  # no /diagnostics from a node: report what we saw
        if diagnostics:
            report.node = {kv.key: kv.value for kv in diagnostics[-1].status[0].values}
        report.seconds = time.monotonic() - start
    finally:
        writer.close()
        reader.close()
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``depthpose_replay_live``."""
    parser = argparse.ArgumentParser(prog="depthpose_replay_live", description=__doc__.splitlines()[0])
    parser.add_argument("bag", type=Path, help="input rosbag2 (sqlite3 or mcap)")
    parser.add_argument("--out", type=Path, required=True, help="bag to record the node's answers into")
    parser.add_argument("--topic", action="append", help="image topic to publish (repeat; default: all)")
    parser.add_argument("--skeletons", action="append", default=[], metavar="IMAGE_TOPIC=SKELETON_TOPIC",
                        help="where the node answers (default: <image namespace>/skeletons)")  # fmt: skip
    parser.add_argument("--rate", type=float, default=1.0, help="playback speed factor")
    parser.add_argument("--clock", action="store_true", help="publish /clock (for a node with use_sim_time)")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the node")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait for the last answers")
    parser.add_argument("--gt", type=Path, help="ground truth (e.g. depthpose synth's annotations.json)")
    args = parser.parse_args(argv)
    try:
        gt = load_json(args.gt, kind="ground truth") if args.gt else None
        mapping = dict(item.split("=", 1) for item in args.skeletons)
        report = live_replay(args.bag, args.out, topics=args.topic, skeleton_topics=mapping, rate=args.rate,
                             clock=args.clock, wait_s=args.wait, settle_s=args.settle, ground_truth=gt)  # fmt: skip
    except (DepthPoseError, ValueError) as err:
        print(f"ERROR: {err}")
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 130
    print(report.text())
    print(f"wrote {args.out}")
    (args.out.with_name(args.out.name + "_results.json")).write_text(json.dumps(report.results))
    if gt is not None:
        # Only the cameras that were played count: the other topics' labelled people were never sent.
        played = {i["id"] for i in gt["images"] if i.get("topic", report.topics[0]) in report.topics}
        subset = {**gt, "images": [i for i in gt["images"] if i["id"] in played],
                  "annotations": [a for a in gt["annotations"] if a["image_id"] in played]}  # fmt: skip
        matched = [r for r in report.results if r["image_id"] in played]
        tables: dict[str, PCKResult] = {"node (live)": evaluate(subset, matched)}
        print(format_table(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
