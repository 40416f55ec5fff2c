"""Checkpoint files: the project format with its metadata, and the authors' plain state dicts.

Every file is read with ``torch.load(weights_only=True)``: a file that holds anything but tensors and plain
containers is refused before any of its code could run.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from depthpose_core.errors import CheckpointError
from depthpose_core.preprocess import Preprocessing

__all__ = ["CHECKPOINT_FORMAT", "KEYPOINT_FORMAT", "Checkpoint", "load_checkpoint", "save_checkpoint"]

#: Marker and version of the project checkpoint format.
CHECKPOINT_FORMAT = "depthpose-checkpoint/1"
#: Joint order of the heatmaps of every checkpoint this version writes and reads (``keypoints.NET_JOINTS``).
KEYPOINT_FORMAT = "openpose-coco18"


@dataclass
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        state_dict: parameter name -> tensor.
        model_name: registry name of the architecture (``models.list_models()``), or None for a plain state dict.
        model_kwargs: builder keyword arguments, e.g. ``{}`` for DepthPose.
        preprocessing: the input pipeline the weights were trained with, or None for a plain state dict.
        keypoint_format: joint order of the heatmaps; always ``"openpose-coco18"`` today.
        meta: free-form metadata (training iteration, dataset, metrics, ...).
        source: the file it came from.
    """

    state_dict: dict[str, torch.Tensor]
    model_name: str | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    preprocessing: Preprocessing | None = None
    keypoint_format: str = KEYPOINT_FORMAT
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def is_plain(self) -> bool:
        """True for a bare state dict (e.g. the authors' released files) without the project metadata."""
        return self.model_name is None


def save_checkpoint(
    path: str | os.PathLike[str],
    state_dict: Mapping[str, torch.Tensor],
    *,
    model_name: str,
    preprocessing: Preprocessing,
    model_kwargs: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write a project checkpoint atomically (temporary file + rename) and return its path."""
    path = Path(path)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model": model_name,
        "model_kwargs": dict(model_kwargs or {}),
        "preprocessing": preprocessing.to_dict(),
        "keypoint_format": KEYPOINT_FORMAT,
        "meta": dict(meta or {}),
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def _unpickler_reason(err: pickle.UnpicklingError) -> tuple[str | None, str]:
    """(refused global or None, torch's reason) for why the safe unpickler stopped, without torch's advice
    to turn safe loading off or to allow-list the object."""
    text = str(err)
    found = re.search(r"GLOBAL\s+([\w.]+)", text)
    if found:
        return found.group(1), f"global {found.group(1)}"
    reason = text.split("WeightsUnpickler error:", 1)[1] if "WeightsUnpickler error:" in text else text
    first = next((line.strip() for line in reason.splitlines() if line.strip()), type(err).__name__)
    return None, first.split(". ")[0].rstrip(".")


def _read(path: Path) -> Any:
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist or is not a file")
    try:
        with warnings.catch_warnings():  # torch warns about legacy or odd files; the error below says it all
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        refused, reason = _unpickler_reason(err)
        if refused is not None:
            raise CheckpointError(
                f"checkpoint {path} was refused: it holds Python objects that are not plain tensors or containers "
                f"(it asks for the {reason}); nothing from it was executed. Only load checkpoints you trust, and keep "
                "safe loading on: re-save the file's state dict with torch.save from a trusted environment"
            ) from None
        raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file (unreadable pickle data: "
                              f"{reason})") from None  # fmt: skip
    except Exception as err:  # noqa: BLE001 - torch.load fails on corrupt bytes in many ways (struct.error, ...)
        raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file: {err!r}") from None


def _plain_dict(obj: Any, path: Path, what: str) -> dict[str, Any]:
    """``obj`` as a dict when it is a mapping or absent (None), else a CheckpointError naming ``what``."""
    if obj is None:
        return {}
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"checkpoint {path}: {what} must be a mapping, got {type(obj).__name__}")
    bad = [k for k in obj if not isinstance(k, str)]
    if bad:
        raise CheckpointError(f"checkpoint {path}: {what} has keys that are not strings, e.g. {bad[:3]!r}")
    return dict(obj)


def _tensor_dict(obj: Any, path: Path, what: str) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"checkpoint {path}: {what} is not a non-empty mapping")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"checkpoint {path}: {what} has non-tensor entries, e.g. {bad[:3]}")
    return dict(obj)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Load a project checkpoint or a plain state dict (such as ``depthpose_64x48.pth``).

    Raises:
        CheckpointError: the file is missing, corrupt, hostile (objects beyond tensors), or malformed.
    """
    path = Path(path)
    obj = _read(path)
    if isinstance(obj, Mapping) and obj.get("format") == CHECKPOINT_FORMAT:
        missing = {"model", "preprocessing", "state_dict"} - set(obj)
        if missing:
            raise CheckpointError(f"checkpoint {path} lacks {sorted(missing)}")
        try:
            pre = Preprocessing.from_dict(_plain_dict(obj["preprocessing"], path, "preprocessing"))
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"checkpoint {path}: bad preprocessing metadata: {err}") from None
        if not isinstance(obj["model"], str):
            raise CheckpointError(f"checkpoint {path}: model name must be a string, got {obj['model']!r}")
        return Checkpoint(
            state_dict=_tensor_dict(obj["state_dict"], path, "state_dict"),
            model_name=obj["model"],
            model_kwargs=_plain_dict(obj.get("model_kwargs"), path, "model_kwargs"),
            preprocessing=pre,
            keypoint_format=str(obj.get("keypoint_format", KEYPOINT_FORMAT)),
            meta=_plain_dict(obj.get("meta"), path, "meta"),
            source=str(path),
        )
    if isinstance(obj, Mapping) and "format" in obj:
        raise CheckpointError(f"checkpoint {path} has unsupported format {obj['format']!r}; this version reads "
                              f"{CHECKPOINT_FORMAT!r}")
    return Checkpoint(state_dict=_tensor_dict(obj, path, "the file"), source=str(path))
