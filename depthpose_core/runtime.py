"""Where and how the network runs: device selection and mixed precision. The one home of these rules, for the
estimator, the trainer, the runtime backends and the pseudo-labelling detectors."""

from __future__ import annotations

import contextlib

import torch

from depthpose_core.errors import DepthPoseError

__all__ = ["PRECISIONS", "PRECISION_CHOICES", "autocast", "check_precision", "cpu_has_bf16", "resolve_device"]

#: Autocast dtypes by precision name ("fp32" runs without autocast).
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}
#: What a user may ask for: a precision, or ``auto`` (the backend's fastest well-behaved one: bf16 on CPUs with
#: native bf16 for the torch and OpenVINO backends, fp16 on CUDA, else fp32).
PRECISION_CHOICES = ("auto", *PRECISIONS)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn "auto", "cpu", "cuda" or "cuda:N" into a device that exists.

    "auto" picks the first CUDA GPU when one is usable, else the CPU. Asking for CUDA where there is none is an
    error, never a silent fall-back to the CPU.

    Raises:
        DepthPoseError: CUDA was requested but is not available, or the index is out of range.
    """
    if str(device) == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise DepthPoseError(f"device {device!r} is not valid (use auto, cpu, cuda or cuda:N): {err}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DepthPoseError(
                f"device {device!r} was requested but CUDA is not available (torch {torch.__version__}, "
                f"CUDA build: {torch.version.cuda or 'none'}); use device 'cpu' or 'auto'"
            )
        index = 0 if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise DepthPoseError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) present")
        return torch.device("cuda", index)
    if dev.type != "cpu":
        raise DepthPoseError(f"device {device!r} is not supported (use auto, cpu, cuda or cuda:N)")
    return dev


def check_precision(precision: str, *, allow_auto: bool = False) -> str:
    """``precision`` if it is one of :data:`PRECISIONS` (or ``auto`` when ``allow_auto``).

    Raises:
        DepthPoseError: an unknown name.
    """
    names = PRECISION_CHOICES if allow_auto else tuple(PRECISIONS)
    if precision not in names:
        raise DepthPoseError(f"precision {precision!r} is not one of {list(names)}")
    return precision


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), so bf16 autocast is faster, not slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[object]:
    """The autocast context of ``precision`` on ``device`` (a no-op for fp32)."""
    dtype = PRECISIONS[check_precision(precision)]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
