"""Where and how the network runs: device selection and mixed precision. The one home of these rules, for the
estimator, the trainer and the pseudo-labelling detectors."""

from __future__ import annotations

import contextlib

import torch

from depthpose_core.errors import DepthPoseError

__all__ = ["PRECISIONS", "autocast", "check_precision", "resolve_device"]

#: Autocast dtypes by precision name ("fp32" runs without autocast).
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


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


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`.

    Raises:
        DepthPoseError: an unknown name.
    """
    if precision not in PRECISIONS:
        raise DepthPoseError(f"precision {precision!r} is not one of {sorted(PRECISIONS)}")
    return precision


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[object]:
    """The autocast context of ``precision`` on ``device`` (a no-op for fp32)."""
    dtype = PRECISIONS[check_precision(precision)]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
