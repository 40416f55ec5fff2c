"""Build MVOR-style ground truth from known skeletons (rendered scenes, synthetic frames)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from depthpose_core.keypoints import COCO17_FROM_NET, MVOR10_NAMES, coco17_to_mvor10

__all__ = ["mvor_ground_truth"]


def mvor_ground_truth(scenes: Sequence[np.ndarray], frame_size: tuple[int, int] = (640, 480)) -> dict:
    """COCO-style ground truth with MVOR-10 keypoints, the schema :func:`eval.pck.evaluate` reads.

    Args:
        scenes: per image (its ``image_id`` is its index), an (N, 18, 3) array of people in network joint order:
            x, y in frame pixels and a flag (> 0 = labelled). Unlabelled joints are written as missing.
        frame_size: (width, height) of the frames in pixels.

    Returns:
        ``{"images", "annotations", "categories"}``; people without any labelled joint are left out.
    """
    gt: dict = {
        "images": [],
        "annotations": [],
        "categories": [{"id": 1, "name": "person", "keypoints": list(MVOR10_NAMES)}],
    }
    for image_id, people in enumerate(scenes):
        gt["images"].append({"id": image_id, "width": frame_size[0], "height": frame_size[1]})
        for person in np.asarray(people, dtype=np.float64).reshape(-1, 18, 3):
            labelled = person[:, 2:] > 0
            if not labelled.any():
                continue
            mvor = coco17_to_mvor10(np.where(labelled, person, 0.0)[list(COCO17_FROM_NET)])
            mvor[:, 2] = np.where((mvor[:, :2] != 0).any(axis=1), 2.0, 0.0)
            gt["annotations"].append(
                {"id": len(gt["annotations"]), "image_id": image_id, "category_id": 1, "only_bbox": 0,
                 "keypoints": mvor.ravel().tolist()}
            )  # fmt: skip
    return gt
