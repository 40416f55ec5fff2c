"""MVOR as training or evaluation data, for users who have its images (``dayD/camC/{color,depth}/NNNNNN.png``).

MVOR's annotation file names the colour images; the depth frame of the same view has the same path with
``depth`` in place of ``color``. Keypoints are MVOR-10 (or COCO-18 in files converted to the network's order).
"""

from __future__ import annotations

import os
from pathlib import Path

from depthpose_core.data.records import ImageRecord, load_records

__all__ = ["depth_file_name", "load_mvor_records"]


def depth_file_name(image: dict) -> str:
    """The depth image path of an MVOR image entry (``day1/cam1/color/000000.png`` -> ``.../depth/...``)."""
    parts = Path(image["file_name"]).parts
    return str(Path(*["depth" if p == "color" else p for p in parts]))


def load_mvor_records(json_path: str | os.PathLike[str], mvor_root: str | os.PathLike[str]) -> list[ImageRecord]:
    """Records of an MVOR-style annotation file whose images live under ``mvor_root``.

    Raises:
        DepthPoseError: unreadable or malformed annotations.
    """
    return load_records(json_path, mvor_root, file_name=depth_file_name)
