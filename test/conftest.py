"""Shared test set-up: ROS 2 isolation (each pytest-xdist worker on its own DDS domain, loopback only, the big
shared-memory Fast DDS profile) and the real MVOR annotations (read in place from ../shared, never copied)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _domain_id() -> int:
    """1..100: distinct for the workers of one run, and spread over runs (concurrent runs on one machine)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    workers = min(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), 100)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    return (int(run, 16) % (100 // workers)) * workers + worker + 1


# Set before rclpy is imported anywhere; node processes started by the tests inherit them.
os.environ["ROS_DOMAIN_ID"] = str(_domain_id())
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(REPO / "config" / "fastdds_localhost.xml")

#: Folder of camma_mvor_2018.json and openpose_kps.json (CC BY-NC-SA: read from here, never committed).
MVOR_DIR = Path(os.environ.get("DEPTHPOSE_MVOR_DIR", REPO.parent / "shared" / "data" / "mvor"))


@pytest.fixture(scope="session")
def mvor_dir() -> Path:
    """The MVOR folder; a missing folder fails the test (the acceptance figures must never be skipped)."""
    files = [MVOR_DIR / "camma_mvor_2018.json", MVOR_DIR / "openpose_kps.json"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        pytest.fail(f"MVOR data missing: {', '.join(missing)} (set DEPTHPOSE_MVOR_DIR to the folder holding them)")
    return MVOR_DIR
