"""Training data: records from COCO-style keypoint JSON (synthetic, MVOR, pseudo-labelled), label-preserving
augmentation, and the dataset producing network inputs, SR targets and PAF/heatmap targets with loss masks."""

from __future__ import annotations

from depthpose_core.data.dataset import PoseDataset, TargetConfig, channel_mask
from depthpose_core.data.mvor import depth_file_name, load_mvor_records
from depthpose_core.data.records import ImageRecord, load_records, to_net18
from depthpose_core.data.transforms import AugmentParams, augment

__all__ = [
    "AugmentParams",
    "ImageRecord",
    "PoseDataset",
    "TargetConfig",
    "augment",
    "channel_mask",
    "depth_file_name",
    "load_mvor_records",
    "load_records",
    "to_net18",
]
