"""Model size and cost: parameter counts and multiply-accumulates (MACs) per forward pass."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.func import functional_call

__all__ = ["count_macs", "count_parameters"]


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters (trainable or not) in ``model``."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_size: tuple[int, int], *, in_channels: int = 1) -> int:
    """Multiply-accumulates of one ``model(x)`` call on a single ``(1, in_channels, height, width)`` input.

    Counts every executed ``nn.Conv2d``: output elements x (input channels / groups) x kernel area. Bias
    additions, ReLU, pooling, pixel shuffle and concatenation count zero. The pass runs on the ``meta``
    device (shapes only), so it is instant and leaves ``model`` untouched; layers ``forward`` skips (the
    DepthPose SR head) are not counted.

    Args:
        model: the network; its ``forward`` is what gets counted.
        input_size: ``(width, height)`` of the input in pixels.
        in_channels: input channels.

    Returns:
        MACs for batch size 1.

    Raises:
        ValueError: a size is not a positive integer.
    """
    width, height = input_size
    if min(width, height, in_channels) < 1:
        raise ValueError(f"input size {width}x{height} with {in_channels} channels must be positive")
    total = 0

    def count(module: nn.Module, _inputs: tuple[Tensor, ...], output: Tensor) -> None:
        nonlocal total
        assert isinstance(module, nn.Conv2d)
        total += output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)

    handles = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    meta_tensors = {
        name: torch.empty_like(tensor, device="meta")
        for name, tensor in (*model.named_parameters(), *model.named_buffers())
    }
    try:
        with torch.no_grad():
            functional_call(model, meta_tensors, (torch.empty(1, in_channels, height, width, device="meta"),))
    finally:
        for handle in handles:
            handle.remove()
    return total
