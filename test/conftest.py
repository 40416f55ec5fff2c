"""Shared test fixtures: the real MVOR annotations (read in place from ../shared, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Folder of camma_mvor_2018.json and openpose_kps.json (CC BY-NC-SA: read from here, never committed).
MVOR_DIR = Path(os.environ.get("DEPTHPOSE_MVOR_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "mvor"))


@pytest.fixture(scope="session")
def mvor_dir() -> Path:
    """The MVOR folder; a missing folder fails the test (the acceptance figures must never be skipped)."""
    files = [MVOR_DIR / "camma_mvor_2018.json", MVOR_DIR / "openpose_kps.json"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        pytest.fail(f"MVOR data missing: {', '.join(missing)} (set DEPTHPOSE_MVOR_DIR to the folder holding them)")
    return MVOR_DIR
