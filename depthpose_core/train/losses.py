"""The paper's losses: L_P on every stage's PAFs and heatmaps (masked), L_HR on the super-resolved image.

Both are Euclidean losses as in OpenPose (Caffe's EuclideanLoss): half the sum of squared errors, divided by the
batch size, which is the scale the paper's SGD learning rate (0.001) goes with.
"""

from __future__ import annotations

from torch import Tensor

from depthpose_core.keypoints import NUM_PAFS

__all__ = ["pose_loss", "sr_loss"]


def pose_loss(stages: list[tuple[Tensor, Tensor]], paf: Tensor, heat: Tensor, mask: Tensor) -> Tensor:
    """L_P: sum over stages of the masked Euclidean losses on PAFs and heatmaps.

    Args:
        stages: per stage ``(paf (B, 38, h, w), heat (B, 19, h, w))``.
        paf, heat: targets of the same shapes.
        mask: ``(B, 57, h, w)`` loss weights (PAF channels first, then heatmap channels).
    """
    batch = paf.shape[0]
    mask_paf, mask_heat = mask[:, :NUM_PAFS], mask[:, NUM_PAFS:]
    total = paf.new_zeros(())
    for out_paf, out_heat in stages:
        total = total + (((out_paf.float() - paf) ** 2) * mask_paf).sum()
        total = total + (((out_heat.float() - heat) ** 2) * mask_heat).sum()
    return total / (2 * batch)


def sr_loss(sr: Tensor, target: Tensor) -> Tensor:
    """L_HR: Euclidean loss between the SR image and the high-resolution depth, both ``(B, 1, 8h, 8w)``."""
    return ((sr.float() - target) ** 2).sum() / (2 * sr.shape[0])
