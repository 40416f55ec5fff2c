"""The one place a ``model`` value becomes weights: every entry point (node, CLI, replay, evaluation, live demo)
and :meth:`PoseEstimator.from_checkpoint <depthpose_core.inference.PoseEstimator.from_checkpoint>` go through
here, so the rules for shipped, plain and project checkpoints, the privacy limit and what the user is told are
written once.

A ``model`` value is ``""`` (the default shipped weights), the name of a shipped entry
(:data:`~depthpose_core.weights.registry.SHIPPED`), ``"untrained"`` (a seeded random initialisation, for
pipeline checks), a checkpoint file (a project checkpoint, which records its architecture and preprocessing:
they cannot be overridden; or the authors' plain state dict, which needs the architecture and low resolution
named explicitly), or a file from ``depthpose export`` (``.onnx`` or OpenVINO ``.xml``, which records the same
metadata as a project checkpoint and runs in the onnxruntime or openvino backend).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from depthpose_core.checkpoint import KEYPOINT_FORMAT, Checkpoint, load_checkpoint
from depthpose_core.errors import CheckpointError, DepthPoseError
from depthpose_core.models import build_model, load_weights
from depthpose_core.preprocess import Preprocessing, check_privacy
from depthpose_core.weights.registry import DEFAULT_WEIGHTS, SHIPPED

__all__ = [
    "UNTRAINED",
    "UNTRAINED_NOTICE",
    "ModelRequest",
    "ResolvedModel",
    "resolve_checkpoint",
    "resolve_export",
    "resolve_model",
]

#: The ``model`` value of a randomly initialised network.
UNTRAINED = "untrained"
#: What every entry point tells the user when the network is untrained.
UNTRAINED_NOTICE = ("no trained weights are loaded: this runs a RANDOMLY INITIALISED network, so its skeletons are "
                    "meaningless (usually none); give a checkpoint as the model to use trained weights")  # fmt: skip
_UNTRAINED_SOURCE = "random initialisation (untrained)"
_DEFAULT_MODEL = "depthpose"
_PLAIN_HELP = ("name its architecture (e.g. depthpose) and the low resolution it was trained for (e.g. 64x48): "
               "node parameters model_name, input_width and input_height; command-line options --model-name and "
               "--lowres")  # fmt: skip


@dataclass(frozen=True)
class ModelRequest:
    """A model as a user names it, before anything is loaded.

    Attributes:
        model: ``""`` (the default shipped weights), a shipped entry's name, ``"untrained"``, or a checkpoint path.
        model_name: architecture of a plain state dict or of the untrained network (None: the checkpoint's, or
            ``depthpose``); for a project checkpoint it must match the recorded one.
        lowres_size: (width, height) in pixels the frame is reduced to, for a plain state dict or the untrained
            network (None: 64x48 for the untrained network; required for a plain state dict).
        near_mm, far_mm: depth in mm mapped to 0 and 1, for a plain state dict or the untrained network
            (None: 500 and 6000 mm).
        seed: seed of the untrained network's initialisation.
    """

    model: str = ""
    model_name: str | None = None
    lowres_size: tuple[int, int] | None = None
    near_mm: float | None = None
    far_mm: float | None = None
    seed: int = 0

    def preprocessing_options(self) -> dict[str, Any]:
        """The preprocessing fields this request sets (empty when it sets none)."""
        size = self.lowres_size
        given = {"lowres_size": size, "model_size": size, "near_mm": self.near_mm, "far_mm": self.far_mm}
        return {k: v for k, v in given.items() if v is not None}


@dataclass(frozen=True)
class ResolvedModel:
    """Everything needed to build the network, known before building it.

    Attributes:
        model_name: registry name of the architecture; ``model_kwargs``: its builder's arguments.
        preprocessing: the ingress the weights expect.
        state_dict: the weights; None for the untrained network (built with ``seed``).
        weights: where the weights come from (a path, or "random initialisation (untrained)"), for reports.
        notice: what to tell the user before running (shipped demo weights, untrained network), or None.
        exported: an exported ``.onnx`` / ``.xml`` file holding the network (no ``state_dict`` then), or None.
        exported_trained, exported_stride: whether the exported file's weights are trained; its output stride.
    """

    model_name: str
    preprocessing: Preprocessing
    weights: str
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    state_dict: Mapping[str, Tensor] | None = None
    notice: str | None = None
    seed: int = 0
    exported: str | None = None
    exported_trained: bool = True
    exported_stride: int = 1

    @property
    def trained(self) -> bool:
        """False for a random initialisation."""
        return self.exported_trained if self.exported is not None else self.state_dict is not None

    def build(self) -> nn.Module:
        """The network with its weights loaded strictly (or seeded random ones), on the CPU.

        Raises:
            CheckpointError: the architecture cannot be built with the recorded arguments, the weights do
                not fit it (missing, unexpected or mis-shaped keys), or the model is an exported file.
        """
        if self.exported is not None:
            raise CheckpointError(f"{self.exported} is an exported network: it runs in the onnxruntime or openvino "
                                  "backend; PyTorch needs the project checkpoint it was exported from")  # fmt: skip
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                model = build_model(self.model_name, **self.model_kwargs)
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{self.weights}: cannot build model {self.model_name!r}: {err}") from None
        if self.state_dict is not None:
            load_weights(model, self.state_dict, source=self.weights)
        return model


def resolve_checkpoint(
    checkpoint: str | os.PathLike[str] | Checkpoint, *, model_name: str | None = None,
    preprocessing: Preprocessing | None = None, notice: str | None = None,
) -> ResolvedModel:  # fmt: skip
    """A checkpoint file (or one already read with :func:`load_checkpoint`) with the rules for its kind.

    A project checkpoint carries its model name and preprocessing: a different ``model_name`` or
    ``preprocessing`` is refused, so that inference always sees the input the weights were trained on. A plain
    state dict needs both given.

    Raises:
        CheckpointError: unreadable, hostile or malformed file, an unknown keypoint format, an override of a
            project checkpoint's model or preprocessing, or missing options for a plain state dict.
    """
    ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
    where = ckpt.source or "checkpoint"
    if ckpt.keypoint_format != KEYPOINT_FORMAT:
        raise CheckpointError(f"checkpoint {where} has keypoint format {ckpt.keypoint_format!r}; this version "
                              f"reads {KEYPOINT_FORMAT!r}")  # fmt: skip
    if ckpt.is_plain:
        if model_name is None or preprocessing is None:
            raise CheckpointError(f"checkpoint {where} is a plain state dict without metadata: {_PLAIN_HELP}")
        return ResolvedModel(model_name, preprocessing, where, state_dict=ckpt.state_dict, notice=notice)
    assert ckpt.model_name is not None and ckpt.preprocessing is not None  # a project checkpoint records both
    if model_name and model_name != ckpt.model_name:
        raise CheckpointError(f"checkpoint {where} holds model {ckpt.model_name!r}, not {model_name!r}")
    if preprocessing is not None and preprocessing != ckpt.preprocessing:
        raise CheckpointError(
            f"checkpoint {where} records the preprocessing its weights were trained with ({ckpt.preprocessing}); "
            "it cannot be overridden (the input size and depth mapping options are for plain state dicts only)"
        )
    return ResolvedModel(ckpt.model_name, ckpt.preprocessing, where, model_kwargs=ckpt.model_kwargs,
                         state_dict=ckpt.state_dict, notice=notice)  # fmt: skip


def resolve_model(request: ModelRequest | str = "", *, privacy: bool = True) -> ResolvedModel:
    """What ``request`` names (see the module docstring), checked against the privacy limit.

    Args:
        request: the request, or just its ``model`` value.
        privacy: refuse a low resolution above :data:`~depthpose_core.preprocess.PRIVACY_MAX_SIZE` (every
            deployed tool; only research evaluation of the full-resolution baselines turns it off).

    Raises:
        CheckpointError: see :func:`resolve_checkpoint`; a missing shipped file.
        DepthPoseError: inconsistent preprocessing options, or a low resolution beyond the privacy limit.
    """
    if isinstance(request, str):
        request = ModelRequest(model=request)
    options = request.preprocessing_options()
    try:
        if request.model == UNTRAINED:
            resolved = ResolvedModel(request.model_name or _DEFAULT_MODEL, Preprocessing().with_updates(**options),
                                     _UNTRAINED_SOURCE, notice=UNTRAINED_NOTICE, seed=request.seed)  # fmt: skip
        else:
            entry = SHIPPED.get(request.model or DEFAULT_WEIGHTS)
            path = entry.path if entry is not None else request.model
            if entry is None and os.path.splitext(path)[1] in (".onnx", ".xml"):
                return _checked(resolve_export(path, model_name=request.model_name, options=options), privacy)
            ckpt = load_checkpoint(path)
            if ckpt.is_plain:
                pre = Preprocessing().with_updates(**options) if request.lowres_size else None
            else:
                pre = ckpt.preprocessing.with_updates(**options) if ckpt.preprocessing and options else None
            resolved = resolve_checkpoint(ckpt, model_name=request.model_name, preprocessing=pre,
                                          notice=entry.notice if entry is not None else None)  # fmt: skip
    except ValueError as err:  # Preprocessing's own checks (near < far, sizes)
        raise DepthPoseError(f"invalid preprocessing options {options}: {err}") from None
    return _checked(resolved, privacy)


def resolve_export(path: str | os.PathLike[str], *, model_name: str | None = None,
                   options: Mapping[str, Any] | None = None) -> ResolvedModel:  # fmt: skip
    """An exported file (``depthpose export``), with a project checkpoint's rules: its recorded model and
    preprocessing cannot be overridden.

    Raises:
        CheckpointError: a missing, corrupt or foreign file; a different ``model_name``; preprocessing options.
    """
    from depthpose_core.backends.export import read_export_info

    info = read_export_info(path)
    if model_name and model_name != info.model_name:
        raise CheckpointError(f"exported model {path} holds model {info.model_name!r}, not {model_name!r}")
    if options and info.preprocessing.with_updates(**options) != info.preprocessing:
        raise CheckpointError(f"exported model {path} records the preprocessing its weights were trained with "
                              f"({info.preprocessing}); it cannot be overridden")  # fmt: skip
    return ResolvedModel(info.model_name, info.preprocessing, str(path), model_kwargs=info.model_kwargs,
                         notice=info.notice, exported=str(path), exported_trained=info.trained,
                         exported_stride=info.output_stride)  # fmt: skip


def _checked(resolved: ResolvedModel, privacy: bool) -> ResolvedModel:
    if privacy:
        check_privacy(resolved.preprocessing, f"model {resolved.weights}")
    return resolved
