"""Initialising the pose network from RTPose (OpenPose) COCO weights that the user supplies, as the paper did.

The file is a state dict of the colour RTPose in the OpenPose-PyTorch naming (``model0.*`` VGG front with a
3-channel first conv, ``model1_1/2.*`` .. ``model6_1/2.*`` stages on 185 channels); it is read with
``weights_only=True`` and never downloaded by this project. Layers of the same shape are copied. Layers that
read more input channels are filled as the paper says, with RTPose's weights repeated and slightly perturbed:

- the first conv of the front: RTPose's 3 colour channels summed for a 1-channel depth input (RTPose-1ch), or
  tiled over DepthPose's 64 SR feature channels and scaled by 3/64 (so activations keep their size);
- the refinement stages' first conv (249 channels in DepthPose: PAF 38, heatmap 19, F 128, S1 32, S2 32):
  RTPose's 185 channels copied, the 64 S1/S2 channels given the weights of F's first 64 channels, halved.

Every repeated weight gets Gaussian noise of 1 % of the layer's weight standard deviation. Layers RTPose has no
counterpart for (the SR block, and stages 5-6 missing in DepthPose's 4) keep their own initialisation.
"""

from __future__ import annotations

import logging
import os
import re

import torch
from torch import nn

from depthpose_core.checkpoint import load_checkpoint
from depthpose_core.errors import CheckpointError
from depthpose_core.keypoints import NUM_HEATMAPS, NUM_PAFS

__all__ = ["init_from_rtpose_coco"]

logger = logging.getLogger(__name__)

_MAPS = NUM_PAFS + NUM_HEATMAPS  # 57 channels of PAF and heatmap in a refinement input
_RTPOSE_REFINE_IN = _MAPS + 128
_NOISE = 0.01
_FIRST_REFINE_CONV = re.compile(r"model([2-9])_[12]\.0\.weight$")


def _perturbed(t: torch.Tensor, scale_from: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return t + torch.randn(t.shape, generator=g) * (_NOISE * float(scale_from.std()))


def init_from_rtpose_coco(model: nn.Module, path: str | os.PathLike[str], *, seed: int = 0) -> dict[str, int]:
    """Fill ``model``'s pose network (RTPose-1ch, DepthPose, SR+RTPose's ``pose``) from RTPose COCO weights.

    Returns:
        Counts of ``copied``, ``adapted`` and ``kept`` (left at their initialisation) tensors.

    Raises:
        CheckpointError: unreadable file, or a layer whose shape cannot be adapted (e.g. a width-reduced model).
    """
    source = load_checkpoint(path).state_dict
    g = torch.Generator().manual_seed(seed)
    target = model.state_dict()
    prefix = "pose." if any(k.startswith("pose.") for k in target) else ""
    counts = {"copied": 0, "adapted": 0, "kept": 0}
    new_state = {}
    for name, tensor in target.items():
        key = name[len(prefix) :] if prefix and name.startswith(prefix) else name
        old = source.get(key) if (not prefix or name.startswith(prefix)) else None
        if old is None:
            counts["kept"] += 1
            continue
        old = old.to(tensor.dtype)
        if old.shape == tensor.shape:
            new_state[name] = old.clone()
            counts["copied"] += 1
            continue
        same_out = old.dim() == 4 and old.shape[0] == tensor.shape[0] and old.shape[2:] == tensor.shape[2:]
        if key == "model0.0.weight" and same_out and old.shape[1] == 3:
            if tensor.shape[1] == 1:
                new_state[name] = old.sum(dim=1, keepdim=True)
            else:
                reps = -(-tensor.shape[1] // 3)
                tiled = old.repeat(1, reps, 1, 1)[:, : tensor.shape[1]] * (3.0 / tensor.shape[1])
                new_state[name] = _perturbed(tiled, tiled, g)
        elif _FIRST_REFINE_CONV.match(key) and same_out and old.shape[1] == _RTPOSE_REFINE_IN:
            extra = tensor.shape[1] - _RTPOSE_REFINE_IN
            if not 0 < extra <= 128:
                raise CheckpointError(f"{path}: cannot adapt {key} from {tuple(old.shape)} to {tuple(tensor.shape)}")
            repeated = old[:, _MAPS : _MAPS + extra] * 0.5
            new_state[name] = torch.cat([old, _perturbed(repeated, old, g)], dim=1)
        else:
            raise CheckpointError(f"{path}: {key} has shape {tuple(old.shape)}, the model needs {tuple(tensor.shape)} "
                                  "(RTPose COCO weights fit full-width models only)")  # fmt: skip
        counts["adapted"] += 1
    model.load_state_dict({**target, **new_state})
    logger.info("RTPose COCO init from %s: %s", path, counts)
    return counts
