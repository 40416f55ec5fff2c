"""Pinhole intrinsics of a calibrated image: what the 3D lift needs (from ``CameraInfo``) and what the synthetic
world's cameras extend with a pose.

Convention: the principal point and pixel coordinates use OpenCV's (and ROS ``CameraInfo``'s) pixel centres at
integer coordinates; skeletons use pixel centres at +0.5 (subtract 0.5 to go from one to the other).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Intrinsics"]


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics.

    Attributes:
        fx, fy: focal lengths in pixels.
        cx, cy: principal point in pixels (pixel centres at integer coordinates).
        width, height: the calibrated image's size in pixels.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_k(cls, k: Sequence[float], width: int, height: int) -> Intrinsics:
        """From a row-major 3x3 camera matrix (``CameraInfo.k``) and the image size."""
        return cls(float(k[0]), float(k[4]), float(k[2]), float(k[5]), int(width), int(height))

    @property
    def k(self) -> list[float]:
        """Row-major 3x3 camera matrix (as ``sensor_msgs/CameraInfo.k``)."""
        return [self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0]

    @property
    def calibrated(self) -> bool:
        """True when the focal lengths and principal point are finite, the focal lengths and the image size
        positive (a driver without calibration publishes K all zeros; a broken one NaN or inf)."""
        finite = all(math.isfinite(v) for v in (self.fx, self.fy, self.cx, self.cy))
        return finite and self.fx > 0 and self.fy > 0 and self.width > 0 and self.height > 0
