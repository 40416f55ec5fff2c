"""Training data: keypoint formats, augmentation that keeps labels right, targets that decode back to the labels,
loss masks, the MVOR loader on a file of MVOR's layout, and batching through a DataLoader."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from depthpose_core.data import (
    AugmentParams,
    PoseDataset,
    TargetConfig,
    augment,
    channel_mask,
    load_mvor_records,
    load_records,
    to_net18,
)
from depthpose_core.decode import decode
from depthpose_core.errors import DepthPoseError
from depthpose_core.keypoints import NET_JOINTS
from depthpose_core.preprocess import Preprocessing, to_lowres
from depthpose_core.synth import WorldParams

J = {name: i for i, name in enumerate(NET_JOINTS)}


@pytest.fixture(scope="module")
def synth_dir(synth_dataset: Callable[..., Path]) -> Path:
    return synth_dataset(sequences=2, frames=3, cameras=(1, 2), world=WorldParams(min_people=2, max_people=4))


def test_every_keypoint_format_becomes_the_18_network_joints() -> None:
    net = np.arange(54, dtype=float).reshape(18, 3) + 1
    out, kinds = to_net18(net.ravel().tolist(), "x")
    assert np.array_equal(out[:, :2], net[:, :2]) and kinds.all()
    coco = np.zeros((17, 3))
    coco[5], coco[6], coco[0] = (100, 50, 2), (140, 54, 1), (120, 30, 2)  # L sho, R sho, nose
    out, kinds = to_net18(coco.ravel().tolist(), "x")
    assert tuple(out[J["left_shoulder"]]) == (100, 50, 2) and tuple(out[J["nose"]]) == (120, 30, 2)
    assert tuple(out[J["neck"]]) == (120, 52, 1) and kinds.all()  # neck = shoulder midpoint
    mvor = np.zeros((10, 3))
    mvor[0], mvor[1], mvor[8] = (10, 10, 2), (20, 20, 2), (30, 30, 1)  # head, neck, left wrist
    out, kinds = to_net18(mvor.ravel().tolist(), "x")
    assert tuple(out[J["neck"]]) == (20, 20, 2) and tuple(out[J["left_wrist"]]) == (30, 30, 1)
    assert not kinds[J["nose"]] and not kinds[J["left_knee"]] and kinds[J["right_hip"]]
    assert (out[[J["nose"], J["left_eye"]], 2] == 0).all()  # MVOR's head is not a network joint
    with pytest.raises(DepthPoseError, match="annotation 7: 12 keypoint values"):
        to_net18([1.0] * 12, "annotation 7")
    with pytest.raises(DepthPoseError, match="NaN"):
        to_net18([float("nan")] * 30, "a")


def test_channel_mask_hides_what_a_format_cannot_label() -> None:
    mvor_kinds = to_net18([0.0] * 30, "x")[1]
    mask = channel_mask(mvor_kinds)
    paf, heat = mask[:38].reshape(19, 2), mask[38:]
    assert heat[J["neck"]] == 1 and heat[J["nose"]] == 0 and heat[18] == 0
    assert paf[7].all() and not paf[1].any()  # R shoulder-elbow kept; R hip-knee masked
    assert channel_mask(np.ones(18, bool)).all()


def _blob_frame(points: np.ndarray, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """An 8-bit (already normalised) frame with a distinct 5x5 patch (value 10 + 20 k) at each point k, 200
    elsewhere (8-bit values are not rescaled by zooming, so the patches stay recognisable)."""
    depth = np.full((size[1], size[0]), 200, np.uint8)
    for k, (x, y) in enumerate(points):
        c, r = int(x), int(y)
        depth[r - 2 : r + 3, c - 2 : c + 3] = 10 + 20 * k
    return depth


def test_augmentation_moves_keypoints_with_the_image_and_swaps_sides_on_flips() -> None:
    rng = np.random.default_rng(0)
    points = np.array([[200.5, 150.5], [420.5, 300.5], [320.5, 240.5]])
    people = np.zeros((1, 18, 3))
    people[0, [J["left_wrist"], J["right_wrist"], J["neck"]], :2] = points
    people[0, [J["left_wrist"], J["right_wrist"], J["neck"]], 2] = 2
    flips = 0
    for trial in range(20):
        params = AugmentParams(flip=0.5, scale=(0.8, 1.2), rotate_deg=20, translate=0.1)
        depth, moved, _ = augment(_blob_frame(points), people, np.zeros((0, 4)), rng, params)
        for k, joint in enumerate(("left_wrist", "right_wrist", "neck")):
            rows, cols = np.nonzero(depth == 10 + 20 * k)
            if len(rows) < 10:
                continue  # the patch left the frame
            centre = (cols.mean() + 0.5, rows.mean() + 0.5)
            left_right = {"left_wrist": "right_wrist", "right_wrist": "left_wrist", "neck": "neck"}
            # The patch that was at the left wrist is now labelled left or, after a flip, right wrist.
            found = [j for j in (joint, left_right[joint]) if moved[0, J[j], 2] > 0
                     and np.allclose(moved[0, J[j], :2], centre, atol=1.0)]  # fmt: skip
            assert found, (trial, joint, centre, moved[0, [J["left_wrist"], J["right_wrist"], J["neck"]]])
            flips += found[0] != joint
    assert flips > 0


def test_zooming_in_brings_the_depth_closer() -> None:
    depth = np.full((480, 640), 3000, np.uint16)
    params = AugmentParams(flip=0.0, scale=(2.0, 2.0), rotate_deg=0.0, translate=0.0)
    out, _, _ = augment(depth, np.zeros((0, 18, 3)), np.zeros((0, 4)), np.random.default_rng(0), params)
    assert out[240, 320] == 1500 and out.dtype == np.uint16


@pytest.mark.parametrize("size", [(80, 60), (64, 48)])
def test_samples_hold_inputs_sr_targets_and_targets_that_decode_to_the_labels(
    synth_dir: Path, size: tuple[int, int]
) -> None:
    records = load_records(synth_dir / "annotations.json")
    pre = Preprocessing(lowres_size=size, model_size=size)
    f = 640 // size[0]
    data = PoseDataset(records, pre, TargetConfig(output_stride=1, sr_factor=8))
    errors: list[float] = []
    for i, record in enumerate(records):
        sample = data[i]
        assert sample["input"].shape == (1, size[1], size[0]) and sample["sr"].shape == (1, 8 * size[1], 8 * size[0])
        depth = cv2.imread(str(record.path), cv2.IMREAD_UNCHANGED)
        np.testing.assert_allclose(sample["input"][0].numpy(), to_lowres(depth, pre))  # the inference ingress
        assert 0 <= sample["sr"].min() and sample["sr"].max() <= 1
        people = decode(sample["paf"].numpy(), sample["heat"].numpy(), (640, 480))
        heat = sample["heat"].numpy()
        for label in record.people:
            visible = label[:, 2] > 0
            # Every labelled joint has its Gaussian peak: the heatmap near the joint's cell is high.
            for j in np.flatnonzero(visible):
                c, r = int(label[j, 0] / f), int(label[j, 1] / f)
                assert heat[j, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2].max() > 0.5
            if visible.sum() < 12 or not visible[J["neck"]]:
                continue  # a person cut by the frame edge decodes as separate limbs (the PAF tree is broken)
            # The decoded person closest to this label, joint by joint (missing joints count as far away).
            dist = [np.nan_to_num(np.linalg.norm(p.keypoints[visible] - label[visible, :2], axis=1), nan=1e4)
                    for p in people]  # fmt: skip
            errors += list(min(dist, key=np.median)) if dist else [1e4] * int(visible.sum())
    errors = np.array(errors)
    # Nearly every labelled joint comes back within one map cell, most within 2 px. (People overlapping each
    # other, and joints closer than a cell, such as eyes and nose, are where the rest goes.)
    assert len(errors) > 100 and (errors <= f).mean() > 0.95 and np.median(errors) < 2.0


def test_people_without_keypoints_are_masked_out(synth_dir: Path) -> None:
    records = load_records(synth_dir / "annotations.json")
    record = next(r for r in records if len(r.boxes))  # the patient at least
    data = PoseDataset([record], Preprocessing(), TargetConfig(sr_factor=0))
    sample = data[0]
    assert "sr" not in sample
    x, y, w, h = record.boxes[0] / 10.0  # 640x480 -> 64x48 maps
    inner = sample["mask"][:, int(np.ceil(y)) : int(y + h), int(np.ceil(x)) : int(x + w)]
    assert inner.numel() and (inner == 0).all()
    assert (sample["mask"] == 1).float().mean() > 0.3  # the rest keeps its weight


def test_mvor_layout_loader(tmp_path: Path) -> None:
    # A small file in MVOR's format: colour image names, MVOR-10 keypoints, depth under dayD/camC/depth.
    points = np.array([[320.5, 100.5], [320.5, 140.5], [300.5, 140.5], [340.5, 140.5], [305.5, 260.5],
                       [335.5, 260.5], [290.5, 200.5], [350.5, 200.5], [285.5, 250.5], [355.5, 250.5]])  # fmt: skip
    kps = np.c_[points, np.full(10, 2.0)].ravel().tolist()
    gt = {
        "images": [{"id": 10010000000, "file_name": "day1/cam1/color/000000.png", "width": 640, "height": 480}],
        "annotations": [
            {"id": 1, "image_id": 10010000000, "keypoints": kps, "only_bbox": 0, "bbox": [280, 90, 80, 180]},
            {"id": 2, "image_id": 10010000000, "keypoints": [0] * 30, "only_bbox": 1, "bbox": [10, 10, 50, 90]},
        ],
    }  # fmt: skip
    (tmp_path / "mvor.json").write_text(json.dumps(gt))
    (tmp_path / "day1" / "cam1" / "depth").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "day1/cam1/depth/000000.png"), np.full((480, 640), 2500, np.uint16))
    [record] = load_mvor_records(tmp_path / "mvor.json", tmp_path)
    assert record.path == tmp_path / "day1/cam1/depth/000000.png"
    assert record.people.shape == (1, 18, 3) and record.boxes.tolist() == [[10, 10, 50, 90]]
    assert tuple(record.people[0, J["right_wrist"]]) == (355.5, 250.5, 2.0)
    sample = PoseDataset([record], Preprocessing(), TargetConfig(sr_factor=0))[0]
    heat = sample["heat"].numpy()
    assert heat[J["right_wrist"]].max() > 0.5 and heat[J["nose"]].max() == 0
    assert sample["mask"][38 + J["nose"]].max() == 0 and sample["mask"][38 + J["neck"]].max() == 1


def test_missing_image_is_a_clear_error(synth_dir: Path) -> None:
    records = load_records(synth_dir / "annotations.json", images_root=synth_dir / "elsewhere")
    with pytest.raises(DepthPoseError, match="000000.png does not exist"):
        PoseDataset(records, Preprocessing())[0]


def test_batches_through_worker_processes(synth_dir: Path) -> None:
    records = load_records(synth_dir / "annotations.json")
    data = PoseDataset(records, Preprocessing(), augment_params=AugmentParams(), seed=3)
    loader = DataLoader(data, batch_size=4, num_workers=2, shuffle=False)
    batches = list(loader)
    assert sum(len(b["index"]) for b in batches) == len(records)
    assert batches[0]["paf"].shape == (4, 38, 48, 64) and batches[0]["mask"].dtype == torch.float32
    # Augmentation is reproducible per (seed, epoch, index) and changes with the epoch.
    again = next(iter(DataLoader(data, batch_size=4, num_workers=0)))
    assert torch.equal(again["input"], batches[0]["input"])
    data.set_epoch(1)
    assert not torch.equal(data[0]["input"], batches[0]["input"][0])
