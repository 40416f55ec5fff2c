"""``depthpose_replay_live``: play a bag to a running depthpose node and record its answers (``ros2 bag play`` +
``ros2 bag record`` for this task), then report honestly and evaluate.

The bag's images (and camera infos) are published with their original messages, paced by the bag time stamps
(times a rate factor), optionally with ``/clock`` for a node on ``use_sim_time``. The node's skeleton arrays are
recorded into a bag (timestamped at arrival, in ROS time) and matched to what was sent by their header stamps.
The report: frames published, skeleton arrays received, what the node says it received, dropped (newest frame
only) and lost (never reached it), from the ``/diagnostics`` of the node(s) reading the played topics as
differences over the replay, and end-to-end latency percentiles (arrival here minus publication of the frame with
the same header stamp).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from depthpose_core import bags
from depthpose_core.errors import DepthPoseError
from depthpose_core.eval.pck import format_table
from depthpose_core.io import load_json, write_text
from depthpose_core.messages import skeletons_from_array, stamp_ns
from depthpose_core.replay import GroundTruthIndex, evaluate_replay
from depthpose_ros.counters import DIAGNOSTIC_KEYS, REPLAY_COUNTS, Count
from depthpose_ros.msg import Skeleton2DArray

__all__ = ["LiveReport", "NodeCounters", "live_replay", "main", "print_report", "result_of"]

_MATCH_GRACE_S = 1.0
# Longest extra wait for the node's first diagnostics (published every second) before the replay starts.
_BASELINE_WAIT_S = 1.5


class NodeCounters:
    """The counters of the depthpose nodes reading the played topics, from their ``/diagnostics`` (status value
    ``input topic``): the latest per topic, the time it arrived, and what runs the network there (``backend``,
    ``precision``)."""

    def __init__(self, topics: Sequence[str]) -> None:
        self.topics = set(topics)
        self.latest: dict[str, dict[Count, int]] = {}
        self.arrived: dict[str, float] = {}
        self.runtime: dict[str, str] = {}

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            topic = values.get("input topic")
            if topic in self.topics and all(values.get(DIAGNOSTIC_KEYS[c], "").isdigit() for c in REPLAY_COUNTS):
                self.latest[topic] = {c: int(values[DIAGNOSTIC_KEYS[c]]) for c in REPLAY_COUNTS}
                self.arrived[topic] = time.monotonic()
                self.runtime[topic] = f"{values.get('backend', '?')}, {values.get('precision', '?')}"

    def since(self, baseline: dict[str, dict[Count, int]]) -> dict[Count, int]:
        """The counters summed over the topics, minus ``baseline`` (an earlier :attr:`latest`)."""
        return {c: sum(n[c] - baseline.get(t, {}).get(c, 0) for t, n in self.latest.items()) for c in REPLAY_COUNTS}


@dataclass
class LiveReport:
    """What a live replay saw (see the module docstring).

    ``received`` counts every skeleton array that arrived, ``unmatched`` those answering no frame sent (another
    publisher's frame, or a second answer to one); ``node`` holds the node's counters
    (:data:`~depthpose_ros.counters.REPLAY_COUNTS`) over the replay, empty when diagnostics of a node reading
    some played topic (``missing_diagnostics``) never arrived; ``runtime`` is each topic's node's backend and
    precision, as its diagnostics say.
    """

    topics: list[str] = field(default_factory=list)
    published: int = 0
    received: int = 0
    unmatched: int = 0
    node: dict[Count, int] = field(default_factory=dict)
    missing_diagnostics: list[str] = field(default_factory=list)
    runtime: dict[str, str] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    results: dict[str, list[dict]] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False

    def unaccounted(self) -> int | None:
        """Frames published that the node neither received nor counted as lost (lost after the node's last
        image, or still in transit at the end); None without diagnostics."""
        n = self.node
        return self.published - n[Count.RECEIVED] - n[Count.LOST] if n else None

    def pending(self) -> int | None:
        """Frames the node had received but not yet finished (processed, dropped, bad or failed) at the end."""
        n = self.node
        if not n:
            return None
        done = n[Count.PROCESSED] + n[Count.DROPPED] + n[Count.BAD] + n[Count.FAILED]
        return n[Count.RECEIVED] - done

    def text(self) -> str:
        p50, p95 = (np.percentile(self.latencies_ms, [50, 95]) if self.latencies_ms else (float("nan"),) * 2)
        n = {c: str(v) for c, v in self.node.items()} or dict.fromkeys(REPLAY_COUNTS, "?")
        lines = [
            f"frames published {self.published}, skeleton arrays received {self.received} (answering no frame sent "
            f"{self.unmatched}) in {self.seconds:.1f} s" + (" -- INTERRUPTED" if self.interrupted else ""),
            f"node: images received {n[Count.RECEIVED]}, frames processed {n[Count.PROCESSED]}, dropped (newest "
            f"frame only) {n[Count.DROPPED]}, lost before the node {n[Count.LOST]}, bad input {n[Count.BAD]}, "
            f"failed {n[Count.FAILED]}; still pending {self.pending()}, published but unaccounted for "
            f"{self.unaccounted()}",
            f"end-to-end latency (answer here - publication, matched by header stamp): p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms",
        ]  # fmt: skip
        for topic, runtime in sorted(self.runtime.items()):
            lines.append(f"node reading {topic}: backend {runtime}")
        if self.missing_diagnostics:
            lines.append(f"no /diagnostics from a depthpose node reading {self.missing_diagnostics}: its counters "
                         "are unknown")  # fmt: skip
        return "\n".join(lines)


def result_of(msg: Skeleton2DArray, image_id: int) -> list[dict]:
    """COCO-17 result records of a received skeleton array."""
    return [person.to_coco_result(image_id) for person in skeletons_from_array(msg)[0]]


def live_replay(
    bag: Path, out: Path, *, topics: Sequence[str] | None = None, skeleton_topics: dict[str, str] | None = None,
    rate: float = 1.0, clock: bool = False, wait_s: float = 30.0, settle_s: float = 30.0,
    ground_truth: dict | None = None,
) -> LiveReport:  # fmt: skip
    """Publish ``bag`` to a running node, record its outputs into ``out``; see the module docstring.

    Args:
        bag: the input rosbag2 (sqlite3 or mcap).
        out: the bag to record into (must not exist).
        topics: image topics to publish (default: all); the camera infos in their namespaces go with them.
        skeleton_topics: image topic -> the topic the node answers on (default: ``<namespace>/skeletons``).
        rate: playback speed factor (0.5 = half speed).
        clock: also publish ``/clock`` with the bag time.
        wait_s: how long to wait for the node to subscribe.
        settle_s: the longest wait after the last frame for the node to finish (it ends sooner when the node's
            diagnostics show every frame received or lost and none pending).
        ground_truth: labels with ``stamp_ns`` or ``frame_index`` (and ``topic``) per image, for the results'
            image ids.

    Returns:
        The report; Ctrl-C while playing ends the replay early with ``interrupted`` set (the bag is closed).

    Raises:
        DepthPoseError: unreadable bag, missing topic, existing output, bad rate, no node subscribed in time.
    """
    if not rate > 0:
        raise DepthPoseError(f"rate must be > 0, got {rate}")
    if out.exists():
        raise DepthPoseError(f"output bag {out} already exists")
    store = bags.typestore()
    report = LiveReport()
    with ExitStack() as stack:  # closed in reverse: the recording, the ROS node and context, the input bag
        reader = stack.enter_context(bags.open_bag(bag))
        context = rclpy.Context()
        rclpy.init(context=context)
        stack.callback(context.try_shutdown)
        node = Node("depthpose_replay", context=context)
        stack.callback(node.destroy_node)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        stack.callback(executor.shutdown)
        start = time.monotonic()
        try:
            images, infos = bags.select_topics(reader, list(topics) if topics else None, bag)
            report.topics = sorted({c.topic for c in images})
            report.results = {t: [] for t in report.topics}  # a camera without answers still counts in the PCK
            index = GroundTruthIndex(ground_truth, report.topics)
            reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
            kinds = {c.topic: CompressedImage if c.msgtype == bags.COMPRESSED_IMAGE else Image for c in images}
            kinds.update({c.topic: CameraInfo for c in infos})
            pubs = {t: node.create_publisher(kinds[t], t, reliable) for t in report.topics}
            pubs.update({c.topic: node.create_publisher(CameraInfo, c.topic, reliable) for c in infos})
            clock_pub = node.create_publisher(Clock, "/clock", 10) if clock else None
            # Publication times per (topic, header stamp), oldest first (stamps may repeat), with the frame's position.
            sent: dict[tuple[str, int], deque[tuple[float, int]]] = defaultdict(deque)
            answers = skeleton_topics or {}
            answer_topics = {t: answers.get(t, bags.output_topic(t, "skeletons")) for t in report.topics}
            arrivals: list[tuple[str, float, Skeleton2DArray]] = []
            for image_topic, answer in answer_topics.items():
                node.create_subscription(Skeleton2DArray, answer,
                                         lambda msg, t=image_topic: arrivals.append((t, time.monotonic(), msg)), 100)
            counters = NodeCounters(report.topics)
            node.create_subscription(DiagnosticArray, "/diagnostics", counters.on_diagnostics, 10)
            deadline = time.monotonic() + wait_s
            while any(pubs[t].get_subscription_count() == 0 for t in report.topics):
                if time.monotonic() > deadline:
                    raise DepthPoseError(f"no node subscribed to {report.topics} within {wait_s:.0f} s")
                executor.spin_once(timeout_sec=0.05)
            writer = stack.enter_context(bags.create_bag(out, bags.storage_of(reader)))
            conns = {t: writer.add_connection(a, bags.SKELETON_ARRAY, typestore=store)
                     for t, a in answer_topics.items()}  # fmt: skip

            def take_arrivals() -> None:
                """Record and match what arrived since the last call."""
                while arrivals:
                    image_topic, arrived, msg = arrivals.pop(0)
                    writer.write(conns[image_topic], node.get_clock().now().nanoseconds, serialize_message(msg))
                    report.received += 1
                    queue = sent.get((image_topic, stamp_ns(msg.header)))
                    if not queue:
                        report.unmatched += 1  # an answer to no frame we sent (or a second answer to one)
                        continue
                    published, position = queue.popleft()
                    report.latencies_ms.append((arrived - published) * 1e3)
                    image_id, _ = index.result_id(image_topic, stamp_ns(msg.header), position)
                    report.results[image_topic] += result_of(msg, image_id)

            # Our side has matched; give the node's side a moment too (a best-effort writer drops samples for a
            # reader it has not matched yet), and take the node's counters before the replay (diagnostics come
            # every second; a node that has just started has none to subtract).
            grace = time.monotonic() + _MATCH_GRACE_S
            while time.monotonic() < grace or (len(counters.latest) < len(report.topics)
                                               and time.monotonic() < grace + _BASELINE_WAIT_S):  # fmt: skip
                executor.spin_once(timeout_sec=0.05)
            arrivals.clear()  # answers to earlier traffic are not this replay's
            baseline = {t: dict(c) for t, c in counters.latest.items()}
            start, first = time.monotonic(), None
            positions: Counter[str] = Counter()
            try:
                for conn, bag_time, raw in reader.messages(connections=images + infos):
                    first = bag_time if first is None else first
                    due = start + (bag_time - first) * 1e-9 / rate
                    while time.monotonic() < due:
                        executor.spin_once(timeout_sec=min(0.005, max(due - time.monotonic(), 0.0)))
                        take_arrivals()
                    if clock_pub is not None:
                        clock_msg = Clock()
                        clock_msg.clock.sec, clock_msg.clock.nanosec = divmod(bag_time, 1_000_000_000)
                        clock_pub.publish(clock_msg)
                    msg = deserialize_message(raw, kinds[conn.topic])
                    pubs[conn.topic].publish(msg)
                    if conn.msgtype != bags.CAMERA_INFO:
                        report.published += 1
                        sent[(conn.topic, stamp_ns(msg.header))].append((time.monotonic(), positions[conn.topic]))
                        positions[conn.topic] += 1
                # Wait for the node to finish: every frame it was sent is received or lost, and none is pending, in
                # diagnostics published after the last frame; or until settle_s.
                last, end = time.monotonic(), time.monotonic() + settle_s
                while time.monotonic() < end:
                    executor.spin_once(timeout_sec=0.05)
                    take_arrivals()
                    if len(counters.latest) == len(report.topics) and min(counters.arrived.values()) > last:
                        report.node = counters.since(baseline)
                        if report.unaccounted() == 0 and report.pending() == 0:
                            linger = time.monotonic() + 0.3  # the last answers are published before diagnostics
                            while time.monotonic() < linger:
                                executor.spin_once(timeout_sec=0.05)
                            take_arrivals()
                            break
            except (KeyboardInterrupt, ExternalShutdownException):
                report.interrupted = True
            take_arrivals()
            report.node = counters.since(baseline) if len(counters.latest) == len(report.topics) else {}
            report.missing_diagnostics = sorted(set(report.topics) - set(counters.latest))
            report.runtime = dict(counters.runtime)
        finally:
            report.seconds = time.monotonic() - start
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
    parser.add_argument("--settle", type=float, default=30.0,
                        help="longest wait (s) after the last frame for the node to finish")  # fmt: skip
    parser.add_argument("--gt", type=Path, help="ground truth (e.g. depthpose synth's annotations.json)")
    args = parser.parse_args(argv)
    try:
        gt = load_json(args.gt, kind="ground truth") if args.gt else None
        mapping = dict(item.split("=", 1) for item in args.skeletons)
        report = live_replay(args.bag, args.out, topics=args.topic, skeleton_topics=mapping, rate=args.rate,
                             clock=args.clock, wait_s=args.wait, settle_s=args.settle, ground_truth=gt)  # fmt: skip
    except (DepthPoseError, ValueError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 130
    print(f"wrote {args.out}")
    print_report(report, args.out, gt, str(args.gt))
    return 130 if report.interrupted else 0


def print_report(report: LiveReport, out: Path, gt: dict | None, gt_name: str) -> None:
    """Print the report, write ``<out>_results.json`` and, with ground truth and a complete run, print the PCK."""
    print(report.text())
    results_path = out.with_name(out.name + "_results.json")
    write_text(results_path, json.dumps([r for found in report.results.values() for r in found]), what="results file")
    print(f"wrote {results_path}")
    if gt is None:
        return
    if report.interrupted:
        print("no PCK: the replay was interrupted")
        return
    try:
        tables = evaluate_replay(report.results, gt)
    except DepthPoseError as err:
        print(f"no PCK: {err}")
        return
    print(f"MVOR PCK@0.2 of the node's answers against {gt_name} ({tables['all'].num_persons} labelled persons; "
          "frames the node dropped count as missed):")  # fmt: skip
    print(format_table(tables))


if __name__ == "__main__":
    sys.exit(main())
