"""Errors raised by depthpose_core. Each message names the bad value, its source and, where it has one, its unit."""

from __future__ import annotations

__all__ = ["CheckpointError", "ConfigError", "DepthPoseError", "EvaluationError", "InputError"]


class DepthPoseError(Exception):
    """Base class of every error depthpose_core raises on purpose."""


class ConfigError(DepthPoseError, ValueError):
    """A setting, option or settings file has a bad value, type or key (also a ``ValueError``)."""


class CheckpointError(DepthPoseError):
    """A checkpoint file is missing, corrupt, hostile or does not fit the requested model."""


class InputError(DepthPoseError):
    """A depth frame has the wrong shape, dtype or content."""


class OutputError(DepthPoseError):
    """An output file or folder cannot be created or written (the message names the path and what it was for)."""


class EvaluationError(DepthPoseError):
    """Ground-truth or result files are malformed or do not fit each other."""
