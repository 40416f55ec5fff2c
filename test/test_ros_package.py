"""The ROS package around the node: parameter file, launch file, package manifest and build rules agree with
what the node declares. The launch file is read, not executed (``launch`` is not installable here)."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from depthpose_ros.node import INPUT_TOPIC, NODE_NAME, OUTPUT_TOPIC
from depthpose_ros.parameters import PARAMETERS

REPO = Path(__file__).resolve().parents[1]


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_params_file_lists_every_parameter_with_its_default_and_a_comment() -> None:
    text = (REPO / "config" / "depthpose.yaml").read_text()
    values = _flatten(yaml.safe_load(text)["/**"]["ros__parameters"])
    assert values == {p.name: p.default for p in PARAMETERS}
    assert all(type(values[p.name]) is type(p.default) for p in PARAMETERS)  # 0.0 stays a double, 0 an integer
    lines = text.splitlines()
    for spec in PARAMETERS:
        leaf = spec.name.split(".")[-1]
        index = next(i for i, line in enumerate(lines) if re.match(rf"\s+{re.escape(leaf)}:", line))
        assert lines[index - 1].strip().startswith("#") or lines[index - 2].strip().startswith("#"), spec.name


def _launch_constants() -> dict[str, str]:
    tree = ast.parse((REPO / "launch" / "pose.launch.py").read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.targets[0], ast.Name)
    }


def test_launch_file_names_the_installed_executable_params_file_and_topics() -> None:
    consts = _launch_constants()
    package = ET.parse(REPO / "package.xml").getroot().findtext("name")
    cmake = (REPO / "CMakeLists.txt").read_text()
    assert consts["PACKAGE"] == package == "depthpose_ros"
    # The executable the launch file starts is what CMake installs into lib/<package> and what pip installs.
    assert f"install(PROGRAMS scripts/{consts['EXECUTABLE']} DESTINATION lib/${{PROJECT_NAME}})" in cmake
    assert (REPO / "scripts" / consts["EXECUTABLE"]).stat().st_mode & 0o111
    assert f"{consts['EXECUTABLE']} = depthpose_ros.node:main" in (REPO / "setup.py").read_text()
    # The default params file is installed to share/<package>/config and is the one in the repository.
    assert consts["PARAMS_FILE"] == "config/depthpose.yaml" and (REPO / consts["PARAMS_FILE"]).is_file()
    assert "install(DIRECTORY launch config DESTINATION share/${PROJECT_NAME})" in cmake
    # Remaps name the topics the node uses, and the node name matches.
    assert (consts["INPUT_TOPIC"], consts["OUTPUT_TOPIC"]) == (INPUT_TOPIC, OUTPUT_TOPIC)
    assert f'name="{NODE_NAME}"' in (REPO / "launch" / "pose.launch.py").read_text()


@pytest.mark.parametrize("argument", ["params_file", "namespace", "input_topic", "output_topic", "model", "device"])
def test_launch_file_declares_its_arguments(argument: str) -> None:
    assert f'DeclareLaunchArgument("{argument}"' in (REPO / "launch" / "pose.launch.py").read_text()


def test_package_manifest_and_build_list_the_messages() -> None:
    root = ET.parse(REPO / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("export/build_type") == "ament_cmake"
    assert root.findtext("member_of_group") == "rosidl_interface_packages"
    depends = {e.text for e in root if e.tag.endswith("depend")}
    assert {"rosidl_default_generators", "rosidl_default_runtime", "rclpy", "sensor_msgs", "std_msgs",
            "diagnostic_msgs", "visualization_msgs", "launch_ros"} <= depends  # fmt: skip
    cmake = (REPO / "CMakeLists.txt").read_text()
    for msg in sorted((REPO / "msg").glob("*.msg")):
        assert f'"msg/{msg.name}"' in cmake


def test_every_message_field_is_documented() -> None:
    for path in (REPO / "msg").glob("*.msg"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line and not line.startswith("#") and "=" not in line:
                assert lines[i - 1].startswith("#"), f"{path.name}: field {line!r} has no comment above it"
