"""``depthpose replay``: a rosbag2 of depth images in, a rosbag2 of skeleton arrays (and PCK) out, no ROS runtime.

Every image message of the selected topics is handled exactly once, in bag order: deserialised, decoded (every
encoding the node accepts), reduced at ingress, estimated; images of several cameras that share a header stamp
go through the network in one batch. For each, a ``depthpose_ros/Skeleton2DArray`` with the image's header is
written at the image's bag timestamp on ``<image topic's namespace>/skeletons`` (optionally a low-resolution
``debug_image`` beside it); CameraInfo messages are copied through unchanged. An image that cannot be read is
reported with its topic and time stamp, counted and skipped. The output bag is closed, and valid, whatever
happens (Ctrl-C, a failing model, a full disk); the summary says what was written:
``images == written + skipped + unprocessed``.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import Writer
from tqdm import tqdm

from depthpose_core.errors import DepthPoseError, InputError
from depthpose_core.eval.pck import PCKResult, evaluate
from depthpose_core.inference import PoseEstimator
from depthpose_core.messages import image_to_depth, skeleton_array
from depthpose_core.preprocess import check_privacy
from depthpose_core.replay.bags import SKELETON_ARRAY, open_bag, storage_of, typestore
from depthpose_core.tracking import SkeletonTracker
from depthpose_core.viz import draw_overlay

__all__ = ["IMAGE", "GroundTruthIndex", "ReplaySummary", "evaluate_replay", "output_topic", "replay_bag",
           "select_topics", "stamp_ns"]

IMAGE = "sensor_msgs/msg/Image"
_CAMERA_INFO = "sensor_msgs/msg/CameraInfo"


def output_topic(image_topic: str, name: str) -> str:
    """``/cam1/depth/image_raw`` -> ``/cam1/depth/<name>``: outputs sit beside their input."""
    return image_topic.rsplit("/", 1)[0] + "/" + name


def stamp_ns(header: Any) -> int:
    """A header's stamp in nanoseconds."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


@dataclass
class ReplaySummary:
    """What a replay did.

    Attributes:
        images: image messages of the selected topics read from the bag.
        written: skeleton arrays written.
        skipped: images that could not be read, by reason.
        unprocessed: images read but not estimated because the run stopped (interrupted or failed) while they
            waited for their batch. Always ``images == written + sum(skipped) + unprocessed``.
        problems: the first skipped images, as "topic @ stamp: reason".
        passed_through: CameraInfo messages copied.
        topics: image topic -> its output topic.
        without_ground_truth: written frames that matched no ground-truth image (with ground truth given).
        seconds: wall time; ``inference_seconds``: the part spent in the estimator (network and decoder), the
            rest is reading, decoding, reducing and writing.
        interrupted: the run was stopped by the user; ``error``: what stopped it otherwise. Either way the output
            bag is closed and valid and holds what is counted here.
        results: per image topic, the COCO-style results (``image_id`` from the ground truth when found, else
            ``"<topic>@<stamp>"``).
    """

    images: int = 0
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unprocessed: int = 0
    problems: list[str] = field(default_factory=list)
    passed_through: int = 0
    topics: dict[str, str] = field(default_factory=dict)
    without_ground_truth: int = 0
    seconds: float = 0.0
    inference_seconds: float = 0.0
    interrupted: bool = False
    error: str | None = None
    results: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def frames_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("nan")

    @property
    def overhead_frames_per_second(self) -> float:
        """Frames per second of everything but inference (bag reading, image decoding, reduction, writing)."""
        rest = self.seconds - self.inference_seconds
        return self.images / rest if rest > 0 else float("nan")

    def report(self) -> str:
        """Counts in lines of text."""
        lines = [f"images read {self.images}, skeleton arrays written {self.written}, skipped "
                 f"{sum(self.skipped.values())}" + (f" ({dict(self.skipped)})" if self.skipped else "")
                 + (f", not processed (run stopped) {self.unprocessed}" if self.unprocessed else "")
                 + f", camera infos copied {self.passed_through}"]  # fmt: skip
        lines += [f"  skipped: {p}" for p in self.problems]
        if self.without_ground_truth:
            lines.append(f"{self.without_ground_truth} written frame(s) matched no ground-truth image (not evaluated)")
        lines.append(f"{self.images} images in {self.seconds:.1f} s ({self.frames_per_second:.1f} frames/s; "
                     f"inference {self.inference_seconds:.1f} s, the rest {self.overhead_frames_per_second:.0f} "
                     "frames/s)")  # fmt: skip
        if self.interrupted or self.error:
            cause = "INTERRUPTED" if self.interrupted else f"FAILED: {self.error}"
            lines.append(f"{cause} -- the output bag is closed and holds what is counted above")
        return "\n".join(lines)


class GroundTruthIndex:
    """Finds the ground-truth image of a bag image.

    By (topic, stamp), then (topic, position on the topic) for labelled images that name their ``topic``; labelled
    images without a topic match by stamp, or by position (``frame_index``) when only one camera is replayed.
    """

    def __init__(self, gt: dict | None, topics: list[str]) -> None:
        self.by_topic_stamp: dict[tuple[str, int], Any] = {}
        self.by_topic_index: dict[tuple[str, int], Any] = {}
        self.by_stamp: dict[int, Any] = {}
        self.by_index: dict[int, Any] = {}
        self.single = len(set(topics)) == 1
        for img in (gt or {}).get("images", []):
            topic = img.get("topic")
            if "stamp_ns" in img:
                if topic:
                    self.by_topic_stamp[(topic, int(img["stamp_ns"]))] = img["id"]
                else:
                    self.by_stamp[int(img["stamp_ns"])] = img["id"]
            if "frame_index" in img:
                if topic:
                    self.by_topic_index[(topic, int(img["frame_index"]))] = img["id"]
                else:
                    self.by_index[int(img["frame_index"])] = img["id"]

    def find(self, topic: str, stamp: int, index: int) -> Any:
        """The ground-truth image id of the ``index``-th image on ``topic`` (stamp in ns), or None."""
        for table, key in ((self.by_topic_stamp, (topic, stamp)), (self.by_topic_index, (topic, index)),
                           (self.by_stamp, stamp)):  # fmt: skip
            if key in table:
                return table[key]
        return self.by_index.get(index) if self.single else None


def select_topics(reader: Any, topics: list[str] | None, where: object) -> tuple[list[Any], list[Any]]:
    """The image connections of ``topics`` (default: all image topics) of an opened bag, and the camera-info
    connections in the same namespaces.

    Raises:
        DepthPoseError: a requested topic is not an image topic of the bag, or there is none.
    """
    images = [c for c in reader.connections if c.msgtype == IMAGE]
    have = sorted({c.topic for c in images})
    if topics:
        missing = sorted(set(topics) - set(have))
        if missing:
            raise DepthPoseError(f"{where} has no image topic {missing}; it has {have}")
        images = [c for c in images if c.topic in topics]
    if not images:
        raise DepthPoseError(f"{where} holds no sensor_msgs/Image topic")
    namespaces = {c.topic.rsplit("/", 1)[0] for c in images}
    infos = [c for c in reader.connections if c.msgtype == _CAMERA_INFO and c.topic.rsplit("/", 1)[0] in namespaces]
    return images, infos


def replay_bag(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    estimator: PoseEstimator,
    *,
    topics: list[str] | None = None,
    debug_image: bool = False,
    ground_truth: dict | None = None,
    progress: bool = True,
    max_problems: int = 20,
) -> ReplaySummary:
    """Replay a bag through ``estimator`` into a new bag (see the module docstring).

    Args:
        in_path: the input rosbag2 folder (sqlite3 or mcap; detected from its metadata).
        out_path: the output bag folder to create (same storage format as the input).
        estimator: the model with its settings; its low resolution must respect ``PRIVACY_MAX_SIZE``.
        topics: image topics to estimate on; None = every ``sensor_msgs/Image`` topic (one per camera). Camera
            infos in the same namespaces are copied.
        debug_image: also write the low-resolution overlay images.
        ground_truth: COCO-style labels whose images carry ``stamp_ns`` or ``frame_index`` (and ``topic``), as
            ``depthpose synth`` writes them; results then use their image ids.
        progress: show a progress bar with frames/s.
        max_problems: how many skipped images to list in the summary (all are counted).

    Returns:
        The summary; a run stopped by Ctrl-C or by an error while estimating or writing still returns it, with
        ``interrupted`` or ``error`` set (the output bag is closed either way).

    Raises:
        DepthPoseError: the input is not a readable bag, a topic is missing, the output exists, the model's low
            resolution is too large.
    """
    check_privacy(estimator.preprocessing, f"model {estimator.info.weights}")
    store = typestore()
    array_t = store.types[SKELETON_ARRAY]
    skel_t, kp_t = store.types["depthpose_ros/msg/Skeleton2D"], store.types["depthpose_ros/msg/Keypoint2D"]
    image_t = store.types[IMAGE]
    summary = ReplaySummary()
    start = time.perf_counter()
    reader = open_bag(in_path)
    writer = None
    bar = None
    # Images waiting for their batch: (topic, bag time, header, low-resolution image, frame size, position on the
    # topic). Only the low resolution is kept, as in the node.
    pending: list[tuple[str, int, Any, np.ndarray, tuple[int, int], int]] = []
    try:
        image_conns, info_conns = select_topics(reader, topics, in_path)
        out_path = Path(out_path)
        if out_path.exists():
            raise DepthPoseError(f"output bag {out_path} already exists")
        opened = Writer(out_path, version=9, storage_plugin=storage_of(reader))
        opened.open()
        writer = opened  # from here on, whatever happens, the bag gets closed and the summary returned
        image_topics = sorted({c.topic for c in image_conns})
        index = GroundTruthIndex(ground_truth, image_topics)
        outputs, debug, passthrough = {}, {}, {}
        for topic in image_topics:  # one output connection per topic, however many input connections it has
            summary.topics[topic] = output_topic(topic, "skeletons")
            outputs[topic] = writer.add_connection(summary.topics[topic], SKELETON_ARRAY, typestore=store)
            if debug_image:
                debug[topic] = writer.add_connection(output_topic(topic, "debug_image"), IMAGE, typestore=store)
            summary.results[topic] = []
        for topic in sorted({c.topic for c in info_conns}):
            passthrough[topic] = writer.add_connection(topic, _CAMERA_INFO, typestore=store)
        trackers = {topic: SkeletonTracker() for topic in image_topics}
        counts: Counter[str] = Counter()
        bar = tqdm(total=sum(c.msgcount for c in image_conns), unit="frame", desc="replay", disable=not progress)

        def flush() -> None:
            if not pending:
                return
            t0 = time.perf_counter()
            found = estimator.estimate_lowres([p[3] for p in pending], [p[4] for p in pending])
            summary.inference_seconds += time.perf_counter() - t0
            for (topic, bag_time, header, low, size, position), people in zip(pending, found):
                stamp = stamp_ns(header)
                # Tracks age in image time; unstamped images use the bag time.
                ids = trackers[topic].update(people, (stamp or bag_time) * 1e-9)
                out = skeleton_array(header, size, people, ids, array=array_t, skeleton=skel_t, keypoint=kp_t)
                writer.write(outputs[topic], bag_time, store.serialize_cdr(out, SKELETON_ARRAY))
                if debug_image:
                    overlay = draw_overlay(low, people, scale=1, ids=ids)
                    h, w, _ = overlay.shape
                    img = image_t(header=header, height=h, width=w, encoding="bgr8", is_bigendian=0, step=3 * w,
                                  data=np.ascontiguousarray(overlay).reshape(-1))  # fmt: skip
                    writer.write(debug[topic], bag_time, store.serialize_cdr(img, IMAGE))
                image_id = index.find(topic, stamp, position)
                if image_id is None:
                    image_id = f"{topic}@{stamp}"
                    summary.without_ground_truth += ground_truth is not None
                summary.results[topic] += [p.to_coco_result(image_id) for p in people]
                summary.written += 1
            pending.clear()

        for conn, bag_time, raw in reader.messages(connections=image_conns + info_conns):
            if conn.msgtype == _CAMERA_INFO:
                writer.write(passthrough[conn.topic], bag_time, raw)
                summary.passed_through += 1
                continue
            summary.images += 1
            position = counts[conn.topic]
            counts[conn.topic] += 1
            bar.update(1)
            try:
                msg = store.deserialize_cdr(raw, IMAGE)
            except Exception as err:  # noqa: BLE001 - corrupt CDR fails in many ways
                _skip(summary, "undecodable message", conn.topic, bag_time, repr(err), max_problems)
                continue
            try:
                low = estimator.to_lowres(image_to_depth(msg))
            except InputError as err:  # ImageError included
                _skip(summary, getattr(err, "cause", "shape"), conn.topic, bag_time, str(err), max_problems)
                continue
            stamp = stamp_ns(msg.header)
            frame = (conn.topic, bag_time, msg.header, low, (int(msg.width), int(msg.height)), position)
            if pending and (stamp != stamp_ns(pending[0][2]) or any(p[0] == conn.topic for p in pending)):
                flush()
            pending.append(frame)
        flush()
    except KeyboardInterrupt:
        summary.interrupted = True
    except Exception as err:  # noqa: BLE001 - whatever stops a started run, the bag is closed and the summary says so
        if writer is None:
            raise  # nothing written yet: a plain error
        summary.error = f"{type(err).__name__}: {err}"
    finally:
        # Read but neither written nor skipped: waiting for their batch, or in hand when the run stopped.
        summary.unprocessed = summary.images - summary.written - sum(summary.skipped.values())
        if bar is not None:
            bar.close()
        if writer is not None:
            writer.close()
        reader.close()
        summary.seconds = time.perf_counter() - start
    return summary


def evaluate_replay(results: dict[str, list[dict]], ground_truth: dict) -> dict[str, PCKResult]:
    """The MVOR PCK of replayed results (image topic -> COCO results) against ground truth: per topic (camera)
    and ``all``.

    Only the played cameras count: ground-truth images of other topics are left out (images without a
    ``topic`` always count). A topic without labelled people gets no table of its own; results whose image had
    no ground truth (string ids) are left out.

    Raises:
        EvaluationError: no labelled person among the played images, or malformed ground truth.
    """
    out: dict[str, PCKResult] = {}
    images = [img for img in ground_truth.get("images", []) if "topic" not in img or img["topic"] in results]
    annotations = ground_truth.get("annotations", [])

    def subset(ids: set) -> dict:
        return {**ground_truth, "images": [i for i in images if i["id"] in ids],
                "annotations": [a for a in annotations if a.get("image_id") in ids]}  # fmt: skip

    for topic, found in results.items():
        part = subset({img["id"] for img in images if img.get("topic") == topic})
        if any(not a.get("only_bbox") and any(a.get("keypoints", [])) for a in part["annotations"]):
            out[topic] = evaluate(part, [r for r in found if not isinstance(r["image_id"], str)])
    matched = [r for found in results.values() for r in found if not isinstance(r["image_id"], str)]
    out["all"] = evaluate(subset({img["id"] for img in images}), matched)
    return out


def _skip(summary: ReplaySummary, reason: str, topic: str, bag_time: int, text: str, max_problems: int) -> None:
    summary.skipped[reason] += 1
    if len(summary.problems) < max_problems:
        summary.problems.append(f"{topic} @ {bag_time}: {text}")
