"""The package's data files outside Python (``msg/``, ``config/``): where a source checkout, a pip install or an
ament prefix (colcon install, or the venv the setup script builds) puts them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from depthpose_core.errors import DepthPoseError

__all__ = ["PACKAGE", "share_file"]

#: The ROS package whose ``share`` folder holds the files.
PACKAGE = "depthpose_ros"


def _folders(kind: str) -> list[Path]:
    """Candidate folders for ``kind`` (``msg`` or ``config``), in order of preference."""
    found = [Path(__file__).resolve().parents[1] / kind, Path(sys.prefix) / "share" / PACKAGE / kind]
    found += [Path(p) / "share" / PACKAGE / kind for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)
              if p]  # fmt: skip
    return found


def share_file(kind: str, name: str) -> Path:
    """The first ``<folder>/<name>`` that exists among the ``kind`` folders: a source checkout's ``kind/``, then
    ``share/depthpose_ros/kind`` of this Python's prefix and of each ament prefix.

    Raises:
        DepthPoseError: none found (the message lists where it looked).
    """
    folders = _folders(kind)
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise DepthPoseError(f"{kind}/{name} of {PACKAGE} was not found (looked in {', '.join(map(str, folders))})")
