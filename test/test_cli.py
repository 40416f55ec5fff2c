"""The ``depthpose`` command line: demo, infer and eval-results, end to end."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from collections.abc import Callable

import cv2
import numpy as np
import pytest
import torch

from depthpose_core.backends import select_backend
from depthpose_core.cli import main
from depthpose_core.demo_scene import make_demo_frame
from depthpose_core.weights.registry import SHIPPED

SCRIPT = pathlib.Path(sys.executable).with_name("depthpose")


def test_demo_console_script_runs_the_main_job(tmp_path: pathlib.Path) -> None:
    proc = subprocess.run([str(SCRIPT), "demo", "--out", str(tmp_path), "--device", "cpu", "--frames", "8"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "SYNTHETIC data only" in out and "synthetic operating-room sequence" in out
    chosen = select_backend("auto", torch.device("cpu"))  # the banner names what auto chose
    assert f"backend {chosen} (" in out and "on cpu, precision" in out
    assert out.count("frame ") >= 8 and "MVOR PCK@0.2" in out
    row = next(line for line in out.splitlines() if line.startswith(f"{SHIPPED['demo'].model_name} "))
    assert float(row.split()[-3]) > 20.0  # the Average column; shipped weights: 51.8 measured (untrained: 0)
    sheet = cv2.imread(str(tmp_path / "demo_sheet.png"))
    assert sheet.shape == (2 * 48 * 4, 4 * 64 * 4, 3)  # 8 frames, 4 per row, low resolution x4
    results = json.loads((tmp_path / "demo_results.json").read_text())
    assert results and all(len(r["keypoints"]) == 51 for r in results)


def test_demo_with_untrained_weights_says_so(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--untrained", "--device", "cpu", "--no-flip", "--frames", "2"]) == 0
    out = capsys.readouterr().out
    assert "RANDOMLY INITIALISED" in out and "(untrained)" in out
    assert cv2.imread(str(tmp_path / "demo_sheet.png")).shape == (48 * 4, 4 * 64 * 4, 3)


def test_infer_writes_results_and_a_low_resolution_overlay(tmp_path: pathlib.Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    depth, _ = make_demo_frame(2)
    png = tmp_path / "frame.png"
    cv2.imwrite(str(png), depth)
    out_json, overlay = tmp_path / "r.json", tmp_path / "o.png"
    code = main(["infer", str(png), "--model", "demo", "--device", "cpu", "--image-id", "5",
                 "--out-json", str(out_json), "--overlay", str(overlay)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    results = json.loads(out_json.read_text())
    assert "SYNTHETIC data only" in text and "640x480 uint16" in text and f"{len(results)} people found" in text
    assert all(r["image_id"] == 5 and len(r["keypoints"]) == 51 for r in results)
    # The three clinicians come out whole; the shipped lite weights add low-score 3-4-joint fragments.
    assert sum(1 for r in results if sum(v > 0 for v in r["keypoints"][2::3]) >= 8) == 3
    assert cv2.imread(str(overlay)).shape == (384, 512, 3)


def test_infer_reports_bad_files_without_a_traceback(tmp_path: pathlib.Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    np.save(tmp_path / "d.npy", np.full((480, 640), 2.0, np.float32))
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    assert main(["infer", str(tmp_path / "d.npy"), "--model", str(tmp_path / "bad.pth")]) == 1
    captured = capsys.readouterr()
    assert "ERROR: checkpoint" in captured.err and "ERROR" not in captured.out  # errors go to stderr
    assert main(["infer", str(tmp_path / "missing.png"), "--untrained"]) == 1
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("device: [\n")
    assert main(["infer", str(tmp_path / "d.npy"), "--untrained", "--config", str(tmp_path / "bad.yaml")]) == 1
    assert "not valid YAML" in capsys.readouterr().err
    np.save(tmp_path / "rgb.npy", np.zeros((480, 640, 3), np.uint8))
    assert main(["infer", str(tmp_path / "rgb.npy"), "--untrained"]) == 1
    assert "single-channel" in capsys.readouterr().err


def test_eval_results_prints_the_published_openpose_row(tmp_path: pathlib.Path, mvor_dir: pathlib.Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "pck.json"
    code = main(["eval-results", str(mvor_dir / "camma_mvor_2018.json"), str(mvor_dir / "openpose_kps.json"),
                 "--json", str(out), "--name", "OpenPose"])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if line.startswith("OpenPose"))
    assert row.split()[1:7] == ["70.4", "69.9", "42.3", "57.6", "45.3", "57.1"]
    saved = json.loads(out.read_text())
    assert saved["num_persons"] == 2926
    assert row.split()[7] == f"{100.0 * saved['num_matched'] / 2926:.1f}"  # recall: people matched / labelled
    fp = saved["num_false_positives"]
    records = len(json.loads((mvor_dir / "openpose_kps.json").read_text()))
    assert row.split()[8] == f"{fp / saved['num_frames']:.2f}" and saved["num_frames"] == 2196
    assert 0 < fp < records - saved["num_matched"]  # detections on MVOR's unlabelled (only_bbox) people are excused


def test_outputs_that_cannot_be_written_are_one_error_naming_the_path(
    tmp_path: pathlib.Path, mvor_dir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a_file").write_text("")
    blocked = tmp_path / "a_file" / "sub" / "out.json"  # under a file: fails for any user, root included
    np.save(tmp_path / "d.npy", np.full((480, 640), 2000, np.uint16))
    gt, res = str(mvor_dir / "camma_mvor_2018.json"), str(mvor_dir / "openpose_kps.json")
    for argv, what in [
        (["infer", str(tmp_path / "d.npy"), "--untrained", "--out-json", str(blocked)], "results file"),
        (["infer", str(tmp_path / "d.npy"), "--untrained", "--overlay", str(blocked)], "overlay image"),
        (["eval-results", gt, res, "--json", str(blocked)], "PCK file"),
    ]:
        assert main(argv) == 1, argv
        captured = capsys.readouterr()
        assert f"ERROR: cannot write {what} {blocked}: {tmp_path / 'a_file'} is a file, not a folder" in captured.err
        assert "Traceback" not in captured.err and "ERROR" not in captured.out
    assert not (tmp_path / "d_poses.json").exists()  # checked before the work: nothing else written either


def test_eval_results_on_an_empty_results_list_warns(tmp_path: pathlib.Path, mvor_dir: pathlib.Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    (tmp_path / "r.json").write_text("[]")
    assert main(["eval-results", str(mvor_dir / "camma_mvor_2018.json"), str(tmp_path / "r.json")]) == 0
    captured = capsys.readouterr()
    assert "holds no detections: every person counts as missed" in captured.err
    assert "0 result records, 0 persons matched to one" in captured.out


def test_eval_results_rejects_malformed_json(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gt.json").write_text("{not json")
    (tmp_path / "r.json").write_text("[]")
    assert main(["eval-results", str(tmp_path / "gt.json"), str(tmp_path / "r.json")]) == 1
    text = capsys.readouterr().err
    assert "ERROR" in text and "gt.json" in text


@pytest.fixture(scope="module")
def tiny_weights(checkpoint_file: Callable[..., pathlib.Path]) -> tuple[pathlib.Path, pathlib.Path]:
    """A project checkpoint and the same weights as a plain state dict, for a 16x12 low resolution."""
    return (checkpoint_file((16, 12), width=1.0, near_mm=400.0, far_mm=5000.0),
            checkpoint_file((16, 12), width=1.0, plain=True))  # fmt: skip


def test_infer_with_a_project_checkpoint_writes_both_files_by_default(
    tmp_path: pathlib.Path, tiny_weights: tuple[pathlib.Path, pathlib.Path], capsys: pytest.CaptureFixture[str]
) -> None:
    depth, _ = make_demo_frame(4)
    png = tmp_path / "cam1.png"
    cv2.imwrite(str(png), depth)
    assert main(["infer", str(png), "--model", str(tiny_weights[0]), "--device", "cpu", "--no-flip"]) == 0
    text = capsys.readouterr().out
    assert "RANDOMLY" not in text and "input reduced to 16x12" in text and "400-5000 mm" in text
    assert isinstance(json.loads((tmp_path / "cam1_poses.json").read_text()), list)
    assert cv2.imread(str(tmp_path / "cam1_overlay.png")).shape == (12 * 8, 16 * 8, 3)
    # The checkpoint's recorded preprocessing cannot be overridden from the command line.
    assert main(["infer", str(png), "--model", str(tiny_weights[0]), "--device", "cpu", "--lowres", "64x48"]) == 1
    assert "cannot be overridden" in capsys.readouterr().err


def test_infer_with_a_plain_state_dict_needs_its_options(
    tmp_path: pathlib.Path, tiny_weights: tuple[pathlib.Path, pathlib.Path], capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "d.npy", make_demo_frame(5)[0])
    assert main(["infer", str(tmp_path / "d.npy"), "--model", str(tiny_weights[1]), "--device", "cpu"]) == 1
    assert "plain state dict" in capsys.readouterr().err
    code = main(["infer", str(tmp_path / "d.npy"), "--model", str(tiny_weights[1]), "--model-name", "depthpose",
                 "--lowres", "16x12", "--near-mm", "400", "--far-mm", "5000", "--device", "cpu",
                 "--no-flip"])  # fmt: skip
    assert code == 0
    assert "input reduced to 16x12" in capsys.readouterr().out
    assert (tmp_path / "d_poses.json").is_file() and (tmp_path / "d_overlay.png").is_file()


def test_demo_shows_the_live_demo_scene_by_default() -> None:
    from depthpose_core.cli import build_parser
    from depthpose_core.synth import demo_config

    assert build_parser().parse_args(["demo"]).seed == demo_config().seed
