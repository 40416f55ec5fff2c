"""Runtime backends: what runs the network's forward pass.

A backend turns a ``(B, 1, H, W)`` float32 batch of model inputs (CPU tensor, values in [0, 1]) into the last
stage's maps, PAF ``(B, 38, h, w)`` and heatmap ``(B, 19, h, w)`` float32. The estimator builds the batch
(flip test included: one batch of 2 per frame in every backend), the backend only runs it.

- ``torch``: eager PyTorch. On CPUs the module is converted to channels-last and denormals are flushed to zero;
  on CUDA the input goes through pinned memory.
- ``onnxruntime``: the network exported to ONNX (in memory, or a file from ``depthpose export``), run by ONNX
  Runtime: the CPU execution provider, or TensorRT / CUDA providers on a GPU when installed.
- ``openvino``: the same ONNX graph, or an OpenVINO IR file, compiled by OpenVINO for the CPU, with the bf16
  inference precision on CPUs that support it.
- ``auto``: see :func:`select_backend`.

:func:`open_backend` is the one place a backend name and a precision become a running network.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Protocol

import torch
from torch import Tensor, nn

from depthpose_core.errors import DepthPoseError

__all__ = ["BACKENDS", "Network", "available_backends", "open_backend", "select_backend"]

logger = logging.getLogger(__name__)

#: Backend names a user may give (``auto`` picks one of the others).
BACKENDS = ("auto", "torch", "onnxruntime", "openvino")
#: The Python package each backend needs, for the error when it is missing.
_PACKAGES = {"onnxruntime": "onnxruntime", "openvino": "openvino"}


class Network(Protocol):
    """A network ready to run, in one backend.

    Attributes:
        backend: ``torch``, ``onnxruntime`` or ``openvino``.
        device: where it runs.
        precision: the arithmetic it runs in (``fp32``, ``fp16`` or ``bf16``; never ``auto``).
        detail: how it runs, for logs and diagnostics (e.g. ``channels-last, bf16 autocast`` or the ONNX Runtime
            execution provider).
        module: the PyTorch module it runs (torch backend), else None.
    """

    backend: str
    device: torch.device
    precision: str
    detail: str
    module: nn.Module | None

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Maps for a ``(B, 1, H, W)`` float32 CPU batch: PAF and heatmap, float32 (on ``device``)."""
        ...


def installed(backend: str) -> bool:
    """Whether the package ``backend`` needs can be imported (torch is always there)."""
    return backend == "torch" or importlib.util.find_spec(_PACKAGES[backend]) is not None


def available_backends() -> list[str]:
    """The backends that can run here (their packages are installed)."""
    return [b for b in BACKENDS[1:] if installed(b)]


def select_backend(backend: str, device: torch.device, *, exported: bool = False) -> str:
    """The backend to run: ``backend`` itself, checked, or the choice ``auto`` makes.

    ``auto`` on a CPU: OpenVINO when installed (fastest measured here, ``docs/benchmarks.md``), else PyTorch
    (channels-last, bf16 where the CPU has it), or ONNX Runtime for an exported file without OpenVINO. On a CUDA
    device: ONNX Runtime when its TensorRT or CUDA provider is installed, else PyTorch.

    Args:
        backend: one of :data:`BACKENDS`.
        device: the resolved device.
        exported: the model is an exported ONNX / OpenVINO file (PyTorch cannot run it).

    Raises:
        DepthPoseError: an unknown name, a backend whose package is missing (the error names it), a backend
            that cannot run on ``device``, or an exported file for the torch backend.
    """
    if backend not in BACKENDS:
        raise DepthPoseError(f"backend {backend!r} is not one of {list(BACKENDS)}")
    if backend == "auto":
        if device.type == "cuda":
            if installed("onnxruntime") and _ort_gpu_providers():
                return "onnxruntime"
            if exported:
                raise DepthPoseError(
                    "an exported model on a CUDA device needs onnxruntime-gpu (TensorRT or CUDA "
                    "execution provider); install it, or run the checkpoint with backend torch"
                )
            return "torch"
        for name in ("openvino", "onnxruntime") if exported else ("openvino", "torch"):
            if installed(name):
                return name
        raise DepthPoseError("an exported model needs onnxruntime or openvino: pip install onnxruntime")
    if not installed(backend):
        raise DepthPoseError(
            f"backend {backend!r} needs the Python package {_PACKAGES[backend]!r}, which is not "
            f"installed: pip install {_PACKAGES[backend]} (installed: {available_backends()})"
        )
    if backend == "torch" and exported:
        raise DepthPoseError("an exported ONNX / OpenVINO file runs with backend onnxruntime, openvino or auto, not "
                             "torch; give the project checkpoint to run it in PyTorch")  # fmt: skip
    if backend == "openvino" and device.type != "cpu":
        raise DepthPoseError(f"backend openvino runs on the CPU here, not on {device}: use device cpu, or backend "
                             "torch or onnxruntime on a GPU")  # fmt: skip
    if backend == "onnxruntime" and device.type == "cuda" and not _ort_gpu_providers():
        raise DepthPoseError("backend onnxruntime on a CUDA device needs onnxruntime-gpu (TensorRT or CUDA "
                             "execution provider); only the CPU provider is installed")  # fmt: skip
    return backend


def _ort_gpu_providers() -> list[str]:
    import onnxruntime

    gpu = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
    return [p for p in onnxruntime.get_available_providers() if p in gpu]


def open_backend(
    backend: str,
    device: torch.device,
    precision: str,
    *,
    module: nn.Module | None = None,
    onnx: bytes | None = None,
    exported: str | None = None,
    input_size: tuple[int, int],
    tune_cpu: bool = True,
) -> Network:
    """A running network: ``module`` in PyTorch, or its ONNX graph / an exported file in another backend.

    Args:
        backend: a name from :data:`BACKENDS` (``auto`` is resolved with :func:`select_backend`).
        device: the resolved device.
        precision: ``auto`` (bf16 on CPUs with native bf16 for torch and openvino, fp16 on CUDA, else fp32),
            ``fp32``, ``fp16`` or ``bf16``.
        module: the PyTorch network (None for an exported file).
        onnx: the network's ONNX graph when already exported (else exported from ``module`` when needed).
        exported: an ``.onnx`` or OpenVINO ``.xml`` file written by ``depthpose export``.
        input_size: (width, height) of the model input, pixels (for the export and a first warm-up run).
        tune_cpu: torch on a CPU: convert ``module`` to channels-last in place and flush denormals to zero
            (off for a module that is still being trained).

    Raises:
        DepthPoseError: see :func:`select_backend`; a precision the backend cannot run.
    """
    name = select_backend(backend, device, exported=exported is not None)
    if name == "onnxruntime" and exported is not None and not exported.endswith(".onnx"):
        raise DepthPoseError(f"backend onnxruntime reads .onnx files, not {exported}: use backend openvino or auto")
    if name == "torch":
        from depthpose_core.backends.torch_backend import TorchNetwork

        assert module is not None
        net: Network = TorchNetwork(module, device, precision, tune_cpu=tune_cpu)
    else:
        source: bytes | str
        if exported is not None:
            source = exported
        elif onnx is not None:
            source = onnx
        else:
            from depthpose_core.backends.export import onnx_bytes

            assert module is not None
            source = onnx_bytes(module, input_size)
        if name == "onnxruntime":
            from depthpose_core.backends.ort_backend import OrtNetwork

            net = OrtNetwork(source, device, precision)
        else:
            from depthpose_core.backends.ov_backend import OpenVinoNetwork

            net = OpenVinoNetwork(source, precision)
    logger.info("network backend %s on %s, %s (%s)%s", net.backend, net.device, net.precision, net.detail,
                " (chosen by auto)" if backend == "auto" else "")  # fmt: skip
    return net
