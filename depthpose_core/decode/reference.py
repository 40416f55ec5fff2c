"""Reference mode: the published decoder's semantics on maps upsampled to the whole frame."""

from __future__ import annotations

import cv2
import numpy as np

from depthpose_core.decode.assemble import assemble_people
from depthpose_core.decode.limbs import connect_limbs
from depthpose_core.decode.params import DecoderParams
from depthpose_core.decode.peaks import cap_peaks, frame_peaks
from depthpose_core.keypoints import NUM_JOINTS
from depthpose_core.skeleton import Skeleton

__all__ = ["decode_reference", "upsample"]


def upsample(maps: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """``(C, h, w)`` maps -> ``(H, W, C)`` float32 frame-resolution maps, channel last (``cv2.resize``, bicubic).

    All channels go through one multi-channel resize, as the reference implementation does.
    """
    hwc = np.ascontiguousarray(maps.transpose(1, 2, 0), dtype=np.float32)
    return cv2.resize(hwc, tuple(frame_size), interpolation=cv2.INTER_CUBIC).reshape(
        frame_size[1], frame_size[0], maps.shape[0]
    )


def decode_reference(
    paf: np.ndarray, heat: np.ndarray, frame_size: tuple[int, int], params: DecoderParams
) -> tuple[list[Skeleton], int]:
    """Decode validated ``(38, h, w)`` PAFs and ``(19, h, w)`` heatmaps exactly as the reference decoder.

    The heatmaps and PAFs are upsampled to the frame with ``cv2.resize`` (``INTER_CUBIC``); peaks are searched on
    the full-frame heatmaps (:func:`~depthpose_core.decode.peaks.frame_peaks`, with its border artefact) and the
    PAFs are read at the limb sample pixels. One departure, for a bounded cost: a joint with more than
    ``max_peaks`` peaks keeps its highest ``max_peaks`` (the reference keeps all and its limb stage grows with
    their product); the number of joints capped is returned too (0 on any real frame: then the result is exact).
    """
    heat_up = upsample(heat, frame_size)
    paf_up = upsample(paf, frame_size).view(np.complex64)  # (H, W, 19): x + i y of each limb

    def sample_paf(limb: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = paf_up[py, px, limb[:, None]]
        return values.real.astype(np.float64), values.imag.astype(np.float64)

    peaks, capped = cap_peaks(frame_peaks(heat_up, NUM_JOINTS, params.peak_threshold), params.max_peaks)
    connections = connect_limbs(peaks, sample_paf, frame_size[1], params)
    return assemble_people(connections, peaks, frame_size, params), capped
