"""Ingress: depth frame -> normalised low-resolution network input. The one place where this happens.

Training and inference both call :func:`to_lowres` / :func:`to_model_input` with the :class:`Preprocessing`
recorded in the checkpoint, so the two always agree. Privacy: :func:`to_lowres` is the only function that ever
sees a full-resolution frame; it returns the low-resolution array and keeps no reference to its input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import cv2
import numpy as np

from depthpose_core.errors import DepthPoseError, InputError

__all__ = ["DOWNSAMPLING", "HOLE_VALUE", "PRIVACY_MAX_SIZE", "VALID_AREA", "VALID_AREA_FILLED", "Preprocessing",
           "check_privacy",
           "denormalise_depth", "normalise_depth", "to_lowres", "to_model_input", "valid_readings"]

#: How a frame is reduced to the low resolution: OpenCV interpolation flags. "bicubic" is the paper's (at a 10x
#: reduction it samples a 4x4 neighbourhood per output pixel, so a single hole or noisy reading there shows);
#: "area" averages every pixel under the output pixel. "valid_area" (:data:`VALID_AREA`) averages only the valid
#: readings under it and gives :data:`HOLE_VALUE` where there is none: invalid readings never blend into depth.
#: "valid_area_filled" (:data:`VALID_AREA_FILLED`) is "valid_area" whose empty pixels then take the farther of the
#: nearest values left and right of them in their row (a sensor's shadow lies beside an edge, on its far side).
DOWNSAMPLING: dict[str, int] = {"bicubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA, "nearest": cv2.INTER_NEAREST,
                                "valid_area": cv2.INTER_AREA, "valid_area_filled": cv2.INTER_AREA}  # fmt: skip
VALID_AREA = "valid_area"
VALID_AREA_FILLED = "valid_area_filled"
#: Normalised value of a low-resolution pixel with no valid reading under it ("valid_area"; "valid_area_filled" only
#: in a frame without any valid reading): the far end of the range, i.e. "nothing within far_mm", which no surface
#: of a room seen from its ceiling takes.
HOLE_VALUE = 1.0

# Largest relative difference between the frame's and the low resolution's aspect ratios that is accepted.
_ASPECT_TOLERANCE = 0.01
#: Largest low resolution (width, height) the deployed tools run (node, replay): twice the paper's 80x60. Beyond
#: it a frame could show who is in the room, and the low-resolution debug images would carry it.
PRIVACY_MAX_SIZE = (160, 120)


@dataclass(frozen=True)
class Preprocessing:
    """How a depth frame becomes the network input; recorded in every project checkpoint.

    Attributes:
        lowres_size: (width, height) in pixels of the privacy-preserving low resolution the frame is reduced to
            at ingress (64x48 or 80x60 for DepthPose).
        model_size: (width, height) the network sees. Equal to ``lowres_size`` except for the RTPose-on-upsampled-LR
            baseline, where the low-resolution image is bicubic-upsampled back (e.g. to 640x480).
        near_mm: depth in millimetres mapped to 0.
        far_mm: depth in millimetres mapped to 1; depth beyond is clipped to 1.
        downsampling: how frames reach ``lowres_size``: one of ``DOWNSAMPLING`` (checkpoints written before
            "valid_area" existed say "bicubic", where invalid readings are 0 like the nearest depth).
        decode_frame: (width, height) of the sensor frame the output maps are decoded into (the reference
            evaluation decodes into 640x480: stride 10 for 64x48 maps, 8 for 80x60).
    """

    lowres_size: tuple[int, int] = (64, 48)
    model_size: tuple[int, int] = (64, 48)
    near_mm: float = 500.0
    far_mm: float = 6000.0
    downsampling: str = "bicubic"
    decode_frame: tuple[int, int] = (640, 480)

    def __post_init__(self) -> None:
        for name in ("lowres_size", "model_size", "decode_frame"):
            size = getattr(self, name)
            if len(size) != 2 or min(size) < 1:
                raise ValueError(f"Preprocessing.{name} must be (width, height) in pixels, got {size!r}")
            object.__setattr__(self, name, (int(size[0]), int(size[1])))
        if not 0 <= self.near_mm < self.far_mm:
            raise ValueError(f"need 0 <= near_mm < far_mm, got near_mm={self.near_mm} far_mm={self.far_mm}")
        if self.downsampling not in DOWNSAMPLING:
            raise ValueError(f"downsampling {self.downsampling!r} is not one of {sorted(DOWNSAMPLING)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain, checkpoint-safe representation (ints, floats, strings and lists only)."""
        out = asdict(self)
        for name in ("lowres_size", "model_size", "decode_frame"):
            out[name] = list(out[name])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown preprocessing keys {sorted(unknown)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    def with_updates(self, **changes: Any) -> Preprocessing:
        """A copy with some fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def normalise_depth(depth: np.ndarray, near_mm: float, far_mm: float) -> np.ndarray:
    """Map a depth frame to float32 in [0, 1].

    Args:
        depth: (H, W) depth. ``uint16``: millimetres; ``float32``/``float64``: metres; ``uint8``: an already
            normalised 8-bit image (value / 255 is used as is). 0, NaN and inf mean "no reading".
        near_mm: depth mapped to 0 (closer readings clip to 0); >= 0, as :class:`Preprocessing` ensures.
        far_mm: depth mapped to 1 (farther readings clip to 1).

    Returns:
        (H, W) float32; "no reading" pixels are 0.
    """
    kind, size = depth.dtype.kind, depth.dtype.itemsize  # byte order is handled by astype
    if kind == "u" and size == 1:
        return depth.astype(np.float32) * np.float32(1.0 / 255.0)
    if kind == "u" and size == 2:
        out = depth.astype(np.float32)
        out -= np.float32(near_mm)
        out *= np.float32(1.0 / (far_mm - near_mm))
        np.clip(out, 0.0, 1.0, out=out)
        return out  # 0 ("no reading") is below near_mm and clips to 0
    if kind == "f":
        with np.errstate(invalid="ignore", over="ignore"):
            mm = depth.astype(np.float32) * np.float32(1000.0)
    else:
        raise InputError(f"depth dtype {depth.dtype} is not supported: use uint16 mm, float32 m or uint8")
    valid = np.isfinite(mm) & (mm > 0)
    out = (mm - np.float32(near_mm)) * np.float32(1.0 / (far_mm - near_mm))
    np.clip(out, 0.0, 1.0, out=out)
    out[~valid] = 0.0
    return out


def denormalise_depth(value: np.ndarray | float, pre: Preprocessing) -> np.ndarray | float:
    """The inverse of the near/far normalisation: normalised depth in [0, 1] -> millimetres.

    0 maps to ``near_mm`` and 1 to ``far_mm``; a normalised 0 may also have been "no reading" (see
    :func:`normalise_depth`), which this mapping cannot tell apart.
    """
    return pre.near_mm + np.asarray(value, dtype=np.float64) * (pre.far_mm - pre.near_mm)


def valid_readings(depth: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: pixels holding a depth reading (not 0, NaN or inf; every pixel of a ``uint8`` image)."""
    if depth.dtype.kind == "u" and depth.dtype.itemsize == 1:
        return np.ones(depth.shape, dtype=bool)
    if depth.dtype.kind == "f":
        return np.isfinite(depth) & (depth > 0)
    return depth > 0


def _reduce_valid(depth: np.ndarray, norm: np.ndarray, size: tuple[int, int], *, fill: bool) -> np.ndarray:
    """Area average of the valid normalised readings under each output pixel; where there is none,
    :data:`HOLE_VALUE`, or with ``fill`` see :func:`_fill_far`."""
    valid = valid_readings(depth).astype(np.float32)
    weight = cv2.resize(valid, size, interpolation=cv2.INTER_AREA)
    total = cv2.resize(norm * valid, size, interpolation=cv2.INTER_AREA)
    empty = weight < 1e-6
    out = total / np.where(empty, np.float32(1.0), weight)
    if fill and empty.any() and not empty.all():
        _fill_far(out, empty)
    else:
        out[empty] = HOLE_VALUE
    return out


def _fill_far(out: np.ndarray, empty: np.ndarray) -> None:
    """Fill the ``empty`` pixels of ``out`` in place: each takes the farther (larger) of the nearest filled values
    to its left and right in its row (a structured-light sensor's shadow lies beside an edge, on the far side);
    pixels of rows without any value then take the farthest of their 8 neighbours, ring by ring."""
    h, w = out.shape
    columns = np.broadcast_to(np.arange(w), (h, w))
    left = np.maximum.accumulate(np.where(empty, -1, columns), axis=1)
    right = np.minimum.accumulate(np.where(empty, w, columns)[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(h)[:, None]
    padded = np.concatenate([out, np.full((h, 1), -1.0, np.float32)], axis=1)  # column -1 and w: "none" (-1)
    farther = np.maximum(padded[rows, left], padded[rows, right])
    out[empty] = farther[empty]
    empty = empty & (farther < 0)
    kernel = np.ones((3, 3), np.uint8)
    while empty.any():
        grown = cv2.dilate(out, kernel)  # the -1 of unfilled pixels is below every value: never chosen
        reached = empty & (grown >= 0.0)
        out[reached] = grown[reached]
        empty &= ~reached


def _check_frame(depth: np.ndarray, lowres_size: tuple[int, int]) -> None:
    if not isinstance(depth, np.ndarray):
        raise InputError(f"depth frame must be a numpy array, got {type(depth).__name__}")
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[:, :, 0]
    if depth.ndim != 2:
        raise InputError(f"depth frame must be (H, W), got shape {depth.shape}")
    h, w = depth.shape[:2]
    if h < 2 or w < 2:
        raise InputError(f"depth frame {w}x{h} is too small")
    aspect, target = w / h, lowres_size[0] / lowres_size[1]
    if abs(aspect / target - 1.0) > _ASPECT_TOLERANCE:
        raise InputError(
            f"depth frame {w}x{h} has aspect {aspect:.3f}, the model's low resolution "
            f"{lowres_size[0]}x{lowres_size[1]} has {target:.3f}: crop or pad the frame first"
        )


def to_lowres(depth: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """Reduce a depth frame to the normalised low-resolution image (the privacy step).

    Args:
        depth: (H, W) depth frame at any resolution with the low resolution's aspect ratio (see
            :func:`normalise_depth` for dtypes and units). A frame already at ``pre.lowres_size`` is only
            normalised.
        pre: the preprocessing recorded with the model.

    Returns:
        (h, w) float32 in [0, 1] at ``pre.lowres_size``. The input is not kept. With ``downsampling`` "valid_area"
        a pixel without any valid reading under it is :data:`HOLE_VALUE`, also for a frame already at the low
        resolution; "valid_area_filled" fills it from its neighbours.
    """
    _check_frame(depth, pre.lowres_size)
    depth = depth.reshape(depth.shape[0], depth.shape[1])
    norm = normalise_depth(depth, pre.near_mm, pre.far_mm)
    if pre.downsampling in (VALID_AREA, VALID_AREA_FILLED):
        return _reduce_valid(depth, norm, pre.lowres_size, fill=pre.downsampling == VALID_AREA_FILLED)
    if (norm.shape[1], norm.shape[0]) != pre.lowres_size:
        norm = cv2.resize(norm, pre.lowres_size, interpolation=DOWNSAMPLING[pre.downsampling])
        np.clip(norm, 0.0, 1.0, out=norm)
    return norm


def to_model_input(lowres: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """The network input for a low-resolution image: upsampled only for the RTPose-on-LR baseline.

    Args:
        lowres: (h, w) float32 from :func:`to_lowres`.
        pre: the preprocessing recorded with the model.

    Returns:
        (H, W) float32 in [0, 1] at ``pre.model_size``.
    """
    if (lowres.shape[1], lowres.shape[0]) == pre.model_size:
        return lowres
    up = cv2.resize(lowres, pre.model_size, interpolation=cv2.INTER_CUBIC)
    return np.clip(up, 0.0, 1.0, out=up)


def check_privacy(pre: Preprocessing, what: str) -> None:
    """Refuse a model whose low resolution exceeds :data:`PRIVACY_MAX_SIZE`.

    Raises:
        DepthPoseError: naming ``what`` (e.g. the checkpoint) and the sizes.
    """
    (lw, lh), (mw, mh) = pre.lowres_size, PRIVACY_MAX_SIZE
    if lw > mw or lh > mh:
        raise DepthPoseError(f"{what} reduces frames to {lw}x{lh} pixels; only models whose low resolution is at most "
                         f"{mw}x{mh} are run here (privacy)")  # fmt: skip

