"""Fast mode: the reference's limb scoring and assembly on peaks and PAF values taken from the bicubic model
only where they are needed (no full-frame maps)."""

from __future__ import annotations

import numpy as np

from depthpose_core.decode.assemble import assemble_people
from depthpose_core.decode.bicubic import PixelSampler
from depthpose_core.decode.limbs import connect_limbs
from depthpose_core.decode.params import DecoderParams
from depthpose_core.decode.peaks import lowres_peaks
from depthpose_core.keypoints import NUM_JOINTS
from depthpose_core.skeleton import Skeleton

__all__ = ["decode_fast"]


def decode_fast(
    paf: np.ndarray, heat: np.ndarray, frame_size: tuple[int, int], params: DecoderParams
) -> tuple[list[Skeleton], int]:
    """Decode validated ``(38, h, w)`` PAFs and ``(19, h, w)`` heatmaps without upsampling them.

    Peaks come from :func:`~depthpose_core.decode.peaks.lowres_peaks` (integer frame pixels, no border
    artefact); PAF values are the bicubic model evaluated at the limb sample pixels
    (:class:`~depthpose_core.decode.bicubic.PixelSampler`); limb scoring, matching and assembly are the
    reference's. Also returns the number of joints whose peak candidates hit ``max_peaks``.
    """
    stride = frame_size[0] // heat.shape[2]
    sampler = PixelSampler(paf, stride)

    def sample_paf(limb: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = sampler(2 * limb, px, py, count=2)
        return values[..., 0], values[..., 1]

    peaks, capped = lowres_peaks(heat[:NUM_JOINTS], stride, params.peak_threshold, params.max_peaks)
    connections = connect_limbs(peaks, sample_paf, frame_size[1], params)
    return assemble_people(connections, peaks, frame_size, params), capped
