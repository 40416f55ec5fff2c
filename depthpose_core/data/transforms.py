"""Label-preserving augmentation of full-resolution depth frames (applied before the reduction to low resolution).

One random similarity transform per sample (scale and rotation about the frame centre, then a translation) and a
horizontal flip. The depth is resampled with nearest-neighbour interpolation (interpolating depth would invent
surfaces between a person and the wall behind); pixels brought in from outside the frame have no reading (0).
Zooming in by a factor s is what moving s times closer looks like, so depth values are divided by s.
Keypoints move with the image; a flip also swaps left and right joints, so that "left" stays the person's left.
Joints that leave the frame become unlabelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from depthpose_core.keypoints import HEATMAP_FLIP, NUM_JOINTS

__all__ = ["AugmentParams", "augment", "flip_joint_order"]

#: Joint permutation of a horizontal flip: ``flipped[j] = original[flip_joint_order[j]]``.
flip_joint_order = np.array(HEATMAP_FLIP[:NUM_JOINTS])


@dataclass(frozen=True)
class AugmentParams:
    """Random augmentation ranges.

    Attributes:
        flip: probability of a horizontal flip.
        scale: (min, max) zoom factor.
        rotate_deg: rotation drawn uniformly in [-rotate_deg, rotate_deg] degrees.
        translate: shift drawn uniformly in [-translate, translate] x the frame size, per axis.
    """

    flip: float = 0.5
    scale: tuple[float, float] = (0.85, 1.2)
    rotate_deg: float = 12.0
    translate: float = 0.08


def augment(
    depth: np.ndarray, people: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, params: AugmentParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply one random augmentation.

    Args:
        depth: ``(H, W)`` depth frame (any dtype of ``normalise_depth``).
        people: ``(N, 18, 3)`` keypoints: x, y (pixels, centres at +0.5) and flag (0 = unlabelled).
        boxes: ``(M, 4)`` boxes (x, y, w, h) of people to mask.
        rng: random generator.
        params: augmentation ranges.

    Returns:
        The transformed depth (same shape and dtype), people and boxes (axis-aligned boxes around the moved
        corners).
    """
    h, w = depth.shape
    flip = rng.random() < params.flip
    scale = rng.uniform(*params.scale)
    angle = rng.uniform(-params.rotate_deg, params.rotate_deg)
    shift = rng.uniform(-params.translate, params.translate, 2) * (w, h)
    # Continuous coordinates (centres at +0.5) are OpenCV pixel coordinates + 0.5 on both sides of the map.
    m = np.asarray(cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, scale), dtype=np.float64)
    m[:, 2] += shift
    if flip:  # mirror first: x -> w - x
        m = m @ np.array([[-1.0, 0.0, w], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    # OpenCV samples output pixel p from input M^-1 (p) in pixel-index coordinates: shift by the half pixel.
    half = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    m_index = (np.linalg.inv(half) @ np.vstack([m, [0.0, 0.0, 1.0]]) @ half)[:2]
    out = cv2.warpAffine(depth, m_index, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=0)  # fmt: skip
    if depth.dtype.itemsize > 1:  # metric depth (uint16 mm, float m); an 8-bit image is already normalised
        closer = out / scale
        out = (closer if depth.dtype.kind == "f" else np.round(closer)).astype(depth.dtype)
    moved = people.copy()
    if len(people):
        xy = people[..., :2] @ m[:, :2].T + m[:, 2]
        moved[..., :2] = xy
        inside = (xy[..., 0] >= 0) & (xy[..., 0] < w) & (xy[..., 1] >= 0) & (xy[..., 1] < h)
        moved[..., 2] = np.where(inside, people[..., 2], 0.0)
        moved[~inside | (moved[..., 2] == 0), :2] = 0.0
        if flip:
            moved = moved[:, flip_joint_order]
    new_boxes = boxes.copy()
    if len(boxes):
        x0, y0, bw, bh = boxes.T
        corners = np.stack([np.stack([x0, y0], -1), np.stack([x0 + bw, y0], -1), np.stack([x0, y0 + bh], -1),
                            np.stack([x0 + bw, y0 + bh], -1)], axis=1)  # fmt: skip
        c = corners @ m[:, :2].T + m[:, 2]
        lo, hi = np.clip(c.min(axis=1), 0, (w, h)), np.clip(c.max(axis=1), 0, (w, h))
        new_boxes = np.concatenate([lo, hi - lo], axis=1)
    return out, moved, new_boxes
