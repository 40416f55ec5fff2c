"""The decoder's entry point: input validation and mode dispatch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.decode.fast import decode_fast
from depthpose_core.decode.params import DecoderParams
from depthpose_core.decode.reference import decode_reference
from depthpose_core.keypoints import NUM_HEATMAPS, NUM_PAFS
from depthpose_core.skeleton import Skeleton

__all__ = ["MODES", "DecodeCounts", "decode"]

#: Decoder modes: ``"reference"`` reproduces the published decoder (full-frame bicubic maps, border artefact
#: included); ``"fast"`` (the default) decodes from the network's maps directly, without the artefact.
MODES: tuple[str, ...] = ("fast", "reference")


@dataclass
class DecodeCounts:
    """What :func:`decode` counts across calls when given one (an estimator keeps one for its lifetime).

    Attributes:
        frames: maps decoded.
        capped_frames: of them, frames where some joint had more peak candidates than ``max_peaks``: only the
            highest were kept (garbage maps: an untrained or broken model, or an input far from training).
        capped_joints: joint maps capped, summed over frames.
    """

    frames: int = 0
    capped_frames: int = 0
    capped_joints: int = 0


def _check_maps(name: str, maps: object, channels: int) -> np.ndarray:
    if not isinstance(maps, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(maps).__name__}")
    if maps.ndim != 3 or maps.shape[0] != channels or maps.shape[1] < 1 or maps.shape[2] < 1:
        raise ValueError(f"{name} must have shape ({channels}, h, w), got {maps.shape}")
    if maps.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name} must be float32 (or float64), got dtype {maps.dtype}")
    maps = maps.astype(np.float32, copy=False)
    # A float64 sum of float32 values cannot overflow: it is finite exactly when every value is.
    if not np.isfinite(maps.sum(dtype=np.float64)):
        raise ValueError(f"{name} holds NaN or infinite values (or float64 values beyond the float32 range)")
    return maps


def _check_frame(frame_size: object, map_size: tuple[int, int]) -> tuple[int, int]:
    if (
        not isinstance(frame_size, (tuple, list))
        or len(frame_size) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in frame_size)
    ):
        raise ValueError(f"frame_size must be (width, height) in positive integer pixels, got {frame_size!r}")
    width, height = int(frame_size[0]), int(frame_size[1])
    w, h = map_size
    if width % w or height % h or width // w != height // h:
        raise ValueError(
            f"frame_size {width}x{height} px is not the {w}x{h} maps scaled by one integer stride on both axes"
        )
    return width, height


def decode(
    paf: np.ndarray,
    heat: np.ndarray,
    frame_size: tuple[int, int] = (640, 480),
    *,
    mode: str = "fast",
    params: DecoderParams | None = None,
    counts: DecodeCounts | None = None,
) -> list[Skeleton]:
    """Decode the network's (flip-merged) output maps into people.

    Args:
        paf: ``(38, h, w)`` float32 part affinity fields (limb k: channels 2k = x, 2k + 1 = y).
        heat: ``(19, h, w)`` float32 heatmaps (18 joints + background, network order).
        frame_size: (width, height) in pixels of the frame to decode into; it must be the maps scaled by one
            integer stride on both axes (640x480 = stride 10 for 64x48 maps, 8 for 80x60).
        mode: ``"fast"`` (default) or ``"reference"``, see :data:`MODES`.
        params: decoder thresholds; ``None`` = the reference values.
        counts: updated with this frame (and whether the ``max_peaks`` cap bound), when given.

    Returns:
        The detected people: keypoints in continuous pixel coordinates of ``frame_size`` (peak pixel + 0.5),
        NaN where missing; per-joint scores = peak values; person score = (sum of part and limb scores) x parts.

    Raises:
        ValueError: bad shapes, dtypes, non-finite values, frame size, mode or params.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(repr(m) for m in MODES)}, got {mode!r}")
    if params is None:
        params = DecoderParams()
    elif not isinstance(params, DecoderParams):
        raise ValueError(f"params must be a DecoderParams or None, got {type(params).__name__}")
    paf = _check_maps("paf", paf, NUM_PAFS)
    heat = _check_maps("heat", heat, NUM_HEATMAPS)
    if paf.shape[1:] != heat.shape[1:]:
        raise ValueError(f"paf maps {paf.shape[1:]} and heat maps {heat.shape[1:]} differ in size (h, w)")
    frame = _check_frame(frame_size, (heat.shape[2], heat.shape[1]))
    people, capped = (decode_reference if mode == "reference" else decode_fast)(paf, heat, frame, params)
    if counts is not None:
        counts.frames += 1
        counts.capped_frames += capped > 0
        counts.capped_joints += capped
    return people
