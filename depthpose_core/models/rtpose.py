"""RTPose-1ch: the 6-stage OpenPose/RTPose network (Cao et al., CVPR 2017) on a single depth channel."""

from __future__ import annotations

from torch import Tensor, nn

from depthpose_core.keypoints import NUM_HEATMAPS, NUM_PAFS
from depthpose_core.models._blocks import (
    FRONT_CHANNELS,
    FRONT_STRIDE,
    TrainOutput,
    add_stage_branches,
    check_depth_batch,
    init_background_prior_,
    init_normal_,
    run_stages,
    scaled,
    vgg_front,
)
from depthpose_core.models._registry import register_model

__all__ = ["RTPose", "rtpose_1ch"]

_NUM_STAGES = 6  # refinement stages read previous PAF (38), previous heatmap (19) and F (128): 185 channels


class RTPose(nn.Module):
    """OpenPose/RTPose with a 1-channel input, the baseline of the DepthPose paper's Table 1.

    VGG-19 front ``model0`` (first conv c3(1, 64)), stage 1 ``model1_1`` (PAF) / ``model1_2`` (heatmap) and
    refinement stages ``model2_*`` .. ``model6_*`` on 185 channels, named as in OpenPose-PyTorch ports.
    Trained on 640x480 depth or on low-resolution depth upsampled back to 640x480.

    Args:
        width: channel multiplier of every layer but the 38/19 outputs (1 = the paper's baseline; smaller values
            give equal-compute baselines for reduced-width DepthPose models).
    """

    #: Input pixels per output cell (a 640x480 input gives 80x60 maps).
    output_stride: int = FRONT_STRIDE
    num_stages: int = _NUM_STAGES

    def __init__(self, *, width: float = 1.0) -> None:
        super().__init__()
        if not 0 < width <= 4:
            raise ValueError(f"width multiplier must be in (0, 4], got {width}")
        self.width = width
        self.model0 = vgg_front(1, width)
        refine_in = NUM_PAFS + NUM_HEATMAPS + scaled(FRONT_CHANNELS, width)
        add_stage_branches(self, num_stages=_NUM_STAGES, refine_in_channels=refine_in, width=width)
        init_normal_(self)
        init_background_prior_(self, _NUM_STAGES)

    def forward_train(self, x: Tensor) -> TrainOutput:
        """All six stages' maps (``sr`` is always None)."""
        check_depth_batch(x, min_size=FRONT_STRIDE)
        return TrainOutput(run_stages(self, _NUM_STAGES, self.model0(x)), None)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Last-stage maps for a ``(B, 1, H, W)`` depth batch in [0, 1], H and W at least 8.

        Returns:
            PAF ``(B, 38, H // 8, W // 8)`` and heatmap ``(B, 19, H // 8, W // 8)``.

        Raises:
            ValueError: ``x`` is not a 4-D single-channel batch, or is smaller than 8x8.
        """
        return self.forward_train(x).stages[-1]


@register_model
def rtpose_1ch(*, width: float = 1.0) -> RTPose:
    """RTPose-1ch (Cao et al., "Realtime Multi-Person 2D Pose Estimation using Part Affinity Fields",
    CVPR 2017) with a depth input, as the RTPose baseline of Srivastav et al. (MICCAI 2019)."""
    return RTPose(width=width)
