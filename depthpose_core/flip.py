"""The flip test: average the network's maps for a frame and for its horizontal mirror."""

from __future__ import annotations

import torch

from depthpose_core.keypoints import HEATMAP_FLIP, PAF_FLIP

__all__ = ["merge_flipped", "mirror"]


def mirror(x: torch.Tensor) -> torch.Tensor:
    """Mirror a (B, C, H, W) batch along the width."""
    return torch.flip(x, dims=(-1,))


def merge_flipped(
    paf: torch.Tensor, heat: torch.Tensor, paf_mirrored: torch.Tensor, heat_mirrored: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge the maps of a batch and of its mirrored copy (the reference flip test).

    The mirrored output is mirrored back along the width, its left/right channels are swapped
    (``HEATMAP_FLIP``, ``PAF_FLIP``), every PAF x component is negated, and the two outputs are averaged.

    Args:
        paf, heat: (B, 38, h, w) and (B, 19, h, w) maps of the original frames.
        paf_mirrored, heat_mirrored: maps of the mirrored frames, same shapes.

    Returns:
        The merged (paf, heat), same shapes and dtype.
    """
    heat_back = mirror(heat_mirrored)[:, list(HEATMAP_FLIP)]
    paf_back = mirror(paf_mirrored)[:, list(PAF_FLIP)]
    sign = torch.ones(paf.shape[1], dtype=paf.dtype, device=paf.device)
    sign[0::2] = -1.0
    paf_back = paf_back * sign.view(1, -1, 1, 1)
    return (paf + paf_back) * 0.5, (heat + heat_back) * 0.5
