"""Tests of the MVOR PCK evaluator: the published OpenPose row on real MVOR data, then one hand-built case per rule."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from depthpose_core.errors import EvaluationError
from depthpose_core.eval.pck import GROUPS, PCKResult, evaluate, format_table, seed_summary
from depthpose_core.io import load_json
from depthpose_core.keypoints import COCO17_NAMES, MVOR10_NAMES

# A GT person whose box spans x 100..149 and y 200..224: width + 1 = 50, height + 1 = 25, so the PCK radius is
# 0.2 x 50 = 10 px (it would be 9.8 px without the +1 convention) and the box area is 50 x 25 = 1250 px^2.
PERSON: dict[str, tuple[float, float]] = {
    "head": (125, 200), "neck": (125, 206),
    "left_shoulder": (140, 206), "right_shoulder": (110, 206),
    "left_hip": (135, 224), "right_hip": (115, 224),
    "left_elbow": (145, 215), "right_elbow": (105, 215),
    "left_wrist": (149, 220), "right_wrist": (100, 220),
}  # fmt: skip
FAR = (125.0, 240.0)  # 40 px below the head: wrong for every joint, but keeps the detection box large


def mvor_keypoints(joints: dict[str, tuple[float, float]], visibility: float = 2) -> list[float]:
    """30 MVOR-10 x, y, v values; absent joints are (0, 0, 0)."""
    out: list[float] = []
    for name in MVOR10_NAMES:
        x, y = joints.get(name, (0.0, 0.0))
        out += [float(x), float(y), visibility if name in joints else 0]
    return out


def coco_keypoints(joints: dict[str, tuple[float, float]]) -> list[float]:
    """51 COCO-17 x, y, score values; absent joints are (0, 0, 0)."""
    out: list[float] = []
    for name in COCO17_NAMES:
        x, y = joints.get(name, (0.0, 0.0))
        out += [float(x), float(y), 1.0 if name in joints else 0.0]
    return out


def coco_person(**overrides: tuple[float, float] | None) -> dict[str, tuple[float, float]]:
    """COCO-17 joints reproducing PERSON (eyes around the head, shoulders whose midpoint is the neck)."""
    joints = {name: PERSON[name] for name in MVOR10_NAMES[2:]}
    joints |= {"left_eye": (123, 200), "right_eye": (127, 200)}
    for name, value in overrides.items():
        if value is None:
            joints.pop(name, None)
        else:
            joints[name] = value
    return joints


def annotation(
    joints: dict[str, tuple[float, float]], image_id: int = 1, only_bbox: int = 0, visibility: float = 2
) -> dict[str, Any]:
    return {"image_id": image_id, "only_bbox": only_bbox, "keypoints": mvor_keypoints(joints, visibility)}


def ground_truth(*annotations: dict[str, Any], image_ids: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    anns = [dict(ann, id=i) for i, ann in enumerate(annotations)]
    return {"images": [{"id": i} for i in image_ids], "annotations": anns}


def detection(
    joints: dict[str, tuple[float, float]], score: float = 1.0, image_id: int = 1, key: str = "coco_keypoints"
) -> dict[str, Any]:
    """A result record; ``key`` "keypoints30" writes MVOR-10 values under ``keypoints``."""
    if key == "keypoints30":
        return {"image_id": image_id, "score": score, "keypoints": mvor_keypoints(joints, 1)}
    return {"image_id": image_id, "score": score, key: coco_keypoints(joints)}


def shifted(joints: dict[str, tuple[float, float]], name: str, dx: float = 0, dy: float = 0) -> dict[str, Any]:
    x, y = joints[name]
    return joints | {name: (x + dx, y + dy)}


# --- acceptance on the real MVOR data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mvor(mvor_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    gt_file, results_file = mvor_dir / "camma_mvor_2018.json", mvor_dir / "openpose_kps.json"
    return load_json(gt_file, kind="ground truth"), load_json(results_file, kind="results")


def test_openpose_on_mvor_reproduces_published_row(mvor: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    result = evaluate(*mvor)
    assert result.num_persons == 2926
    rounded = {name: round(value, 1) for name, value in result.groups.items()}
    assert rounded == {"Head": 70.4, "Shoulder": 69.9, "Hip": 42.3, "Elbow": 57.6, "Wrist": 45.3, "Average": 57.1}
    table = format_table({"OpenPose (single scale)": result})
    assert table.splitlines()[-1].split()[:9] == ["OpenPose", "(single", "scale)", "70.4", "69.9", "42.3", "57.6",
                                                   "45.3", "57.1"]  # fmt: skip
    assert 0 < result.num_matched < result.num_persons
    assert table.splitlines()[-1].split()[9] == f"{result.recall:.1f}"


def test_mvor_coco17_under_either_key_gives_same_result(mvor: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    gt, results = mvor
    both_keys = evaluate(gt, results)
    # The same COCO-17 values under "keypoints" (51 values) must be read as COCO-17 too.
    as_keypoints = [{"image_id": r["image_id"], "score": r["score"], "keypoints": r["coco_keypoints"]} for r in results]
    assert evaluate(gt, as_keypoints) == both_keys
    # With only the 30-value MVOR-10 "keypoints" the boxes come from 10 joints, so the figures differ.
    mvor_only = [{k: v for k, v in r.items() if k != "coco_keypoints"} for r in results]
    assert evaluate(gt, mvor_only).groups != both_keys.groups


# --- protocol rules on hand-built data ------------------------------------------------------------------------


def test_perfect_detection_scores_100_everywhere() -> None:
    result = evaluate(ground_truth(annotation(PERSON)), [detection(PERSON, key="keypoints30")])
    assert result.per_joint == {name: 100.0 for name in MVOR10_NAMES}
    assert result.groups == {name: 100.0 for name in GROUPS}
    assert (result.num_persons, result.num_images) == (1, 1)


def test_only_bbox_annotations_are_not_evaluated() -> None:
    bbox_only = annotation({"head": (400, 50), "neck": (400, 60)}, only_bbox=1)
    gt = ground_truth(annotation(PERSON), bbox_only)
    result = evaluate(gt, [detection(PERSON, key="keypoints30")])
    assert result.num_persons == 1
    assert result.groups["Average"] == 100.0
    # Their keypoints are not even read.
    gt["annotations"][1]["keypoints"] = "not read"
    assert evaluate(gt, [detection(PERSON, key="keypoints30")]).num_persons == 1


def test_gt_joint_at_origin_is_missing_whatever_its_visibility() -> None:
    gt = ground_truth(annotation(PERSON | {"right_wrist": (0, 0)}))
    gt["annotations"][0]["keypoints"][3 * 9 + 2] = 2  # flagged visible, still missing
    result = evaluate(gt, [detection(PERSON, key="keypoints30")])
    assert result.per_joint["right_wrist"] == 0.0
    assert result.per_joint["left_wrist"] == 100.0


def test_visibility_flag_is_ignored_for_present_joints() -> None:
    result = evaluate(ground_truth(annotation(PERSON, visibility=0)), [detection(PERSON, key="keypoints30")])
    assert result.groups["Average"] == 100.0


@pytest.mark.parametrize(
    ("dx", "dy", "correct"),
    [(10.0, 0.0, True), (10.001, 0.0, False), (6.0, 8.0, True), (6.0, 8.001, False)],
)
def test_threshold_uses_plus_one_box_side_inclusively(dx: float, dy: float, correct: bool) -> None:
    # Radius 0.2 x max(49 + 1, 24 + 1) = 10 px; moving the head up keeps it inside the detection box.
    moved = shifted(PERSON, "head", dx, -dy)
    result = evaluate(ground_truth(annotation(PERSON)), [detection(moved, key="keypoints30")])
    assert result.per_joint["head"] == (100.0 if correct else 0.0)
    assert result.per_joint["neck"] == 100.0


def test_threshold_uses_the_longer_side_and_scales() -> None:
    tall = {name: (y, x) for name, (x, y) in PERSON.items()}  # transposed: height + 1 = 50, width + 1 = 25
    gt = ground_truth(annotation(tall))
    assert evaluate(gt, [detection(shifted(tall, "head", dy=10.0), key="keypoints30")]).per_joint["head"] == 100.0
    assert evaluate(gt, [detection(shifted(tall, "head", dy=10.5), key="keypoints30")]).per_joint["head"] == 0.0
    for dy, expected in ((5.0, 100.0), (5.5, 0.0)):  # threshold 0.1 -> 5 px
        result = evaluate(gt, [detection(shifted(tall, "head", dy=dy), key="keypoints30")], threshold=0.1)
        assert result.per_joint["head"] == expected


@pytest.mark.parametrize(
    ("left_edge", "matched"),
    # Detection box x left_edge..160, y 200..224 against the GT box x 100..149, y 200..224 (area 50 x 25):
    # 135 -> (149 - 135 + 1) x 25 / 1250 = 0.3 exactly, not > 0.3; 134.5 -> 0.31 (0.296 without the +1).
    [(135.0, False), (134.5, True), (120.0, True)],
)
def test_overlap_must_strictly_exceed_threshold_with_plus_one(left_edge: float, matched: bool) -> None:
    joints = {"left_shoulder": (140, 206), "left_wrist": (149, 220), "left_hip": (left_edge, 224),
              "right_wrist": (160, 200)}  # fmt: skip
    result = evaluate(ground_truth(annotation(PERSON)), [detection(joints, key="keypoints30")])
    assert result.per_joint["left_shoulder"] == (100.0 if matched else 0.0)


def test_overlap_is_relative_to_the_gt_box_not_iou() -> None:
    # A huge detection box covering the GT box has IoU < 0.3 but overlap 1 (intersection / GT area).
    joints = PERSON | {"right_hip": (0.5, 0.5), "left_hip": (600, 470)}
    result = evaluate(ground_truth(annotation(PERSON)), [detection(joints, key="keypoints30")])
    assert result.per_joint["head"] == 100.0


def test_highest_scoring_overlapping_detection_wins() -> None:
    gt = ground_truth(annotation(PERSON))
    good = detection(PERSON, key="keypoints30")
    bad = detection({name: (x + 30, y) for name, (x, y) in PERSON.items()}, key="keypoints30")  # overlap 0.4
    elsewhere = detection({name: (x + 300, y) for name, (x, y) in PERSON.items()}, score=9.0, key="keypoints30")
    assert evaluate(gt, [good | {"score": 0.5}, bad | {"score": 0.9}]).groups["Average"] == 0.0
    assert evaluate(gt, [bad | {"score": 0.5}, good | {"score": 0.9}]).groups["Average"] == 100.0
    # A better score without enough overlap does not count; on a tie the first record wins.
    assert evaluate(gt, [good | {"score": 0.5}, elsewhere]).groups["Average"] == 100.0
    assert evaluate(gt, [good, bad]).groups["Average"] == 100.0
    assert evaluate(gt, [bad, good]).groups["Average"] == 0.0


def test_detections_of_other_images_are_never_matched() -> None:
    result = evaluate(ground_truth(annotation(PERSON)), [detection(PERSON, image_id=2, key="keypoints30")])
    assert result.groups["Average"] == 0.0


def test_one_detection_can_match_several_gt_persons() -> None:
    twin = {name: (x + 2, y) for name, (x, y) in PERSON.items()}
    result = evaluate(ground_truth(annotation(PERSON), annotation(twin)), [detection(PERSON, key="keypoints30")])
    assert result.num_persons == 2
    assert result.groups["Average"] == 100.0


def test_unmatched_gt_person_scores_zero() -> None:
    gt = ground_truth(annotation(PERSON), annotation(PERSON, image_id=2))
    result = evaluate(gt, [detection(PERSON, key="keypoints30")])
    assert (result.num_persons, result.num_images) == (2, 2)
    assert result.per_joint == {name: 50.0 for name in MVOR10_NAMES}
    assert evaluate(gt, []).groups["Average"] == 0.0


def test_missing_prediction_or_gt_joint_is_wrong() -> None:
    gt = ground_truth(annotation(PERSON), annotation(PERSON | {"left_elbow": (0, 0)}, image_id=2))
    no_wrist = {name: xy for name, xy in PERSON.items() if name != "left_wrist"}
    results = [detection(no_wrist, key="keypoints30"), detection(PERSON, image_id=2, key="keypoints30")]
    result = evaluate(gt, results)
    assert result.per_joint["left_wrist"] == 50.0  # missing prediction in image 1
    assert result.per_joint["left_elbow"] == 50.0  # missing GT joint in image 2
    assert result.per_joint["right_wrist"] == 100.0


def test_groups_average_left_right_and_head_neck() -> None:
    wrong = {"neck": (125, 230), "left_hip": (135, 250), "left_elbow": (175, 215), "right_elbow": (75, 215),
             "left_wrist": (149, 240)}  # fmt: skip
    result = evaluate(ground_truth(annotation(PERSON)), [detection(PERSON | wrong, key="keypoints30")])
    assert result.groups == {"Head": 50.0, "Shoulder": 100.0, "Hip": 50.0, "Elbow": 0.0, "Wrist": 50.0,
                             "Average": 50.0}  # fmt: skip
    assert result.groups["Average"] == sum(result.per_joint.values()) / 10


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # both eyes -> their midpoint
        {"left_eye": FAR, "right_eye": None, "left_ear": (115, 200), "right_ear": (135, 200), "nose": FAR},
        {"left_eye": None, "right_eye": FAR, "nose": (125, 200), "left_ear": FAR},  # one eye, one ear -> nose
        {"left_eye": None, "right_eye": (125, 200), "left_ear": FAR},  # no nose -> right eye before left ear
        {"left_eye": (125, 200), "right_eye": None, "right_ear": FAR},  # left eye before right ear
        {"left_eye": None, "right_eye": None, "left_ear": (125, 200)},  # a single ear
    ],
    ids=["eyes", "ears", "nose", "right-eye", "left-eye", "left-ear"],
)
def test_head_fallbacks(overrides: dict[str, tuple[float, float] | None]) -> None:
    joints = coco_person(**overrides)
    result = evaluate(ground_truth(annotation(PERSON)), [detection(joints)])
    assert result.per_joint["head"] == 100.0


def test_head_missing_without_face_keypoints() -> None:
    result = evaluate(ground_truth(annotation(PERSON)), [detection(coco_person(left_eye=None, right_eye=None))])
    assert result.per_joint["head"] == 0.0
    assert result.per_joint["neck"] == 100.0


@pytest.mark.parametrize(
    ("overrides", "neck_correct"),
    [
        ({}, True),  # midpoint of the shoulders
        ({"left_shoulder": None, "right_shoulder": (125, 206)}, True),  # right shoulder alone
        ({"right_shoulder": None, "left_shoulder": (125, 206)}, True),  # left shoulder alone
        ({"right_shoulder": (125, 206), "left_shoulder": (155, 206)}, False),  # midpoint, not the right one
        ({"right_shoulder": None, "left_shoulder": None}, False),
    ],
)
def test_neck_fallbacks(overrides: dict[str, tuple[float, float] | None], neck_correct: bool) -> None:
    result = evaluate(ground_truth(annotation(PERSON)), [detection(coco_person(**overrides))])
    assert result.per_joint["neck"] == (100.0 if neck_correct else 0.0)


def test_coco17_joints_map_left_to_left() -> None:
    result = evaluate(ground_truth(annotation(PERSON)), [detection(coco_person())])
    assert result.groups["Average"] == 100.0
    mirrored = coco_person(left_wrist=PERSON["right_wrist"], right_wrist=PERSON["left_wrist"])
    swapped = evaluate(ground_truth(annotation(PERSON)), [detection(mirrored)])
    assert (swapped.per_joint["left_wrist"], swapped.per_joint["right_wrist"]) == (0.0, 0.0)


def test_result_keypoint_keys() -> None:
    gt = ground_truth(annotation(PERSON))
    coco = coco_person(nose=(125, 200), left_eye=None, right_eye=None)
    for record in (detection(coco, key="coco_keypoints"), detection(coco, key="keypoints"),
                   detection(PERSON, key="keypoints30")):  # fmt: skip
        assert evaluate(gt, [record]).groups["Average"] == 100.0
    # 30 values under "keypoints" are used as MVOR-10 as is: slot 0 is the head, not the COCO nose.
    as_is = detection(PERSON | {"head": FAR}, key="keypoints30")
    assert evaluate(gt, [as_is]).per_joint["head"] == 0.0
    # With both keys, "coco_keypoints" wins.
    both = detection(coco) | {"keypoints": mvor_keypoints({"head": FAR, "neck": FAR})}
    assert evaluate(gt, [both]).groups["Average"] == 100.0
    wrong = detection({name: (x + 30, y) for name, (x, y) in coco.items()}) | {"keypoints": mvor_keypoints(PERSON)}
    assert evaluate(gt, [wrong]).groups["Average"] == 0.0


def test_detection_without_keypoints_is_never_matched() -> None:
    result = evaluate(ground_truth(annotation(PERSON)), [detection({}, score=5.0), detection(coco_person(), score=0.1)])
    assert result.groups["Average"] == 100.0


def test_gt_person_without_keypoints_is_skipped() -> None:
    result = evaluate(ground_truth(annotation(PERSON), annotation({})), [detection(PERSON, key="keypoints30")])
    assert result.num_persons == 1


# --- PCKResult and the table ----------------------------------------------------------------------------------


def test_to_dict_is_json_friendly() -> None:
    result = evaluate(ground_truth(annotation(PERSON), annotation(PERSON, image_id=2)), [detection(coco_person())])
    data = json.loads(json.dumps(result.to_dict()))
    assert data == {"per_joint": result.per_joint, "groups": result.groups, "num_persons": 2, "num_images": 2,
                    "num_matched": 1, "num_false_positives": 0, "num_frames": 2}  # fmt: skip
    assert PCKResult(**data) == result


def test_false_positives_are_detections_no_person_takes() -> None:
    """A duplicate of a matched person (lower score), a phantom far from anyone and a detection in an image without
    people count; the matched detection and one lying on an unevaluated person with a bbox do not."""
    draped = annotation(PERSON, image_id=2, only_bbox=1) | {"bbox": [100, 200, 50, 25]}
    gt = ground_truth(annotation(PERSON), draped, image_ids=(1, 2, 3))
    phantom = {name: (x + 300, y) for name, (x, y) in PERSON.items()}
    fragment = {name: PERSON[name] for name in ("left_hip", "right_hip", "left_wrist")}  # inside the draped box
    results = [detection(coco_person(), score=0.9), detection(coco_person(), score=0.5),
               detection(phantom, key="keypoints30"), detection(fragment, image_id=2, key="keypoints30"),
               detection(PERSON, image_id=3, key="keypoints30")]  # fmt: skip
    result = evaluate(gt, results)
    assert (result.num_matched, result.num_false_positives, result.num_frames) == (1, 3, 3)
    assert result.false_positives_per_image == pytest.approx(1.0)
    assert result.groups["Average"] == 100.0  # the protocol itself leaves false positives free
    assert format_table({"x": result}).splitlines()[-1].split()[-1] == "1.00"
    assert evaluate(gt, results[:1]).num_false_positives == 0
    no_box = ground_truth(annotation(PERSON), annotation(PERSON, image_id=2, only_bbox=1), image_ids=(1, 2, 3))
    assert evaluate(no_box, results).num_false_positives == 4  # nothing says a person is there
    for bad in ([1, 2, 3], [0, 0, -5, 10], [0, float("nan"), 5, 5], "box"):
        with pytest.raises(EvaluationError, match="annotation 1 .*'bbox' must be 4 finite numbers"):
            evaluate(ground_truth(annotation(PERSON), draped | {"bbox": bad}), results[:1])


def test_format_table_rows_side_by_side() -> None:
    gt = ground_truth(annotation(PERSON), annotation(PERSON, image_id=2), annotation(PERSON, image_id=2))
    first = evaluate(gt, [detection(coco_person())])
    second = evaluate(gt, [detection(coco_person()), detection(PERSON, image_id=2, key="keypoints30")])
    lines = format_table({"one image": first, "DepthPose 64x48": second}).splitlines()
    assert lines[0].split() == ["Method", *GROUPS, "Recall", "FP/img"]
    assert lines[2].split()[2:] == ["33.3"] * 7 + ["0.00"]  # one of three persons matched, and fully right
    assert lines[3].split()[2:] == ["100.0"] * 7 + ["0.00"]
    column_ends = [[m.end() for m in re.finditer(r"\S+", line)][-len(GROUPS) - 2:] for line in lines]
    assert all(ends == column_ends[0] for ends in column_ends)  # numbers right-aligned under their headers
    with pytest.raises(EvaluationError, match="at least one"):
        format_table({})


def test_runs_of_one_model_show_mean_and_standard_deviation() -> None:
    gt = ground_truth(annotation(PERSON), annotation(PERSON, image_id=2), annotation(PERSON, image_id=2))
    third = evaluate(gt, [detection(coco_person())])  # 33.3 everywhere
    all_right = evaluate(gt, [detection(coco_person()), detection(PERSON, image_id=2, key="keypoints30")])
    summary = seed_summary([third, all_right])
    assert summary["Average"] == pytest.approx((200 / 3, np.std([100 / 3, 100], ddof=1)))
    assert summary["Recall"] == pytest.approx(summary["Average"])
    assert seed_summary([third])["Head"] == pytest.approx((100 / 3, 0))
    lines = format_table({"seeds": [third, all_right], "single": third}).splitlines()
    assert lines[0].split() == ["Method", *GROUPS, "Recall", "FP/img", "Runs"]
    assert lines[2].split()[1:] == ["66.7", "±", "47.1"] * 7 + ["0.00", "±", "0.00", "2"]
    assert lines[3].split()[1:] == ["33.3"] * 7 + ["0.00", "1"]
    with pytest.raises(EvaluationError, match="at least one"):
        seed_summary([])


# --- errors ---------------------------------------------------------------------------------------------------


def _valid_gt() -> dict[str, Any]:
    return ground_truth(annotation(PERSON))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda gt: gt.pop("annotations"), "ground truth: missing key 'annotations'"),
        (lambda gt: gt.update(images={}), "'images' must be a list"),
        (lambda gt: gt["images"].append({"id": 1}), r"ground truth image 2: duplicate image id 1"),
        (lambda gt: gt["images"].append("x"), r"ground truth image 2: expected an object"),
        (lambda gt: gt["annotations"][0].pop("keypoints"), r"annotation 0 \(id 0\): missing key 'keypoints'"),
        (lambda gt: gt["annotations"][0].pop("only_bbox"), r"annotation 0 \(id 0\): missing key 'only_bbox'"),
        (lambda gt: gt["annotations"][0].update(only_bbox=2), "'only_bbox' must be 0 or 1, got 2"),
        (lambda gt: gt["annotations"][0].update(image_id=7), "image_id 7 is not in the ground-truth images"),
        (lambda gt: gt["annotations"][0].update(image_id=None), "'image_id' must be an integer or a string"),
        (lambda gt: gt["annotations"][0]["keypoints"].pop(), "'keypoints' must hold 30 numbers .* got 29"),
        (lambda gt: gt["annotations"][0]["keypoints"].__setitem__(4, "1"), r"keypoints\[4\] must be a finite number"),
        (lambda gt: gt["annotations"][0]["keypoints"].__setitem__(4, True), r"keypoints\[4\] must be a finite number"),
        (lambda gt: gt["annotations"][0]["keypoints"].__setitem__(3, math.nan), r"keypoints\[3\] must be a finite"),
        (lambda gt: gt["annotations"][0]["keypoints"].__setitem__(3, math.inf), r"keypoints\[3\] must be a finite"),
        (lambda gt: gt["annotations"][0]["keypoints"].__setitem__(3, 10**400), r"keypoints\[3\] must be a finite"),
        (lambda gt: gt["annotations"][0].update(only_bbox=1), "no person to evaluate"),
    ],
)
def test_malformed_ground_truth_raises(mutate: Any, message: str) -> None:
    gt = _valid_gt()
    mutate(gt)
    with pytest.raises(EvaluationError, match=message):
        evaluate(gt, [detection(coco_person())])


def test_ground_truth_must_be_a_dict() -> None:
    with pytest.raises(EvaluationError, match="ground truth must be a COCO-style object"):
        evaluate([], [])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("x", r"results record 1: expected an object"),
        ({"score": 1.0, "keypoints": mvor_keypoints(PERSON)}, r"results record 1: missing key 'image_id'"),
        (detection(PERSON, image_id=3), r"results record 1 \(image_id 3\): image_id is not in the ground-truth"),
        (detection(PERSON, image_id="1"), r"results record 1 \(image_id '1'\): image_id is not in"),
        ({"image_id": 1, "keypoints": mvor_keypoints(PERSON)}, r"record 1 \(image_id 1\): missing key 'score'"),
        (detection(PERSON, score=math.nan), "'score' must be a finite number, got nan"),
        (detection(PERSON) | {"score": "high"}, "'score' must be a finite number, got 'high'"),
        ({"image_id": 1, "score": 1.0}, "no keypoints"),
        (detection(PERSON) | {"coco_keypoints": mvor_keypoints(PERSON)}, "'coco_keypoints' must hold 51 numbers .* 30"),
        ({"image_id": 1, "score": 1.0, "keypoints": [0.0] * 40}, "'keypoints' must hold 51 or 30 numbers .* 40"),
        ({"image_id": 1, "score": 1.0, "keypoints": None}, "'keypoints' must be a list of 51 or 30 numbers"),
        ({"image_id": 1, "score": 1.0, "keypoints": [None] * 30}, r"keypoints\[0\] must be a finite number, got None"),
        ({"image_id": 1, "score": 1.0, "keypoints": [math.nan] * 30}, r"keypoints\[0\] must be a finite number"),
        # JSON integers of any length: too large for a float is a clear error, shown shortened
        (detection(PERSON, score=10**400), r"'score' must be a finite number, got 1000.*\(401 characters\)"),
        ({"image_id": 1, "score": 1.0, "keypoints": [10**400] * 30}, r"keypoints\[0\] must be a finite number"),
        (detection(PERSON, image_id=10**400), r"\(image_id 1000.*\(401 characters\)\): image_id is not in"),
    ],
)
def test_malformed_results_raise(record: Any, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        evaluate(_valid_gt(), [detection(coco_person()), record])


def test_results_must_be_a_list() -> None:
    with pytest.raises(EvaluationError, match="results must be a COCO results list, got dict"):
        evaluate(_valid_gt(), {"image_id": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "value"), [("threshold", -0.1), ("threshold", math.nan), ("min_overlap", math.inf)])
def test_bad_parameters_raise(name: str, value: float) -> None:
    with pytest.raises(EvaluationError, match=f"{name} must be a finite number >= 0, got {value}"):
        evaluate(_valid_gt(), [], **{name: value})


def test_files_read_with_load_json_evaluate(tmp_path: Path) -> None:
    (tmp_path / "gt.json").write_text(json.dumps(_valid_gt()))
    (tmp_path / "res.json").write_text(json.dumps([detection(coco_person())]))
    gt = load_json(tmp_path / "gt.json", kind="ground truth")
    results = load_json(str(tmp_path / "res.json"), kind="results")
    assert evaluate(gt, results).groups["Average"] == 100.0
