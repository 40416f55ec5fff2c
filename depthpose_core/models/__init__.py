"""Networks: DepthPose, DepthPose-Lite, the RTPose-1ch, RTPose-Lite and SR+RTPose baselines, their
registry, weights, cost."""

from __future__ import annotations

from depthpose_core.models._blocks import SRPoseNetwork, TrainOutput
from depthpose_core.models._registry import build_model, list_models, register_model
from depthpose_core.models.complexity import count_macs, count_parameters
from depthpose_core.models.depthpose import DepthPose
from depthpose_core.models.depthpose_lite import DepthPoseLite
from depthpose_core.models.rtpose import RTPose
from depthpose_core.models.rtpose_lite import RTPoseLite
from depthpose_core.models.sr import SRNet, SRRTPose
from depthpose_core.models.weights import init_sr_orthogonal_, load_weights

__all__ = [
    "DepthPose",
    "DepthPoseLite",
    "RTPose",
    "RTPoseLite",
    "SRNet",
    "SRPoseNetwork",
    "SRRTPose",
    "TrainOutput",
    "build_model",
    "count_macs",
    "count_parameters",
    "init_sr_orthogonal_",
    "list_models",
    "load_weights",
    "register_model",
]
