"""The code base passes ruff (pyflakes, pycodestyle, import order) with the settings in ruff.toml, and the type
checker mypy with the settings in mypy.ini."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    targets = ["depthpose_core", "depthpose_ros", "test", "bench", "launch", "setup.py", "scripts/depthpose_node"]
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", *targets], cwd=REPO, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_finds_nothing() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues found" in proc.stdout
