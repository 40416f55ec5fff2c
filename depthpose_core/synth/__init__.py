"""The synthetic operating-room depth world: MVOR's real cameras and 3D poses, articulated clinicians, a
ray-cast depth renderer with sensor effects, registered colour, labelled frames, datasets and rosbag2 sequences."""

from __future__ import annotations

from depthpose_core.synth.bag import colour_info_topic, colour_topic, depth_topic, info_topic
from depthpose_core.synth.camera import Camera
from depthpose_core.synth.colour import Appearance, shade
from depthpose_core.synth.dataset import (
    LabelledFrame,
    SynthConfig,
    SynthSummary,
    dataset_info,
    demo_config,
    label_file,
    render_sequence,
    write_dataset,
)
from depthpose_core.synth.frames import PersonLabel, SynthFrame, render_frame
from depthpose_core.synth.mvor import MVORGeometry, default_mvor_file, load_mvor_geometry
from depthpose_core.synth.world import World, WorldParams

__all__ = [
    "Appearance",
    "Camera",
    "LabelledFrame",
    "MVORGeometry",
    "PersonLabel",
    "SynthConfig",
    "SynthFrame",
    "SynthSummary",
    "World",
    "WorldParams",
    "colour_info_topic",
    "colour_topic",
    "dataset_info",
    "default_mvor_file",
    "demo_config",
    "depth_topic",
    "info_topic",
    "label_file",
    "load_mvor_geometry",
    "render_frame",
    "render_sequence",
    "shade",
    "write_dataset",
]
