"""Reading ground-truth and result JSON files with errors that name the file and the problem."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from depthpose_core.errors import EvaluationError

__all__ = ["load_json"]

# File kind -> (expected top-level Python type, its JSON name).
_TOP_LEVEL: dict[str, tuple[type, str]] = {
    "ground truth": (dict, "object"),
    "results": (list, "array"),
}
_JSON_TYPE_NAMES: dict[type, str] = {
    dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean",
    type(None): "null",
}  # fmt: skip


def load_json(path: str | os.PathLike[str], *, kind: str) -> Any:
    """Load a ground-truth or results JSON file.

    Args:
        path: the file to read (JSON text in UTF-8, or UTF-16/32 with a BOM).
        kind: ``"ground truth"`` (a COCO-style object) or ``"results"`` (a COCO results array).

    Returns:
        The parsed JSON: a dict for ground truth, a list for results. Contents are checked by
        :func:`depthpose_core.eval.pck.evaluate`, not here.

    Raises:
        EvaluationError: unknown ``kind``; the file is missing, unreadable, not UTF-8 or not valid JSON; or its
            top-level value has the wrong type. The message names the file.
    """
    if kind not in _TOP_LEVEL:
        raise EvaluationError(f"unknown file kind {kind!r}; expected one of {sorted(_TOP_LEVEL)}")
    expected, expected_name = _TOP_LEVEL[kind]
    file = Path(path)
    try:
        with file.open("rb") as stream:
            data = json.load(stream)
    except FileNotFoundError:
        raise EvaluationError(f"{kind} file {file} does not exist") from None
    except IsADirectoryError:
        raise EvaluationError(f"{kind} file {file} is a directory, not a JSON file") from None
    except OSError as err:
        raise EvaluationError(f"cannot read {kind} file {file}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise EvaluationError(
            f"{kind} file {file} cannot be decoded as text: {err.reason} at byte {err.start}"
        ) from None
    except json.JSONDecodeError as err:
        raise EvaluationError(
            f"{kind} file {file} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    if not isinstance(data, expected):
        found = _JSON_TYPE_NAMES.get(type(data), type(data).__name__)
        raise EvaluationError(f"{kind} file {file} must hold a JSON {expected_name} at the top level, got {found}")
    return data
