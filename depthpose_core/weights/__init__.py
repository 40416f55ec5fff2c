"""Weights: the ones that ship with depthpose (``registry``; see MODEL_CARD.md in this folder) and the one
resolver of a ``model`` value (``resolve``) that every entry point calls.

The shipped demo weights are trained on synthetic data only (``depthpose synth``): they show the pipeline working
out of the box; they are not a model for real operating rooms. Train on your own pseudo-labelled recordings.
"""

from __future__ import annotations

from depthpose_core.weights.registry import DEFAULT_WEIGHTS, SHIPPED, ShippedWeights, shipped_weights
from depthpose_core.weights.resolve import (
    UNTRAINED,
    UNTRAINED_NOTICE,
    ModelRequest,
    ResolvedModel,
    resolve_checkpoint,
    resolve_export,
    resolve_model,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "SHIPPED",
    "UNTRAINED",
    "UNTRAINED_NOTICE",
    "ModelRequest",
    "ResolvedModel",
    "ShippedWeights",
    "resolve_checkpoint",
    "resolve_export",
    "resolve_model",
    "shipped_weights",
]
