"""Exporting the inference graph (ONNX, OpenVINO IR) with the metadata that makes the file self-contained.

The exported graph is the network's ``forward``: depth ``(B, 1, H, W)`` in [0, 1] -> PAF and heatmap. The
training-only super-resolution head is never part of it (``forward`` does not run it). The file carries, under
``depthpose.*`` keys, the model name and builder arguments, the preprocessing the weights were trained with, the
keypoint format, where the weights came from and whether they are trained, so the node and the CLI can load the
file alone and still reduce frames exactly as the weights expect.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from depthpose_core.checkpoint import KEYPOINT_FORMAT
from depthpose_core.errors import CheckpointError, DepthPoseError
from depthpose_core.preprocess import Preprocessing

if TYPE_CHECKING:
    from depthpose_core.weights import ResolvedModel

__all__ = [
    "EXPORT_FORMATS",
    "ExportInfo",
    "check_export",
    "export_checkpoint",
    "export_model",
    "onnx_bytes",
    "read_export_info",
]

#: ``depthpose export --format`` values and the suffix of their files.
EXPORT_FORMATS = {"onnx": ".onnx", "openvino": ".xml"}
_OPSET = 17
_PREFIX = "depthpose."
_FORMAT_VERSION = "1"


@dataclass(frozen=True)
class ExportInfo:
    """What an exported file records about its network.

    Attributes:
        model_name, model_kwargs: architecture and builder arguments.
        preprocessing: the ingress the weights expect.
        keypoint_format: joint order of the heatmaps.
        weights: where the weights came from (the checkpoint path at export time).
        trained: False for a random initialisation.
        batch: the fixed batch size, or None for a dynamic batch axis.
        output_stride: model input pixels per output map cell.
        notice: what the user must be told when it runs (e.g. the shipped demo weights' notice), or None.
    """

    model_name: str
    model_kwargs: Mapping[str, Any]
    preprocessing: Preprocessing
    keypoint_format: str
    weights: str
    trained: bool
    batch: int | None
    output_stride: int
    notice: str | None = None

    def to_strings(self) -> dict[str, str]:
        """The metadata entries, ``depthpose.<key>`` -> text (JSON for structured values)."""
        values: dict[str, Any] = {
            "format_version": _FORMAT_VERSION, "model_name": self.model_name,
            "model_kwargs": json.dumps(dict(self.model_kwargs)),
            "preprocessing": json.dumps(self.preprocessing.to_dict()), "keypoint_format": self.keypoint_format,
            "weights": self.weights, "trained": json.dumps(self.trained), "batch": json.dumps(self.batch),
            "output_stride": str(self.output_stride), "notice": json.dumps(self.notice),
        }  # fmt: skip
        return {_PREFIX + k: str(v) for k, v in values.items()}

    @classmethod
    def from_strings(cls, entries: Mapping[str, str], where: str) -> ExportInfo:
        """Inverse of :meth:`to_strings`.

        Raises:
            CheckpointError: no depthpose metadata (a foreign file), another format version, or bad values.
        """
        data = {k[len(_PREFIX) :]: v for k, v in entries.items() if k.startswith(_PREFIX)}
        if not data:
            raise CheckpointError(f"{where} has no depthpose metadata: not a file written by `depthpose export` "
                                  "(export the project checkpoint with it)")  # fmt: skip
        if data.get("format_version") != _FORMAT_VERSION:
            raise CheckpointError(f"{where}: depthpose export format {data.get('format_version')!r}; this version "
                                  f"reads {_FORMAT_VERSION!r}")  # fmt: skip
        try:
            info = cls(model_name=data["model_name"], model_kwargs=json.loads(data["model_kwargs"]),
                       preprocessing=Preprocessing.from_dict(json.loads(data["preprocessing"])),
                       keypoint_format=data["keypoint_format"], weights=data["weights"],
                       trained=bool(json.loads(data["trained"])), batch=json.loads(data["batch"]),
                       output_stride=int(data["output_stride"]),
                       notice=json.loads(data.get("notice", "null")))  # fmt: skip
        except (KeyError, ValueError, TypeError) as err:
            raise CheckpointError(f"{where}: malformed depthpose metadata ({type(err).__name__}: {err})") from None
        if info.keypoint_format != KEYPOINT_FORMAT:
            raise CheckpointError(f"{where} has keypoint format {info.keypoint_format!r}; this version reads "
                                  f"{KEYPOINT_FORMAT!r}")  # fmt: skip
        return info


def onnx_bytes(module: nn.Module, input_size: tuple[int, int], *, batch: int | None = None,
               metadata: Mapping[str, str] | None = None) -> bytes:  # fmt: skip
    """The ONNX graph of ``module.forward`` for a ``(batch, 1, height, width)`` input (``batch`` None: dynamic).

    The module is exported from a float32, contiguous copy on the CPU (the caller's module is not changed).
    Inputs are named ``depth``, outputs ``paf`` and ``heat``.
    """
    import copy

    import onnx

    model = copy.deepcopy(module).cpu().float().to(memory_format=torch.contiguous_format).eval()
    w, h = input_size
    example = torch.zeros(batch or 2, 1, h, w)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on the input checks (constant for a traced shape)
        axes = None if batch else {"depth": {0: "batch"}, "paf": {0: "batch"}, "heat": {0: "batch"}}
        torch.onnx.export(model, (example,), buffer,  # type: ignore[arg-type]  # a file object works
                          input_names=["depth"], output_names=["paf", "heat"], dynamic_axes=axes,
                          opset_version=_OPSET, dynamo=False)  # fmt: skip
    graph = onnx.load_from_string(buffer.getvalue())
    for key, value in (metadata or {}).items():
        graph.metadata_props.add(key=key, value=value)
    return graph.SerializeToString()


def export_model(module: nn.Module, info: ExportInfo, out: str | os.PathLike[str], fmt: str) -> Path:
    """Write ``module``'s inference graph with ``info`` as ``fmt`` (``onnx`` or ``openvino``) to ``out``.

    An OpenVINO export writes ``out`` (``.xml``) and its ``.bin`` weights beside it.

    Raises:
        DepthPoseError: an unknown format, a wrong suffix, an existing output, or OpenVINO not installed.
    """
    if fmt not in EXPORT_FORMATS:
        raise DepthPoseError(f"export format {fmt!r} is not one of {list(EXPORT_FORMATS)}")
    out = Path(out)
    if out.suffix != EXPORT_FORMATS[fmt]:
        raise DepthPoseError(f"an {fmt} export is written to a {EXPORT_FORMATS[fmt]} file, not {out.name}")
    if out.exists():
        raise DepthPoseError(f"{out} already exists")
    data = onnx_bytes(module, info.preprocessing.model_size, batch=info.batch, metadata=info.to_strings())
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "onnx":
        tmp = out.with_suffix(".onnx.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, out)
        return out
    try:
        import openvino
    except ImportError:
        raise DepthPoseError("an openvino export needs the openvino package: pip install openvino") from None
    model = openvino.Core().read_model(data)
    for key, value in info.to_strings().items():
        model.set_rt_info(value, ["depthpose", key[len(_PREFIX) :]])
    openvino.save_model(model, str(out), compress_to_fp16=False)
    return out


def read_export_info(path: str | os.PathLike[str]) -> ExportInfo:
    """The metadata of an exported ``.onnx`` or OpenVINO ``.xml`` file.

    Raises:
        CheckpointError: a missing, unreadable, corrupt or foreign file, or a suffix that is neither.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"exported model {path} does not exist")
    if path.suffix == ".onnx":
        import onnx

        try:
            graph = onnx.load(str(path), load_external_data=False)
        except Exception as err:  # protobuf raises its own error types: any of them means a corrupt file
            raise CheckpointError(f"{path} is not a readable ONNX file ({type(err).__name__}: {err})") from None
        entries = {p.key: p.value for p in graph.metadata_props}
    elif path.suffix == ".xml":
        try:
            import openvino
        except ImportError:
            raise CheckpointError(f"{path} is an OpenVINO model: pip install openvino to read it") from None
        try:
            model = openvino.Core().read_model(str(path))
        except RuntimeError as err:
            first = str(err).strip().splitlines()[-1] if str(err).strip() else ""
            raise CheckpointError(f"{path} is not a readable OpenVINO model: {first}") from None
        entries = {}
        if model.has_rt_info(["depthpose"]):
            for key in ExportInfo.__dataclass_fields__.keys() | {"format_version"}:
                if model.has_rt_info(["depthpose", key]):
                    entries[_PREFIX + key] = model.get_rt_info(["depthpose", key]).astype(str)
    else:
        raise CheckpointError(f"{path}: an exported model is a .onnx or OpenVINO .xml file")
    return ExportInfo.from_strings(entries, str(path))


def export_checkpoint(resolved: ResolvedModel, out: str | os.PathLike[str], fmt: str, *,
                      batch: int | None = None) -> Path:  # fmt: skip
    """Export a resolved checkpoint (:func:`~depthpose_core.weights.resolve_model`) with its metadata.

    Raises:
        DepthPoseError: see :func:`export_model`; the model is itself an exported file.
        CheckpointError: the network cannot be built.
    """
    if resolved.exported is not None:
        raise DepthPoseError(f"{resolved.exported} is already an exported file: export its project checkpoint")
    module = resolved.build()
    info = ExportInfo(resolved.model_name, dict(resolved.model_kwargs), resolved.preprocessing, KEYPOINT_FORMAT,
                      resolved.weights, resolved.trained, batch, int(getattr(module, "output_stride", 1)),
                      resolved.notice)  # fmt: skip
    return export_model(module, info, out, fmt)


def check_export(resolved: ResolvedModel, path: str | os.PathLike[str], *, tolerance: float = 1e-3) -> float:
    """Run the exported file (fp32: ONNX Runtime for ``.onnx``, OpenVINO for ``.xml``) and the checkpoint in
    eager PyTorch fp32 on the same input; the largest absolute difference of their maps.

    The input is a fixed synthetic depth image (a floor ramp with two person-sized blocks), normalised as the
    model expects.

    Raises:
        DepthPoseError: the maps differ by more than ``tolerance`` (the export is wrong), or the runtime that
            reads the file is not installed.
    """
    from depthpose_core.backends import open_backend
    from depthpose_core.weights import resolve_export

    info = read_export_info(path)
    w, h = resolved.preprocessing.model_size
    x = np.tile(np.linspace(0.3, 0.9, h, dtype=np.float32)[:, None], (1, w))
    x[h // 4 : 3 * h // 4, w // 5 : w // 3] = 0.45
    x[h // 3 : 5 * h // 6, w // 2 : 2 * w // 3] = 0.5
    batch = torch.from_numpy(np.stack([x, x[:, ::-1].copy()] * ((info.batch or 2) // 2 + 1))[: info.batch or 2, None])
    cpu = torch.device("cpu")
    eager = open_backend("torch", cpu, "fp32", module=resolved.build(), input_size=(w, h), tune_cpu=False)
    backend = "onnxruntime" if Path(path).suffix == ".onnx" else "openvino"
    exported = resolve_export(path)
    runner = open_backend(backend, cpu, "fp32", exported=exported.exported, input_size=(w, h))
    err = max(float((a - b).abs().max()) for a, b in zip(eager(batch), runner(batch)))
    if not err <= tolerance:
        raise DepthPoseError(f"the exported {path} gives maps {err:.3g} away from the checkpoint's (tolerance "
                             f"{tolerance}): the export is wrong")  # fmt: skip
    return err
