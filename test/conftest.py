"""Shared test set-up: ROS 2 isolation (each pytest-xdist worker on its own DDS domain, loopback only, the big
shared-memory Fast DDS profile), the real MVOR annotations (read in place from ../shared, never copied), and the
shared fixtures: MVOR's geometry, synthetic datasets and seeded checkpoints."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from depthpose_core.checkpoint import save_checkpoint
from depthpose_core.models import build_model
from depthpose_core.preprocess import Preprocessing
from depthpose_core.synth import MVORGeometry, SynthConfig, load_mvor_geometry, write_dataset

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


@pytest.fixture(scope="session")
def mvor_geometry(mvor_dir: Path) -> MVORGeometry:
    """MVOR's real cameras and 3D poses (the synthetic world's geometry)."""
    return load_mvor_geometry(mvor_dir / "camma_mvor_2018.json")


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory: pytest.TempPathFactory, mvor_geometry: MVORGeometry) -> Callable[..., Path]:
    """A factory: ``synth_dataset(**SynthConfig fields)`` writes that synthetic dataset once per session (per
    pytest-xdist worker) and returns its folder. Treat it as read-only: other tests get the same folder."""
    made: dict[SynthConfig, Path] = {}

    def make(**fields: Any) -> Path:
        config = SynthConfig(**fields)
        if config not in made:
            out = tmp_path_factory.mktemp("synth") / "ds"
            write_dataset(out, mvor_geometry, config, progress=False)
            made[config] = out
        return made[config]

    return make


@pytest.fixture(scope="session")
def checkpoint_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """A factory of seeded, randomly initialised DepthPose checkpoints (the same weights in every run), written
    once per session: ``checkpoint_file(lowres=(16, 12), width=0.125, near_mm=500, far_mm=6000, plain=False)``.
    ``plain=True`` writes the bare state dict, as the authors released theirs. Narrow networks follow frames on a
    busy CPU; use them where a test does not care what the network finds."""
    made: dict[tuple, Path] = {}

    def make(lowres: tuple[int, int] = (16, 12), *, width: float = 0.125, near_mm: float = 500.0,
             far_mm: float = 6000.0, plain: bool = False) -> Path:  # fmt: skip
        key = (lowres, width, near_mm, far_mm, plain)
        if key not in made:
            torch.manual_seed(0)
            kwargs = {"width": width} if width != 1.0 else {}
            state = build_model("depthpose", **kwargs).state_dict()
            path = tmp_path_factory.mktemp("ckpt") / ("plain.pth" if plain else "project.pth")
            if plain:
                torch.save(state, path)
            else:
                pre = Preprocessing(lowres, lowres, near_mm=near_mm, far_mm=far_mm)
                save_checkpoint(path, state, model_name="depthpose", model_kwargs=kwargs, preprocessing=pre)
            made[key] = path
        return made[key]

    return make
