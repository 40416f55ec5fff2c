"""rosbag2 files through ``rosbags`` (pure Python; no ROS runtime): the typestore with this project's messages,
readers and writers as context managers, and the topic rules shared by offline replay, live replay, the live
demo and the synthetic bags."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from depthpose_core.compressed_depth import COMPRESSED_DEPTH
from depthpose_core.errors import DepthPoseError
from depthpose_core.share import share_file

__all__ = ["BAG_FORMATS", "CAMERA_INFO", "COMPRESSED_IMAGE", "IMAGE", "MESSAGES", "SKELETON3D_ARRAY", "SKELETON_ARRAY",
           "create_bag", "image_base", "is_colour_topic", "open_bag", "output_topic", "select_topics", "storage_of",
           "typestore"]  # fmt: skip

#: The project's message types, in dependency order.
MESSAGES = ("Keypoint2D", "Skeleton2D", "Skeleton2DArray", "Keypoint3D", "Skeleton3D", "Skeleton3DArray")
#: Type names of the messages read and written.
SKELETON_ARRAY = "depthpose_ros/msg/Skeleton2DArray"
SKELETON3D_ARRAY = "depthpose_ros/msg/Skeleton3DArray"
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
#: Storage formats written, by name.
BAG_FORMATS: dict[str, StoragePlugin] = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
# rosbag2 metadata version written (Jazzy and Kilted read it).
_BAG_VERSION: Literal[9] = 9


def typestore(*, project_messages: bool = True) -> Any:
    """A ROS 2 Kilted typestore, with ``depthpose_ros/msg/*`` registered (type hashes equal rosidl's) unless
    ``project_messages`` is False.

    Raises:
        DepthPoseError: the message definitions were not found.
    """
    store = get_typestore(Stores.ROS2_KILTED)
    if project_messages:
        types: dict[str, Any] = {}
        for name in MESSAGES:
            types.update(get_types_from_msg(share_file("msg", f"{name}.msg").read_text(), f"depthpose_ros/msg/{name}"))
        store.register(types)
    return store


@contextmanager
def open_bag(path: str | os.PathLike[str]) -> Iterator[Reader]:
    """The rosbag2 folder ``path`` (sqlite3 or mcap, from its metadata), opened for reading and closed on exit.

    Raises:
        DepthPoseError: missing, not a rosbag2, or unreadable metadata.
    """
    try:
        reader = Reader(Path(path))
        reader.open()
    except Exception as err:  # noqa: BLE001 - rosbags raises several kinds for broken bags
        raise DepthPoseError(f"{path} is not a readable rosbag2: {err}") from None
    try:
        yield reader
    finally:
        reader.close()


@contextmanager
def create_bag(path: str | os.PathLike[str], storage: str | StoragePlugin) -> Iterator[Writer]:
    """A new rosbag2 folder ``path`` opened for writing; closed, and valid, on exit whatever happened.

    Args:
        path: the folder to create (must not exist).
        storage: ``"sqlite3"``, ``"mcap"`` or a ``StoragePlugin``.

    Raises:
        DepthPoseError: ``path`` exists, or an unknown storage format.
    """
    path = Path(path)
    if path.exists():
        raise DepthPoseError(f"output bag {path} already exists")
    if isinstance(storage, str):
        if storage not in BAG_FORMATS:
            raise DepthPoseError(f"bag storage must be one of {sorted(BAG_FORMATS)}, got {storage!r}")
        storage = BAG_FORMATS[storage]
    writer = Writer(path, version=_BAG_VERSION, storage_plugin=storage)
    writer.open()  # an error here is raised as it is: nothing to close yet
    try:
        yield writer
    finally:
        writer.close()


def storage_of(reader: Reader) -> StoragePlugin:
    """The storage format of an opened bag, for writing its output in the same one."""
    return StoragePlugin.MCAP if any(Path(str(reader.path)).glob("*.mcap*")) else StoragePlugin.SQLITE3


def image_base(topic: str) -> str:
    """The image topic a depth topic stands for: ``/cam1/depth/image_raw/compressedDepth`` -> ``/cam1/depth/image_raw``
    (image_transport's naming); a raw image topic is its own."""
    return topic.removesuffix(COMPRESSED_DEPTH)


def output_topic(image_topic: str, name: str) -> str:
    """``/cam1/depth/image_raw`` (or its ``/compressedDepth``) -> ``/cam1/depth/<name>``: outputs sit beside their
    input."""
    return image_base(image_topic).rsplit("/", 1)[0] + "/" + name


def is_colour_topic(topic: str) -> bool:
    """Whether an image topic is an RGB-D driver's colour stream by its name: a ``color``, ``colour`` or ``rgb``
    namespace (``/camera/color/image_raw``, Azure Kinect's ``/rgb/image_raw``; not
    ``/camera/aligned_depth_to_color/image_raw``)."""
    return any(part in ("color", "colour", "rgb") for part in topic.split("/")[:-1])


def select_topics(reader: Reader, topics: list[str] | None, where: object) -> tuple[list[Any], list[Any]]:
    """The depth image connections of ``topics`` (default: every ``sensor_msgs/Image`` topic but colour ones
    (:func:`is_colour_topic`) and every
    ``.../compressedDepth`` ``sensor_msgs/CompressedImage`` topic, the raw one where a camera has both) of an
    opened bag, and the camera-info connections in the same namespaces.

    Raises:
        DepthPoseError: a requested topic is not a depth image topic of the bag (a plain ``compressed`` colour
            topic included), one camera is requested both raw and compressed, or there is no depth topic.
    """
    images = [c for c in reader.connections if (c.msgtype == IMAGE and (topics or not is_colour_topic(c.topic)))
              or (c.msgtype == COMPRESSED_IMAGE and c.topic.endswith(COMPRESSED_DEPTH))]  # fmt: skip
    have = sorted({c.topic for c in images})
    if topics:
        compressed = {c.topic for c in reader.connections if c.msgtype == COMPRESSED_IMAGE}
        colour = sorted(compressed & set(topics) - set(have))
        if colour:
            raise DepthPoseError(f"{where}: {colour} are sensor_msgs/CompressedImage topics of the compressed "
                                 "(colour JPEG/PNG) transport, not depth: use the .../compressedDepth topic or the raw "
                                 "image")  # fmt: skip
        missing = sorted(set(topics) - set(have))
        if missing:
            raise DepthPoseError(f"{where} has no image topic {missing}; it has {have}")
        images = [c for c in images if c.topic in topics]
    else:  # a camera recorded both raw and compressedDepth: its raw topic
        raw = {c.topic for c in images if c.msgtype == IMAGE}
        images = [c for c in images if c.msgtype == IMAGE or image_base(c.topic) not in raw]
    bases = Counter(image_base(t) for t in {c.topic for c in images})
    twice = sorted(t for t, n in bases.items() if n > 1)
    if twice:
        raise DepthPoseError(f"{where}: {twice} requested both raw and compressedDepth: choose one per camera")
    if not images:
        raise DepthPoseError(f"{where} holds no sensor_msgs/Image or .../compressedDepth topic")
    namespaces = {image_base(c.topic).rsplit("/", 1)[0] for c in images}
    infos = [c for c in reader.connections if c.msgtype == CAMERA_INFO and c.topic.rsplit("/", 1)[0] in namespaces]
    return images, infos
