"""The real geometry the synthetic world is built on: MVOR's three ceiling cameras and its 3D upper-body poses.

MVOR (Srivastav et al., 2018; CC BY-NC-SA 4.0) is read from the user's copy of ``camma_mvor_2018.json`` and never
copied into this project. Its ``annotations3D`` hold 12 joints per pose (head, neck, left/right shoulder, hip,
elbow, wrist, then left/right hand beyond the wrists) in millimetres in the frame of the first camera, whatever
their ``ref_camera`` says (checked by projecting them onto the 2D annotations of all three views); a few poses
lack a joint (all zeros) and are left out;
``cameras_info.camParams`` gives each camera's intrinsics, its pose relative to the first camera and the first
camera's pose in a room frame (z up). Everything here is returned in that room frame.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from depthpose_core.errors import DepthPoseError
from depthpose_core.synth.camera import Camera

__all__ = ["MVOR_JOINTS", "MVORGeometry", "default_mvor_file", "load_mvor_geometry"]

#: Joint order of MVOR's 3D poses.
MVOR_JOINTS: tuple[str, ...] = (
    "head", "neck", "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip


@dataclass(frozen=True)
class MVORGeometry:
    """MVOR's cameras and 3D poses in its room frame (mm, z up).

    Attributes:
        cameras: the three ceiling cameras, ``mvor_cam1`` .. ``mvor_cam3``.
        poses: ``(N, 12, 3)`` joints in :data:`MVOR_JOINTS` order.
        source: the file they were read from.
    """

    cameras: tuple[Camera, ...]
    poses: np.ndarray
    source: str


def default_mvor_file() -> Path:
    """Where to look for ``camma_mvor_2018.json``: ``$DEPTHPOSE_MVOR_DIR``, else ``../shared/data/mvor`` beside
    this checkout."""
    folder = os.environ.get("DEPTHPOSE_MVOR_DIR")
    if folder:
        return Path(folder) / "camma_mvor_2018.json"
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "mvor" / "camma_mvor_2018.json"


def _matrix(values: object, what: str, path: Path) -> np.ndarray:
    m = np.asarray(values, dtype=np.float64)
    if m.size != 16 or not np.isfinite(m).all():
        raise DepthPoseError(f"{path}: {what} is not a finite 4x4 matrix")
    return m.reshape(4, 4)


def load_mvor_geometry(path: str | os.PathLike[str] | None = None) -> MVORGeometry:
    """Read MVOR's cameras and 3D poses.

    Args:
        path: ``camma_mvor_2018.json``; None = :func:`default_mvor_file`.

    Raises:
        DepthPoseError: the file is missing or does not hold MVOR's ``cameras_info`` and ``annotations3D``.
    """
    path = Path(path) if path is not None else default_mvor_file()
    if not path.is_file():
        raise DepthPoseError(
            f"MVOR annotations not found at {path}: the synthetic world is built on MVOR's real cameras and 3D "
            "poses. Get camma_mvor_2018.json from github.com/CAMMA-public/MVOR (CC BY-NC-SA 4.0) and pass its path "
            "or set DEPTHPOSE_MVOR_DIR"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        params = data["cameras_info"]["camParams"]
        to_room = _matrix(params["firstCamToRoomRef"], "firstCamToRoomRef", path)
        cameras = []
        for i, (intr, extr) in enumerate(zip(params["intrinsics"], params["extrinsics"]), start=1):
            (fx, fy), (cx, cy), (w, h) = intr["focallength"], intr["principalpoint"], intr["imagesize"]
            pose = to_room @ _matrix(extr, f"extrinsics[{i - 1}]", path)
            cameras.append(Camera(float(fx), float(fy), float(cx), float(cy), int(w), int(h), pose, f"mvor_cam{i}"))
        poses = []
        for ann in data["annotations3D"]:
            k = np.asarray(ann["keypoints3D"], dtype=np.float64).reshape(len(MVOR_JOINTS), 4)[:, :3]
            if (np.abs(k).sum(axis=1) > 0).all():
                poses.append(k @ to_room[:3, :3].T + to_room[:3, 3])
    except (KeyError, TypeError, ValueError) as err:
        raise DepthPoseError(f"{path} does not hold MVOR cameras and 3D poses: {err!r}") from None
    if not poses:
        raise DepthPoseError(f"{path} holds no 3D poses")
    return MVORGeometry(tuple(cameras), np.array(poses), str(path))
