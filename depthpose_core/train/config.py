"""Training configuration: one YAML file per run (see ``config/train/*.yaml``, every value documented there).

A file may start from another with ``base: other.yaml`` and override parts of it (nested mappings merge, except
``model.kwargs``, which a file replaces whole).
Unknown keys are an error, so a misspelt option never silently keeps its default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from depthpose_core.data import AugmentParams
from depthpose_core.errors import DepthPoseError
from depthpose_core.preprocess import DOWNSAMPLING

__all__ = ["DataConfig", "LossConfig", "ModelConfig", "OptimConfig", "TrainConfig", "load_train_config"]


@dataclass(frozen=True)
class ModelConfig:
    """Which network: a registry name and builder arguments, the input pipeline, and optional initial weights.

    Attributes:
        name: ``models.list_models()`` name (depthpose, depthpose_lite, rtpose_1ch, sr, sr_rtpose).
        kwargs: builder keyword arguments (e.g. ``{width: 0.125}``).
        lowres: (width, height) the frames are reduced to at ingress.
        model_size: (width, height) the network sees (the low resolution, or 640x480 for RTPose on upsampled LR).
        near_mm, far_mm: depth mapping to [0, 1].
        downsampling: how frames are reduced to ``lowres`` (``preprocess.DOWNSAMPLING``: bicubic, the paper's;
            valid_area, which keeps invalid readings out of the depth; valid_area_filled, which also fills empty
            cells from their farthest neighbour).
        init: optional state dict to start from: ``rtpose_coco`` (a user-supplied RTPose COCO file, see
            ``train.init``), or a project checkpoint to fine-tune (e.g. a trained SR network for SR+RTPose).
        init_kind: ``rtpose_coco`` or ``checkpoint``.
        init_into: submodule a ``checkpoint`` init is loaded into (e.g. ``sr`` for SR+RTPose from a trained SR
            network); empty = the whole model.
        freeze: parameter name prefixes kept frozen (e.g. ``[sr.]`` for SR+RTPose with a fixed SR network).
    """

    name: str = "depthpose"
    kwargs: dict[str, Any] = field(default_factory=dict)
    lowres: tuple[int, int] = (64, 48)
    model_size: tuple[int, int] | None = None
    near_mm: float = 500.0
    far_mm: float = 6000.0
    downsampling: str = "bicubic"
    init: str | None = None
    init_kind: str = "rtpose_coco"
    init_into: str = ""
    freeze: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataConfig:
    """Where the data is.

    Attributes:
        train, val: COCO-style label files (``depthpose synth``, pseudo labels, MVOR-style).
        images_root: folder the images' ``file_name`` are relative to; None = each label file's folder.
        mvor_layout: the label files name MVOR colour images (``dayD/camC/color/...``): read the depth frames.
        val_images: validate on at most this many images.
        workers: DataLoader worker processes.
        augment: augmentation ranges (see ``data.AugmentParams``); ``null`` = no augmentation.
        heatmap_sigma: Gaussian standard deviation of the heatmap targets, pixels of a 640-wide frame (OpenPose's 7).
    """

    train: str = ""
    val: str | None = None
    images_root: str | None = None
    mvor_layout: bool = False
    val_images: int = 200
    workers: int = 2
    augment: AugmentParams | None = field(default_factory=AugmentParams)
    heatmap_sigma: float = 7.0


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser and schedule (paper defaults: SGD, momentum 0.9, lr 0.001, x0.1 after 12k of 32k, batch 12).

    Attributes:
        optimizer: ``sgd`` or ``adam``.
        lr, momentum, weight_decay: optimiser settings (momentum is Adam's beta1 for adam).
        iterations: total optimiser steps.
        lr_steps: iterations after which the learning rate is multiplied by ``gamma``.
        gamma: learning-rate decay factor.
        warmup: iterations of linear learning-rate warm-up from 0 (0 = none).
        batch_size: samples per step (over all processes).
        grad_clip: clip the gradient norm to this (0 = no clipping).
    """

    optimizer: str = "sgd"
    lr: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 0.0
    iterations: int = 32000
    lr_steps: tuple[int, ...] = (12000,)
    gamma: float = 0.1
    warmup: int = 0
    batch_size: int = 12
    grad_clip: float = 0.0


@dataclass(frozen=True)
class LossConfig:
    """Loss terms: ``pose`` = L_P (every stage's PAF and heatmap, masked), ``sr`` = L_HR; weights equal in the
    paper. Both are Euclidean losses: half the sum of squared errors per sample."""

    pose: float = 1.0
    sr: float = 1.0


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run.

    Attributes:
        out_dir: checkpoints, logs and plots go here.
        seed: seed of initialisation, data order and augmentation.
        device: auto, cpu, cuda or cuda:N (under torchrun each process takes its LOCAL_RANK's GPU).
        precision: fp32, or bf16/fp16 autocast (fp16 uses a gradient scaler; on the CPU only bf16).
        channels_last: use the channels-last memory layout (faster convolutions on CPUs and tensor cores).
        val_every, checkpoint_every, log_every: iterations between validations, checkpoints and log lines.
        decoder_mode: decoder of the validation (fast or reference).
        flip_test: validation with the flip test.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    out_dir: str = "runs/train"
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    channels_last: bool = False
    val_every: int = 1000
    checkpoint_every: int = 1000
    log_every: int = 20
    decoder_mode: str = "fast"
    flip_test: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (for checkpoints and logs)."""
        return _as_dict(self)


def _as_dict(obj: Any) -> Any:
    if is_dataclass(obj):
        return {f.name: _as_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return [_as_dict(v) for v in obj]
    return obj


def _build(cls: type, data: Any, where: str) -> Any:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise DepthPoseError(f"{where} must be a mapping, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise DepthPoseError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")
    values = {}
    for name, value in data.items():
        kind = known[name].type
        if name in ("model", "data", "optim", "loss", "augment") and value is not None:
            sub = {"model": ModelConfig, "data": DataConfig, "optim": OptimConfig, "loss": LossConfig,
                   "augment": AugmentParams}[name]  # fmt: skip
            values[name] = _build(sub, value, f"{where}.{name}")
        elif isinstance(value, list) and "tuple" in str(kind):
            values[name] = tuple(value)
        else:
            values[name] = value
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise DepthPoseError(f"{where}: {err}") from None


def _merge(base: dict[str, Any], top: dict[str, Any], where: str = "") -> dict[str, Any]:
    """``top`` over ``base``, mapping by mapping; ``model.kwargs`` is replaced whole (builder arguments belong to
    one architecture: a file that changes ``model.name`` must not inherit the base model's arguments)."""
    out = dict(base)
    for key, value in top.items():
        path = f"{where}{key}"
        nested = isinstance(value, dict) and isinstance(out.get(key), dict) and path != "model.kwargs"
        out[key] = _merge(out[key], value, f"{path}.") if nested else value
    return out


def _read_yaml(path: Path, depth: int = 0) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise DepthPoseError(f"cannot read training config {path}: {err}") from None
    if not isinstance(data, dict):
        raise DepthPoseError(f"training config {path} must hold a mapping")
    base = data.pop("base", None)
    if base is None:
        return data
    if depth > 8:
        raise DepthPoseError(f"training config {path}: 'base' files nest too deep (a cycle?)")
    return _merge(_read_yaml(path.parent / base, depth + 1), data)


def load_train_config(path: str | os.PathLike[str], **overrides: Any) -> TrainConfig:
    """Read a training YAML file; ``overrides`` replace top-level values (e.g. ``out_dir``).

    Relative data paths are taken relative to the YAML file's folder.

    Raises:
        DepthPoseError: unreadable YAML, unknown keys, wrong types.
    """
    path = Path(path)
    data = _read_yaml(path)
    data.update({k: v for k, v in overrides.items() if v is not None})
    config = _build(TrainConfig, data, str(path))
    base = path.parent
    d = config.data

    def rel(p: str | None) -> str | None:
        return p if not p or Path(p).is_absolute() else str(base / p)

    if config.model.downsampling not in DOWNSAMPLING:
        raise DepthPoseError(f"training config {path}: model.downsampling {config.model.downsampling!r} is not one "
                             f"of {sorted(DOWNSAMPLING)}")  # fmt: skip
    data_cfg = replace(d, train=rel(d.train), val=rel(d.val), images_root=rel(d.images_root))
    return replace(config, data=data_cfg, model=replace(config.model, init=rel(config.model.init)))
