"""Ground-truth map rendering (depthpose_core.targets)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from depthpose_core.keypoints import LIMBS, NUM_JOINTS
from depthpose_core.targets import render_maps

FRAME = (640, 480)
MAPS = (64, 48)  # stride 10
STRIDE = 10
SIGMA = 7.0


def _people(*joint_lists: dict[int, tuple[float, float]]) -> np.ndarray:
    """People with only the given joints labelled (joint -> x, y in frame pixels)."""
    people = np.zeros((len(joint_lists), NUM_JOINTS, 3))
    for person, joints in zip(people, joint_lists):
        for joint, xy in joints.items():
            person[joint] = (*xy, 1.0)
    return people


def _cell_centres() -> tuple[np.ndarray, np.ndarray]:
    """Frame coordinates of every cell centre, (h, w) each."""
    return np.meshgrid((np.arange(MAPS[0]) + 0.5) * STRIDE, (np.arange(MAPS[1]) + 0.5) * STRIDE)


def _segment_distance(start: tuple[float, float], end: tuple[float, float]) -> np.ndarray:
    """(h, w) distance in frame pixels from each cell centre to the segment."""
    cx, cy = _cell_centres()
    a, b = np.array(start), np.array(end)
    d = b - a
    t = np.clip(((cx - a[0]) * d[0] + (cy - a[1]) * d[1]) / (d @ d), 0.0, 1.0)
    return np.hypot(cx - (a[0] + t * d[0]), cy - (a[1] + t * d[1]))


def test_shapes_and_dtypes() -> None:
    paf, heat = render_maps(_people({0: (100.0, 100.0)}), MAPS, FRAME)
    assert paf.shape == (38, 48, 64) and paf.dtype == np.float32
    assert heat.shape == (19, 48, 64) and heat.dtype == np.float32


def test_heatmap_peak_at_the_joint_with_gaussian_values() -> None:
    # Joint 3 exactly on the centre of cell (12, 7); joint 9 between cells.
    people = _people({3: (125.0, 75.0), 9: (333.3, 211.7)})
    _, heat = render_maps(people, MAPS, FRAME, sigma=SIGMA)
    assert np.unravel_index(np.argmax(heat[3]), heat[3].shape) == (7, 12)
    assert heat[3, 7, 12] == pytest.approx(1.0)
    cx, cy = _cell_centres()
    for joint, (x, y) in ((3, (125.0, 75.0)), (9, (333.3, 211.7))):
        expected = np.exp(-((cx - x) ** 2 + (cy - y) ** 2) / (2 * SIGMA**2))
        np.testing.assert_allclose(heat[joint], expected, atol=1e-6)
    # The nearest cell centre to (333.3, 211.7) is (335, 215): cell (33, 21).
    assert np.unravel_index(np.argmax(heat[9]), heat[9].shape) == (21, 33)
    assert np.abs(heat[[0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17]]).max() == 0.0


def test_sigma_is_in_frame_pixels_at_any_map_size() -> None:
    people = _people({0: (320.0, 240.0)})
    _, fine = render_maps(people, (80, 60), FRAME, sigma=SIGMA)
    # At 80x60 (stride 8) the cell centres next to the joint are 4 px away, then 12 px.
    assert fine[0, 29, 39] == pytest.approx(np.exp(-(4.0**2 + 4.0**2) / (2 * SIGMA**2)), rel=1e-6)
    assert fine[0, 29, 41] == pytest.approx(np.exp(-(12.0**2 + 4.0**2) / (2 * SIGMA**2)), rel=1e-6)


def test_heatmaps_take_the_max_over_people() -> None:
    people = _people({0: (100.0, 100.0)}, {0: (112.0, 100.0)})
    _, both = render_maps(people, MAPS, FRAME)
    _, first = render_maps(people[:1], MAPS, FRAME)
    _, second = render_maps(people[1:], MAPS, FRAME)
    np.testing.assert_array_equal(both[0], np.maximum(first[0], second[0]))


def test_background_is_one_minus_the_max_over_parts() -> None:
    people = _people({0: (100.0, 100.0), 1: (104.0, 130.0), 2: (80.0, 131.0)}, {5: (400.0, 300.0)})
    _, heat = render_maps(people, MAPS, FRAME)
    np.testing.assert_allclose(heat[18], 1.0 - heat[:18].max(axis=0), atol=1e-7)
    assert heat[18].min() >= 0.0 and heat[18, 0, 0] == 1.0
    assert heat[18, 12, 10] < 0.5  # next to the neck


def test_paf_is_the_unit_limb_vector_on_the_limb_and_zero_away_from_it() -> None:
    start, end = (200.0, 150.0), (260.0, 230.0)  # R-shoulder -> R-elbow: limb 7
    paf, _ = render_maps(_people({2: start, 3: end}), MAPS, FRAME, paf_width=1.0)
    limb = LIMBS.index((2, 3))
    vx, vy = paf[2 * limb], paf[2 * limb + 1]
    distance = _segment_distance(start, end)
    on = distance <= STRIDE
    assert on.sum() >= 15
    np.testing.assert_allclose(vx[on], 0.6, atol=1e-6)
    np.testing.assert_allclose(vy[on], 0.8, atol=1e-6)
    np.testing.assert_allclose(np.hypot(vx[on], vy[on]), 1.0, atol=1e-6)
    assert np.abs(vx[~on]).max() == 0.0 and np.abs(vy[~on]).max() == 0.0
    others = np.delete(paf, [2 * limb, 2 * limb + 1], axis=0)
    assert np.abs(others).max() == 0.0


def test_paf_width_is_in_output_cells() -> None:
    start, end = (200.0, 150.0), (260.0, 230.0)
    limb = LIMBS.index((2, 3))
    narrow, _ = render_maps(_people({2: start, 3: end}), MAPS, FRAME, paf_width=1.0)
    wide, _ = render_maps(_people({2: start, 3: end}), MAPS, FRAME, paf_width=2.0)
    distance = _segment_distance(start, end)
    np.testing.assert_array_equal(narrow[2 * limb] != 0, distance <= STRIDE)
    np.testing.assert_array_equal(wide[2 * limb] != 0, distance <= 2 * STRIDE)


def test_paf_is_averaged_where_two_people_overlap() -> None:
    # Two R-forearms (limb 8) crossing at right angles around (300, 200).
    a = {3: (260.0, 160.0), 4: (340.0, 240.0)}
    b = {3: (340.0, 160.0), 4: (260.0, 240.0)}
    limb = LIMBS.index((3, 4))
    paf, _ = render_maps(_people(a, b), MAPS, FRAME)
    vx, vy = paf[2 * limb], paf[2 * limb + 1]
    in_a = _segment_distance(a[3], a[4]) <= STRIDE
    in_b = _segment_distance(b[3], b[4]) <= STRIDE
    u = np.sqrt(0.5)
    both = in_a & in_b
    assert both.any() and (in_a & ~in_b).any()
    np.testing.assert_allclose(vx[both], 0.0, atol=1e-6)  # (u, u) and (-u, u) average to (0, u)
    np.testing.assert_allclose(vy[both], u, atol=1e-6)
    np.testing.assert_allclose(vx[in_a & ~in_b], u, atol=1e-6)
    np.testing.assert_allclose(vx[in_b & ~in_a], -u, atol=1e-6)


def test_missing_joints_give_no_peak_and_no_limb() -> None:
    people = _people({1: (300.0, 100.0), 2: (270.0, 102.0), 3: (260.0, 160.0)})
    people[0, 3, 2] = 0.0  # the R-elbow is unlabelled
    people[0, 3, :2] = np.nan  # its coordinates may be anything, even NaN
    paf, heat = render_maps(people, MAPS, FRAME)
    assert heat[3].max() == 0.0
    assert np.isfinite(paf).all() and np.isfinite(heat).all()
    neck_rsho = LIMBS.index((1, 2))
    rsho_relb = LIMBS.index((2, 3))
    assert np.abs(paf[2 * rsho_relb : 2 * rsho_relb + 2]).max() == 0.0
    assert np.abs(paf[2 * neck_rsho]).max() > 0.9  # the labelled neck -> R-shoulder limb is there


def test_no_people_gives_empty_maps() -> None:
    paf, heat = render_maps(np.zeros((0, 18, 3)), MAPS, FRAME)
    assert np.abs(paf).max() == 0.0 and heat[:18].max() == 0.0
    np.testing.assert_array_equal(heat[18], 1.0)


def test_cell_centres_align_with_the_decoders_bicubic_upsampling() -> None:
    # Upsampled with OpenCV's half-pixel bicubic, a joint's heatmap peaks at the joint (within the interpolation's
    # ~1 px bias; half a cell of misalignment would be 5 px).
    for x, y in ((123.4, 87.9), (301.0, 250.0), (455.5, 333.3)):
        _, heat = render_maps(_people({0: (x, y)}), MAPS, FRAME)
        up = cv2.resize(heat[0], FRAME, interpolation=cv2.INTER_CUBIC)
        row, col = np.unravel_index(np.argmax(up), up.shape)
        assert abs(col + 0.5 - x) <= 1.5 and abs(row + 0.5 - y) <= 1.5


@pytest.mark.parametrize(
    ("people", "map_size", "frame_size", "kwargs", "match"),
    [
        (np.zeros((1, 17, 3)), MAPS, FRAME, {}, "shape"),
        (np.zeros((18, 3)), MAPS, FRAME, {}, "shape"),
        (np.zeros((1, 18, 3)), (64, 50), FRAME, {}, "stride"),
        (np.zeros((1, 18, 3)), (0, 48), FRAME, {}, "positive"),
        (np.zeros((1, 18, 3)), MAPS, FRAME, {"sigma": 0.0}, "sigma"),
        (np.zeros((1, 18, 3)), MAPS, FRAME, {"paf_width": -1.0}, "paf_width"),
        (np.array([[[np.nan, 1.0, 1.0]] * 18]), MAPS, FRAME, {}, "NaN"),
    ],
)
def test_invalid_inputs_raise(people, map_size, frame_size, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        render_maps(people, map_size, frame_size, **kwargs)
