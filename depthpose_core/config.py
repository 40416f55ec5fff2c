"""Run-time settings of the estimator (device, backend, precision, flip test, decoder) from a YAML file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from depthpose_core.backends import BACKENDS
from depthpose_core.decode import MODES, DecoderParams
from depthpose_core.errors import ConfigError
from depthpose_core.runtime import PRECISION_CHOICES

__all__ = ["RuntimeConfig", "load_runtime_config"]


@dataclass(frozen=True)
class RuntimeConfig:
    """Estimator settings; the defaults are those of ``config/inference.yaml``.

    Attributes:
        device: "auto", "cpu", "cuda" or "cuda:N".
        backend: "auto", "torch", "onnxruntime" or "openvino" (:mod:`depthpose_core.backends`).
        precision: "auto", "fp32", "fp16" or "bf16".
        flip_test: run the mirrored frame too and average the maps.
        decoder_mode: "fast" or "reference".
        decoder: decoder thresholds.
    """

    device: str = "auto"
    backend: str = "auto"
    precision: str = "auto"
    flip_test: bool = True
    decoder_mode: str = "fast"
    decoder: DecoderParams = field(default_factory=DecoderParams)

    def estimator_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~depthpose_core.inference.PoseEstimator`."""
        return {"device": self.device, "backend": self.backend, "precision": self.precision,
                "flip_test": self.flip_test,
                "decoder_mode": self.decoder_mode, "decoder_params": self.decoder}  # fmt: skip


def _expect(path: Path, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{path}: {key} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def load_runtime_config(path: str | os.PathLike[str]) -> RuntimeConfig:
    """Read a settings file such as ``config/inference.yaml``; absent keys keep their defaults.

    Raises:
        ConfigError: missing or invalid YAML, unknown keys, or values of the wrong type or range.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read settings file {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"settings file {path} is not valid YAML: {err}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"settings file {path} must hold a mapping, got {type(data).__name__}")
    unknown = set(data) - {"device", "backend", "precision", "flip_test", "decoder"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}")
    decoder = dict(_expect(path, "decoder", data.get("decoder", {}), dict))
    mode = _expect(path, "decoder.mode", decoder.pop("mode", "fast"), str)
    if mode not in MODES:
        raise ConfigError(f"{path}: decoder.mode must be one of {list(MODES)}, got {mode!r}")
    names = {f.name for f in fields(DecoderParams)}
    if set(decoder) - names:
        raise ConfigError(f"{path}: unknown decoder keys {sorted(set(decoder) - names)}")
    try:
        params = DecoderParams(**decoder)
    except ValueError as err:
        raise ConfigError(f"{path}: {err}") from None
    backend = _expect(path, "backend", data.get("backend", "auto"), str)
    if backend not in BACKENDS:
        raise ConfigError(f"{path}: backend must be one of {list(BACKENDS)}, got {backend!r}")
    precision = _expect(path, "precision", data.get("precision", "auto"), str)
    if precision not in PRECISION_CHOICES:
        raise ConfigError(f"{path}: precision must be one of {list(PRECISION_CHOICES)}, got {precision!r}")
    return RuntimeConfig(
        device=_expect(path, "device", data.get("device", "auto"), str),
        backend=backend,
        precision=precision,
        flip_test=_expect(path, "flip_test", data.get("flip_test", True), bool),
        decoder_mode=mode,
        decoder=params,
    )
