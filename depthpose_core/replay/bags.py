"""rosbag2 files through ``rosbags`` (pure Python; no ROS runtime): the typestore with this project's messages,
and the message classes of the skeleton arrays written into output bags."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from rosbags.rosbag2 import Reader, StoragePlugin
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from depthpose_core.errors import DepthPoseError

__all__ = ["MESSAGES", "SKELETON_ARRAY", "msg_dir", "open_bag", "storage_of", "typestore"]

#: The project's message types, in dependency order.
MESSAGES = ("Keypoint2D", "Skeleton2D", "Skeleton2DArray")
#: Type name of the per-frame output message.
SKELETON_ARRAY = "depthpose_ros/msg/Skeleton2DArray"


def msg_dir() -> Path:
    """The folder of ``Skeleton2DArray.msg``: a source checkout's ``msg/``, or ``share/depthpose_ros/msg`` of
    this Python's prefix or of an ament prefix (colcon install, or the venv the setup script builds).

    Raises:
        DepthPoseError: none found.
    """
    candidates = [Path(__file__).resolve().parents[2] / "msg", Path(sys.prefix) / "share" / "depthpose_ros" / "msg"]
    candidates += [Path(p) / "share" / "depthpose_ros" / "msg" for p in os.environ.get("AMENT_PREFIX_PATH", "").split(
        os.pathsep) if p]  # fmt: skip
    for folder in candidates:
        if (folder / "Skeleton2DArray.msg").is_file():
            return folder
    looked = ", ".join(map(str, candidates))
    raise DepthPoseError(f"the depthpose_ros message definitions were not found (looked in {looked})")


def typestore() -> Any:
    """A ROS 2 Kilted typestore with ``depthpose_ros/msg/*`` registered (type hashes equal rosidl's)."""
    store = get_typestore(Stores.ROS2_KILTED)
    folder = msg_dir()
    types: dict[str, Any] = {}
    for name in MESSAGES:
        types.update(get_types_from_msg((folder / f"{name}.msg").read_text(), f"depthpose_ros/msg/{name}"))
    store.register(types)
    return store


def open_bag(path: str | os.PathLike[str]) -> Reader:
    """An opened reader of the rosbag2 folder ``path`` (sqlite3 or mcap, from its metadata); close it after use.

    Raises:
        DepthPoseError: missing, not a rosbag2, or unreadable metadata.
    """
    try:
        reader = Reader(Path(path))
        reader.open()
    except Exception as err:  # noqa: BLE001 - rosbags raises several kinds for broken bags
        raise DepthPoseError(f"{path} is not a readable rosbag2: {err}") from None
    return reader


def storage_of(reader: Reader) -> StoragePlugin:
    """The storage format of an opened bag, for writing its output in the same one."""
    return StoragePlugin.MCAP if any(reader.path.glob("*.mcap*")) else StoragePlugin.SQLITE3
