"""Blocks shared by the networks: the x8 super-resolution (SR) block, the VGG-19 front and the stage branches.

Each block is described by a small config table and built once here. Parameter names follow the authors'
released checkpoints (CAMMA-public/ORPose-Depth): SR convs sit at the top level of the model
(``stage{s}_conv{i}``), the front is ``model0`` and the stage branches are ``model{t}_1`` (PAF) and
``model{t}_2`` (heatmap), all ``nn.Sequential`` with ReLU and pool modules taking indices too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from depthpose_core.keypoints import NUM_HEATMAPS, NUM_PAFS

__all__ = [
    "BranchConfig",
    "FRONT_CHANNELS",
    "FRONT_STRIDE",
    "INITIAL_BRANCH",
    "POOL",
    "REFINE_BRANCH",
    "SRBlock",
    "SRFeatures",
    "SRPoseNetwork",
    "SRStageConfig",
    "SR_STAGES",
    "TrainOutput",
    "VGG_FRONT",
    "add_stage_branches",
    "check_depth_batch",
    "conv",
    "init_background_prior_",
    "init_normal_",
    "run_stages",
    "scale_sr_stages",
    "scaled",
    "vgg_front",
]


class TrainOutput(NamedTuple):
    """Everything the training losses need from one forward pass.

    Attributes:
        stages: ``(paf, heatmap)`` of every stage, first to last; PAF ``(B, 38, h, w)``, heatmap
            ``(B, 19, h, w)`` at the model's output resolution. Empty for the standalone SR network.
        sr: super-resolved depth image ``(B, 1, 8H, 8W)`` for an ``(H, W)`` input, values on the input's
            [0, 1] depth scale, or None when the model has no reconstruction head.
    """

    stages: list[tuple[Tensor, Tensor]]
    sr: Tensor | None


def scaled(channels: int, width: float, multiple: int = 4) -> int:
    """``channels`` times the width multiplier, rounded to a positive multiple of ``multiple``."""
    return max(multiple, int(round(channels * width / multiple)) * multiple)


def conv(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Conv2d:
    """Stride-1 convolution with bias and "same" zero padding (``kernel_size`` odd)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


def init_normal_(module: nn.Module, std: float = 0.01) -> None:
    """OpenPose-style init of every conv in ``module``: weights N(0, std^2), biases zero."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def check_depth_batch(x: Tensor, *, min_size: int = 1) -> None:
    """Raise ValueError unless ``x`` is a ``(B, 1, H, W)`` depth batch with H and W at least ``min_size``."""
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"expected a depth batch of shape (B, 1, H, W), got shape {tuple(x.shape)}")
    if min(x.shape[2:]) < min_size:
        raise ValueError(
            f"input of {x.shape[3]}x{x.shape[2]} pixels (W x H) is too small: this model needs at least "
            f"{min_size}x{min_size}"
        )


# --- super-resolution block -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SRStageConfig:
    """One SR stage: 3x3 convs, ReLU after all but the last, then PixelShuffle(2).

    Attributes:
        widths: input channels followed by each conv's output channels; the last must be divisible by 4
            (pixel shuffle turns ``4c`` channels into ``c`` channels at twice the width and height).
    """

    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise ValueError(f"an SR stage needs positive widths for at least one conv, got {self.widths}")
        if self.widths[-1] % 4:
            raise ValueError(
                f"an SR stage must end with a multiple of 4 channels for PixelShuffle(2), got {self.widths}"
            )


#: The x8 SR block: stage s holds convs ``stage{s}_conv{1..}``.
SR_STAGES: tuple[SRStageConfig, ...] = (
    #             conv widths (in -> out)      after PixelShuffle(2)
    SRStageConfig((1, 64, 128, 256)),        # x2: 64 ch, 2H x 2W
    SRStageConfig((64, 64, 128, 256)),       # x4: 64 ch, 4H x 4W
    SRStageConfig((64, 64, 128, 256, 256)),  # x8: 64 ch, 8H x 8W
)  # fmt: skip


def scale_sr_stages(stages: Sequence[SRStageConfig], width: float) -> tuple[SRStageConfig, ...]:
    """The stage table with every conv width times ``width`` (the 1-channel input stays)."""
    return tuple(SRStageConfig((cfg.widths[0] if i == 0 else scaled(cfg.widths[0], width),
                                *(scaled(c, width) for c in cfg.widths[1:])))
                 for i, cfg in enumerate(stages))  # fmt: skip


def _check_sr_stages(stages: Sequence[SRStageConfig]) -> None:
    if len(stages) != 3:
        raise ValueError(f"the SR block has three stages (x2, x4, x8), got {len(stages)}")
    if stages[0].widths[0] != 1:
        raise ValueError(f"SR stage 1 must take the 1-channel depth image, got {stages[0].widths[0]} channels")
    for index in range(1, 3):
        received, expected = stages[index - 1].widths[-1] // 4, stages[index].widths[0]
        if received != expected:
            raise ValueError(f"SR stage {index + 1} takes {expected} channels but stage {index} gives {received}")


class SRFeatures(NamedTuple):
    """Outputs of the SR stages for an ``(H, W)`` input: ``x2`` at 2H x 2W, ``x4`` at 4H x 4W, ``x8`` at 8H x 8W."""

    x2: Tensor
    x4: Tensor
    x8: Tensor


class SRBlock(nn.Module):
    """The x8 super-resolution block (paper Fig. 2), base class of the models that contain it.

    Its convs are top-level attributes ``stage{s}_conv{i}`` so that subclasses have the authors' parameter
    names. The optional reconstruction head ``sr_head`` (c3(64, 1), no activation) maps ``x8`` to the
    super-resolved depth image; it is only run by :meth:`reconstruct`.

    Args:
        with_head: create ``sr_head``.
        stages: stage table; ``SR_STAGES`` gives the paper's x8 block (three stages, 64-channel outputs).
    """

    #: Width and height factor of ``x8`` and of the reconstructed image relative to the input.
    upscale_factor: int = 8

    def __init__(self, *, with_head: bool, stages: Sequence[SRStageConfig] = SR_STAGES) -> None:
        super().__init__()
        _check_sr_stages(stages)
        self._sr_stage_names: tuple[tuple[str, ...], ...] = tuple(
            tuple(f"stage{s}_conv{i}" for i in range(1, len(cfg.widths))) for s, cfg in enumerate(stages, start=1)
        )
        for cfg, names in zip(stages, self._sr_stage_names):
            for name, c_in, c_out in zip(names, cfg.widths[:-1], cfg.widths[1:]):
                self.add_module(name, conv(c_in, c_out))
        self.sr_head = conv(stages[-1].widths[-1] // 4, 1) if with_head else None

    def super_resolve(self, x: Tensor) -> SRFeatures:
        """Run the SR stages on a ``(B, 1, H, W)`` batch; returns each stage's pixel-shuffled output."""
        outputs = []
        for names in self._sr_stage_names:
            for name in names[:-1]:
                x = F.relu(getattr(self, name)(x), inplace=True)
            x = F.pixel_shuffle(getattr(self, names[-1])(x), 2)
            outputs.append(x)
        return SRFeatures(*outputs)

    def reconstruct(self, x8: Tensor) -> Tensor:
        """Super-resolved depth image ``(B, 1, 8H, 8W)`` from the last SR stage's output (needs ``sr_head``)."""
        if self.sr_head is None:
            raise RuntimeError(f"{type(self).__name__} was built without the SR reconstruction head")
        return self.sr_head(x8)

    def sr_layers(self) -> Iterator[tuple[nn.Conv2d, bool]]:
        """Yield ``(conv, followed_by_relu)`` for every conv that belongs to the SR side of the network."""
        for names in self._sr_stage_names:
            for name in names:
                yield getattr(self, name), name != names[-1]
        if self.sr_head is not None:
            yield self.sr_head, False

    def reset_sr_parameters(self) -> None:
        """Orthogonal init of :meth:`sr_layers` (gain sqrt(2) before a ReLU, else 1), biases zero (paper, Sec. 3)."""
        relu_gain = nn.init.calculate_gain("relu")
        for layer, relu in self.sr_layers():
            nn.init.orthogonal_(layer.weight, gain=relu_gain if relu else 1.0)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class SRPoseNetwork(SRBlock):
    """A pose network built on the SR block (DepthPose, DepthPose-Lite): subclasses implement ``_run``, which
    returns every stage's maps and, when ``reconstruct``, the SR image from the training-only head."""

    def _run(self, x: Tensor, *, reconstruct: bool) -> TrainOutput:
        raise NotImplementedError

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Last-stage maps for a ``(B, 1, H, W)`` depth batch in [0, 1].

        Returns:
            PAF ``(B, 38, H, W)`` and heatmap ``(B, 19, H, W)``, one cell per input pixel.

        Raises:
            ValueError: ``x`` is not a 4-D single-channel batch.
        """
        return self._run(x, reconstruct=False).stages[-1]

    def forward_train(self, x: Tensor) -> TrainOutput:
        """Every stage's maps, plus the SR image ``(B, 1, 8H, 8W)`` when the model has ``sr_head``."""
        return self._run(x, reconstruct=self.sr_head is not None)


# --- VGG-19 front -----------------------------------------------------------------------------------------

#: Marker for a 2x2 max pool (stride 2) in ``VGG_FRONT``.
POOL = "pool"

#: VGG-19 up to conv4_2, then conv4_3_CPM and conv4_4_CPM (RTPose): ints are 3x3 conv widths, each conv
#: followed by a ReLU. Convs land at ``model0.{0,2,5,7,10,12,14,16,19,21,23,25}``.
VGG_FRONT: tuple[int | str, ...] = (
    64, 64, POOL,               # conv1_1, conv1_2, pool1
    128, 128, POOL,             # conv2_1, conv2_2, pool2
    256, 256, 256, 256, POOL,   # conv3_1 .. conv3_4, pool3
    512, 512, 256, 128,         # conv4_1, conv4_2, conv4_3_CPM, conv4_4_CPM
)  # fmt: skip
FRONT_CHANNELS = 128
FRONT_STRIDE = 8


def vgg_front(in_channels: int, width: float = 1.0) -> nn.Sequential:
    """The feature block ``model0``: ``VGG_FRONT`` (conv widths times ``width``) taking ``in_channels``,
    ``scaled(FRONT_CHANNELS, width)`` out at stride 8."""
    layers: list[nn.Module] = []
    for item in VGG_FRONT:
        if item == POOL:
            layers.append(nn.MaxPool2d(2, 2))
        else:
            out = scaled(int(item), width)
            layers += [conv(in_channels, out), nn.ReLU(inplace=True)]
            in_channels = out
    return nn.Sequential(*layers)


# --- stage branches ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchConfig:
    """One stage branch: ``num_spatial`` k x k convs of ``width`` channels, a 1x1 conv to ``hidden``, then a
    1x1 conv to the branch output (38 PAF or 19 heatmap channels) with no ReLU after it."""

    kernel_size: int
    num_spatial: int
    width: int
    hidden: int

    def __post_init__(self) -> None:
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"branch kernel size must be odd and positive, got {self.kernel_size}")
        if min(self.num_spatial, self.width, self.hidden) < 1:
            raise ValueError(f"branch conv count and widths must be positive, got {self}")


#: Stage 1: 3x c3(128, 128), c1(128, 512), c1(512, out).
INITIAL_BRANCH = BranchConfig(kernel_size=3, num_spatial=3, width=128, hidden=512)
#: Stages 2..T: c7(in, 128), 4x c7(128, 128), c1(128, 128), c1(128, out).
REFINE_BRANCH = BranchConfig(kernel_size=7, num_spatial=5, width=128, hidden=128)


def _branch(cfg: BranchConfig, in_channels: int, out_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(cfg.num_spatial):
        layers += [conv(in_channels, cfg.width, cfg.kernel_size), nn.ReLU(inplace=True)]
        in_channels = cfg.width
    layers += [conv(cfg.width, cfg.hidden, 1), nn.ReLU(inplace=True), conv(cfg.hidden, out_channels, 1)]
    return nn.Sequential(*layers)


def _branch_names(stage: int) -> tuple[str, str]:
    return f"model{stage}_1", f"model{stage}_2"


def add_stage_branches(
    model: nn.Module, *, num_stages: int, refine_in_channels: int, width: float = 1.0
) -> None:
    """Register the PAF/heatmap branches ``model{t}_1`` / ``model{t}_2`` for stages t = 1..num_stages.

    Stage 1 reads the front's ``scaled(FRONT_CHANNELS, width)`` features; later stages read
    ``refine_in_channels`` channels. Branch widths are times ``width``; the outputs stay 38 and 19 channels.
    """
    for stage in range(1, num_stages + 1):
        if stage == 1:
            cfg, c_in = INITIAL_BRANCH, scaled(FRONT_CHANNELS, width)
        else:
            cfg, c_in = REFINE_BRANCH, refine_in_channels
        cfg = replace(cfg, width=scaled(cfg.width, width), hidden=scaled(cfg.hidden, width))
        paf_name, heat_name = _branch_names(stage)
        model.add_module(paf_name, _branch(cfg, c_in, NUM_PAFS))
        model.add_module(heat_name, _branch(cfg, c_in, NUM_HEATMAPS))


def init_background_prior_(model: nn.Module, num_stages: int) -> None:
    """Start every stage's background heatmap (channel 18) at 1, the value it has almost everywhere.

    With zero biases the network would first spend many steps learning that constant (an adaptive optimiser
    moves a bias by about the learning rate per step) before the joint peaks, a small part of the loss, get any
    attention.
    """
    for stage in range(1, num_stages + 1):
        last = getattr(model, _branch_names(stage)[1])[-1]
        with torch.no_grad():
            last.bias[NUM_HEATMAPS - 1] = 1.0


def run_stages(
    model: nn.Module, num_stages: int, features: Tensor, context: Sequence[Tensor] = ()
) -> list[tuple[Tensor, Tensor]]:
    """Run the branches registered by :func:`add_stage_branches`.

    Args:
        model: module holding ``model{t}_1`` and ``model{t}_2``.
        num_stages: number of stages to run.
        features: front features F ``(B, 128, h, w)``.
        context: extra maps appended to every refinement input, after F (DepthPose: S1, then S2).

    Returns:
        ``(paf, heatmap)`` per stage; refinement input is ``cat(prev paf, prev heatmap, F, *context)``.
    """
    outputs: list[tuple[Tensor, Tensor]] = []
    x = features
    for stage in range(1, num_stages + 1):
        if outputs:
            x = torch.cat((*outputs[-1], features, *context), dim=1)
        paf_name, heat_name = _branch_names(stage)
        outputs.append((getattr(model, paf_name)(x), getattr(model, heat_name)(x)))
    return outputs
