"""Keypoint orders, limbs and the conversions between them.

The network predicts the OpenPose COCO-18 joints plus a background heatmap and 19 part affinity fields
(PAFs). Result files use COCO-17; the MVOR evaluation uses MVOR-10. All index tables in this module are
the single source for those orders in the project.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COCO17_FROM_NET",
    "COCO17_NAMES",
    "HEATMAP_FLIP",
    "LIMBS",
    "LIMB_ORDER",
    "MVOR10_NAMES",
    "NET_FROM_MVOR10",
    "NET_JOINTS",
    "NUM_HEATMAPS",
    "NUM_JOINTS",
    "NUM_LIMBS",
    "NUM_PAFS",
    "PAF_FLIP",
    "coco17_to_mvor10",
    "net_to_coco17",
]

#: The 18 network joints, in heatmap channel order (channel 18 is the background).
NET_JOINTS: tuple[str, ...] = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
NUM_JOINTS = 18
NUM_HEATMAPS = NUM_JOINTS + 1  # + background

#: Limb k joins joint ``LIMBS[k][0]`` to ``LIMBS[k][1]``; its PAF lives in channels 2k (x) and 2k+1 (y).
LIMBS: tuple[tuple[int, int], ...] = (
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13), (1, 2), (2, 3), (3, 4), (2, 16),
    (1, 5), (5, 6), (6, 7), (5, 17), (1, 0), (0, 14), (0, 15), (14, 16), (15, 17),
)  # fmt: skip
NUM_LIMBS = 19
NUM_PAFS = 2 * NUM_LIMBS

#: Order in which the reference decoder assembles people from limbs (greedy, so the order matters).
LIMB_ORDER: tuple[int, ...] = (6, 10, 7, 8, 11, 12, 0, 1, 2, 3, 4, 5, 14, 15, 17, 16, 18, 9, 13)


def _swap_permutation(size: int, pairs: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    perm = list(range(size))
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return tuple(perm)


#: Heatmap channel permutation for the flip test: ``flipped[c] = mirrored[HEATMAP_FLIP[c]]``.
HEATMAP_FLIP: tuple[int, ...] = _swap_permutation(
    NUM_HEATMAPS, ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17))
)
_LIMB_FLIP = _swap_permutation(
    NUM_LIMBS, ((0, 3), (1, 4), (2, 5), (6, 10), (7, 11), (8, 12), (9, 13), (15, 16), (17, 18))
)
#: PAF channel permutation for the flip test (x and y of a limb move together); x components are negated
#: separately.
PAF_FLIP: tuple[int, ...] = tuple(2 * _LIMB_FLIP[c // 2] + c % 2 for c in range(NUM_PAFS))

#: COCO-17 keypoint names, in result-file order.
COCO17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
#: ``coco17[i] = net[COCO17_FROM_NET[i]]``; the neck is dropped.
COCO17_FROM_NET: tuple[int, ...] = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)

#: MVOR-10 keypoint names (the MVOR annotation order).
MVOR10_NAMES: tuple[str, ...] = (
    "head", "neck", "left_shoulder", "right_shoulder", "left_hip", "right_hip",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip
# COCO-17 indices copied unchanged into MVOR-10 slots 2..9.
_MVOR_COPIED = (5, 6, 11, 12, 7, 8, 9, 10)
#: Network joint of MVOR-10 slots 1..9 (neck, L/R shoulder, L/R hip, L/R elbow, L/R wrist); slot 0, MVOR's head,
#: is not a network joint.
NET_FROM_MVOR10: tuple[int, ...] = (1, 5, 2, 11, 8, 6, 3, 7, 4)


def net_to_coco17(keypoints: np.ndarray) -> np.ndarray:
    """Reorder ``(..., 18, C)`` network-order keypoints to ``(..., 17, C)`` COCO-17 order."""
    return np.asarray(keypoints)[..., COCO17_FROM_NET, :]


def coco17_to_mvor10(keypoints: np.ndarray) -> np.ndarray:
    """Convert one person's COCO-17 keypoints to MVOR-10 by the MVOR evaluation rules.

    Args:
        keypoints: ``(17, 3)`` array of x, y, score in image pixels; a keypoint at (0, 0) is missing.

    Returns:
        ``(10, 3)`` array of x, y, score; missing joints are (0, 0, 0).

    Head = midpoint of the eyes if both exist, else of the ears, else the nose, else the first present of
    right eye, left eye, right ear, left ear. Neck = midpoint of the shoulders, else the right, else the left
    shoulder. The other eight joints are copied (left stays left).
    """
    kps = np.asarray(keypoints, dtype=np.float64).reshape(17, 3)
    present = (kps[:, 0] != 0) | (kps[:, 1] != 0)
    out = np.zeros((10, 3), dtype=np.float64)

    def pick(options: tuple[tuple[int, ...], ...]) -> np.ndarray | None:
        for group in options:
            if all(present[i] for i in group):
                return kps[list(group)].mean(axis=0)
        return None

    # COCO-17: 0 nose, 1 L-eye, 2 R-eye, 3 L-ear, 4 R-ear, 5 L-sho, 6 R-sho.
    head = pick(((1, 2), (3, 4), (0,), (2,), (1,), (4,), (3,)))
    neck = pick(((5, 6), (6,), (5,)))
    if head is not None:
        out[0] = head
    if neck is not None:
        out[1] = neck
    for slot, i in enumerate(_MVOR_COPIED, start=2):
        if present[i]:
            out[slot] = kps[i]
    return out
