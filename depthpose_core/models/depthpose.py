"""DepthPose: x8 super-resolution features feeding a 4-stage part-affinity-field network (MICCAI 2019)."""

from __future__ import annotations

from collections.abc import Iterator

import torch.nn.functional as F
from torch import Tensor, nn

from depthpose_core.keypoints import NUM_HEATMAPS, NUM_PAFS
from depthpose_core.models._blocks import (
    FRONT_CHANNELS,
    SR_STAGES,
    SRPoseNetwork,
    TrainOutput,
    add_stage_branches,
    check_depth_batch,
    conv,
    init_background_prior_,
    init_normal_,
    run_stages,
    scale_sr_stages,
    scaled,
    vgg_front,
)
from depthpose_core.models._registry import register_model

__all__ = ["DepthPose", "depthpose"]

_TAP_CHANNELS = 32  # channels of the S1 and S2 taps
_NUM_STAGES = 4


class DepthPose(SRPoseNetwork):
    """DepthPose x8 (Srivastav, Gangi, Padoy, MICCAI 2019) for low-resolution depth such as 64x48 or 80x60.

    The SR block upsamples the input x8 (x2, x4, x8 feature maps); the VGG-19 front brings x8 back to the
    input resolution as F, and taps on x2 (S2) and x4 (S1) bring those to the input resolution too. Four
    stages predict part affinity fields and heatmaps from F, S1 and S2. Parameter names are those of the
    authors' released checkpoints, which load with ``load_state_dict(strict=True)``.

    Refinement stages read the previous PAF (38) and heatmap (19) with F (128), S1 (32) and S2 (32): 249 channels.

    Args:
        with_sr_head: add the training-only reconstruction head ``sr_head`` (c3(64, 1) on x8), run by
            :meth:`forward_train` only. Never part of inference, so the SR image is never formed there.
        width: channel multiplier of every layer but the 38/19 outputs (1 = the paper's network and the authors'
            checkpoints; e.g. 0.25 for a CPU-sized variant with 1/16 of the cost). Widths are rounded to
            multiples of 4.
    """

    #: Input pixels per output cell: the maps come out at the input resolution.
    output_stride: int = 1
    num_stages: int = _NUM_STAGES

    def __init__(self, *, with_sr_head: bool = False, width: float = 1.0) -> None:
        if not 0 < width <= 4:
            raise ValueError(f"width multiplier must be in (0, 4], got {width}")
        stages = scale_sr_stages(SR_STAGES, width)
        super().__init__(with_head=with_sr_head, stages=stages)
        sr_channels, taps = stages[-1].widths[-1] // 4, scaled(_TAP_CHANNELS, width)
        self.width = width
        self.conv_x2_1 = conv(sr_channels, taps)  # S2: pool(x2) -> c3
        self.conv_x4_1 = conv(sr_channels, taps)  # S1: pool(x4) -> c3 -> pool -> c3
        self.conv_x4_2 = conv(taps, taps)
        self.model0 = vgg_front(sr_channels, width)
        refine_in = NUM_PAFS + NUM_HEATMAPS + scaled(FRONT_CHANNELS, width) + 2 * taps
        add_stage_branches(self, num_stages=_NUM_STAGES, refine_in_channels=refine_in, width=width)
        init_normal_(self)
        init_background_prior_(self, _NUM_STAGES)
        self.reset_sr_parameters()

    def sr_layers(self) -> Iterator[tuple[nn.Conv2d, bool]]:
        """SR block convs plus the S1/S2 tap convs (all followed by ReLU), as in the authors' init."""
        yield from super().sr_layers()
        for layer in (self.conv_x2_1, self.conv_x4_1, self.conv_x4_2):
            yield layer, True

    def _run(self, x: Tensor, *, reconstruct: bool) -> TrainOutput:
        check_depth_batch(x)
        x2, x4, x8 = self.super_resolve(x)
        s2 = F.relu(self.conv_x2_1(F.max_pool2d(x2, 2)))
        s1 = F.relu(self.conv_x4_1(F.max_pool2d(x4, 2)))
        s1 = F.relu(self.conv_x4_2(F.max_pool2d(s1, 2)))
        stages = run_stages(self, _NUM_STAGES, self.model0(x8), (s1, s2))
        return TrainOutput(stages, self.reconstruct(x8) if reconstruct else None)


@register_model
def depthpose(*, with_sr_head: bool = False, width: float = 1.0) -> DepthPose:
    """DepthPose x8 (Srivastav et al., "Human Pose Estimation on Privacy-Preserving Low-Resolution Depth
    Images", MICCAI 2019); the same network serves the 64x48 and 80x60 checkpoints (``width`` 1)."""
    return DepthPose(with_sr_head=with_sr_head, width=width)
