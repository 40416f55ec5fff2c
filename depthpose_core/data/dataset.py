"""The training dataset: depth frames + COCO-style keypoints -> network input, SR target and PAF/heatmap targets.

Per sample: read the 16-bit depth frame; augment it (optional); reduce it to the low resolution with
:func:`preprocess.to_lowres` (the same ingress as inference, with the model's recorded :class:`Preprocessing`);
reduce it to the super-resolution size the same way for the L_HR target; render the ground-truth maps at the
network's output resolution with :func:`targets.render_maps` (the renderer the decoder tests use); build the loss
mask (zero over people that have no keypoint labels, and on the channels of joint types the annotation format
cannot label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from depthpose_core.data.records import ImageRecord
from depthpose_core.data.transforms import AugmentParams, augment
from depthpose_core.errors import InputError
from depthpose_core.io import read_depth
from depthpose_core.keypoints import LIMBS, NUM_HEATMAPS, NUM_PAFS
from depthpose_core.preprocess import Preprocessing, to_lowres, to_model_input
from depthpose_core.targets import render_maps

__all__ = ["HEATMAP_SIGMA_640", "PoseDataset", "TargetConfig", "channel_mask"]

#: Heatmap Gaussian standard deviation in pixels of a 640-pixel-wide frame (OpenPose's default scale).
HEATMAP_SIGMA_640 = 7.0


@dataclass(frozen=True)
class TargetConfig:
    """How targets are made.

    Attributes:
        output_stride: model input pixels per output map cell (1 for DepthPose, 8 for RTPose).
        sr_factor: the SR image's size over the low resolution (8 for DepthPose's x8 block); 0 = no SR target.
        paf_width: PAF half width, output cells.
        sigma_640: heatmap Gaussian standard deviation in pixels of a 640-pixel-wide frame (scaled with the
            frame's width).
    """

    output_stride: int = 1
    sr_factor: int = 8
    paf_width: float = 1.0
    sigma_640: float = HEATMAP_SIGMA_640


def channel_mask(labelled_joints: np.ndarray) -> np.ndarray:
    """``(57,)`` float: 1 for the PAF (38) and heatmap (19) channels a format labels, 0 for the others.

    A joint type the format cannot label masks its heatmap and every limb touching it; the background channel is
    masked when any joint type is.
    """
    heat = np.append(labelled_joints.astype(np.float32), float(labelled_joints.all()))
    limbs = np.array([labelled_joints[a] and labelled_joints[b] for a, b in LIMBS], dtype=np.float32)
    return np.concatenate([np.repeat(limbs, 2), heat])


class PoseDataset(Dataset):
    """Training samples from image records.

    Args:
        records: images and their people (see :func:`depthpose_core.data.records.load_records`).
        preprocessing: the model's input pipeline (low resolution, model size, depth mapping).
        targets: output stride, SR factor and PAF width.
        augment_params: augmentation ranges; None = no augmentation (evaluation).
        seed: base seed of the augmentation (sample i of epoch e uses ``[seed, e, i]``; call :meth:`set_epoch`).

    A sample is a dict of tensors: ``input`` (1, H, W) network input; ``sr`` (1, sH, sW) SR target at the SR
    resolution (absent when ``sr_factor`` is 0); ``paf`` (38, h, w) and ``heat`` (19, h, w) targets; ``mask``
    (57, h, w) loss weights (PAF channels then heatmap channels); ``index`` the record index.
    """

    def __init__(self, records: Sequence[ImageRecord], preprocessing: Preprocessing,
                 targets: TargetConfig | None = None, augment_params: AugmentParams | None = None,
                 seed: int = 0) -> None:  # fmt: skip
        self.records = list(records)
        self.pre = preprocessing
        self.targets = targets or TargetConfig()
        self.augment_params = augment_params
        self.seed = seed
        self.epoch = 0
        mw, mh = preprocessing.model_size
        s = self.targets.output_stride
        if mw % s or mh % s:
            raise ValueError(f"model size {mw}x{mh} is not a multiple of the output stride {s}")
        self.map_size = (mw // s, mh // s)

    def set_epoch(self, epoch: int) -> None:
        """Choose the augmentations of the next pass (every epoch sees new ones, reproducibly)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def _read(self, record: ImageRecord) -> np.ndarray:
        depth = read_depth(record.path)
        if depth.dtype not in (np.uint16, np.uint8):  # augmentation and targets assume integer depth
            raise InputError(f"depth image {record.path} must be 16-bit (mm) or 8-bit for training, got {depth.dtype}")
        return depth

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        record = self.records[index]
        depth = self._read(record)
        h, w = depth.shape
        people, boxes = record.people, record.boxes
        if (w, h) != record.size:  # labels are in the JSON's image size: bring them to the file's
            people = people * np.array([w / record.size[0], h / record.size[1], 1.0])
            boxes = boxes * np.array([w, h, w, h]) / np.array([*record.size, *record.size])
        if self.augment_params is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            depth, people, boxes = augment(depth, people, boxes, rng, self.augment_params)
        lowres = to_lowres(depth, self.pre)
        sample = {"input": torch.from_numpy(to_model_input(lowres, self.pre)[None].copy()),
                  "index": torch.tensor(index)}  # fmt: skip
        f = self.targets.sr_factor
        if f:
            lw, lh = self.pre.lowres_size
            sr = to_lowres(depth, self.pre.with_updates(lowres_size=(lw * f, lh * f)))
            sample["sr"] = torch.from_numpy(sr[None])
        sigma = self.targets.sigma_640 * w / 640.0
        paf, heat = render_maps(people, self.map_size, (w, h), sigma=sigma, paf_width=self.targets.paf_width)
        mask = np.ones((NUM_PAFS + NUM_HEATMAPS, *heat.shape[1:]), dtype=np.float32)
        mask *= channel_mask(record.labelled_joints)[:, None, None]
        sx, sy = self.map_size[0] / w, self.map_size[1] / h
        for x, y, bw, bh in boxes:  # people without keypoint labels: no gradient over them
            x0, y0 = int(np.floor(x * sx)), int(np.floor(y * sy))
            x1, y1 = int(np.ceil((x + bw) * sx)), int(np.ceil((y + bh) * sy))
            mask[:, max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = 0.0
        sample.update(paf=torch.from_numpy(paf), heat=torch.from_numpy(heat), mask=torch.from_numpy(mask))
        return sample

