"""Pinhole depth cameras in the room frame (millimetres, z up), as the synthetic world renders them.

Pixel convention of the renderer: the ray of pixel (column u, row v) passes through image point (u, v) in OpenCV's
convention (pixel centres at integer coordinates), i.e. through the continuous coordinates (u + 0.5, v + 0.5) of
:class:`~depthpose_core.skeleton.Skeleton`. Depth is the z coordinate in the camera frame (what depth sensors
report), not the distance along the ray.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depthpose_core.intrinsics import Intrinsics

__all__ = ["Camera"]


@dataclass(frozen=True)
class Camera(Intrinsics):
    """A calibrated depth camera: its :class:`~depthpose_core.intrinsics.Intrinsics` and its pose.

    Attributes:
        cam_to_room: 4x4 rigid transform from camera coordinates (x right, y down, z forward; mm) to the room
            frame (mm, z up).
        name: an identifier (e.g. "mvor_cam1").
    """

    cam_to_room: np.ndarray = field(repr=False)
    name: str = ""

    @property
    def room_to_cam(self) -> np.ndarray:
        """4x4 inverse of :attr:`cam_to_room`."""
        rot, trans = self.cam_to_room[:3, :3], self.cam_to_room[:3, 3]
        out = np.eye(4)
        out[:3, :3] = rot.T
        out[:3, 3] = -rot.T @ trans
        return out

    @property
    def centre(self) -> np.ndarray:
        """Optical centre in the room frame, mm."""
        return self.cam_to_room[:3, 3].copy()

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """``(..., 3)`` room points (mm) -> camera coordinates (mm)."""
        m = self.room_to_cam
        return points @ m[:3, :3].T + m[:3, 3]

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project ``(..., 3)`` room points.

        Returns:
            ``(uv, z)``: ``(..., 2)`` continuous pixel coordinates (pixel centres at +0.5, the skeleton
            convention) and ``(...)`` depth in mm (<= 0 behind the camera, where uv is meaningless).
        """
        p = self.to_camera(points)
        z = p[..., 2]
        safe = np.where(z > 1e-6, z, 1e-6)
        u = self.fx * p[..., 0] / safe + self.cx + 0.5
        v = self.fy * p[..., 1] / safe + self.cy + 0.5
        return np.stack([u, v], axis=-1), z

    def rays(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel ray directions in camera coordinates with z = 1: ``(dx (w,), dy (h,))`` (separable)."""
        dx = (np.arange(self.width) - self.cx) / self.fx
        dy = (np.arange(self.height) - self.cy) / self.fy
        return dx, dy
