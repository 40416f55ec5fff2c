"""2D skeletons lifted to 3D in the camera's optical frame with the low-resolution depth and the intrinsics.

Frames: keypoints in a skeleton's pixel frame (x right, y down, pixel centres at +0.5); intrinsics for an image
of ``width`` x ``height`` pixels with pixel centres at integer coordinates (ROS ``CameraInfo`` K); 3D points in
metres in the optical frame (x right, y down, z forward).
"""

from __future__ import annotations

import numpy as np

from depthpose_core.intrinsics import Intrinsics
from depthpose_core.keypoints import NUM_JOINTS
from depthpose_core.preprocess import Preprocessing, denormalise_depth
from depthpose_core.skeleton import Skeleton

__all__ = ["lift_skeleton"]


def lift_skeleton(person: Skeleton, lowres: np.ndarray, pre: Preprocessing, intrinsics: Intrinsics) -> np.ndarray:
    """Each joint of ``person`` as a 3D point (m), NaN where the joint or its depth is missing.

    The depth comes from the low-resolution image: the nearest valid reading in the 3x3 low-resolution pixels
    around the joint (the person is the nearest surface there), mapped back through the near/far normalisation.

    Args:
        person: the skeleton, in its own pixel frame (``person.frame_size``).
        lowres: (h, w) normalised low-resolution depth of the same field of view (0 = no reading; 1 = no reading
            or beyond ``far_mm``: neither is a usable distance).
        pre: the preprocessing that produced ``lowres``.
        intrinsics: the camera's, for its own image size (a synthetic ``Camera`` is one too).

    Returns:
        (18, 3) float64 x, y, z in metres in the optical frame.
    """
    h, w = lowres.shape
    fw, fh = person.frame_size
    sx, sy = intrinsics.width / fw, intrinsics.height / fh
    points = np.full((NUM_JOINTS, 3), np.nan)
    for j in np.flatnonzero(person.present):
        u, v = person.keypoints[j]
        col = min(int(u * w / fw), w - 1)
        row = min(int(v * h / fh), h - 1)
        patch = lowres[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2]
        valid = patch[(patch > 0) & (patch < 1)]
        if valid.size == 0:
            continue
        z = float(denormalise_depth(float(valid.min()), pre)) / 1000.0
        points[j] = ((u * sx - 0.5 - intrinsics.cx) * z / intrinsics.fx,
                     (v * sy - 0.5 - intrinsics.cy) * z / intrinsics.fy, z)  # fmt: skip
    return points
