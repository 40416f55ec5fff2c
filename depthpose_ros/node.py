"""The depthpose ROS 2 node: depth images in, ``Skeleton2DArray`` and ``Skeleton3DArray`` out, newest frame only.

Flow: ``depth/image`` callback -> :func:`depthpose_core.messages.image_to_depth` (zero-copy view) -> ``to_lowres`` (the
privacy step: only the low-resolution array leaves the callback) -> mailbox (one slot per camera) -> inference
thread -> network (the waiting cameras in one batch) -> decoder -> tracker -> ``skeletons``, 3D lift ->
``skeletons_3d`` (and optional low-resolution debug image and RViz markers).
``/diagnostics`` reports rates, drops, bad input and latencies once a second.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.event_handler import QoSRequestedIncompatibleQoSInfo, SubscriptionEventCallbacks
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy_impl
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSPolicyKind, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.subscription import MessageInfo
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from depthpose_core.compressed_depth import COMPRESSED_DEPTH, compressed_to_depth
from depthpose_core.errors import DepthPoseError, InputError
from depthpose_core.inference import PoseEstimator
from depthpose_core.lift import lift_skeleton
from depthpose_core.messages import ImageError, image_to_depth, stamp_ns
from depthpose_core.tracking import SkeletonTracker
from depthpose_ros import diagnostics
from depthpose_ros.conversions import (
    debug_image_msg,
    intrinsics_of,
    skeleton_markers,
    skeletons3d_to_msg,
    skeletons_to_msg,
)
from depthpose_ros.counters import Count
from depthpose_ros.latest import LatestPerKey
from depthpose_ros.msg import Skeleton2DArray, Skeleton3DArray
from depthpose_ros.parameters import (
    RuntimeSettings,
    camera_names,
    check_types,
    declare_parameters,
    integers_as_doubles,
    model_request,
    runtime_settings,
)
from depthpose_ros.stats import FrameStats, StatsSnapshot

__all__ = ["CAMERA_INFO_TOPIC", "INPUT_TOPIC", "NODE_NAME", "OUTPUT_3D_TOPIC", "OUTPUT_TOPIC", "DepthPoseNode",
           "main"]  # fmt: skip

#: Seconds between two log lines about the same kind of problem.
LOG_THROTTLE_S = 5.0
# Publishers whose sequence numbers are followed (the least recently heard is forgotten beyond this).
_MAX_PUBLISHERS = 64
#: Relative topic names (remap them); the launch file uses the same names.
INPUT_TOPIC = "depth/image"
OUTPUT_TOPIC = "skeletons"
OUTPUT_3D_TOPIC = "skeletons_3d"
CAMERA_INFO_TOPIC = "camera_info"
NODE_NAME = "depthpose"


@dataclass(frozen=True)
class _Frame:
    """What a callback hands to the inference thread: no full-resolution data."""

    header: Header
    size: tuple[int, int]  # (width, height) of the subscribed image: the pixel frame of the output
    lowres: np.ndarray  # (h, w) float32 normalised low-resolution depth
    received: float  # time.monotonic() at the callback


@dataclass
class _Camera:
    """One camera's topics, counters, tracker and calibration (the single unnamed camera: ``name`` "")."""

    name: str
    stats: FrameStats
    tracker: SkeletonTracker
    last_seq: dict[bytes, int] = field(default_factory=dict)  # last publication sequence number per publisher
    last_input: float | None = None
    camera_info: CameraInfo | None = None
    sub: Any = None
    input_topic: str = ""  # the subscription's resolved topic, kept for logs after it is destroyed
    info_sub: Any = None
    skeleton_pub: Any = None
    skeleton3d_pub: Any = None
    debug_pub: Any = None
    marker_pub: Any = None

    def topic(self, relative: str) -> str:
        """``relative`` in this camera's namespace (``cam1/depth/image``; ``~/cam1/debug_image``)."""
        if not self.name:
            return relative
        return f"~/{self.name}/{relative[2:]}" if relative.startswith("~/") else f"{self.name}/{relative}"

    def what(self) -> str:
        """How logs name the camera: its input topic."""
        return self.input_topic or self.topic(INPUT_TOPIC)


class DepthPoseNode(Node):
    """Multi-person pose estimation on depth image topics (one camera, or several in one node).

    Topics (relative names: remap them, or push the node into a namespace); with ``cameras`` set, each camera's
    topics are in its own namespace (``cam1/depth/image``, ``cam1/skeletons``, ...):
        ``depth/image`` (sensor_msgs/Image, subscribed): 16UC1/mono16 mm, 32FC1 m, or mono8 normalised depth;
        with ``input_transport`` compressedDepth, ``<depth/image remapped>/compressedDepth``
        (sensor_msgs/CompressedImage, 16UC1 or 32FC1 with a PNG payload) instead.
        ``skeletons`` (depthpose_ros/Skeleton2DArray): one message per processed image, the image's header.
        ``skeletons_3d`` (depthpose_ros/Skeleton3DArray): the same people in metres in the optical frame, per
        processed image once a calibrated ``camera_info`` (subscribed) has arrived (``publish_skeletons_3d``).
        ``~/debug_image`` (sensor_msgs/Image bgr8, optional): low-resolution depth with the skeletons.
        ``~/markers`` (visualization_msgs/MarkerArray, optional): RViz view of the 3D skeletons.
        ``/diagnostics`` (diagnostic_msgs/DiagnosticArray): health once a second, one status per camera.

    Frames of several cameras that are waiting together (or arrive within ``batch_window_s`` of the first) run
    in one forward pass; per camera only the newest frame waits.

    Args:
        **kwargs: passed to :class:`rclpy.node.Node` (``context``, ``parameter_overrides``, ``cli_args``, ...).

    Raises:
        DepthPoseError: the model cannot be built (bad checkpoint, device, or contradictory parameters).
    """

    #: True for the managed (lifecycle) variant: the constructor only declares the parameters, and the lifecycle
    #: transitions load the model (configure) and open the topics (activate).
    MANAGED = False
    _estimator: PoseEstimator  # from configure (the plain node's constructor) to cleanup

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        try:
            self._values = declare_parameters(self)
            names = camera_names(self._values)
        except (ValueError, ParameterException) as err:
            raise DepthPoseError(str(err)) from None
        self._lock = threading.Lock()
        self._pending: RuntimeSettings | None = None
        self._camera_names = names
        self._cameras: dict[str, _Camera] = {}  # from configure (_load) on
        self._last_log: dict[str, float] = {}
        self._open = False
        self.add_pre_set_parameters_callback(integers_as_doubles)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        if not self.MANAGED:
            self._load()
            self._start()

    # -- life cycle ----------------------------------------------------------------------------------------

    def _load(self) -> None:
        """Check the parameters and build the model (the lifecycle's configure).

        Raises:
            DepthPoseError: the model cannot be built (bad checkpoint, device, or contradictory parameters).
        """
        try:
            self._runtime = runtime_settings(self._values)
            request = model_request(self._values)
        except (ValueError, ParameterException) as err:
            raise DepthPoseError(str(err)) from None
        self._estimator = PoseEstimator.from_request(request, self._runtime.inference)  # privacy limit included
        info, pre = self._estimator.info, self._estimator.preprocessing
        self.get_logger().info(
            f"model {info.name} ({info.weights}), backend {info.backend} on {info.device}, {info.precision} "
            f"({info.backend_detail}); input reduced to "
            f"{pre.lowres_size[0]}x{pre.lowres_size[1]} at ingress, depth {pre.near_mm:.0f}-{pre.far_mm:.0f} mm"
        )
        if info.notice:
            self.get_logger().warning(f"{info.notice} (the 'model' parameter)")
        self._max_input_pixels = self._runtime.max_input_pixels
        self._cameras = {name: _Camera(name, FrameStats(), SkeletonTracker(self._runtime.tracker))
                         for name in self._camera_names}  # fmt: skip
        self._last_log = {}

    def _unload(self) -> None:
        """Release the model (the lifecycle's cleanup)."""
        del self._estimator

    def _start(self) -> None:
        """Create the publishers and subscriptions and start the inference thread (the lifecycle's activate)."""
        qos = QoSProfile(
            history=qos_profile_sensor_data.history,
            depth=self._values["qos.depth"],
            reliability=ReliabilityPolicy.RELIABLE
            if self._values["qos.reliability"] == "reliable"
            else ReliabilityPolicy.BEST_EFFORT,
            durability=qos_profile_sensor_data.durability,
        )
        compressed = self._values["input_transport"] == "compressedDepth"
        self._slot: LatestPerKey[str, _Frame] = LatestPerKey(len(self._cameras))
        self._worker: threading.Thread | None = None
        self._diag_timer: Any = None
        self._diag_pub: Any = None
        self._open = True  # from here on _stop undoes whatever was created, also after a failure part way
        for cam in self._cameras.values():
            # An inactive period is not loss, and its people are gone: sequence numbers and tracks start afresh.
            cam.last_seq.clear()
            cam.tracker = SkeletonTracker(self._runtime.tracker)
            cam.skeleton_pub = self.create_publisher(Skeleton2DArray, cam.topic(OUTPUT_TOPIC), 10)
            if self._values["publish_skeletons_3d"]:
                cam.skeleton3d_pub = self.create_publisher(Skeleton3DArray, cam.topic(OUTPUT_3D_TOPIC), 10)
            if self._values["publish_debug_image"]:
                cam.debug_pub = self.create_publisher(Image, cam.topic("~/debug_image"), 1)
            if self._values["publish_markers"]:
                cam.marker_pub = self.create_publisher(MarkerArray, cam.topic("~/markers"), 1)
            if cam.skeleton3d_pub is not None or cam.marker_pub is not None:
                cam.info_sub = self.create_subscription(
                    CameraInfo, cam.topic(CAMERA_INFO_TOPIC), partial(self._on_camera_info, cam),
                    qos_profile_sensor_data,
                )  # fmt: skip
            # image_transport's convention: the transport's topic is the (remapped) image topic + "/compressedDepth".
            image_topic = cam.topic(INPUT_TOPIC)
            topic = self.resolve_topic_name(image_topic) + COMPRESSED_DEPTH if compressed else image_topic
            cam.sub = self.create_subscription(
                CompressedImage if compressed else Image, topic, partial(self._on_image, cam), qos,
                event_callbacks=SubscriptionEventCallbacks(incompatible_qos=partial(self._on_incompatible_qos, cam)),
            )  # fmt: skip
            cam.input_topic = cam.sub.topic_name
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._worker = threading.Thread(target=self._work, args=(self._slot,), name="depthpose-inference",
                                        daemon=True)  # fmt: skip
        self._worker.start()
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._diag_before = {name: cam.stats.snapshot() for name, cam in self._cameras.items()}
        self._diag_time = time.monotonic()
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics, clock=steady)
        for cam in self._cameras.values():
            self.get_logger().info(
                f"subscribed to {cam.sub.topic_name} ({self._values['qos.reliability']}, depth "
                f"{self._values['qos.depth']}); publishing {cam.skeleton_pub.topic_name}"
            )

    def _stop(self) -> None:
        """Stop the inference thread (frames still waiting count as dropped), then destroy the subscriptions,
        publishers and timer (the lifecycle's deactivate). Nothing happens when they are not open."""
        if not self._open:
            return
        self._open = False
        # The thread first: a frame it is still processing publishes through handles that must still exist.
        for name in self._slot.close():
            self._cameras[name].stats.count(Count.DROPPED)
        if self._worker is not None:
            self._worker.join(timeout=30.0)
            if self._worker.is_alive():  # it stops after its frame, on the closed mailbox; it never serves again
                self.get_logger().error("the inference thread did not stop within 30 s (a frame still running)")
        for cam in self._cameras.values():
            for sub in (cam.sub, cam.info_sub):
                if sub is not None:
                    self.destroy_subscription(sub)
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
        for cam in self._cameras.values():
            for pub in (cam.skeleton_pub, cam.skeleton3d_pub, cam.debug_pub, cam.marker_pub):
                if pub is not None:
                    self.destroy_publisher(pub)
            cam.sub = cam.info_sub = cam.skeleton_pub = cam.skeleton3d_pub = cam.debug_pub = cam.marker_pub = None

    # -- input ---------------------------------------------------------------------------------------------

    def _on_image(self, cam: _Camera, msg: Image | CompressedImage, info: MessageInfo) -> None:
        """Convert and reduce at once (privacy), then hand the low-resolution frame to the inference thread.
        Never raises: whatever goes wrong is counted and logged, and the node keeps running."""
        try:
            self._ingest(cam, msg, info)
        except Exception as err:  # noqa: BLE001 - a callback must never raise
            n = cam.stats.bad("internal")
            self.get_logger().error(f"unexpected error on an image of {cam.what()}: {err!r} [{n}]",
                                    throttle_duration_sec=LOG_THROTTLE_S)  # fmt: skip

    def _ingest(self, cam: _Camera, msg: Image | CompressedImage, info: MessageInfo) -> None:
        received = time.monotonic()
        cam.last_input = received
        cam.stats.count(Count.RECEIVED)
        self._count_lost(cam, info)
        try:
            if isinstance(msg, CompressedImage):
                depth = compressed_to_depth(msg, max_pixels=self._max_input_pixels)
            else:
                depth = image_to_depth(msg, max_pixels=self._max_input_pixels)
            size = (int(depth.shape[1]), int(depth.shape[0]))
            lowres = self._estimator.to_lowres(depth)
            del depth  # the full-resolution frame ends here (privacy)
        except ImageError as err:
            self._reject(cam, msg, err.cause, str(err))
            return
        except InputError as err:
            self._reject(cam, msg, "shape", str(err))
            return
        if not lowres.any():
            n = cam.stats.count(Count.NO_VALID_DEPTH)
            self._log_throttled(f"no_valid_depth:{cam.name}", logging.WARNING,
                                f"image on {cam.what()} has no valid depth (all 0, NaN or inf) "
                                f"[{n} such frames]")  # fmt: skip
        if self._slot.put(cam.name, _Frame(msg.header, size, lowres, received)) is not None:
            cam.stats.count(Count.DROPPED)

    def _count_lost(self, cam: _Camera, info: MessageInfo) -> None:
        """Count images a publisher sent that never reached this callback (gaps in its sequence numbers: the
        middleware replaced them in the depth-limited queue, or lost them on the way)."""
        seq, gid = info.get("publication_sequence_number"), info.get("publisher_gid")
        if not seq or not isinstance(gid, dict) or "data" not in gid:
            return  # rclpy before Kilted gives no publisher id: sequences of several publishers cannot be told apart
        key = bytes(gid["data"])
        last = cam.last_seq.pop(key, None)
        cam.last_seq[key] = seq  # most recently heard publisher last
        if len(cam.last_seq) > _MAX_PUBLISHERS:
            del cam.last_seq[next(iter(cam.last_seq))]
        if last is not None and seq > last + 1:
            n = cam.stats.count(Count.LOST, seq - last - 1)
            self._log_throttled(f"lost:{cam.name}", logging.WARNING, f"{seq - last - 1} image(s) on {cam.what()} "
                                f"never reached the node (replaced in its queue of depth {self._values['qos.depth']} "
                                f"or lost in transport) [{n} so far]")  # fmt: skip

    def _reject(self, cam: _Camera, msg: Image | CompressedImage, cause: str, text: str) -> None:
        n = cam.stats.bad(cause)
        stamp = msg.header.stamp
        if isinstance(msg, CompressedImage):
            what = f"format {msg.format!r}"
        else:
            what = f"{msg.width}x{msg.height} {msg.encoding!r}"
        self._log_throttled(
            f"bad:{cause}:{cam.name}", logging.ERROR,
            f"dropped image on {cam.what()} (stamp {stamp.sec}.{stamp.nanosec:09d}, {what}): {text} "
            f"[{n} image(s) with bad {cause} so far]",
        )  # fmt: skip

    def _on_camera_info(self, cam: _Camera, msg: CameraInfo) -> None:
        cam.camera_info = msg

    def _on_incompatible_qos(self, cam: _Camera, event: QoSRequestedIncompatibleQoSInfo) -> None:
        n = cam.stats.count(Count.INCOMPATIBLE_QOS)
        policy = QoSPolicyKind(event.last_policy_kind).name.lower()
        self.get_logger().warning(
            f"a publisher on {cam.what()} has an incompatible QoS (policy {policy}, "
            f"{event.total_count} in total): this node subscribes with {self._values['qos.reliability']} "
            "reliability; set the qos.reliability parameter to match the publisher "
            f"[{n} event(s)]"
        )

    def _log_throttled(self, key: str, level: int, text: str) -> None:
        """Log ``text`` unless the same kind of problem (``key``) was logged less than LOG_THROTTLE_S ago."""
        now = time.monotonic()
        if now - self._last_log.get(key, -np.inf) < LOG_THROTTLE_S:
            return
        self._last_log[key] = now
        if level >= logging.ERROR:
            self.get_logger().error(text)
        else:
            self.get_logger().warning(text)

    # -- parameters ----------------------------------------------------------------------------------------

    def _on_set_parameters(self, params: Sequence[Parameter]) -> SetParametersResult:
        values = dict(self._values)
        values.update({p.name: p.value for p in params})
        try:
            check_types({p.name: p.value for p in params})
            runtime = runtime_settings(values)
        except ValueError as err:
            return SetParametersResult(successful=False, reason=str(err))
        with self._lock:
            self._values, self._pending = values, runtime
        self._max_input_pixels = runtime.max_input_pixels  # read by the callback: applies to the next image
        return SetParametersResult(successful=True)

    def _apply_pending(self) -> RuntimeSettings:
        """In the inference thread, before a batch: take run-time parameter changes into use."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            self._runtime = pending
            self._estimator.flip_test = pending.inference.flip_test
            self._estimator.decoder_mode = pending.inference.decoder_mode
            self._estimator.decoder_params = pending.inference.decoder
            for cam in self._cameras.values():
                cam.tracker.params = pending.tracker
        return self._runtime

    # -- inference thread ----------------------------------------------------------------------------------

    def _work(self, slot: LatestPerKey[str, _Frame]) -> None:
        """The inference thread of one activation: batches from ``slot`` until it is closed."""
        next_start = 0.0
        runtime = self._runtime
        while not slot.closed:
            wait = next_start - time.monotonic()
            if wait > 0 and slot.wait_closed(wait):
                break
            frames = slot.take(window=runtime.batch_window_s)
            if not frames:
                break
            started = time.monotonic()
            try:
                runtime = self._apply_pending()
                paf, heat = self._estimator.maps([frame.lowres for frame in frames.values()])
            except Exception as err:  # noqa: BLE001 - the inference thread must survive any batch
                for name in frames:
                    self._failed(name, err)
                continue
            network_ms = (time.monotonic() - started) * 1e3
            for i, (name, frame) in enumerate(frames.items()):
                try:
                    self._process(self._cameras[name], frame, paf[i : i + 1], heat[i : i + 1], network_ms, runtime)
                except Exception as err:  # noqa: BLE001 - one camera's failure is that camera's only
                    self._failed(name, err)
            next_start = started + (1.0 / runtime.max_rate if runtime.max_rate > 0 else 0.0)

    def _failed(self, name: str, err: Exception) -> None:
        n = self._cameras[name].stats.count(Count.FAILED)
        self._log_throttled(f"failed:{name}", logging.ERROR, f"processing a frame of {self._cameras[name].what()} "
                            f"failed: {err!r} [{n} failed]")  # fmt: skip

    def _process(self, cam: _Camera, frame: _Frame, paf: np.ndarray, heat: np.ndarray, network_ms: float,
                 runtime: RuntimeSettings) -> None:  # fmt: skip
        """One camera's frame of a batch: decode its maps, track, publish, count (inference time = the batch's
        forward pass + this frame's decoding)."""
        name = cam.name
        t0 = time.monotonic()
        capped = self._estimator.decode_counts.capped_frames
        people = self._estimator.decode_maps(paf, heat, [frame.size])[0]
        inference_ms = network_ms + (time.monotonic() - t0) * 1e3
        if self._estimator.decode_counts.capped_frames > capped:
            n = cam.stats.count(Count.DECODER_CAPPED)
            cap = self._estimator.decoder_params.max_peaks
            self._log_throttled(f"decoder_capped:{name}", logging.WARNING, f"the decoder kept only the {cap} "
                                f"highest peaks of some joint (garbage maps: check the model and input) [{n} "
                                "frames]")  # fmt: skip
        stamp = stamp_ns(frame.header)
        # Tracks age in image time; images without a stamp fall back to the time they arrived.
        ids = cam.tracker.update(people, stamp * 1e-9 if stamp else frame.received)
        cam.skeleton_pub.publish(skeletons_to_msg(frame.header, frame.size, people, ids))
        end_to_end = None
        if stamp:
            end_to_end = (self.get_clock().now().nanoseconds - stamp) / 1e6
        cam.stats.processed(inference_ms, (time.monotonic() - frame.received) * 1e3, end_to_end)
        try:
            self._publish_optional(cam, frame, people, ids, runtime)
        except Exception as err:  # noqa: BLE001 - the 2D skeletons are out; the rest must not fail the frame
            n = cam.stats.count(Count.OPTIONAL_OUTPUT_ERRORS)
            self._log_throttled(f"optional:{name}", logging.ERROR, f"3D skeletons, debug image or markers "
                                f"failed: {err!r} [{n}]")  # fmt: skip

    def _publish_optional(self, cam: _Camera, frame: _Frame, people: list, ids: list[int],
                          runtime: RuntimeSettings) -> None:  # fmt: skip
        if cam.debug_pub is not None:
            cam.debug_pub.publish(debug_image_msg(frame.header, frame.lowres, people, ids))
        if cam.skeleton3d_pub is None and cam.marker_pub is None:
            return
        info = cam.camera_info
        intrinsics = None if info is None else intrinsics_of(info)
        if intrinsics is None or not intrinsics.calibrated:
            cam.stats.count(Count.NO_CAMERA_INFO)
            why = "none received yet" if info is None else "its K lacks finite, positive focal lengths or centre"
            topic = cam.info_sub.topic_name if cam.info_sub is not None else cam.topic(CAMERA_INFO_TOPIC)
            self._log_throttled(f"no_camera_info:{cam.name}", logging.WARNING, f"3D skeletons need a calibrated "
                                f"camera_info on {topic} ({why}); skipped")  # fmt: skip
            return
        pre = self._estimator.preprocessing
        lifted = [lift_skeleton(person, frame.lowres, pre, intrinsics) for person in people]
        if cam.skeleton3d_pub is not None:
            cam.skeleton3d_pub.publish(skeletons3d_to_msg(frame.header, people, ids, lifted))
        if cam.marker_pub is not None:
            cam.marker_pub.publish(skeleton_markers(frame.header, ids, lifted, runtime.markers_lifetime_s))

    # -- diagnostics ---------------------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        try:
            self._diagnose()
        except Exception as err:  # noqa: BLE001 - a timer callback must not stop the node
            n = max(cam.stats.count(Count.DIAGNOSTICS_ERRORS) for cam in self._cameras.values())
            self.get_logger().error(f"publishing /diagnostics failed: {err!r} [{n}]",
                                    throttle_duration_sec=LOG_THROTTLE_S)  # fmt: skip

    def _diagnose(self) -> None:
        t = time.monotonic()
        period, self._diag_time = t - self._diag_time, t
        info, pre = self._estimator.info, self._estimator.preprocessing
        facts = {
            "model": info.name,
            "weights": info.weights,
            "trained": str(info.trained).lower(),
            "device": info.device,
            "backend": f"{info.backend} ({info.backend_detail})",
            "precision": info.precision,
            "input size": f"{pre.lowres_size[0]}x{pre.lowres_size[1]}",
            "flip test": str(self._estimator.flip_test).lower(),
            "decoder": self._estimator.decoder_mode,
        }
        statuses = []
        for name, cam in self._cameras.items():
            now, before = cam.stats.snapshot(), self._diag_before[name]
            self._diag_before[name] = now
            node_name = self.get_fully_qualified_name()
            statuses.append(diagnostics.status(
                f"{node_name}: {name}" if name else node_name, info.device, now, before, max(period, 1e-3), facts,
                trained=info.trained, input_topic=cam.what(),
                seconds_since_input=None if cam.last_input is None else t - cam.last_input,
            ))  # fmt: skip
        msg = DiagnosticArray(status=statuses)
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)

    def stats(self, camera: str | None = None) -> StatsSnapshot:
        """Counters and latency percentiles so far, of ``camera`` (None: the node's only camera).

        Raises:
            KeyError: ``camera`` is None but the node serves several cameras, or no such camera.
        """
        if camera is None:
            if len(self._cameras) != 1:
                raise KeyError(f"this node serves cameras {list(self._cameras)}: name one")
            camera = next(iter(self._cameras))
        return self._cameras[camera].stats.snapshot()

    def destroy_node(self) -> None:
        """Stop the inference thread (frames still waiting count as dropped), then destroy the node."""
        self._stop()
        super().destroy_node()


def _params_file_problem(argv: Sequence[str]) -> str | None:
    """What is wrong with a ``--params-file`` in ``argv`` (missing, unreadable, not YAML, not a mapping), checked
    before ``rclpy.init`` so the user gets the node's one line instead of rcl's parser trace."""
    ros_args = list(argv)[list(argv).index("--ros-args") + 1 :] if "--ros-args" in argv else []
    files = [ros_args[i + 1] for i, a in enumerate(ros_args[:-1]) if a == "--params-file"]
    for name in files:
        try:
            text = Path(name).read_text()
        except OSError as err:
            return f"params file {name} cannot be read: {err.strerror or err}"
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as err:
            return f"params file {name} is not valid YAML: {' '.join(str(err).split())}"
        if not isinstance(loaded, dict):
            return f"params file {name} must map node names to ros__parameters, got {type(loaded).__name__}"
    return None


def main(args: Sequence[str] | None = None, *, node_class: type[DepthPoseNode] = DepthPoseNode) -> int:
    """Console script ``depthpose_node``: ``depthpose_node --ros-args --params-file config/depthpose.yaml``.

    Args:
        args: the command line (default ``sys.argv``).
        node_class: the node to spin (the lifecycle variant's console script passes its class).

    Returns 0 after a normal shutdown, 1 (one ``ERROR:`` line on stderr, no traceback) when the node cannot start.
    """
    logging.basicConfig(level=logging.WARNING)
    argv = list(sys.argv if args is None else args)
    problem = _params_file_problem(argv)
    if problem is not None:
        print(f"ERROR: {NODE_NAME}: {problem}", file=sys.stderr)
        return 1
    try:
        rclpy.init(args=argv)
    except _rclpy_impl.RCLError as err:  # other malformed ROS arguments: rcl's words without its source locations
        print(f"ERROR: {NODE_NAME} cannot start ROS: {str(err).split(', at ')[0]}", file=sys.stderr)
        return 1
    node = None
    try:
        node = node_class()
        rclpy.spin(node)
    except DepthPoseError as err:
        rclpy.logging.get_logger(NODE_NAME).fatal(f"cannot start: {err}")
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
