"""Training records from COCO-style keypoint JSON: synthetic (``depthpose synth``), MVOR, or pseudo-labelled.

Every person becomes the network's 18 joints (``keypoints.NET_JOINTS``) as x, y (pixels of the image, centres at
+0.5) and a flag (0 = not labelled, 1 = labelled but occluded, 2 = labelled and visible), whatever the file holds:

- ``keypoints18`` (54 values, network order; what ``depthpose synth`` and ``depthpose pseudo-label`` write),
- ``keypoints`` with 54 values (the same order), 51 values (COCO-17; neck = midpoint of the shoulders when both
  are labelled), or 30 values (MVOR-10: neck, shoulders, hips, elbows and wrists; MVOR's head is not a network
  joint, so nose, eyes, ears, knees and ankles are not labelled).

A record also says which joint types its format can label at all (``labelled_joints``): training masks the
others rather than teaching the network that they are absent. People with ``only_bbox`` = 1 (or no labelled
joint) are kept as boxes only, to be masked out of the loss.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from depthpose_core.errors import DepthPoseError
from depthpose_core.io import image_path, load_json
from depthpose_core.keypoints import COCO17_FROM_NET, NET_FROM_MVOR10, NET_JOINTS, NUM_JOINTS

__all__ = ["ImageRecord", "load_records", "to_net18"]

_J = {name: i for i, name in enumerate(NET_JOINTS)}
_ALL = np.ones(NUM_JOINTS, dtype=bool)
_MVOR_LABELLED = np.isin(np.arange(NUM_JOINTS), NET_FROM_MVOR10)


@dataclass(frozen=True)
class ImageRecord:
    """One image and its people.

    Attributes:
        image_id: the JSON's image id.
        path: the depth image file.
        size: (width, height) in pixels from the JSON.
        people: ``(N, 18, 3)`` keypoint-labelled people (x, y, flag).
        boxes: ``(M, 4)`` boxes (x, y, w, h) of people without keypoint labels (to mask).
        labelled_joints: ``(18,)`` bool, joint types the file's format labels.
    """

    image_id: Any
    path: Path
    size: tuple[int, int]
    people: np.ndarray
    boxes: np.ndarray
    labelled_joints: np.ndarray


def to_net18(values: list[float], where: str) -> tuple[np.ndarray, np.ndarray]:
    """One person's keypoint list (54, 51 or 30 numbers; see module docstring) -> ``(18, 3)`` and the joint types
    its format labels.

    Raises:
        DepthPoseError: another length, or non-finite numbers.
    """
    k = np.asarray(values, dtype=np.float64)
    if not np.isfinite(k).all():
        raise DepthPoseError(f"{where}: keypoints hold NaN or infinite values")
    out = np.zeros((NUM_JOINTS, 3))
    if k.size == NUM_JOINTS * 3:
        out[:] = k.reshape(NUM_JOINTS, 3)
        labelled = _ALL
    elif k.size == 51:
        coco = k.reshape(17, 3)
        out[list(COCO17_FROM_NET)] = coco
        sho = coco[[5, 6]]
        if (sho[:, 2] > 0).all():
            out[_J["neck"], :2] = sho[:, :2].mean(axis=0)
            out[_J["neck"], 2] = sho[:, 2].min()
        labelled = _ALL
    elif k.size == 30:
        mvor = k.reshape(10, 3)
        out[list(NET_FROM_MVOR10)] = mvor[1:]
        labelled = _MVOR_LABELLED
    else:
        raise DepthPoseError(f"{where}: {k.size} keypoint values; expected 54 (18 joints), 51 (COCO-17) or 30 "
                             "(MVOR-10)")  # fmt: skip
    out[(out[:, 0] == 0) & (out[:, 1] == 0), 2] = 0.0  # (0, 0) is "missing" in every format
    out[:, 2] = np.clip(out[:, 2], 0.0, 2.0)
    return out, labelled


def load_records(
    json_path: str | os.PathLike[str], images_root: str | os.PathLike[str] | None = None, *,
    file_name: Any = None,
) -> list[ImageRecord]:  # fmt: skip
    """Read a COCO-style keypoint file into per-image records.

    Args:
        json_path: the annotations file.
        images_root: folder the images' ``file_name`` are relative to; None = the JSON's folder.
        file_name: optional ``callable(image dict) -> relative path`` (e.g. MVOR colour names to depth names).

    Raises:
        DepthPoseError: unreadable file, unknown image ids, malformed keypoints (the message names the record).
    """
    data = load_json(json_path, kind="ground truth")
    root = Path(images_root) if images_root is not None else Path(json_path).parent
    try:
        images = {img["id"]: img for img in data["images"]}
        per_image: dict[Any, list[dict]] = {i: [] for i in images}
        for i, ann in enumerate(data["annotations"]):
            if ann["image_id"] not in per_image:
                raise DepthPoseError(f"{json_path}: annotation {ann.get('id', i)} names unknown image "
                                     f"{ann['image_id']!r}")  # fmt: skip
            per_image[ann["image_id"]].append(ann)
    except (KeyError, TypeError) as err:
        raise DepthPoseError(f"{json_path} is not a COCO-style keypoint file: missing {err}") from None
    records = []
    for image_id, img in images.items():
        people, boxes, labelled = [], [], None
        for ann in per_image[image_id]:
            where = f"{json_path}: annotation {ann.get('id')}"
            values = ann.get("keypoints18") or ann.get("keypoints")
            kps, kinds = (to_net18(values, where) if values else (np.zeros((NUM_JOINTS, 3)), _ALL))
            labelled = kinds if labelled is None else labelled & kinds
            if int(ann.get("only_bbox", 0)) == 1 or not (kps[:, 2] > 0).any():
                if "bbox" in ann:
                    boxes.append([float(v) for v in ann["bbox"]])
            else:
                people.append(kps)
        path = image_path(root, img, file_name(img) if file_name is not None else None)
        records.append(ImageRecord(
            image_id, path, (int(img.get("width", 640)), int(img.get("height", 480))),
            np.array(people, dtype=np.float64).reshape(-1, NUM_JOINTS, 3),
            np.array(boxes, dtype=np.float64).reshape(-1, 4), _ALL if labelled is None else labelled,
        ))  # fmt: skip
    return records
