"""The ROS package around the node: parameter file, launch file, package manifest and build rules agree with
what the node declares. The launch file is read, not executed (``launch`` is not installable here)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from depthpose_ros.msg import Skeleton2DArray
from ros_support import TINY_PARAMS, NodeProcess, depth_image, make_node, ros_context, spin_until, wait_for_match
from sensor_msgs.msg import Image

from depthpose_core.decode import DECODER_SETTINGS
from depthpose_core.demo_scene import make_demo_frame
from depthpose_ros.node import CAMERA_INFO_TOPIC, INPUT_TOPIC, NODE_NAME, OUTPUT_3D_TOPIC, OUTPUT_TOPIC
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


def test_decoder_parameters_are_described_by_the_one_table() -> None:
    specs = {p.name: p for p in PARAMETERS}
    for name, doc in DECODER_SETTINGS.items():
        spec = specs[f"decoder.{name}"]
        assert spec.description == doc.description and (spec.low, spec.high) == (doc.low, doc.high)
    assert {n for n in specs if n.startswith("decoder.")} == {f"decoder.{n}" for n in DECODER_SETTINGS}


def _launch_constants() -> dict[str, str]:
    tree = ast.parse((REPO / "launch" / "pose.launch.py").read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        and isinstance(node.targets[0], ast.Name)
    }


def test_launch_file_names_the_installed_executable_params_file_and_topics() -> None:
    consts = _launch_constants()
    package = ET.parse(REPO / "package.xml").getroot().findtext("name")
    cmake = (REPO / "CMakeLists.txt").read_text()
    assert consts["PACKAGE"] == package == "depthpose_ros"
    # The executable the launch file starts is what CMake installs into lib/<package> and what pip installs.
    programs = re.search(r"install\(PROGRAMS ([^)]*?)\s+DESTINATION lib/\$\{PROJECT_NAME\}\)", cmake)
    for name, entry in ((consts["EXECUTABLE"], "depthpose_ros.node:main"),
                        (consts["LIFECYCLE_EXECUTABLE"], "depthpose_ros.lifecycle:lifecycle_main")):
        assert programs and f"scripts/{name}" in programs.group(1).split()
        assert (REPO / "scripts" / name).stat().st_mode & 0o111
        assert f"{name} = {entry}" in (REPO / "setup.py").read_text()
    # The default params file is installed to share/<package>/config and is the one in the repository.
    assert consts["PARAMS_FILE"] == "config/depthpose.yaml" and (REPO / consts["PARAMS_FILE"]).is_file()
    assert "install(DIRECTORY launch config DESTINATION share/${PROJECT_NAME})" in cmake
    # Remaps name the topics the node uses, and the node name matches.
    assert (consts["INPUT_TOPIC"], consts["OUTPUT_TOPIC"], consts["OUTPUT_3D_TOPIC"], consts["CAMERA_INFO_TOPIC"]) == (
        INPUT_TOPIC, OUTPUT_TOPIC, OUTPUT_3D_TOPIC, CAMERA_INFO_TOPIC)  # fmt: skip
    # ... and the Node action really uses those constants.
    tree = ast.parse((REPO / "launch" / "pose.launch.py").read_text())
    [call] = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "action"]
    kw = {k.arg: k.value for k in call.keywords}
    assert (kw["package"].id, kw["name"].value) == ("PACKAGE", NODE_NAME)
    assert ast.unparse(kw["executable"]) == "LIFECYCLE_EXECUTABLE if managed else EXECUTABLE"
    assert "action = LifecycleNode if managed else Node" in ast.unparse(tree)
    remapped = [pair.elts[0].id for pair in kw["remappings"].elts]
    assert remapped == ["INPUT_TOPIC", "OUTPUT_TOPIC", "OUTPUT_3D_TOPIC", "CAMERA_INFO_TOPIC"]
    assert ast.unparse(kw["parameters"].elts[0]) == "LaunchConfiguration('params_file')"
    [default] = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n).startswith(
        "DeclareLaunchArgument('params_file'")]  # fmt: skip
    assert "os.path.join(share, PARAMS_FILE)" in ast.unparse(default)


@pytest.mark.parametrize(
    "argument", ["params_file", "namespace", "input_topic", "output_topic", "output_3d_topic", "camera_info_topic",
                 "model", "device", "lifecycle"]
)
def test_launch_file_declares_its_arguments(argument: str) -> None:
    assert f'DeclareLaunchArgument("{argument}"' in (REPO / "launch" / "pose.launch.py").read_text()


def test_package_manifest_and_build_list_the_messages() -> None:
    root = ET.parse(REPO / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("export/build_type") == "ament_cmake"
    assert root.findtext("member_of_group") == "rosidl_interface_packages"
    depends = {e.text for e in root if e.tag.endswith("depend")}
    assert {"rosidl_default_generators", "rosidl_default_runtime", "rclpy", "sensor_msgs", "std_msgs",
            "geometry_msgs", "diagnostic_msgs", "visualization_msgs", "launch_ros"} <= depends  # fmt: skip
    cmake = (REPO / "CMakeLists.txt").read_text()
    for msg in sorted((REPO / "msg").glob("*.msg")):
        assert f'"msg/{msg.name}"' in cmake


def test_one_licence_in_the_manifest_the_python_package_and_license() -> None:
    assert ET.parse(REPO / "package.xml").getroot().findtext("license") == "Apache-2.0"
    assert 'license="Apache-2.0"' in (REPO / "setup.py").read_text()
    text = (REPO / "LICENSE").read_text()
    assert "Apache License" in text.splitlines()[1] and "Version 2.0, January 2004" in text


def test_every_message_field_is_documented() -> None:
    for path in (REPO / "msg").glob("*.msg"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line and not line.startswith("#") and "=" not in line:
                assert lines[i - 1].startswith("#"), f"{path.name}: field {line!r} has no comment above it"


def test_full_ros_build_installs_node_launch_config_and_both_python_packages(tmp_path: Path) -> None:
    """What colcon does for this ament_cmake package (cmake configure, build, install into a prefix), with the
    venv's ROS wheels as the underlay; the checkout is copied out first, as in a colcon workspace's src/."""
    src, prefix, venv = tmp_path / "src" / "depthpose_ros", tmp_path / "install", Path(sys.prefix)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()  # fmt: skip
    for name in files:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    env = {**os.environ, "AMENT_PREFIX_PATH": str(venv), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    steps = [
        ["cmake", "-S", str(src), "-B", str(tmp_path / "build"), f"-DCMAKE_PREFIX_PATH={venv}",
         f"-DCMAKE_INSTALL_PREFIX={prefix}", f"-DPython3_EXECUTABLE={sys.executable}"],
        ["cmake", "--build", str(tmp_path / "build"), "-j2"],
        ["cmake", "--install", str(tmp_path / "build")],
    ]  # fmt: skip
    for step in steps:
        proc = subprocess.run(step, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    site = prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for program in ("depthpose_node", "depthpose_lifecycle_node", "depthpose_replay_live", "depthpose_demo_live"):
        assert os.access(prefix / "lib" / "depthpose_ros" / program, os.X_OK), program
    for name in ("launch/pose.launch.py", "config/depthpose.yaml", "package.xml", "msg/Skeleton2D.msg"):
        assert (prefix / "share" / "depthpose_ros" / name).is_file(), name
    assert (prefix / "share" / "ament_index" / "resource_index" / "packages" / "depthpose_ros").is_file()
    for name in ("depthpose_ros/node.py", "depthpose_ros/msg/_skeleton2_d_array.py", "depthpose_core/inference.py",
                 "depthpose_core/models/depthpose.py", "depthpose_core/decode/fast.py",
                 "depthpose_core/weights/depthpose_lite_64x48_synth.pth",
                 "depthpose_core/weights/depthpose_w0125_64x48_synth.pth", "depthpose_core/weights/MODEL_CARD.md"):
        assert (site / name).is_file(), name
    # The installed node code and the installed messages import as one package from the install tree.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import depthpose_ros.node as n, depthpose_ros.msg as m; "
            "print(n.__file__); print(m.__file__)")  # fmt: skip
    env["LD_LIBRARY_PATH"] = f"{prefix / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}"
    proc = subprocess.run([sys.executable, "-c", code, str(site)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert all(line.startswith(str(site)) for line in proc.stdout.split()), proc.stdout
    # The installed executable starts from the install tree (as `ros2 run depthpose_ros depthpose_node` after
    # sourcing it) and answers a frame through real DDS.
    env["PYTHONPATH"] = str(site)
    env["AMENT_PREFIX_PATH"] = f"{prefix}:{venv}"
    node = NodeProcess(tmp_path, TINY_PARAMS, executable=prefix / "lib" / "depthpose_ros" / "depthpose_node",
                       env=env)  # fmt: skip
    try:
        assert node.wait_output("subscribed to /depth/image"), node.output()
        with ros_context() as context:
            tester, executor = make_node(context, "installed_tester")
            pub = tester.create_publisher(Image, "depth/image", 10)
            arrays: list[Skeleton2DArray] = []
            tester.create_subscription(Skeleton2DArray, "skeletons", arrays.append, 10)
            wait_for_match(executor, pub)
            deadline = time.monotonic() + 60
            while not arrays and time.monotonic() < deadline:
                pub.publish(depth_image(make_demo_frame(seed=0)[0], stamp_ns=5))
                spin_until(executor, lambda: bool(arrays), 0.5)
            assert arrays and arrays[0].header.stamp.nanosec == 5, node.output()
            executor.shutdown()
            tester.destroy_node()
    finally:
        assert node.stop() == 0, node.output()
