"""The ``depthpose`` command line: demo, infer and eval-results, end to end."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import cv2
import numpy as np
import pytest

from depthpose_core.cli import main
from depthpose_core.demo_scene import make_demo_frame

MVOR = pathlib.Path(os.environ.get("DEPTHPOSE_MVOR_DIR", pathlib.Path(__file__).parents[2] / "shared/data/mvor"))
SCRIPT = pathlib.Path(sys.executable).with_name("depthpose")


def test_demo_console_script_runs_the_main_job(tmp_path: pathlib.Path) -> None:
    proc = subprocess.run([str(SCRIPT), "demo", "--out", str(tmp_path), "--device", "cpu"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "RANDOMLY INITIALISED" in proc.stdout and "device cpu" in proc.stdout
    overlay = cv2.imread(str(tmp_path / "demo_overlay.png"))
    assert overlay.shape == (48 * 8, 64 * 8, 3)
    assert isinstance(json.loads((tmp_path / "demo_results.json").read_text()), list)


def test_infer_writes_results_and_a_low_resolution_overlay(tmp_path: pathlib.Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    depth, _ = make_demo_frame(2)
    png = tmp_path / "frame.png"
    cv2.imwrite(str(png), depth)
    out_json, overlay = tmp_path / "r.json", tmp_path / "o.png"
    code = main(["infer", str(png), "--untrained", "--device", "cpu", "--no-flip", "--image-id", "5",
                 "--out-json", str(out_json), "--overlay", str(overlay)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "RANDOMLY INITIALISED" in text and "640x480 uint16" in text
    results = json.loads(out_json.read_text())
    assert all(r["image_id"] == 5 and len(r["keypoints"]) == 51 for r in results)
    assert cv2.imread(str(overlay)).shape == (384, 512, 3)


def test_infer_reports_bad_files_without_a_traceback(tmp_path: pathlib.Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    np.save(tmp_path / "d.npy", np.full((480, 640), 2.0, np.float32))
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    assert main(["infer", str(tmp_path / "d.npy"), "--model", str(tmp_path / "bad.pth")]) == 1
    assert "ERROR: checkpoint" in capsys.readouterr().out
    assert main(["infer", str(tmp_path / "missing.png"), "--untrained"]) == 1
    assert "does not exist" in capsys.readouterr().out
    (tmp_path / "bad.yaml").write_text("device: [\n")
    assert main(["infer", str(tmp_path / "d.npy"), "--untrained", "--config", str(tmp_path / "bad.yaml")]) == 1
    assert "not valid YAML" in capsys.readouterr().out
    np.save(tmp_path / "rgb.npy", np.zeros((480, 640, 3), np.uint8))
    assert main(["infer", str(tmp_path / "rgb.npy"), "--untrained"]) == 1
    assert "single-channel" in capsys.readouterr().out


@pytest.mark.skipif(not MVOR.is_dir(), reason=f"MVOR annotations not found at {MVOR} (set DEPTHPOSE_MVOR_DIR)")
def test_eval_results_prints_the_published_openpose_row(tmp_path: pathlib.Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "pck.json"
    code = main(["eval-results", str(MVOR / "camma_mvor_2018.json"), str(MVOR / "openpose_kps.json"),
                 "--json", str(out), "--name", "OpenPose"])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if line.startswith("OpenPose"))
    assert row.split()[1:] == ["70.4", "69.9", "42.3", "57.6", "45.3", "57.1"]
    assert json.loads(out.read_text())["num_persons"] == 2926


def test_eval_results_rejects_malformed_json(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gt.json").write_text("{not json")
    (tmp_path / "r.json").write_text("[]")
    assert main(["eval-results", str(tmp_path / "gt.json"), str(tmp_path / "r.json")]) == 1
    text = capsys.readouterr().out
    assert "ERROR" in text and "gt.json" in text
