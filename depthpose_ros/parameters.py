"""The node's ROS parameters: one table of names, defaults, ranges and descriptions, and what they turn into.

``config/depthpose.yaml`` documents every entry of :data:`PARAMETERS` with the same default (a test checks it).
Read-only parameters are fixed at start-up (model, device, input pipeline, QoS, optional outputs): changing them
through the parameter service is refused by rclpy with the reason "read-only". The others take effect on the
next frame. Types are checked by the node, in its own words, at start-up and on every change: a whole number is
accepted for a double parameter (``decoder.peak_threshold:=0`` means 0.0).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter

from depthpose_core.backends import BACKENDS
from depthpose_core.config import RuntimeConfig
from depthpose_core.decode import DECODER_SETTINGS, MODES, DecoderParams
from depthpose_core.errors import ConfigError
from depthpose_core.messages import MAX_PIXELS
from depthpose_core.preprocess import PRIVACY_MAX_SIZE
from depthpose_core.runtime import PRECISION_CHOICES
from depthpose_core.tracking import TrackerParams
from depthpose_core.weights import ModelRequest

__all__ = ["MAX_CAMERAS", "PARAMETERS", "ParamSpec", "RuntimeSettings", "camera_names", "check_types",
           "declare_parameters", "integers_as_doubles", "model_request", "runtime_settings"]

_RESTART = " Read-only: fixed at start-up (restart the node to change it)."
#: Most cameras one node serves.
MAX_CAMERAS = 16
_CAMERA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its name, default (which also fixes its type), description and constraints."""

    name: str
    default: bool | int | float | str | list[str]
    description: str
    read_only: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        """What a value must be, in the words the node's errors use."""
        return {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
                list: "a list of strings"}[type(self.default)]  # fmt: skip

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has this parameter's type (a whole number counts as a double)."""
        if isinstance(self.default, list):  # an empty list in a params file arrives as "not set" (None)
            return value is None or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value))
        if isinstance(self.default, bool) or isinstance(value, bool):
            return isinstance(self.default, bool) and isinstance(value, bool)
        if isinstance(self.default, float):
            return isinstance(value, (int, float))
        return isinstance(value, type(self.default))

    def descriptor(self) -> ParameterDescriptor:
        """The rclpy descriptor: description, read-only flag, numeric range and allowed values. Typing is dynamic
        so that the node, not rclpy, checks types (:func:`check_types`) and can accept 0 for 0.0."""
        text = self.description + (_RESTART if self.read_only else "")
        d = ParameterDescriptor(name=self.name, description=text, read_only=self.read_only, dynamic_typing=True)
        if self.choices:
            d.additional_constraints = "one of: " + ", ".join(self.choices)
        if self.low is not None and self.high is not None:
            if isinstance(self.default, float):
                d.floating_point_range = [FloatingPointRange(from_value=self.low, to_value=self.high, step=0.0)]
            else:
                d.integer_range = [IntegerRange(from_value=int(self.low), to_value=int(self.high), step=1)]
        return d


_DECODER = DecoderParams()
_TRACKER = TrackerParams()

#: Every parameter of the node, in the order of ``config/depthpose.yaml``.
PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("model", "", "Checkpoint file: a project checkpoint (carries its input size and depth mapping) or "
              "the authors' plain state dict (then set model_name and input_width/height). Empty: the shipped "
              "demo weights (trained on synthetic data only). 'untrained': random weights, for pipeline checks "
              "only (skeletons are meaningless). A .onnx / OpenVINO .xml file from `depthpose export` runs in "
              "backend onnxruntime or openvino with the preprocessing it carries.", read_only=True),
    ParamSpec("model_name", "", "Architecture of a plain state dict, e.g. depthpose. Empty: from the checkpoint "
              "(depthpose for the untrained network).", read_only=True),
    ParamSpec("input_width", 0, "Low-resolution width in pixels the frame is reduced to at ingress, for a plain "
              "state dict or the untrained network. 0: the checkpoint's (64 when untrained). At most 160 "
              "(privacy).", read_only=True, low=0, high=PRIVACY_MAX_SIZE[0]),
    ParamSpec("input_height", 0, "Low-resolution height in pixels, as input_width. 0: the checkpoint's (48 when "
              "untrained). At most 120 (privacy).", read_only=True, low=0, high=PRIVACY_MAX_SIZE[1]),
    ParamSpec("depth_near_mm", 0.0, "Depth in mm mapped to 0 by the input normalisation, for a plain state dict "
              "or the untrained network. 0: the checkpoint's (500 when untrained).", read_only=True,
              low=0.0, high=100000.0),
    ParamSpec("depth_far_mm", 0.0, "Depth in mm mapped to 1 (farther readings clip to 1), as depth_near_mm. "
              "0: the checkpoint's (6000 when untrained).", read_only=True, low=0.0, high=100000.0),
    ParamSpec("device", "auto", "Where the network runs: auto (first CUDA GPU if usable, else the CPU; the "
              "choice is logged), cpu, cuda or cuda:N. cuda without a usable GPU is an error at start-up, "
              "never a silent CPU fall-back.", read_only=True),
    ParamSpec("backend", "auto", "What runs the network: auto (OpenVINO on a CPU when installed, else PyTorch; "
              "on a GPU ONNX Runtime's TensorRT/CUDA provider when installed, else PyTorch; logged and in "
              "/diagnostics), torch, onnxruntime or openvino.", read_only=True, choices=BACKENDS),
    ParamSpec("precision", "auto", "Network arithmetic: auto (bf16 on CPUs with native bf16, fp16 on CUDA, else "
              "fp32), fp32, fp16 or bf16. The decoder always runs in float32.", read_only=True,
              choices=PRECISION_CHOICES),
    ParamSpec("flip_test", True, "Also run the horizontally mirrored frame and average the maps (the reference "
              "evaluation does; doubles the network cost)."),
    *(ParamSpec(f"decoder.{name}", "fast" if name == "mode" else getattr(_DECODER, name), doc.description,
                choices=MODES if name == "mode" else (), low=doc.low, high=doc.high)
      for name, doc in DECODER_SETTINGS.items()),
    ParamSpec("tracking.min_iou", _TRACKER.min_iou, "A person keeps a track's id only if its keypoint box "
              "overlaps the track's predicted box by at least this IoU, in [0.01, 1].", low=0.01, high=1.0),
    ParamSpec("tracking.max_age_s", _TRACKER.max_age_s, "A track ends (its id is retired) after this many seconds "
              "of image time without a match.", low=0.0, high=3600.0),
    ParamSpec("max_rate", 0.0, "Most frames per second to process (Hz); newer frames replace a waiting one and "
              "count as dropped. 0: as fast as inference allows.", low=0.0, high=1000.0),
    ParamSpec("batch_window_s", 0.005, "With several cameras: after a first frame is waiting, how long to wait "
              "(s) for the other cameras' frames to run them in the same forward pass (never longer than until "
              "every camera has one).", low=0.0, high=0.1),
    ParamSpec("max_input_pixels", MAX_PIXELS, "Largest accepted input image, width x height in pixels; larger "
              "images are counted as bad input (size).", low=1, high=1 << 30),
    ParamSpec("cameras", [], "Names of the cameras this node serves in one model (e.g. [cam1, cam2, cam3]): "
              "each gets its own topics in its namespace (cam1/depth/image, cam1/camera_info, cam1/skeletons, "
              "cam1/skeletons_3d, ~/cam1/debug_image, ~/cam1/markers) and its own counters and tracker; frames "
              "waiting together run in one forward pass. Empty: one camera on depth/image, skeletons, ...",
              read_only=True),
    ParamSpec("input_transport", "raw", "How depth arrives: raw (sensor_msgs/Image on depth/image) or "
              "compressedDepth (sensor_msgs/CompressedImage from image_transport's compressedDepth plugin, PNG "
              "payload, on depth/image's resolved name + /compressedDepth).", read_only=True,
              choices=("raw", "compressedDepth")),
    ParamSpec("qos.reliability", "best_effort", "Reliability of the depth subscription: best_effort (sensor data "
              "QoS; matches every publisher) or reliable (only matches reliable publishers).", read_only=True,
              choices=("best_effort", "reliable")),
    ParamSpec("qos.depth", 1, "Queue depth of the depth subscription. 1 keeps only the newest frame.",
              read_only=True, low=1, high=100),
    ParamSpec("publish_debug_image", False, "Publish ~/debug_image: the low-resolution depth with the skeletons "
              "(bgr8, at the low resolution only).", read_only=True),
    ParamSpec("publish_skeletons_3d", True, "Publish skeletons_3d (depthpose_ros/Skeleton3DArray): the skeletons "
              "lifted to 3D in the image's optical frame (metres) with the low-resolution depth and the "
              "camera_info intrinsics, for every frame once a calibrated camera_info has arrived (subscribes to "
              "camera_info).", read_only=True),
    ParamSpec("publish_markers", False, "Publish ~/markers (visualization_msgs/MarkerArray): RViz spheres and "
              "lines of the same 3D skeletons (subscribes to camera_info).", read_only=True),
    ParamSpec("markers.lifetime_s", 0.5, "Seconds RViz keeps a marker that is not refreshed.", low=0.0,
              high=60.0),
)  # fmt: skip


@dataclass(frozen=True)
class RuntimeSettings:
    """The estimator's settings (device and precision fixed at start-up; flip test and decoder may change) and
    the node's own; applied by the inference thread before a frame."""

    inference: RuntimeConfig
    tracker: TrackerParams
    max_rate: float
    max_input_pixels: int
    markers_lifetime_s: float
    batch_window_s: float


def declare_parameters(node: Node) -> dict[str, Any]:
    """Declare :data:`PARAMETERS` on ``node`` (YAML files and ``-p`` overrides apply) and return their values.

    Raises:
        ValueError: a value of the wrong type or outside its choices.
    """
    declared = node.declare_parameters("", [(p.name, p.default, p.descriptor()) for p in PARAMETERS])
    values = {param.name: param.value for param in declared}
    check_types(values)
    whole = [name for name in _DOUBLES if type(values[name]) is int]
    values.update({name: float(values[name]) for name in whole})
    changeable = [Parameter(name, Parameter.Type.DOUBLE, values[name]) for name in whole if not _SPECS[name].read_only]
    if changeable:  # stored as the doubles they stand for (`ros2 param get` shows a double)
        node.set_parameters(changeable)
    for spec in PARAMETERS:
        if spec.choices and values[spec.name] not in spec.choices:
            raise ValueError(f"parameter {spec.name} is {values[spec.name]!r}; it must be one of {list(spec.choices)}")
    return values


_SPECS = {spec.name: spec for spec in PARAMETERS}
_DOUBLES = tuple(spec.name for spec in PARAMETERS if isinstance(spec.default, float))


def check_types(values: Mapping[str, Any]) -> None:
    """Check that every known parameter in ``values`` has its type and lies in its advertised range.

    Raises:
        ValueError: names the parameter, the type or range it needs and the value given.
    """
    for name, value in values.items():
        spec = _SPECS.get(name)
        if spec is None:
            continue
        if not spec.accepts(value):
            raise ValueError(f"parameter {name} must be {spec.type_name}, got {value!r}")
        if spec.low is not None and spec.high is not None and not spec.low <= value <= spec.high:
            raise ValueError(f"parameter {name} must be in [{spec.low}, {spec.high}], got {value!r}")


def integers_as_doubles(params: list[Parameter]) -> list[Parameter]:
    """Pre-set callback: a whole number given for a double parameter becomes that double (then rclpy applies the
    double's range, and the node's callback sees the type it declared)."""
    return [Parameter(p.name, Parameter.Type.DOUBLE, float(p.value))
            if p.name in _DOUBLES and p.type_ == Parameter.Type.INTEGER else p for p in params]  # fmt: skip


def model_request(values: Mapping[str, Any]) -> ModelRequest:
    """The model the parameters name (``model``, ``model_name``, ``input_width``/``input_height``,
    ``depth_near_mm``/``depth_far_mm``; 0 and "" mean "the checkpoint's").

    Raises:
        ConfigError: only one of input_width and input_height is set.
    """
    size = (int(values["input_width"]), int(values["input_height"]))
    if (size[0] == 0) != (size[1] == 0):
        raise ConfigError(f"input_width and input_height must both be set or both be 0, got {size}")
    return ModelRequest(str(values["model"]), str(values["model_name"]) or None, size if size[0] else None,
                        float(values["depth_near_mm"]) or None, float(values["depth_far_mm"]) or None)  # fmt: skip


def runtime_settings(values: Mapping[str, Any]) -> RuntimeSettings:
    """Build and check the run-time settings from parameter values.

    Raises:
        ValueError: a value that is out of its choices or inconsistent (the message names the parameter).
    """
    if values["decoder.mode"] not in MODES:
        raise ValueError(f"decoder.mode must be one of {list(MODES)}, got {values['decoder.mode']!r}")
    try:
        decoder = DecoderParams(**{f.name: values[f"decoder.{f.name}"] for f in fields(DecoderParams)})
        tracker = TrackerParams(
            min_iou=values["tracking.min_iou"], max_age_s=values["tracking.max_age_s"],
            box_margin=_TRACKER.box_margin, velocity_smoothing=_TRACKER.velocity_smoothing,
        )  # fmt: skip
    except ValueError as err:
        raise ValueError(f"invalid parameter value: {err}") from None
    inference = RuntimeConfig(device=str(values["device"]), backend=str(values["backend"]),
                              precision=str(values["precision"]),
                              flip_test=bool(values["flip_test"]), decoder_mode=str(values["decoder.mode"]),
                              decoder=decoder)  # fmt: skip
    return RuntimeSettings(
        inference=inference,
        tracker=tracker,
        max_rate=float(values["max_rate"]),
        max_input_pixels=int(values["max_input_pixels"]),
        markers_lifetime_s=float(values["markers.lifetime_s"]),
        batch_window_s=float(values["batch_window_s"]),
    )


def camera_names(values: Mapping[str, Any]) -> list[str]:
    """The cameras the node serves: ``cameras``' names, or ``[""]`` (one camera, topics without a namespace).

    Raises:
        ValueError: a name that is not a topic name token (a letter, then letters, digits, _), a repeated name,
            or more than :data:`MAX_CAMERAS`.
    """
    names = list(values["cameras"] or [])
    if not names:
        return [""]
    bad = [n for n in names if not _CAMERA_NAME.fullmatch(n)]
    if bad:
        raise ValueError(f"parameter cameras: {bad} are not camera names (a letter, then letters, digits or _)")
    if len(set(names)) != len(names):
        raise ValueError(f"parameter cameras names a camera twice: {names}")
    if len(names) > MAX_CAMERAS:
        raise ValueError(f"parameter cameras lists {len(names)} cameras; one node serves at most {MAX_CAMERAS}")
    return names
