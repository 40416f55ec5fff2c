"""The onnxruntime backend: the ONNX graph on ONNX Runtime's CPU provider, or TensorRT / CUDA on a GPU."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import Tensor, nn

from depthpose_core.errors import CheckpointError, DepthPoseError
from depthpose_core.runtime import check_precision

__all__ = ["OrtNetwork"]


class OrtNetwork:
    """An ONNX graph in an ONNX Runtime session (see :class:`~depthpose_core.backends.Network`).

    On a CPU it runs in fp32 (``auto`` = fp32; ONNX Runtime's CPU kernels have no faster bf16/fp16 path) with
    as many intra-op threads as torch uses. On a CUDA device it takes the TensorRT provider when installed
    (fp16 engines for ``auto``/``fp16``; engines cached under ``$DEPTHPOSE_TRT_CACHE``, default
    ``~/.cache/depthpose/trt``), else the CUDA provider (fp32); the choice is in ``detail``.

    Args:
        source: the ONNX graph as bytes, or an exported ``.onnx`` file.
        device: where it runs.
        precision: ``auto``, ``fp32``, ``fp16`` (TensorRT only) or ``bf16`` (refused).

    Raises:
        DepthPoseError: a precision this provider cannot run.
        CheckpointError: ONNX Runtime cannot load the graph.
    """

    backend = "onnxruntime"

    def __init__(self, source: bytes | str, device: torch.device, precision: str) -> None:
        import onnxruntime as ort

        check_precision(precision, allow_auto=True)
        self.device = device
        self.module: nn.Module | None = None
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        available = ort.get_available_providers()
        providers: list[str | tuple[str, dict[str, object]]]
        if device.type == "cuda":
            index = device.index or 0
            if "TensorrtExecutionProvider" in available and precision in ("auto", "fp16", "fp32"):
                self.precision = "fp32" if precision == "fp32" else "fp16"
                cache = os.environ.get("DEPTHPOSE_TRT_CACHE", os.path.expanduser("~/.cache/depthpose/trt"))
                providers = [("TensorrtExecutionProvider", {"device_id": index, "trt_fp16_enable": self.precision
                              == "fp16", "trt_engine_cache_enable": True, "trt_engine_cache_path": cache}),
                             ("CUDAExecutionProvider", {"device_id": index})]  # fmt: skip
            elif precision in ("auto", "fp32"):
                self.precision = "fp32"
                providers = [("CUDAExecutionProvider", {"device_id": index})]
            else:
                raise DepthPoseError(f"backend onnxruntime runs fp32 on the CUDA provider (fp16 needs the TensorRT "
                                     f"provider), not {precision}")  # fmt: skip
        else:
            if precision not in ("auto", "fp32"):
                raise DepthPoseError(f"backend onnxruntime runs fp32 on the CPU, not {precision}: use precision "
                                     "auto or fp32, or backend openvino / torch for bf16")  # fmt: skip
            self.precision = "fp32"
            providers = ["CPUExecutionProvider"]
        try:
            self._session = ort.InferenceSession(source, options, providers=providers)
        except Exception as err:  # ONNX Runtime raises its own error types for unreadable graphs
            where = source if isinstance(source, str) else "the exported graph"
            raise CheckpointError(f"ONNX Runtime cannot load {where}: {str(err).strip()[:300]}") from None
        used = self._session.get_providers()
        if device.type == "cuda" and used[0] not in ("TensorrtExecutionProvider", "CUDAExecutionProvider"):
            raise DepthPoseError(f"ONNX Runtime could not start a GPU provider on {device} (it would run on "
                                 f"{used[0]}): check the CUDA / TensorRT libraries onnxruntime-gpu needs")  # fmt: skip
        self.detail = f"{used[0]}, {options.intra_op_num_threads} threads" if device.type == "cpu" else used[0]
        self._input = self._session.get_inputs()[0].name

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        paf, heat = self._session.run(None, {self._input: np.ascontiguousarray(x.numpy(), dtype=np.float32)})
        return torch.from_numpy(paf), torch.from_numpy(heat)
