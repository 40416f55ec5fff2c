"""Training: configuration, the paper's losses, the trainer (exact resume, validation, logs, DDP), and the
initialisation from RTPose COCO weights."""

from __future__ import annotations

from depthpose_core.train.config import TrainConfig, load_train_config
from depthpose_core.train.init import init_from_rtpose_coco
from depthpose_core.train.losses import pose_loss, sr_loss
from depthpose_core.train.trainer import Trainer

__all__ = ["TrainConfig", "Trainer", "init_from_rtpose_coco", "load_train_config", "pose_loss", "sr_loss"]
