"""The torch backend: eager PyTorch, channels-last with denormals flushed on CPUs, pinned memory on CUDA."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from depthpose_core.runtime import autocast, check_precision, cpu_has_bf16

__all__ = ["TorchNetwork", "torch_precision"]


def torch_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> fp16 on CUDA, bf16 on CPUs with native bf16, else fp32; other names are checked and kept."""
    if check_precision(precision, allow_auto=True) != "auto":
        return precision
    if device.type == "cuda":
        return "fp16"
    return "bf16" if cpu_has_bf16() else "fp32"


class TorchNetwork:
    """``module`` in eval mode on ``device`` (see :class:`~depthpose_core.backends.Network`).

    Args:
        module: the network; moved to ``device`` and set to eval mode (in place).
        device: where it runs.
        precision: ``auto``, ``fp32``, ``fp16`` or ``bf16`` (autocast; see :func:`torch_precision`).
        tune_cpu: on a CPU, convert ``module`` to channels-last (in place) and flush denormals to zero for the
            process (subnormal floats are several times slower on x86 and change no result that matters here).
    """

    backend = "torch"

    def __init__(self, module: nn.Module, device: torch.device, precision: str, *, tune_cpu: bool = True) -> None:
        self.device = device
        self.precision = torch_precision(precision, device)
        self.module: nn.Module | None = module.to(device).eval()
        self._channels_last = tune_cpu and device.type == "cpu"
        if self._channels_last:
            module.to(memory_format=torch.channels_last)
            torch.set_flush_denormal(True)
        parts = ["channels-last, denormals flushed" if self._channels_last else "NCHW"]
        parts.append(f"{self.precision} autocast" if self.precision != "fp32" else "fp32")
        if device.type == "cuda":
            parts.append(f"pinned input, {torch.cuda.get_device_name(device)}")
        self.detail = ", ".join(parts)

    @torch.inference_mode()
    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        assert self.module is not None
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        elif self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, self.precision):
            paf, heat = self.module(x)
        return paf.float(), heat.float()
