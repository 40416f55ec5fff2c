#!/usr/bin/env bash
# Create .venv and install depthpose with its test tools. Idempotent; nothing is downloaded at run time later.
# DEPTHPOSE_PYTHON: interpreter (default python3.11, else python3).
# DEPTHPOSE_TORCH: pip requirement for torch (default torch==2.13.0, the CPU wheel on the development machines;
#                  on a GPU machine pre-install your CUDA build of torch in .venv or set e.g. "torch==2.9.1").
set -euo pipefail
cd "$(dirname "$0")/.."
py="${DEPTHPOSE_PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $py"
  "$py" -m venv .venv
fi
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install --quiet "${DEPTHPOSE_TORCH:-torch==2.13.0}"
fi
.venv/bin/pip install --quiet -e ".[test]"
.venv/bin/python -c "import torch, cv2, numpy; print(f'depthpose environment ready: torch {torch.__version__}, opencv {cv2.__version__}, numpy {numpy.__version__}, CUDA available: {torch.cuda.is_available()}')"
