"""The openvino backend: the ONNX graph (or an OpenVINO IR file) compiled by OpenVINO for the CPU."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from depthpose_core.errors import CheckpointError, DepthPoseError
from depthpose_core.runtime import check_precision

__all__ = ["OpenVinoNetwork"]

_HINTS = {"fp32": "f32", "bf16": "bf16"}


class OpenVinoNetwork:
    """A network compiled by OpenVINO for the CPU (see :class:`~depthpose_core.backends.Network`).

    ``auto`` precision is bf16 on CPUs whose OpenVINO plugin reports BF16 (AVX512-BF16 / AMX), else fp32; the
    latency performance hint, with as many inference threads as torch uses.

    Args:
        source: the ONNX graph as bytes, or an exported ``.onnx`` / ``.xml`` file.
        precision: ``auto``, ``fp32`` or ``bf16`` (refused where the CPU lacks it); fp16 is refused.

    Raises:
        DepthPoseError: a precision the CPU plugin cannot run.
        CheckpointError: OpenVINO cannot read or compile the model.
    """

    backend = "openvino"

    def __init__(self, source: bytes | str, precision: str) -> None:
        import openvino

        check_precision(precision, allow_auto=True)
        core = openvino.Core()
        capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if precision == "auto":
            precision = "bf16" if "BF16" in capabilities else "fp32"
        if precision not in _HINTS:
            raise DepthPoseError(f"backend openvino runs fp32 or bf16 on the CPU, not {precision}")
        if precision == "bf16" and "BF16" not in capabilities:
            raise DepthPoseError(f"this CPU has no bf16 support in OpenVINO (capabilities {list(capabilities)}): "
                                 "use precision auto or fp32")  # fmt: skip
        self.precision = precision
        self.device = torch.device("cpu")
        self.module: nn.Module | None = None
        threads = torch.get_num_threads()
        config = {"INFERENCE_PRECISION_HINT": _HINTS[precision], "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_NUM_THREADS": threads}  # fmt: skip
        try:
            self._compiled = core.compile_model(core.read_model(source), "CPU", config)
        except RuntimeError as err:
            where = source if isinstance(source, str) else "the exported graph"
            last = str(err).strip().splitlines()[-1] if str(err).strip() else ""
            raise CheckpointError(f"OpenVINO cannot read or compile {where}: {last}") from None
        self._request = self._compiled.create_infer_request()
        self.detail = f"CPU plugin, {_HINTS[precision]} inference precision, {threads} threads"

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        result = self._request.infer({0: x.numpy()})
        paf, heat = (torch.from_numpy(result[out].copy()) for out in self._compiled.outputs)
        return paf, heat
