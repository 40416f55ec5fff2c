"""Pseudo ground truth from colour: the paper's filter at its boundaries, YOLO-pose on a real photograph,
Keypoint R-CNN's real architecture, results-file import, and `depthpose pseudo-label` feeding the data loader."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skimage_data

from depthpose_core.cli import main
from depthpose_core.data import PoseDataset, TargetConfig, load_records
from depthpose_core.errors import DepthPoseError
from depthpose_core.keypoints import NET_JOINTS
from depthpose_core.preprocess import Preprocessing
from depthpose_core.pseudo_label import (
    ColourFrame,
    Detection,
    FilterParams,
    KeypointRCNNDetector,
    ResultsFileDetector,
    YoloPoseDetector,
    filter_detections,
    find_pairs,
    folder_frames,
    pseudo_label,
)

J = {name: i for i, name in enumerate(NET_JOINTS)}


def _det(score: float, kp_scores: list[float]) -> Detection:
    kps = np.zeros((17, 3))
    kps[:, 0], kps[:, 1] = np.arange(17) * 10 + 100.5, 200.5
    kps[: len(kp_scores), 2] = kp_scores
    return Detection(score, kps, (100.0, 150.0, 200.0, 100.0))


def test_filter_thresholds_at_their_boundaries() -> None:
    p = FilterParams()
    kept, rejected = filter_detections([
        _det(0.7, [0.9] * 4),             # person score exactly 0.7: kept
        _det(0.6999, [0.9] * 17),         # just below: rejected
        _det(0.9, [0.36] * 4),            # four keypoints just above 0.35: kept
        _det(0.9, [0.36] * 3 + [0.35]),   # the fourth exactly 0.35 does not count: rejected
        _det(0.9, [0.9] * 3),             # three keypoints: rejected
    ], p)  # fmt: skip
    assert len(kept) == 2 and rejected == {"person score": 1, "too few keypoints": 2}
    label = kept[1][1]
    assert (label[:, 2] > 0).sum() == 4
    # COCO-17 0 (nose), 1 (L eye), 2 (R eye), 3 (L ear) kept; everything else unlabelled, no neck.
    assert label[J["nose"], 2] == label[J["left_eye"], 2] == label[J["right_eye"], 2] == label[J["left_ear"], 2] == 2
    assert label[J["neck"], 2] == 0 and label[J["left_shoulder"], 2] == 0
    # The neck is the shoulders' midpoint when both are kept.
    kps = _det(0.9, [0.9] * 7).keypoints
    [(_, label)] = filter_detections([Detection(0.9, kps, (0, 0, 1, 1))], p)[0]
    assert tuple(label[J["neck"]]) == ((kps[5, 0] + kps[6, 0]) / 2, 200.5, 2.0)
    stricter = FilterParams(person_score=0.95, keypoint_score=0.5, min_keypoints=5)
    assert filter_detections([_det(0.9, [0.9] * 17)], stricter)[1] == {"person score": 1}
    kept, rejected = filter_detections([
        _det(0.95, [0.51] * 5),            # five keypoints just above 0.5: kept
        _det(0.95, [0.51] * 4 + [0.5]),    # the fifth exactly 0.5: rejected
        _det(0.95, [0.9] * 4),             # four keypoints: rejected
    ], stricter)  # fmt: skip
    assert len(kept) == 1 and rejected == {"too few keypoints": 2}
    assert (kept[0][1][:, 2] > 0).sum() == 5
    with pytest.raises(ValueError):
        FilterParams(min_keypoints=0)


@pytest.fixture(scope="module")
def astronaut_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photograph of a person (scikit-image's bundled astronaut) as a colour frame with a depth frame."""
    root = tmp_path_factory.mktemp("frames")
    (root / "day1" / "cam1" / "color").mkdir(parents=True)
    (root / "day1" / "cam1" / "depth").mkdir(parents=True)
    rgb = skimage_data.astronaut()  # 512 x 512
    cv2.imwrite(str(root / "day1/cam1/color/000000.png"), rgb[:, :, ::-1])
    cv2.imwrite(str(root / "day1/cam1/depth/000000.png"), np.full((384, 384), 2000, np.uint16))  # 0.75 scale
    cv2.imwrite(str(root / "day1/cam1/color/000001.png"), rgb[:, :, ::-1])  # no depth frame: skipped, counted
    return root


def test_yolo_pose_finds_the_astronaut_with_plausible_head_and_shoulders(astronaut_root: Path) -> None:
    detector = YoloPoseDetector(device="cpu")
    detections = detector.detect(ColourFrame(astronaut_root / "day1/cam1/color/000000.png", "x"))
    kept, _ = filter_detections(detections, FilterParams())
    assert len(kept) == 1
    det, label = kept[0]
    assert det.score > 0.7
    nose, l_sho, r_sho = label[J["nose"]], label[J["left_shoulder"]], label[J["right_shoulder"]]
    assert nose[2] == l_sho[2] == r_sho[2] == 2
    assert 60 < nose[1] < 180 and 180 < l_sho[1] < 320 and 180 < r_sho[1] < 320  # head above the shoulders
    assert r_sho[0] < nose[0] < l_sho[0]  # she faces the camera: her right shoulder on the image's left
    assert 100 < l_sho[0] - r_sho[0] < 320
    eyes = label[[J["left_eye"], J["right_eye"]]]
    assert (eyes[:, 2] == 2).all() and abs(eyes[:, 1].mean() - nose[1]) < 40


def test_keypoint_rcnn_runs_on_its_real_architecture(astronaut_root: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    detector = KeypointRCNNDetector(device="cpu", random_init=True)
    detections = detector.detect(ColourFrame(astronaut_root / "day1/cam1/color/000000.png", "x"))
    assert detections  # random weights still produce (meaningless) detections through the real architecture
    for det in detections:
        assert det.keypoints.shape == (17, 3) and 0 <= det.score <= 1
        assert ((0 <= det.keypoints[:, 2]) & (det.keypoints[:, 2] <= 1)).all()
        assert 0 <= det.keypoints[:, 0].min() and det.keypoints[:, 0].max() <= 512
    # ... and through the pipeline: with the filter open, every detection becomes a label of the depth frame.
    frames = folder_frames(astronaut_root, find_pairs(astronaut_root)[:1])
    data, summary = pseudo_label(astronaut_root, frames, detector,
                                 FilterParams(person_score=0.0, keypoint_score=0.0, min_keypoints=1), progress=False)
    assert summary.kept == summary.detected == len(detections) == len(data["annotations"])
    with pytest.raises(DepthPoseError, match="never downloads"):
        KeypointRCNNDetector(tmp_path / "missing.pth", device="cpu")
    (tmp_path / "bad.pth").write_bytes(b"junk")
    with pytest.raises(DepthPoseError, match="do not load"):
        KeypointRCNNDetector(tmp_path / "bad.pth", device="cpu")


def test_mvor_openpose_results_import_by_image_id(tmp_path: Path, mvor_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    # MVOR's OpenPose results name images by id and hold keypoints under both keys (MVOR-10 and COCO-17).
    for name in ("day1/cam1/color/000000.png", "day1/cam2/color/000000.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / name), np.zeros((480, 640, 3), np.uint8))
        depth = tmp_path / name.replace("color", "depth")
        depth.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(depth), np.full((480, 640), 2000, np.uint16))
    out = tmp_path / "labels.json"
    code = main(["pseudo-label", str(tmp_path), "--backend", "results", "--results",
                 str(mvor_dir / "openpose_kps.json"), "--images", str(mvor_dir / "camma_mvor_2018.json"),
                 "--out", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    labels = json.loads(out.read_text())
    detected = int(text.split("persons detected")[1].split()[0])
    assert detected > 0 and len(labels["annotations"]) == detected  # kept + rejected (as boxes to mask)
    assert "not among the frames" in text
    kept = [a for a in labels["annotations"] if not a["only_bbox"]]
    rejected = [a for a in labels["annotations"] if a["only_bbox"]]
    assert len(kept) == int(text.split("persons kept")[1].split()[0])
    assert all(len(a["keypoints18"]) == 54 for a in kept) and all(len(a["bbox"]) == 4 for a in rejected)


def test_results_file_import_matches_frames_by_name(tmp_path: Path) -> None:
    kps = _det(0.8, [0.9] * 17).keypoints
    records = [{"file_name": "a/color/1.png", "keypoints": kps.ravel().tolist(), "score": 0.8},
               {"image_id": 7, "coco_keypoints": kps.ravel().tolist(), "score": 0.5}]  # fmt: skip
    (tmp_path / "r.json").write_text(json.dumps(records))
    detector = ResultsFileDetector(tmp_path / "r.json", image_ids={"b/color/2.png": 7})
    assert [d.score for d in detector.detect(ColourFrame(tmp_path / "unused", "a/color/1.png"))] == [0.8]
    assert [d.score for d in detector.detect(ColourFrame(tmp_path / "unused", "b/color/2.png"))] == [0.5]
    assert detector.detect(ColourFrame(tmp_path / "unused", "c/color/3.png")) == []
    (tmp_path / "bad.json").write_text(json.dumps([{"file_name": "x", "keypoints": [1, 2], "score": 1}]))
    with pytest.raises(DepthPoseError, match="record 0: needs 51 keypoint values"):
        ResultsFileDetector(tmp_path / "bad.json")


def test_pseudo_label_command_writes_labels_the_loader_reads(astronaut_root: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert [p.depth for p in find_pairs(astronaut_root)] == ["day1/cam1/depth/000000.png", "day1/cam1/depth/000001.png"]
    out = tmp_path / "labels.json"
    assert main(["pseudo-label", str(astronaut_root), "--out", str(out), "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    skipped = next(line for line in text.splitlines() if line.startswith("frames skipped"))
    assert "persons kept" in text and "depth file missing or unreadable" in skipped and skipped.split()[-1] == "1"
    labels = json.loads(out.read_text())
    [image] = labels["images"]
    assert image["file_name"] == "day1/cam1/depth/000000.png" and image["colour_file"] == "day1/cam1/color/000000.png"
    [person] = labels["annotations"]
    k18 = np.array(person["keypoints18"]).reshape(18, 3)
    assert 45 < k18[J["nose"], 1] < 135  # rescaled from the 512-pixel colour frame to the 384-pixel depth frame
    [record] = load_records(out, astronaut_root)
    sample = PoseDataset([record], Preprocessing(lowres_size=(64, 64), model_size=(64, 64),
                                                 decode_frame=(384, 384)), TargetConfig(sr_factor=0))[0]  # fmt: skip
    assert sample["heat"][J["nose"]].max() > 0.5
    assert main(["pseudo-label", str(tmp_path / "empty"), "--out", str(out)]) == 1
    assert "no colour frames found" in capsys.readouterr().err
