"""Synthetic sequences as rosbag2 files (sqlite3 or mcap, through the pure-Python ``rosbags`` library): per
camera a ``sensor_msgs/Image`` 16UC1 depth topic and its ``sensor_msgs/CameraInfo``, and with colour an ``rgb8``
colour topic and its camera info, laid out like an RGB-D driver's recording with depth aligned to colour (the
depth frame is on the colour pixel grid, so the two camera infos are equal); all stamped with the frame time."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from rosbags.interfaces import Connection

from depthpose_core.bags import BAG_FORMATS, CAMERA_INFO, IMAGE, create_bag, typestore
from depthpose_core.errors import ConfigError
from depthpose_core.synth.camera import Camera

__all__ = ["SequenceBag", "colour_info_topic", "colour_topic", "depth_topic", "frame_id", "info_topic"]


def depth_topic(cam_id: int) -> str:
    """Depth image topic of camera ``cam_id`` in the bags."""
    return f"/cam{cam_id}/depth/image_raw"


def info_topic(cam_id: int) -> str:
    """Camera info topic of camera ``cam_id`` in the bags."""
    return f"/cam{cam_id}/depth/camera_info"


def colour_topic(cam_id: int) -> str:
    """Colour image topic of camera ``cam_id`` in the bags."""
    return f"/cam{cam_id}/color/image_raw"


def colour_info_topic(cam_id: int) -> str:
    """Colour camera info topic of camera ``cam_id`` in the bags."""
    return f"/cam{cam_id}/color/camera_info"


def frame_id(cam_id: int) -> str:
    """Optical frame name of camera ``cam_id`` (the images' ``header.frame_id``)."""
    return f"cam{cam_id}_depth_optical_frame"


class SequenceBag:
    """Writes one sequence; use as a context manager (the bag is closed, and valid, on exit).

    Args:
        path: the bag folder to create (must not exist).
        storage: ``"sqlite3"`` or ``"mcap"``.
    """

    def __init__(self, path: str | os.PathLike[str], storage: str) -> None:
        if storage not in BAG_FORMATS:
            raise ConfigError(f"bag storage must be one of {sorted(BAG_FORMATS)}, got {storage!r}")
        self.path = Path(path)
        self.storage = storage
        self._store = typestore(project_messages=False)
        self._stack = ExitStack()
        self._connections: dict[str, Connection] = {}

    def __enter__(self) -> SequenceBag:
        self._writer = self._stack.enter_context(create_bag(self.path, self.storage))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _connection(self, topic: str, msgtype: str) -> Connection:
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(topic, msgtype, typestore=self._store)
        return self._connections[topic]

    def _header(self, stamp_ns: int, frame: str) -> object:
        t = self._store.types
        sec, nanosec = divmod(stamp_ns, 1_000_000_000)
        return t["std_msgs/msg/Header"](stamp=t["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec),
                                        frame_id=frame)  # fmt: skip

    def write_frame(self, cam_id: int, camera: Camera, depth: np.ndarray, stamp_ns: int,
                    colour: np.ndarray | None = None) -> None:  # fmt: skip
        """Write one depth frame (uint16 mm) and its camera info, and the registered ``colour`` frame ((h, w, 3)
        uint8 RGB) and its camera info if given, all stamped ``stamp_ns`` (also the bag time)."""
        t = self._store.types
        header = self._header(stamp_ns, frame_id(cam_id))
        image = t[IMAGE](
            header=header, height=depth.shape[0], width=depth.shape[1], encoding="16UC1", is_bigendian=0,
            step=2 * depth.shape[1], data=np.ascontiguousarray(depth, dtype="<u2").view(np.uint8).reshape(-1),
        )  # fmt: skip
        roi = t["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
        info = t[CAMERA_INFO](
            header=header, height=camera.height, width=camera.width, distortion_model="plumb_bob",
            d=np.zeros(5), k=np.array(camera.k), r=np.eye(3).reshape(-1),
            p=np.array([camera.fx, 0.0, camera.cx, 0.0, 0.0, camera.fy, camera.cy, 0.0, 0.0, 0.0, 1.0, 0.0]),
            binning_x=0, binning_y=0, roi=roi,
        )  # fmt: skip
        messages = [(depth_topic(cam_id), image), (info_topic(cam_id), info)]
        if colour is not None:
            rgb = t[IMAGE](
                header=header, height=colour.shape[0], width=colour.shape[1], encoding="rgb8", is_bigendian=0,
                step=3 * colour.shape[1], data=np.ascontiguousarray(colour, dtype=np.uint8).reshape(-1),
            )  # fmt: skip
            messages += [(colour_topic(cam_id), rgb), (colour_info_topic(cam_id), info)]
        for topic, msg in messages:
            conn = self._connection(topic, msg.__msgtype__)
            self._writer.write(conn, stamp_ns, self._store.serialize_cdr(msg, msg.__msgtype__))
