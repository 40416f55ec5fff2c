"""``ros2 launch depthpose_ros pose.launch.py``: the depthpose node with its parameter file.

Arguments (``name:=value``):
    params_file    parameter file (default: the installed config/depthpose.yaml)
    namespace      namespace of the node and of its relative topics (default: none)
    input_topic    depth image topic the node subscribes to (remaps depth/image; default depth/image)
    output_topic   skeleton topic the node publishes (remaps skeletons; default skeletons)
    output_3d_topic  3D skeleton topic the node publishes (remaps skeletons_3d; default skeletons_3d)
    camera_info_topic  camera info for the 3D skeletons and markers (remaps camera_info; default camera_info)
    model          checkpoint file; overrides the file's 'model' (default: the file's value)
    device         auto, cpu, cuda or cuda:N; overrides the file's 'device' (default: the file's value)
    lifecycle      true: the managed node (depthpose_lifecycle_node), which starts unconfigured and waits for
                   its lifecycle transitions (configure loads the model, activate opens the topics); default false

Equivalent without ros2 launch (e.g. a venv with the ROS 2 PyPI wheels)::

    depthpose_node --ros-args --params-file config/depthpose.yaml -r depth/image:=/camera/depth/image_raw
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node
from launch_ros.parameter_descriptions import ParameterValue

from launch import LaunchDescription

PACKAGE = "depthpose_ros"
EXECUTABLE = "depthpose_node"
LIFECYCLE_EXECUTABLE = "depthpose_lifecycle_node"
PARAMS_FILE = "config/depthpose.yaml"
INPUT_TOPIC = "depth/image"
OUTPUT_TOPIC = "skeletons"
OUTPUT_3D_TOPIC = "skeletons_3d"
CAMERA_INFO_TOPIC = "camera_info"


def _node(context, *args, **kwargs):  # noqa: ANN001, ANN202 - OpaqueFunction signature
    overrides = {}
    for name in ("model", "device"):
        value = LaunchConfiguration(name).perform(context)
        if value:
            overrides[name] = ParameterValue(value, value_type=str)  # a path stays a string, whatever it looks like
    managed = LaunchConfiguration("lifecycle").perform(context).strip().lower() in ("true", "1", "yes")
    action = LifecycleNode if managed else Node
    return [
        action(
            package=PACKAGE,
            executable=LIFECYCLE_EXECUTABLE if managed else EXECUTABLE,
            name="depthpose",
            namespace=LaunchConfiguration("namespace"),
            parameters=[LaunchConfiguration("params_file"), overrides],
            remappings=[
                (INPUT_TOPIC, LaunchConfiguration("input_topic")),
                (OUTPUT_TOPIC, LaunchConfiguration("output_topic")),
                (OUTPUT_3D_TOPIC, LaunchConfiguration("output_3d_topic")),
                (CAMERA_INFO_TOPIC, LaunchConfiguration("camera_info_topic")),
            ],
            output="screen",
            emulate_tty=True,
        )
    ]


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory(PACKAGE)
    return LaunchDescription([
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, PARAMS_FILE),
                              description="parameter file of the node"),
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the node and its topics"),
        DeclareLaunchArgument("input_topic", default_value=INPUT_TOPIC, description="depth image topic (in)"),
        DeclareLaunchArgument("output_topic", default_value=OUTPUT_TOPIC, description="skeleton topic (out)"),
        DeclareLaunchArgument("output_3d_topic", default_value=OUTPUT_3D_TOPIC,
                              description="3D skeleton topic (out)"),
        DeclareLaunchArgument("camera_info_topic", default_value=CAMERA_INFO_TOPIC,
                              description="camera info topic (in; for the 3D skeletons and markers)"),
        DeclareLaunchArgument("model", default_value="", description="checkpoint file (empty: the file's value)"),
        DeclareLaunchArgument("device", default_value="", description="auto, cpu, cuda or cuda:N (empty: the "
                              "file's value)"),
        DeclareLaunchArgument("lifecycle", default_value="false", description="true: the managed (lifecycle) "
                              "node, which waits for configure and activate"),
        OpaqueFunction(function=_node),
    ])  # fmt: skip
