"""The SR+RTPose baselines: a standalone x8 super-resolution network, and RTPose-1ch (or RTPose-Lite) run on its
output."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from depthpose_core.models._blocks import (
    SR_STAGES,
    SRBlock,
    SRStageConfig,
    TrainOutput,
    check_depth_batch,
    init_normal_,
)
from depthpose_core.models._registry import register_model
from depthpose_core.models.depthpose_lite import LITE_SR_STAGES
from depthpose_core.models.rtpose import RTPose
from depthpose_core.models.rtpose_lite import RTPoseLite

__all__ = ["SRNet", "SRRTPose", "sr", "sr_rtpose"]


class SRNet(SRBlock):
    """The DepthPose SR block with its reconstruction head, trained alone with the L2 loss L_HR.

    Layer names match DepthPose's (``stage{s}_conv{i}``, ``sr_head``), so SR weights move between the two.
    """

    #: Pose stages (none: the output is an image).
    num_stages: int = 0

    def __init__(self, *, stages: Sequence[SRStageConfig] = SR_STAGES) -> None:
        super().__init__(with_head=True, stages=stages)
        init_normal_(self)
        self.reset_sr_parameters()

    def forward(self, x: Tensor) -> Tensor:
        """Super-resolved depth ``(B, 1, 8H, 8W)`` for a ``(B, 1, H, W)`` depth batch in [0, 1].

        Raises:
            ValueError: ``x`` is not a 4-D single-channel batch.
        """
        check_depth_batch(x)
        return self.reconstruct(self.super_resolve(x).x8)

    def forward_train(self, x: Tensor) -> TrainOutput:
        """The SR image as ``sr``, with no stage outputs."""
        return TrainOutput([], self(x))


class SRRTPose(nn.Module):
    """SR+RTPose baseline: :class:`SRNet` (``sr``) upsamples the input x8, a stride-8 pose network (``pose``:
    :class:`RTPose` by default) reads the SR image, so the maps come out at the input resolution. Unlike
    DepthPose, inference forms the super-resolved depth image.

    Args:
        sr, pose: the two networks (default: the paper's full-size ones).
    """

    #: Input pixels per output cell: x8 super-resolution, then the pose network's stride 8.
    output_stride: int = 1

    def __init__(self, sr: SRNet | None = None, pose: RTPose | RTPoseLite | None = None) -> None:
        super().__init__()
        self.sr = sr if sr is not None else SRNet()
        self.pose = pose if pose is not None else RTPose()
        self.num_stages = self.pose.num_stages

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Last-stage PAF ``(B, 38, H, W)`` and heatmap ``(B, 19, H, W)`` for a ``(B, 1, H, W)`` batch in [0, 1].

        Raises:
            ValueError: ``x`` is not a 4-D single-channel batch.
        """
        return self.pose(self.sr(x))

    def forward_train(self, x: Tensor) -> TrainOutput:
        """All the pose network's stages' maps and the SR image ``(B, 1, 8H, 8W)`` they were computed from."""
        image = self.sr(x)
        return TrainOutput(self.pose.forward_train(image).stages, image)


@register_model
def sr() -> SRNet:
    """x8 depth super-resolution network of the SR+RTPose baseline (Srivastav et al., MICCAI 2019)."""
    return SRNet()


@register_model
def sr_rtpose() -> SRRTPose:
    """SR+RTPose baseline (Srivastav et al., MICCAI 2019): SR network, then RTPose-1ch on the SR image."""
    return SRRTPose()


@register_model
def sr_lite() -> SRNet:
    """DepthPose-Lite's SR block (:data:`~depthpose_core.models.depthpose_lite.LITE_SR_STAGES`) with its
    reconstruction head, trained alone with L_HR: the SR part of the lite SR+RTPose baseline."""
    return SRNet(stages=LITE_SR_STAGES)


@register_model
def sr_rtpose_lite(*, front_width: float = 0.0625, num_refinement: int = 1) -> SRRTPose:
    """Lite SR+RTPose baseline: DepthPose-Lite's SR block with its head (``sr``), then RTPose-Lite (``pose``) on
    the SR image. At the default front width the whole costs what RTPose-Lite alone costs at its default
    (1.73 GMAC at 64x48, DepthPose-Lite + 11 %): the SR network takes part of the same budget."""
    return SRRTPose(SRNet(stages=LITE_SR_STAGES), RTPoseLite(front_width=front_width, num_refinement=num_refinement))
