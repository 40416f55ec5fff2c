"""RTPose-Lite: the lite PAF stages of DepthPose-Lite on RTPose's VGG front, for the upsampled-input baselines."""

from __future__ import annotations

from torch import Tensor, nn

from depthpose_core.models._blocks import (
    FRONT_CHANNELS,
    FRONT_STRIDE,
    TrainOutput,
    check_depth_batch,
    scaled,
    vgg_front,
)
from depthpose_core.models._lite import LiteStages, init_lite_, separable
from depthpose_core.models._registry import register_model

__all__ = ["RTPoseLite", "rtpose_lite"]

_TRUNK = 128  # as DepthPose-Lite's trunk


class RTPoseLite(nn.Module):
    """RTPose-1ch rebuilt like DepthPose-Lite, the baseline of the re-run of the paper's Table 1: RTPose's VGG-19
    front (``model0``, widths times ``front_width``, stride 8) on a depth image upsampled x8 (bicubic, or by an
    SR network), then DepthPose-Lite's trunk and stages. Against DepthPose-Lite only the source of the features
    differs: a front on the upsampled image instead of the SR block's feature maps.

    Args:
        front_width: channel multiplier of the VGG front (0.125 matches DepthPose-Lite's cost within 25 %).
        num_refinement: refinement stages after stage 1 (0-3).
    """

    #: Input pixels per output cell (a 512x384 input gives 64x48 maps).
    output_stride: int = FRONT_STRIDE

    def __init__(self, *, front_width: float = 0.125, num_refinement: int = 1) -> None:
        super().__init__()
        if not 0 < front_width <= 1:
            raise ValueError(f"front_width must be in (0, 1], got {front_width}")
        if not 0 <= num_refinement <= 3:
            raise ValueError(f"num_refinement must be 0-3, got {num_refinement}")
        self.num_stages = 1 + num_refinement
        self.model0 = vgg_front(1, front_width)
        self.mix = nn.Sequential(nn.Conv2d(scaled(FRONT_CHANNELS, front_width), _TRUNK, 1, bias=False),
                                 nn.BatchNorm2d(_TRUNK), nn.ReLU(inplace=True), separable(_TRUNK, _TRUNK))  # fmt: skip
        self.stages = LiteStages(_TRUNK, self.num_stages)
        init_lite_(self)

    def forward_train(self, x: Tensor) -> TrainOutput:
        """Every stage's maps (``sr`` is None)."""
        check_depth_batch(x, min_size=FRONT_STRIDE)
        return TrainOutput(self.stages(self.mix(self.model0(x))), None)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Last-stage maps for a ``(B, 1, H, W)`` depth batch in [0, 1], H and W at least 8.

        Returns:
            PAF ``(B, 38, H // 8, W // 8)`` and heatmap ``(B, 19, H // 8, W // 8)``.
        """
        return self.forward_train(x).stages[-1]


@register_model
def rtpose_lite(*, front_width: float = 0.125, num_refinement: int = 1) -> RTPoseLite:
    """RTPose-Lite: RTPose's VGG front (reduced) with DepthPose-Lite's stages, for upsampled low-resolution depth."""
    return RTPoseLite(front_width=front_width, num_refinement=num_refinement)
