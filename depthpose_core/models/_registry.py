"""Model registry: builders register under their function name; ``build_model`` builds by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

__all__ = ["build_model", "list_models", "register_model"]

_Builder = TypeVar("_Builder", bound=Callable[..., nn.Module])

_builders: dict[str, Callable[..., nn.Module]] = {}


def register_model(builder: _Builder) -> _Builder:
    """Decorator registering ``builder`` under its ``__name__``.

    Raises:
        ValueError: a model of that name is already registered.
    """
    name = builder.__name__
    if name in _builders:
        raise ValueError(f"a model named {name!r} is already registered")
    _builders[name] = builder
    return builder


def list_models() -> list[str]:
    """Names of the registered models, sorted."""
    return sorted(_builders)


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model.

    Keyword arguments whose value is None are dropped, so unset command-line options never override the
    builder's defaults.

    Args:
        name: registered model name, one of :func:`list_models`.
        **kwargs: keyword arguments of the model's builder.

    Returns:
        The model, freshly initialised (load weights with :func:`~depthpose_core.models.load_weights`).

    Raises:
        ValueError: ``name`` is not registered.

    Example:
        >>> build_model("depthpose", with_sr_head=None).sr_head is None
        True
    """
    if name not in _builders:
        raise ValueError(f"unknown model {name!r}; valid models are: {', '.join(list_models())}")
    return _builders[name](**{key: value for key, value in kwargs.items() if value is not None})
