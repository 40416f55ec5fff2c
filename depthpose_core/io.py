"""Reading files with errors that name the file and the problem: depth frames, colour frames, JSON label and
result files. Every module that reads one of these comes here."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from depthpose_core.errors import EvaluationError, InputError, OutputError

__all__ = ["check_writable", "image_path", "load_json", "read_colour", "read_depth", "write_image", "write_text"]

# File kind -> (expected top-level Python type, its JSON name).
_TOP_LEVEL: dict[str, tuple[type | tuple[type, ...], str]] = {
    "ground truth": (dict, "object"),
    "results": (list, "array"),
    "results or labels": ((list, dict), "array (results) or object (a label file)"),
}
_JSON_TYPE_NAMES: dict[type, str] = {
    dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean",
    type(None): "null",
}  # fmt: skip


def read_depth(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a depth frame.

    Args:
        path: a 16-bit PNG (uint16 mm), an 8-bit PNG (already normalised to 0-255), or a ``.npy`` array (uint16
            mm, or float metres). 0, NaN and inf mean "no reading" (see :func:`preprocess.normalise_depth`).

    Returns:
        (H, W) array in the file's units.

    Raises:
        InputError: the file is missing, unreadable, or not a single-channel image.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"depth file {path} does not exist")
    if path.suffix.lower() == ".npy":
        try:
            depth = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise InputError(f"depth file {path} is not a readable .npy array: {err}") from None
    else:
        depth = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if depth is None:
            raise InputError(f"depth file {path} is not a readable image")
    if depth.ndim != 2:
        raise InputError(f"depth file {path} must hold a single-channel image, got shape {depth.shape}")
    return depth


def read_colour(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a colour frame (PNG or JPEG) as ``(H, W, 3)`` uint8 RGB.

    Raises:
        InputError: the file is missing or not an image.
    """
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"colour image {path} is missing or unreadable")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def image_path(root: str | os.PathLike[str], entry: dict[str, Any], file_name: str | None = None) -> Path:
    """Where the file of a COCO-style image entry is: ``root / file_name`` (default: the entry's ``file_name``).

    Raises:
        InputError: the entry has no file name.
    """
    name = file_name if file_name is not None else entry.get("file_name")
    if not isinstance(name, str) or not name:
        raise InputError(f"image entry {entry.get('id', '?')!r} has no file_name")
    return Path(root) / name


def load_json(path: str | os.PathLike[str], *, kind: str) -> Any:
    """Load a ground-truth or results JSON file.

    Args:
        path: the file to read (JSON text in UTF-8, or UTF-16/32 with a BOM).
        kind: ``"ground truth"`` (a COCO-style object), ``"results"`` (a COCO results array) or ``"results or
            labels"`` (either).

    Returns:
        The parsed JSON: a dict for ground truth, a list for results. Contents are checked by
        :func:`depthpose_core.eval.pck.evaluate`, not here.

    Raises:
        EvaluationError: unknown ``kind``; the file is missing, unreadable, not UTF-8, not valid JSON or nested
            too deeply to parse; or its top-level value has the wrong type. The message names the file.
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
    except RecursionError:
        raise EvaluationError(f"{kind} file {file} nests arrays or objects too deeply to be {kind} (thousands of "
                              "levels; COCO files nest three)") from None  # fmt: skip
    if not isinstance(data, expected):
        found = _JSON_TYPE_NAMES.get(type(data), type(data).__name__)
        raise EvaluationError(f"{kind} file {file} must hold a JSON {expected_name} at the top level, got {found}")
    return data


def check_writable(path: str | os.PathLike[str], *, what: str) -> Path:
    """Check, before any work, that ``path`` can be created: its nearest existing ancestor is a writable folder.

    Args:
        path: the file or folder about to be written.
        what: what it is for, e.g. ``"results file"``; the error names it.

    Raises:
        OutputError: ``path`` is an existing folder, or lies under a file, or under a folder this user cannot
            write to.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {what} {target}: it is an existing folder")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {what} {target}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {what} {target}: no permission to write in {parent}")
    return target


def write_text(path: str | os.PathLike[str], text: str, *, what: str) -> Path:
    """Write ``text`` to ``path`` in UTF-8, creating its folders.

    Raises:
        OutputError: the file or a folder cannot be created or written (the message names the path, ``what`` it
            was for and the system's reason).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise OutputError(f"cannot write {what} {target}: {err.strerror or err}") from None
    return target


def write_image(path: str | os.PathLike[str], image: np.ndarray, *, what: str) -> Path:
    """Write ``image`` with OpenCV (format from the extension), creating its folders.

    Raises:
        OutputError: the file or a folder cannot be created or written (the message names the path and ``what``
            it was for).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        written = cv2.imwrite(str(target), image)
    except (OSError, cv2.error) as err:
        raise OutputError(f"cannot write {what} {target}: {getattr(err, 'strerror', None) or err}") from None
    if not written:
        raise OutputError(f"cannot write {what} {target}: OpenCV could not write it (folder not writable, or an "
                          "unknown image extension)")  # fmt: skip
    return target
