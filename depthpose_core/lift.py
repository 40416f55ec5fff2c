"""2D skeletons lifted to 3D in the camera's optical frame with the low-resolution depth and the intrinsics.

A joint's pixel often falls beside the body (a wrist over the floor, a shoulder at the body's outline), and at
64x48 a forearm is narrower than one cell, so the depth is not read at the joint alone: it is a quantile of the
valid low-resolution cells along the person's own limbs that meet at the joint (the person's pixels near the
joint), which also outvotes the cells that the reduction blended with holes. A joint with no valid cell there
has no 3D point (NaN), never 0 m. The rule's settings were chosen on the synthetic validation set
(``bench/bench_lift.py``, docs/lift3d.md).

Frames: keypoints in a skeleton's pixel frame (x right, y down, pixel centres at +0.5); intrinsics for an image
of ``width`` x ``height`` pixels with pixel centres at integer coordinates (ROS ``CameraInfo`` K); 3D points in
metres in the optical frame (x right, y down, z forward). The depth is that of the visible surface, so a point
lies in front of the joint's centre by about the body's depth under the surface there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.intrinsics import Intrinsics
from depthpose_core.keypoints import LIMBS, NUM_JOINTS
from depthpose_core.preprocess import Preprocessing, denormalise_depth
from depthpose_core.skeleton import Skeleton

__all__ = ["LiftParams", "joint_depth_samples", "lift_skeleton"]

# Spacing of the depth samples along a limb, low-resolution cells.
_STEP_CELLS = 0.5


@dataclass(frozen=True)
class LiftParams:
    """How a joint's depth is read from the low-resolution image.

    Attributes:
        reach: how far along each of the joint's limbs (towards the limb's other joint, when present) depth is
            sampled, in low-resolution cells, at most half the limb; 0 samples the 3x3 cells around the joint.
        quantile: the quantile of the valid samples taken as the joint's depth (0 = the nearest, 0.5 = median);
            always one of the samples (of two middle ones the nearer), never an interpolation between surfaces.
    """

    reach: float = 1.0
    quantile: float = 0.5

    def __post_init__(self) -> None:
        if not (self.reach >= 0.0 and 0.0 <= self.quantile <= 1.0):
            raise ValueError(f"LiftParams: reach must be >= 0 and quantile in [0, 1], got {self}")


#: The joints each joint shares a limb with (both directions of ``LIMBS``).
_NEIGHBOURS: tuple[tuple[int, ...], ...] = tuple(
    tuple(b if a == j else a for a, b in LIMBS if j in (a, b)) for j in range(NUM_JOINTS)
)


def joint_depth_samples(person: Skeleton, joint: int, lowres: np.ndarray, params: LiftParams) -> np.ndarray:
    """The valid normalised low-resolution depths (in (0, 1)) that :func:`lift_skeleton` reads for ``joint``.

    Args:
        person: the skeleton, in its own pixel frame (``person.frame_size``); ``joint`` must be present.
        joint: the joint's index (network order).
        lowres: (h, w) normalised low-resolution depth of the same field of view.
        params: the sampling rule.

    Returns:
        1-D float array of the valid cells' values (each cell once), possibly empty.
    """
    h, w = lowres.shape
    fw, fh = person.frame_size
    scale = np.array([w / fw, h / fh])
    at = person.keypoints[joint] * scale
    if params.reach > 0:
        points = [np.clip(at, 0.0, [w - 1, h - 1])[None]]  # the joint's own cell, also on the frame's far edge
        for other in _NEIGHBOURS[joint]:
            if not person.present[other]:
                continue
            direction = person.keypoints[other] * scale - at
            length = float(np.hypot(*direction))
            extent = min(params.reach, length / 2.0)
            if extent > 0:
                t = np.arange(_STEP_CELLS, extent + 1e-9, _STEP_CELLS) / length
                points.append(at + t[:, None] * direction)
        cells = np.floor(np.concatenate(points)).astype(int)
        cells = cells[(cells[:, 0] >= 0) & (cells[:, 0] < w) & (cells[:, 1] >= 0) & (cells[:, 1] < h)]
        cells = np.unique(cells, axis=0)
        values = lowres[cells[:, 1], cells[:, 0]]
    else:
        col, row = min(int(at[0]), w - 1), min(int(at[1]), h - 1)
        values = lowres[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2].reshape(-1)
    return values[(values > 0) & (values < 1)]


def lift_skeleton(
    person: Skeleton, lowres: np.ndarray, pre: Preprocessing, intrinsics: Intrinsics,
    params: LiftParams | None = None,
) -> np.ndarray:  # fmt: skip
    """Each joint of ``person`` as a 3D point (m), NaN where the joint or its depth is missing.

    Args:
        person: the skeleton, in its own pixel frame (``person.frame_size``).
        lowres: (h, w) normalised low-resolution depth of the same field of view (0 = no reading; 1 = no reading
            or beyond ``far_mm``: neither is a usable distance).
        pre: the preprocessing that produced ``lowres``.
        intrinsics: the camera's, for its own image size (a synthetic ``Camera`` is one too).
        params: the depth sampling rule (default :class:`LiftParams`).

    Returns:
        (18, 3) float64 x, y, z in metres in the optical frame.
    """
    params = params or LiftParams()
    fw, fh = person.frame_size
    sx, sy = intrinsics.width / fw, intrinsics.height / fh
    points = np.full((NUM_JOINTS, 3), np.nan)
    for j in np.flatnonzero(person.present):
        values = joint_depth_samples(person, int(j), lowres, params)
        if values.size == 0:
            continue
        # "lower": a sample, never a blend of two surfaces (an end joint often has only two cells, arm and floor).
        z = float(denormalise_depth(float(np.quantile(values, params.quantile, method="lower")), pre)) / 1000.0
        u, v = person.keypoints[j]
        points[j] = ((u * sx - 0.5 - intrinsics.cx) * z / intrinsics.fx,
                     (v * sy - 0.5 - intrinsics.cy) * z / intrinsics.fy, z)  # fmt: skip
    return points
