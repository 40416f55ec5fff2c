"""DepthPose-Lite: DepthPose's structure (SR feature maps feeding PAF stages) rebuilt from cheap blocks for CPUs."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from depthpose_core.models._blocks import SRPoseNetwork, SRStageConfig, TrainOutput, check_depth_batch, scaled
from depthpose_core.models._lite import LiteStages, init_lite_, separable, separable_down
from depthpose_core.models._registry import register_model

__all__ = ["DepthPoseLite", "depthpose_lite"]

#: The lite x8 SR block: the paper's three pixel-shuffle stages with 1/4-1/8 of the channels (x2 and x4: 16
#: channels after the shuffle, x8: 8).
LITE_SR_STAGES: tuple[SRStageConfig, ...] = (
    SRStageConfig((1, 32, 64)),   # x2: 16 ch, 2H x 2W
    SRStageConfig((16, 32, 64)),  # x4: 16 ch, 4H x 4W
    SRStageConfig((16, 16, 32)),  # x8: 8 ch, 8H x 8W
)  # fmt: skip
_TRUNK = 128  # channels at the input resolution, where the stages run
_TAP = 32  # channels of the S1 and S2 taps
_FRONT = 64  # channels of F, brought from x8 back to the input resolution


class DepthPoseLite(SRPoseNetwork):
    """DepthPose-Lite for low-resolution depth (64x48, 80x60): the paper's structure at 1/137 of its cost
    (1.56 GMAC at 64x48, 336 k parameters).

    A pixel-shuffle x8 SR block (:data:`LITE_SR_STAGES`, plain 3x3 convs as in the paper) gives x2, x4 and x8
    feature maps. Stride-2 depthwise-separable blocks bring x8 back to the input resolution as F, x4 as S1 and
    x2 as S2; their concatenation is mixed by a 1x1 conv into a shared trunk. Stage 1 has separate PAF (38) and
    heatmap (19) branches on the trunk; each refinement stage reads the trunk with the previous stage's maps.
    The SR reconstruction head (3x3 conv on x8 to 1 channel) exists only for training (:meth:`forward_train`);
    :meth:`forward` never forms the super-resolved image.

    Args:
        with_sr_head: add the training-only ``sr_head``.
        width: channel multiplier of the trunk, taps, front and branches (the SR block keeps its widths).
        num_refinement: refinement stages after stage 1 (0-3).
    """

    output_stride: int = 1

    def __init__(self, *, with_sr_head: bool = False, width: float = 1.0, num_refinement: int = 1) -> None:
        if not 0 < width <= 4:
            raise ValueError(f"width multiplier must be in (0, 4], got {width}")
        if not 0 <= num_refinement <= 3:
            raise ValueError(f"num_refinement must be 0-3, got {num_refinement}")
        super().__init__(with_head=with_sr_head, stages=LITE_SR_STAGES)
        x2, x4, x8 = (cfg.widths[-1] // 4 for cfg in LITE_SR_STAGES)
        trunk, tap, front = scaled(_TRUNK, width), scaled(_TAP, width), scaled(_FRONT, width)
        self.width = width
        self.num_stages = 1 + num_refinement
        self.front = separable_down(x8, front, 3)  # F: x8 -> input resolution
        self.tap_x4 = separable_down(x4, tap, 2)  # S1
        self.tap_x2 = separable_down(x2, tap, 1)  # S2
        self.mix = nn.Sequential(nn.Conv2d(front + 2 * tap, trunk, 1, bias=False), nn.BatchNorm2d(trunk),
                                 nn.ReLU(inplace=True), separable(trunk, trunk))  # fmt: skip
        self.stages = LiteStages(trunk, self.num_stages)
        init_lite_(self)
        self.reset_sr_parameters()

    def _run(self, x: Tensor, *, reconstruct: bool) -> TrainOutput:
        check_depth_batch(x)
        x2, x4, x8 = self.super_resolve(x)
        trunk = self.mix(torch.cat((self.front(x8), self.tap_x4(x4), self.tap_x2(x2)), dim=1))
        return TrainOutput(self.stages(trunk), self.reconstruct(x8) if reconstruct else None)


@register_model
def depthpose_lite(*, with_sr_head: bool = False, width: float = 1.0, num_refinement: int = 1) -> DepthPoseLite:
    """DepthPose-Lite: pixel-shuffle SR features (F, S1, S2) into depthwise-separable PAF stages, for CPUs."""
    return DepthPoseLite(with_sr_head=with_sr_head, width=width, num_refinement=num_refinement)
