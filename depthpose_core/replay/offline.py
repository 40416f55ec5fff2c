"""``depthpose replay``: a rosbag2 of depth images in, a rosbag2 of skeleton arrays (and PCK) out, no ROS runtime.

Every image message of the selected topics is handled exactly once, in bag order: deserialised, decoded (every
encoding the node accepts), reduced at ingress, estimated; images of several cameras that share a header stamp
go through the network in one batch. For each, a ``depthpose_ros/Skeleton2DArray`` with the image's header is
written at the image's bag timestamp on ``<image topic's namespace>/skeletons`` (optionally a low-resolution
``debug_image`` beside it); CameraInfo messages are copied through unchanged, and a camera with one (a calibrated
K: the latest read when the image's batch is estimated, so a camera info recorded just after its image, with the
same stamp, counts) also gets ``<namespace>/skeletons_3d``
(``depthpose_ros/Skeleton3DArray``, the node's 3D lift). An image that cannot be read is
reported with its topic and time stamp, counted and skipped. The output bag is closed, and valid, whatever
happens (Ctrl-C, a failing model, a full disk); the summary says what was written:
``images == written + skipped + unprocessed``.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from depthpose_core.bags import (
    CAMERA_INFO,
    COMPRESSED_IMAGE,
    IMAGE,
    SKELETON3D_ARRAY,
    SKELETON_ARRAY,
    create_bag,
    open_bag,
    output_topic,
    select_topics,
    storage_of,
    typestore,
)
from depthpose_core.compressed_depth import compressed_to_depth
from depthpose_core.errors import InputError
from depthpose_core.inference import PoseEstimator
from depthpose_core.intrinsics import Intrinsics
from depthpose_core.lift import lift_skeleton
from depthpose_core.messages import debug_image as debug_image_msg
from depthpose_core.messages import image_to_depth, skeleton3d_array, skeleton_array, stamp_ns
from depthpose_core.preprocess import check_privacy
from depthpose_core.replay.matching import GroundTruthIndex
from depthpose_core.tracking import SkeletonTracker

__all__ = ["ReplaySummary", "replay_bag"]


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
        written_3d: 3D skeleton arrays written (frames of cameras with a CameraInfo in the bag).
        without_camera_info: frames of such cameras written without 3D: no calibrated CameraInfo yet.
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
    written_3d: int = 0
    without_camera_info: int = 0
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
                 + f", camera infos copied {self.passed_through}, 3D skeleton arrays written {self.written_3d}"
                 + (f" (no calibrated camera info yet: {self.without_camera_info})" if self.without_camera_info
                    else "")]  # fmt: skip
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


@dataclass(frozen=True)
class _Pending:
    """An image waiting for its batch: only the low resolution is kept, as in the node."""

    topic: str
    bag_time: int  # ns
    header: Any
    lowres: np.ndarray
    size: tuple[int, int]  # (width, height) of the image: the pixel frame of its skeletons
    position: int  # index of the image on its topic


class _Replay:
    """One run's state: the output connections, trackers, ground-truth index and the batch being filled."""

    def __init__(
        self, writer: Any, store: Any, estimator: PoseEstimator, image_topics: list[str], info_topics: list[str],
        summary: ReplaySummary, *, debug: bool, ground_truth: dict | None,
    ) -> None:  # fmt: skip
        self.writer, self.store, self.estimator, self.summary = writer, store, estimator, summary
        self.types = [store.types[t] for t in (SKELETON_ARRAY, "depthpose_ros/msg/Skeleton2D",
                                               "depthpose_ros/msg/Keypoint2D", IMAGE)]  # fmt: skip
        names_3d = (SKELETON3D_ARRAY, "depthpose_ros/msg/Skeleton3D", "depthpose_ros/msg/Keypoint3D",
                    "geometry_msgs/msg/Point")  # fmt: skip
        self.types_3d = [store.types[t] for t in names_3d]
        self.index = GroundTruthIndex(ground_truth, image_topics)
        self.labelled = ground_truth is not None
        self.outputs, self.debug, self.passthrough = {}, {}, {}
        for topic in image_topics:  # one output connection per topic, however many input connections it has
            summary.topics[topic] = output_topic(topic, "skeletons")
            self.outputs[topic] = writer.add_connection(summary.topics[topic], SKELETON_ARRAY, typestore=store)
            if debug:
                self.debug[topic] = writer.add_connection(output_topic(topic, "debug_image"), IMAGE, typestore=store)
            summary.results[topic] = []
        for topic in info_topics:
            self.passthrough[topic] = writer.add_connection(topic, CAMERA_INFO, typestore=store)
        # 3D for the cameras with a camera info topic; the latest intrinsics per info topic, in bag order.
        self.outputs_3d = {topic: writer.add_connection(output_topic(topic, "skeletons_3d"), SKELETON3D_ARRAY,
                                                        typestore=store)
                           for topic in image_topics if output_topic(topic, "camera_info") in info_topics}  # fmt: skip
        self.intrinsics: dict[str, Intrinsics] = {}
        self.trackers = {topic: SkeletonTracker() for topic in image_topics}
        self.pending: list[_Pending] = []

    def add(self, frame: _Pending) -> None:
        """Queue a frame; a frame of another stamp, or a second one of a topic, first flushes the batch."""
        batch = self.pending
        if batch and (stamp_ns(frame.header) != stamp_ns(batch[0].header) or any(p.topic == frame.topic
                                                                                   for p in batch)):  # fmt: skip
            self.flush()
        self.pending.append(frame)

    def flush(self) -> None:
        """Estimate the batch (one forward pass) and write each frame's outputs."""
        if not self.pending:
            return
        array_t, skel_t, kp_t, image_t = self.types
        summary = self.summary
        t0 = time.perf_counter()
        found = self.estimator.estimate_lowres([p.lowres for p in self.pending], [p.size for p in self.pending])
        summary.inference_seconds += time.perf_counter() - t0
        for frame, people in zip(self.pending, found):
            stamp = stamp_ns(frame.header)
            # Tracks age in image time; unstamped images use the bag time.
            ids = self.trackers[frame.topic].update(people, (stamp or frame.bag_time) * 1e-9)
            out = skeleton_array(frame.header, frame.size, people, ids, array=array_t, skeleton=skel_t, keypoint=kp_t)
            self.writer.write(self.outputs[frame.topic], frame.bag_time, self.store.serialize_cdr(out, SKELETON_ARRAY))
            if self.debug:
                img = debug_image_msg(frame.header, frame.lowres, people, ids, image=image_t)
                self.writer.write(self.debug[frame.topic], frame.bag_time, self.store.serialize_cdr(img, IMAGE))
            if frame.topic in self.outputs_3d:
                self._write_3d(frame, people, ids)
            image_id, matched = self.index.result_id(frame.topic, stamp, frame.position)
            summary.without_ground_truth += self.labelled and not matched
            summary.results[frame.topic] += [p.to_coco_result(image_id) for p in people]
            summary.written += 1
        self.pending.clear()

    def _write_3d(self, frame: _Pending, people: list, ids: list[int]) -> None:
        intrinsics = self.intrinsics.get(output_topic(frame.topic, "camera_info"))
        if intrinsics is None or not intrinsics.calibrated:
            self.summary.without_camera_info += 1
            return
        lifted = [lift_skeleton(p, frame.lowres, self.estimator.preprocessing, intrinsics) for p in people]
        array_t, skel_t, kp_t, point_t = self.types_3d
        out = skeleton3d_array(frame.header, people, ids, lifted, array=array_t, skeleton=skel_t, keypoint=kp_t,
                               point=point_t)  # fmt: skip
        self.writer.write(self.outputs_3d[frame.topic], frame.bag_time, self.store.serialize_cdr(out, SKELETON3D_ARRAY))
        self.summary.written_3d += 1


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
    summary = ReplaySummary()
    start = time.perf_counter()
    with open_bag(in_path) as reader:
        image_conns, info_conns = select_topics(reader, topics, in_path)
        with create_bag(out_path, storage_of(reader)) as writer:
            # From here on, whatever happens, the bag gets closed and the summary returned.
            bar = tqdm(total=sum(c.msgcount for c in image_conns), unit="frame", desc="replay", disable=not progress)
            try:
                run = _Replay(writer, store, estimator, sorted({c.topic for c in image_conns}),
                              sorted({c.topic for c in info_conns}), summary, debug=debug_image,
                              ground_truth=ground_truth)  # fmt: skip
                _read_all(reader, image_conns + info_conns, run, bar, max_problems)
                run.flush()
            except KeyboardInterrupt:
                summary.interrupted = True
            except Exception as err:  # noqa: BLE001 - whatever stops a started run, the summary says so
                summary.error = f"{type(err).__name__}: {err}"
            finally:
                # Read but neither written nor skipped: waiting for their batch, or in hand when the run stopped.
                summary.unprocessed = summary.images - summary.written - sum(summary.skipped.values())
                bar.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _read_all(reader: Any, connections: list[Any], run: _Replay, bar: tqdm, max_problems: int) -> None:
    """Feed every message of ``connections`` to ``run``, in bag order."""
    summary, store, counts = run.summary, run.store, Counter[str]()
    for conn, bag_time, raw in reader.messages(connections=connections):
        if conn.msgtype == CAMERA_INFO:
            run.writer.write(run.passthrough[conn.topic], bag_time, raw)
            summary.passed_through += 1
            try:
                info = store.deserialize_cdr(raw, conn.msgtype)
                run.intrinsics[conn.topic] = Intrinsics.from_k(info.k, info.width, info.height)
            except Exception:  # noqa: BLE001 - corrupt CDR fails in many ways: no 3D from it, counted per frame
                run.intrinsics.pop(conn.topic, None)
            continue
        summary.images += 1
        position = counts[conn.topic]
        counts[conn.topic] += 1
        bar.update(1)
        try:
            msg = store.deserialize_cdr(raw, conn.msgtype)
        except Exception as err:  # noqa: BLE001 - corrupt CDR fails in many ways
            _skip(summary, "undecodable message", conn.topic, bag_time, repr(err), max_problems)
            continue
        try:
            depth = compressed_to_depth(msg) if conn.msgtype == COMPRESSED_IMAGE else image_to_depth(msg)
            size = (int(depth.shape[1]), int(depth.shape[0]))
            low = run.estimator.to_lowres(depth)
            del depth  # the full-resolution frame ends here (privacy)
        except InputError as err:  # ImageError included
            _skip(summary, getattr(err, "cause", "shape"), conn.topic, bag_time, str(err), max_problems)
            continue
        run.add(_Pending(conn.topic, bag_time, msg.header, low, size, position))


def _skip(summary: ReplaySummary, reason: str, topic: str, bag_time: int, text: str, max_problems: int) -> None:
    summary.skipped[reason] += 1
    if len(summary.problems) < max_problems:
        summary.problems.append(f"{topic} @ {bag_time}: {text}")
