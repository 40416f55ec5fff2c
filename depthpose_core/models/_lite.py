"""Blocks of the lite networks (DepthPose-Lite and its RTPose-lite baseline): depthwise-separable convs and the
shared-trunk PAF stages both networks run at the output resolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from depthpose_core.keypoints import NUM_HEATMAPS, NUM_PAFS

__all__ = ["DepthwiseConv3x3", "LiteStages", "init_lite_", "separable", "separable_down"]


class DepthwiseConv3x3(nn.Conv2d):
    """Depthwise 3x3 convolution without bias, "same" zero padding; a dilated one (stride 1) runs as the
    undilated convolution on the ``dilation**2`` interleaved sub-grids of its input (space-to-batch).

    Same parameters and results as ``nn.Conv2d(c, c, 3, stride, padding=dilation, dilation=dilation, groups=c)``
    (it is one); the sub-grid form avoids oneDNN's slow dilated depthwise CPU kernels, 1.5-2.4x faster at
    dilation 2 on AVX2 (docs/training.md). ONNX export keeps the plain dilated convolution, which the exported
    backends run natively.
    """

    def __init__(self, channels: int, *, stride: int = 1, dilation: int = 1) -> None:
        super().__init__(channels, channels, 3, stride, padding=dilation, dilation=dilation, groups=channels,
                         bias=False)  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        d = self.dilation[0]
        if d == 1 or self.stride[0] != 1 or torch.onnx.is_in_onnx_export() or torch.jit.is_scripting():
            return super().forward(x)
        b, c, h, w = x.shape
        pad_h, pad_w = -h % d, -w % d  # zeros past the far edges stand for the padding they replace
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        hd, wd = (h + pad_h) // d, (w + pad_w) // d
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            grids = x.reshape(b, c, hd, d, wd, d).permute(0, 3, 5, 2, 4, 1).reshape(b * d * d, hd, wd, c)
            y = F.conv2d(grids.permute(0, 3, 1, 2), self.weight, None, 1, 1, 1, self.groups)
            y = y.permute(0, 2, 3, 1).reshape(b, d, d, hd, wd, c).permute(0, 3, 1, 4, 2, 5)
            y = y.reshape(b, hd * d, wd * d, c).permute(0, 3, 1, 2)
        else:
            grids = x.reshape(b, c, hd, d, wd, d).permute(0, 3, 5, 1, 2, 4).reshape(b * d * d, c, hd, wd)
            y = F.conv2d(grids, self.weight, None, 1, 1, 1, self.groups)
            y = y.reshape(b, d, d, c, hd, wd).permute(0, 3, 4, 1, 5, 2).reshape(b, c, hd * d, wd * d)
        return y[:, :, :h, :w] if pad_h or pad_w else y


def separable(c_in: int, c_out: int, *, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """Depthwise 3x3 (stride, dilation) + BN + ReLU, pointwise 1x1 + BN + ReLU (MobileNet's block)."""
    return nn.Sequential(
        DepthwiseConv3x3(c_in, stride=stride, dilation=dilation),
        nn.BatchNorm2d(c_in),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_in, c_out, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def separable_down(c_in: int, c_out: int, times: int) -> nn.Sequential:
    """``times`` stride-2 separable blocks: c_in -> c_out channels at 1 / 2**times of the size."""
    widths = [c_in] + [max(c_out // 2 ** (times - 1 - i), 8) for i in range(times - 1)] + [c_out]
    return nn.Sequential(*(separable(a, b, stride=2) for a, b in zip(widths[:-1], widths[1:])))


class _Branch(nn.Sequential):
    """A stage branch: separable blocks at dilations 1, 2, 4 (a wide view at low cost), then a 1x1 output."""

    def __init__(self, c_in: int, width: int, out: int) -> None:
        super().__init__(separable(c_in, width), separable(width, width, dilation=2),
                         separable(width, width, dilation=4), nn.Conv2d(width, out, 1))  # fmt: skip

    @property
    def output(self) -> nn.Conv2d:
        """The 1x1 output conv."""
        out = self[-1]
        assert isinstance(out, nn.Conv2d)
        return out


class LiteStages(nn.Module):
    """Multi-stage PAF network on a shared trunk: stage 1 has separate PAF (38) and heatmap (19) branches on the
    trunk, each further stage reads the trunk with the previous stage's maps (OpenPose's refinement).

    Args:
        trunk: channels of the trunk features.
        num_stages: 1 + refinement stages.
    """

    def __init__(self, trunk: int, num_stages: int) -> None:
        super().__init__()
        maps = NUM_PAFS + NUM_HEATMAPS
        self.paf_branches = nn.ModuleList(_Branch(trunk + (maps if t else 0), trunk, NUM_PAFS)
                                          for t in range(num_stages))  # fmt: skip
        self.heat_branches = nn.ModuleList(_Branch(trunk + (maps if t else 0), trunk, NUM_HEATMAPS)
                                           for t in range(num_stages))  # fmt: skip

    def forward(self, trunk: Tensor) -> list[tuple[Tensor, Tensor]]:
        """``(paf, heatmap)`` of every stage, first to last, at the trunk's resolution."""
        stages: list[tuple[Tensor, Tensor]] = []
        for paf_branch, heat_branch in zip(self.paf_branches, self.heat_branches):
            inp = torch.cat((trunk, *stages[-1]), dim=1) if stages else trunk
            stages.append((paf_branch(inp), heat_branch(inp)))
        return stages


def init_lite_(model: nn.Module) -> None:
    """Kaiming init of every conv (biases 0), then the stage outputs near 0 (std 0.01) with the heatmaps'
    background channel starting at 1, its value almost everywhere."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    for stages in model.modules():
        if not isinstance(stages, LiteStages):
            continue
        for branches in (stages.paf_branches, stages.heat_branches):
            for branch in branches:
                assert isinstance(branch, _Branch)
                nn.init.normal_(branch.output.weight, std=0.01)
        with torch.no_grad():
            for branch in stages.heat_branches:
                assert isinstance(branch, _Branch) and branch.output.bias is not None
                branch.output.bias[NUM_HEATMAPS - 1] = 1.0
