"""The SR+RTPose baseline: a standalone x8 super-resolution network, and RTPose-1ch run on its output."""

from __future__ import annotations

from torch import Tensor, nn

from depthpose_core.models._blocks import SRBlock, TrainOutput, check_depth_batch, init_normal_
from depthpose_core.models._registry import register_model
from depthpose_core.models.rtpose import RTPose

__all__ = ["SRNet", "SRRTPose", "sr", "sr_rtpose"]


class SRNet(SRBlock):
    """The DepthPose SR block with its reconstruction head, trained alone with the L2 loss L_HR.

    Layer names match DepthPose's (``stage{s}_conv{i}``, ``sr_head``), so SR weights move between the two.
    """

    #: Pose stages (none: the output is an image).
    num_stages: int = 0

    def __init__(self) -> None:
        super().__init__(with_head=True)
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
    """SR+RTPose baseline: :class:`SRNet` (``sr``) upsamples the input x8, :class:`RTPose` (``pose``) reads the
    SR image at stride 8, so the maps come out at the input resolution. Unlike DepthPose, inference forms the
    super-resolved depth image."""

    #: Input pixels per output cell: x8 super-resolution, then RTPose's stride 8.
    output_stride: int = 1
    num_stages: int = RTPose.num_stages

    def __init__(self) -> None:
        super().__init__()
        self.sr = SRNet()
        self.pose = RTPose()

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Last-stage PAF ``(B, 38, H, W)`` and heatmap ``(B, 19, H, W)`` for a ``(B, 1, H, W)`` batch in [0, 1].

        Raises:
            ValueError: ``x`` is not a 4-D single-channel batch.
        """
        return self.pose(self.sr(x))

    def forward_train(self, x: Tensor) -> TrainOutput:
        """All six RTPose stages' maps and the SR image ``(B, 1, 8H, 8W)`` they were computed from."""
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
