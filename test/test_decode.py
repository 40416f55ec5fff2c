"""The PAF decoder (depthpose_core.decode): both modes against rendered ground truth and the loop-port oracle."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from depthpose_core.decode import MODES, PUBLISHED, DecodeCounts, DecoderParams, decode
from depthpose_core.decode.bicubic import PixelSampler, window_weights
from depthpose_core.decode.peaks import frame_peaks, lowres_peaks
from depthpose_core.decode.reference import upsample
from depthpose_core.eval.ground_truth import mvor_ground_truth
from depthpose_core.eval.pck import evaluate
from depthpose_core.skeleton import Skeleton
from depthpose_core.targets import render_maps

FRAME = (640, 480)
MAP_SIZES = [(64, 48), (80, 60)]


def _load_loop_port():
    path = Path(__file__).resolve().parents[1] / "bench" / "loop_reference.py"
    spec = importlib.util.spec_from_file_location("loop_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.decode_loop


decode_loop = _load_loop_port()

# A standing person facing the camera (network joint order): x right, y down, neck at the origin, unit = height.
TEMPLATE = np.array([
    (0.0, -0.10), (0.0, 0.0),
    (-0.09, 0.0), (-0.12, 0.17), (-0.13, 0.32),
    (0.09, 0.0), (0.12, 0.17), (0.13, 0.32),
    (-0.055, 0.33), (-0.06, 0.55), (-0.06, 0.77),
    (0.055, 0.33), (0.06, 0.55), (0.06, 0.77),
    (-0.025, -0.125), (0.025, -0.125), (-0.05, -0.11), (0.05, -0.11),
])  # fmt: skip


def person(neck: tuple[float, float], height: float = 250.0, **joints: tuple[float, float]) -> np.ndarray:
    """``(18, 3)`` labelled person from the template; ``j<k>=(x, y)`` moves joint k."""
    p = np.ones((18, 3))
    p[:, :2] = np.asarray(neck) + TEMPLATE * height
    for name, xy in joints.items():
        p[int(name[1:]), :2] = xy
    return p


def head_and_shoulders(centre_x: float, shoulder_y: float) -> np.ndarray:
    """A person whose body below the shoulders is out of the frame (unlabelled)."""
    p = np.zeros((18, 3))
    offsets = {1: (0.4, 0.0), 2: (-23.1, 0.4), 5: (23.2, -0.3), 0: (0.9, -29.6),
               14: (-6.6, -35.2), 15: (6.7, -35.6), 16: (-14.2, -31.9), 17: (14.4, -31.5)}  # fmt: skip
    for joint, (dx, dy) in offsets.items():
        p[joint] = (centre_x + dx, shoulder_y + dy, 1.0)
    return p


def random_people(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random people (random size, place, arm swing, 2 px jitter); joints outside the frame are unlabelled."""
    people = []
    for _ in range(count):
        height = rng.uniform(160.0, 280.0)
        p = person(rng.uniform((30.0, 40.0), (610.0, 360.0)), height)
        for shoulder, elbow, wrist in ((2, 3, 4), (5, 6, 7)):
            angle = rng.uniform(-0.7, 0.7)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            p[[elbow, wrist], :2] = p[shoulder, :2] + (p[[elbow, wrist], :2] - p[shoulder, :2]) @ rot.T
        p[:, :2] += rng.normal(0.0, 2.0, (18, 2))
        inside = (p[:, 0] > 0) & (p[:, 0] < FRAME[0]) & (p[:, 1] > 0) & (p[:, 1] < FRAME[1])
        p[~inside] = 0.0
        people.append(p)
    return np.array(people)


def render(people: list[np.ndarray] | np.ndarray, map_size=(64, 48), noise: float = 0.0, seed: int = 0):
    paf, heat = render_maps(np.asarray(people), map_size, FRAME)
    if noise:
        rng = np.random.default_rng(seed)
        paf += rng.normal(0.0, noise, paf.shape).astype(np.float32)
        heat += rng.normal(0.0, noise, heat.shape).astype(np.float32)
    return paf, heat


def assert_decodes_to(skeletons: list[Skeleton], people: list[np.ndarray], tol: float = 2.0) -> list[Skeleton]:
    """Each person is decoded exactly once: labelled joints within ``tol`` px, unlabelled ones missing."""
    assert len(skeletons) == len(people)
    matched: list[int] = []
    for p in people:
        labelled = p[:, 2] > 0
        errors = [np.linalg.norm(s.keypoints - p[:, :2], axis=1) for s in skeletons]
        best = int(np.argmin([np.nanmean(np.where(labelled, e, np.nan)) for e in errors]))
        assert best not in matched
        matched.append(best)
        s = skeletons[best]
        assert s.frame_size == FRAME
        np.testing.assert_array_equal(s.present, labelled)
        assert errors[best][labelled].max() <= tol
        np.testing.assert_array_equal(s.scores[~labelled], 0.0)
        assert (s.scores[labelled] > 0.1).all()
    return [skeletons[i] for i in matched]


def same_people(a: list[Skeleton], b: list[Skeleton]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(p.keypoints, q.keypoints, equal_nan=True)
        and np.array_equal(p.scores, q.scores)
        and p.score == q.score
        and p.frame_size == q.frame_size
        for p, q in zip(a, b)
    )


THREE_PEOPLE = [person((150.3, 120.7), 260.0), person((330.6, 140.2), 240.0), person((500.2, 110.9), 280.0)]
# A's left forearm and B's right forearm cross near (320, 175).
CROSSING = [
    person((240.4, 130.3), 250.0, j6=(300.2, 160.4), j7=(355.3, 190.6)),
    person((400.7, 128.9), 250.0, j3=(340.7, 161.1), j4=(290.4, 191.2)),
]
# A right wrist touching the left edge; a person standing on the bottom edge.
_STANDING = person((400.6, 285.2), 250.0)
_STANDING[:, 1] += 478.6 - _STANDING[10, 1]
TOUCHING_BORDER = [person((80.4, 150.3), 250.0, j2=(57.5, 150.9), j3=(30.2, 160.6), j4=(1.3, 170.2)), _STANDING]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("map_size", MAP_SIZES)
def test_several_people_decode_back(mode: str, map_size: tuple[int, int]) -> None:
    paf, heat = render(THREE_PEOPLE, map_size)
    assert_decodes_to(decode(paf, heat, FRAME, mode=mode), THREE_PEOPLE)


@pytest.mark.parametrize("map_size", MAP_SIZES)
def test_fast_and_reference_agree_on_clean_interior_people(map_size: tuple[int, int]) -> None:
    paf, heat = render(THREE_PEOPLE, map_size)
    fast = assert_decodes_to(decode(paf, heat, mode="fast"), THREE_PEOPLE)
    ref = assert_decodes_to(decode(paf, heat, mode="reference"), THREE_PEOPLE)
    for f, r in zip(fast, ref):
        assert np.abs(f.keypoints - r.keypoints).max() <= 1.0
        np.testing.assert_allclose(f.scores, r.scores, atol=1e-3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("map_size", MAP_SIZES)
def test_crossing_arms_stay_with_their_owners(mode: str, map_size: tuple[int, int]) -> None:
    paf, heat = render(CROSSING, map_size)
    assert_decodes_to(decode(paf, heat, FRAME, mode=mode), CROSSING)


@pytest.mark.parametrize("mode", MODES)
def test_missing_joints_are_missing(mode: str) -> None:
    leaves = person((200.3, 130.6), 250.0)
    leaves[[7, 13, 16], 2] = 0.0  # L-wrist, L-ankle, R-ear unlabelled
    paf, heat = render([leaves, person((420.8, 120.2), 260.0)])
    assert_decodes_to(decode(paf, heat, FRAME, mode=mode), [leaves, person((420.8, 120.2), 260.0)])

    # Without the L-knee the L-ankle has no limb to the body: it is dropped with the knee.
    no_knee = person((300.3, 130.6), 250.0)
    no_knee[12, 2] = 0.0
    (skeleton,) = decode(*render([no_knee]), FRAME, mode=mode)
    expected = no_knee.copy()
    expected[13, 2] = 0.0
    assert_decodes_to([skeleton], [expected])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("map_size", MAP_SIZES)
def test_people_touching_the_border(mode: str, map_size: tuple[int, int]) -> None:
    paf, heat = render(TOUCHING_BORDER, map_size)
    assert_decodes_to(decode(paf, heat, FRAME, mode=mode), TOUCHING_BORDER)


def test_skeleton_fields() -> None:
    paf, heat = render(THREE_PEOPLE)
    for mode in MODES:
        for s in decode(paf, heat, mode=mode):
            assert s.keypoints.dtype == np.float64 and s.scores.dtype == np.float64
            # Keypoints are pixel centres. Person score = (part + limb scores) x count, count >= parts, limb scores
            # > 0 and (part + limb scores) / count >= 0.2.
            np.testing.assert_array_equal(s.keypoints[s.present] % 1.0, 0.5)
            assert s.score > s.num_parts * s.scores.sum()
            assert s.score >= 0.2 * s.num_parts**2


def test_an_empty_scene_decodes_to_nobody() -> None:
    paf, heat = render(np.zeros((0, 18, 3)))
    for mode in MODES:
        assert decode(paf, heat, mode=mode) == []


# --- reference mode == the loop port, bit for bit -------------------------------------------------------------------


def _parity_scenes():
    yield "three-people", THREE_PEOPLE, (64, 48), 0.0
    yield "crossing", CROSSING, (80, 60), 0.0
    yield "border-artefact", [head_and_shoulders(320.3, 468.0), person((150.2, 120.4))], (64, 48), 0.0
    for seed, map_size in enumerate(MAP_SIZES * 2):
        yield f"noisy-{seed}", random_people(np.random.default_rng(seed), 4 + seed), map_size, 0.03


@pytest.mark.parametrize(("people", "map_size", "noise"), [s[1:] for s in _parity_scenes()],
                         ids=[s[0] for s in _parity_scenes()])  # fmt: skip
def test_reference_mode_equals_the_loop_port(people, map_size, noise) -> None:
    paf, heat = render(people, map_size, noise, seed=len(people))
    expected = decode_loop(paf, heat, FRAME)
    assert len(expected) >= 1
    assert same_people(decode(paf, heat, FRAME, mode="reference", params=PUBLISHED), expected)


# --- the border artefact ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("map_size", "inset"), [((64, 48), 12.0), ((64, 48), 13.5), ((80, 60), 10.5)])
def test_border_artefact_in_reference_mode_only(map_size: tuple[int, int], inset: float) -> None:
    """Neck and shoulders 1-2 cells above the bottom edge: bicubic overshoot makes border peaks in reference mode,
    which form a spurious second person along the edge; fast mode decodes the one person."""
    truth = head_and_shoulders(320.3, FRAME[1] - inset)
    paf, heat = render([truth], map_size)
    stride = FRAME[0] // map_size[0]

    ref_peaks = frame_peaks(upsample(heat, FRAME), 18, 0.1)
    spurious = (ref_peaks.y >= FRAME[1] - 3) & np.isin(ref_peaks.joint, [1, 2, 5])
    assert spurious.sum() >= 3  # neck and both shoulders get a peak on the last rows
    fast_peaks, _ = lowres_peaks(heat[:18], stride, 0.1, 64)
    assert len(fast_peaks.x) == 8 and (fast_peaks.y < FRAME[1] - 5).all()

    ref = decode(paf, heat, FRAME, mode="reference", params=PUBLISHED)  # the ghost has 3 parts
    assert len(ref) == 2
    ghost = min(ref, key=lambda s: s.num_parts)
    assert (ghost.keypoints[[1, 2, 5], 1] >= FRAME[1] - 3).all()  # neck and shoulders on the last rows
    assert_decodes_to(decode(paf, heat, FRAME, mode="fast"), [truth], tol=2.5)


# --- fast mode keeps everything the reference threshold keeps ------------------------------------------------------


def test_fast_mode_finds_a_bump_that_passes_the_threshold_only_after_upsampling() -> None:
    one = np.zeros((1, 18, 3))
    one[0, 0] = (319.3, 241.2, 1.0)
    _, heat = render_maps(one, (64, 48), FRAME)
    heat = heat * np.float32(0.13)
    up = upsample(heat, FRAME)
    assert heat[0].max() < 0.1 < up[:, :, 0].max()  # the low-resolution maps alone would miss it
    ref, (fast, _) = frame_peaks(up, 18, 0.1), lowres_peaks(heat[:18], 10, 0.1, 64)
    assert len(fast.x) == 1 and fast.joint[0] == 0
    assert abs(fast.x[0] - ref.x[0]) <= 1 and abs(fast.y[0] - ref.y[0]) <= 1
    assert fast.score[0] == pytest.approx(ref.score[0], abs=1e-4)


@pytest.mark.parametrize(("map_size", "channels"), [((64, 48), 3), ((80, 60), 2), ((7, 5), 1)])
def test_bicubic_model_matches_cv2_resize(map_size: tuple[int, int], channels: int) -> None:
    rng = np.random.default_rng(3)
    w, h = map_size
    stride = 8 if map_size == (80, 60) else 10
    maps = rng.uniform(-1.0, 1.0, (channels + 1, h, w)).astype(np.float32)
    up = upsample(maps, (w * stride, h * stride))
    py, px = np.mgrid[0 : h * stride, 0 : w * stride]
    values = PixelSampler(maps, stride)(np.array([1]), px.reshape(1, -1), py.reshape(1, -1), count=channels)
    np.testing.assert_allclose(values.reshape(h * stride, w * stride, channels), up[:, :, 1:], atol=1e-5)

    # The peak search's window matrices: the model on the pixels within one cell of cell (cy, cx)'s centre.
    offsets, taps, matrix = window_weights(stride)
    cy, cx = h // 2, w // 2
    patch = maps[0][np.clip(cy + taps, 0, h - 1)][:, np.clip(cx + taps, 0, w - 1)]
    window = up[cy * stride + offsets][:, cx * stride + offsets, 0]
    np.testing.assert_allclose(matrix @ patch @ matrix.T, window, atol=1e-5)


# --- fast-mode PCK against reference-mode PCK ----------------------------------------------------------------------


def test_fast_mode_pck_is_within_half_a_point_of_reference_mode() -> None:
    rng = np.random.default_rng(11)
    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    scenes = [random_people(rng, int(rng.integers(2, 6))) for _ in range(10)]
    scenes += [np.array([head_and_shoulders(300.7, 467.5), person((120.3, 150.2))]), np.array(TOUCHING_BORDER)]
    gt = mvor_ground_truth(scenes)
    for image_id, people in enumerate(scenes):
        paf, heat = render(people, MAP_SIZES[image_id % 2], noise=0.03, seed=image_id)
        for mode in MODES:
            results[mode] += [s.to_coco_result(image_id, unit_scores=True) for s in decode(paf, heat, mode=mode)]
    fast = evaluate(gt, results["fast"]).groups["Average"]
    ref = evaluate(gt, results["reference"]).groups["Average"]
    assert len(gt["annotations"]) >= 30
    assert fast > 80.0 and ref > 80.0  # out-of-frame and overlapping joints cost some points in both modes
    assert abs(fast - ref) <= 0.5


# --- parameters and input validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_params_are_used(mode: str) -> None:
    paf, heat = render(THREE_PEOPLE)
    assert len(decode(paf, heat, mode=mode, params=DecoderParams())) == 3
    assert decode(paf, heat, mode=mode, params=DecoderParams(min_parts=19)) == []
    assert decode(paf, heat, mode=mode, params=DecoderParams(peak_threshold=1.5)) == []
    assert decode(paf, heat, mode=mode, params=DecoderParams(paf_threshold=1.5)) == []


@pytest.mark.parametrize("mode", MODES)
def test_both_modes_cap_the_peaks_per_joint_and_count_it(mode: str) -> None:
    # Three people whose heatmaps peak at 1.0, 0.8 and 0.6: with two peaks per joint the weakest person goes.
    strengths = (1.0, 0.8, 0.6)
    paf, _ = render(THREE_PEOPLE)
    heat = np.max([render([p])[1] * np.float32(k) for p, k in zip(THREE_PEOPLE, strengths)], axis=0)
    counts = DecodeCounts()
    assert len(decode(paf, heat, mode=mode, counts=counts)) == 3
    assert counts == DecodeCounts(frames=1)  # below the cap: nothing is cut, the result is exact
    capped = decode(paf, heat, mode=mode, params=DecoderParams(max_peaks=2), counts=counts)
    assert_decodes_to(capped, THREE_PEOPLE[:2])
    assert counts == DecodeCounts(frames=2, capped_frames=1, capped_joints=18)


@pytest.mark.parametrize("mode", MODES)
def test_garbage_maps_cost_a_bounded_decode(mode: str) -> None:
    """Uniform noise (a peak at every other cell, PAFs that accept many limbs): unbounded, the reference
    search finds thousands of peaks per joint and its limb stage does not finish (measured: over 6 s per frame
    for noise, out of 24 GiB of memory for a dense grid). With the cap every joint keeps 64 peaks."""
    rng = np.random.default_rng(0)
    paf = rng.uniform(-1, 1, (38, 48, 64)).astype(np.float32)
    heat = rng.uniform(0, 1, (19, 48, 64)).astype(np.float32)
    counts = DecodeCounts()
    people = decode(paf, heat, mode=mode, counts=counts)
    assert counts.capped_frames == 1 and counts.capped_joints == 18
    assert len(people) <= 18 * DecoderParams().max_peaks // DecoderParams().min_parts


def test_float64_maps_decode_like_float32() -> None:
    paf, heat = render(THREE_PEOPLE, noise=0.02)
    for mode in MODES:
        assert same_people(decode(paf.astype(np.float64), heat.astype(np.float64), mode=mode),
                           decode(paf, heat, mode=mode))  # fmt: skip


def test_non_contiguous_maps_are_accepted() -> None:
    paf, heat = render(THREE_PEOPLE)
    paf_view = np.ascontiguousarray(paf.transpose(0, 2, 1)).transpose(0, 2, 1)
    for mode in MODES:
        assert same_people(decode(paf_view, heat[:, :, :], mode=mode), decode(paf, heat, mode=mode))


_PAF = np.zeros((38, 48, 64), np.float32)
_HEAT = np.zeros((19, 48, 64), np.float32)
_NAN_HEAT = _HEAT.copy()
_NAN_HEAT[3, 4, 5] = np.nan


@pytest.mark.parametrize(
    ("paf", "heat", "kwargs", "match"),
    [
        (_PAF[:37], _HEAT, {}, r"paf must have shape \(38, h, w\)"),
        (_PAF, _HEAT[:18], {}, r"heat must have shape \(19, h, w\)"),
        (_PAF[0], _HEAT, {}, "paf must have shape"),
        (_PAF.tolist(), _HEAT, {}, "numpy array"),
        (_PAF, np.zeros((19, 60, 80), np.float32), {}, "differ in size"),
        (_PAF.astype(np.int32), _HEAT, {}, "dtype int32"),
        (_PAF, _NAN_HEAT, {}, "NaN"),
        (_PAF, _HEAT, {"frame_size": (640, 481)}, "integer stride"),
        (_PAF, _HEAT, {"frame_size": (650, 480)}, "integer stride"),
        (_PAF, _HEAT, {"frame_size": (1280, 480)}, "integer stride"),
        (_PAF, _HEAT, {"frame_size": (640.0, 480)}, "frame_size"),
        (_PAF, _HEAT, {"frame_size": (0, 480)}, "frame_size"),
        (_PAF, _HEAT, {"mode": "exact"}, "'fast', 'reference'"),
        (_PAF, _HEAT, {"params": {"peak_threshold": 0.1}}, "DecoderParams"),
    ],
)
def test_invalid_inputs_raise(paf, heat, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        decode(paf, heat, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"peak_threshold": float("nan")},
        {"paf_threshold": "0.05"},
        {"min_inlier_fraction": 1.0},
        {"min_inlier_fraction": -0.1},
        {"num_samples": 1},
        {"num_samples": 10.0},
        {"min_parts": 0},
        {"min_mean_score": float("inf")},
        {"max_peaks": 0},
    ],
)
def test_invalid_params_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        DecoderParams(**kwargs)


def test_default_params_are_the_reference_values() -> None:
    p = DecoderParams()
    assert (p.peak_threshold, p.paf_threshold, p.min_inlier_fraction) == (0.1, 0.05, 0.8)
    assert (p.num_samples, p.min_parts, p.min_mean_score, p.min_inliers) == (10, 4, 0.2, 9)
    assert p.max_peaks == 64
