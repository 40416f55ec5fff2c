"""Putting weights into models: strict state-dict loading with readable errors, and the SR block's init.

No file I/O here: the caller reads the checkpoint (``torch.load(..., weights_only=True)``) and passes the
state dict in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from torch import Tensor, nn

from depthpose_core.errors import CheckpointError
from depthpose_core.models._blocks import SRBlock, SRPoseNetwork

__all__ = ["init_sr_orthogonal_", "load_weights"]

logger = logging.getLogger(__name__)

#: Key prefix added by ``nn.DataParallel`` and ``DistributedDataParallel``.
_WRAPPER_PREFIX = "module."
#: DepthPose's training-only head; the authors' released checkpoints do not contain it.
_SR_HEAD_PREFIX = "sr_head."
_MAX_LISTED = 5


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def load_weights(model: nn.Module, state_dict: Mapping[str, Tensor], *, source: str) -> tuple[str, ...]:
    """Load ``state_dict`` into ``model`` strictly: every key present, no extra key, every shape equal.

    Keys may carry the ``module.`` prefix of DataParallel/DDP checkpoints. One exception to strictness: the
    training-only SR head ``sr_head`` of DepthPose and DepthPose-Lite may be absent on either side. An
    authors' checkpoint (no ``sr_head.*`` keys) loads into a :class:`DepthPose` built with
    ``with_sr_head=True``, whose head keeps its initial values; a checkpoint trained with the head loads into
    an inference model without it, the head's tensors being dropped. Either case is reported through the
    return value and an INFO log record.

    Args:
        model: the network to fill, in place.
        state_dict: parameter name -> tensor; dtypes are cast to the model's.
        source: where the state dict came from (e.g. the checkpoint path), used in messages.

    Returns:
        The ``sr_head.*`` names that were not transferred (kept at init in the model, or dropped from the
        checkpoint); empty when everything was loaded.

    Raises:
        CheckpointError: naming ``source`` and up to five missing keys, unexpected keys and shape
            mismatches (name, expected shape, got shape) each; nothing is loaded then.
    """
    if not isinstance(state_dict, Mapping):
        raise CheckpointError(f"checkpoint {source} holds a {type(state_dict).__name__}, not a state dict")
    bad = [str(k) for k, v in state_dict.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if bad:
        raise CheckpointError(f"checkpoint {source} has entries that are not name -> tensor: {_listing(bad)}")
    state = dict(state_dict)
    if state and all(key.startswith(_WRAPPER_PREFIX) for key in state):
        state = {key[len(_WRAPPER_PREFIX) :]: value for key, value in state.items()}

    expected = model.state_dict()
    skipped: tuple[str, ...] = ()
    if isinstance(model, SRPoseNetwork):
        head_in_model = tuple(key for key in expected if key.startswith(_SR_HEAD_PREFIX))
        head_in_state = tuple(key for key in state if key.startswith(_SR_HEAD_PREFIX))
        if not (head_in_model and head_in_state):
            skipped = head_in_model or head_in_state
    state = {key: value for key, value in state.items() if key not in skipped}
    missing = [key for key in expected if key not in state and key not in skipped]
    unexpected = [key for key in state if key not in expected]
    mismatched = [
        f"{key} expected {tuple(tensor.shape)}, got {tuple(state[key].shape)}"
        for key, tensor in expected.items()
        if key in state and state[key].shape != tensor.shape
    ]
    problems = [
        f"{len(items)} {one if len(items) == 1 else many}: {_listing(items)}"
        for items, one, many in (
            (missing, "missing key", "missing keys"),
            (unexpected, "unexpected key", "unexpected keys"),
            (mismatched, "shape mismatch", "shape mismatches"),
        )
        if items
    ]
    if problems:
        raise CheckpointError(f"checkpoint {source} does not fit {type(model).__name__}: {'; '.join(problems)}")
    model.load_state_dict(state, strict=not skipped)  # with a skipped head, the checks above are the strict ones
    if skipped:
        logger.info("%s: training-only %s not transferred", source, ", ".join(skipped))
    return skipped


def init_sr_orthogonal_(model: nn.Module) -> None:
    """Orthogonal init of every SR block in ``model`` (paper, Sec. 3), biases zero.

    Covers the SR stage convs, the reconstruction head if present and, in DepthPose, the S1/S2 tap convs
    (as the authors' code does); gain sqrt(2) for convs followed by a ReLU, 1 otherwise.

    Raises:
        ValueError: ``model`` contains no SR block (e.g. RTPose).
    """
    blocks = [module for module in model.modules() if isinstance(module, SRBlock)]
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no super-resolution block to initialise")
    for block in blocks:
        block.reset_sr_parameters()
