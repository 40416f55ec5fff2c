"""Ingress: depth units, invalid readings, downsampling and the recorded preprocessing."""

from __future__ import annotations

import numpy as np
import pytest

from depthpose_core.errors import InputError
from depthpose_core.preprocess import HOLE_VALUE, Preprocessing, normalise_depth, to_lowres, to_model_input

PRE = Preprocessing(lowres_size=(64, 48), model_size=(64, 48), near_mm=500.0, far_mm=5500.0)


def _frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(600, 5000, size=(480, 640)).astype(np.uint16)


def test_units_mm_and_metres_agree() -> None:
    mm = _frame()
    np.testing.assert_allclose(normalise_depth(mm, 500, 5500), normalise_depth(mm / 1000.0, 500, 5500), atol=1e-6)
    np.testing.assert_allclose(
        normalise_depth(mm, 500, 5500), normalise_depth((mm / 1000.0).astype(np.float32), 500, 5500), atol=1e-6
    )


def test_near_far_mapping_and_clipping() -> None:
    depth = np.array([[500, 3000, 5500, 100, 9000]], dtype=np.uint16)
    np.testing.assert_allclose(normalise_depth(depth, 500, 5500), [[0.0, 0.5, 1.0, 0.0, 1.0]], atol=1e-6)


def test_invalid_readings_are_zero() -> None:
    depth = np.array([[0.0, np.nan, np.inf, -np.inf, 3.0]], dtype=np.float32)
    out = normalise_depth(depth, 500, 5500)
    assert out.tolist()[0][:4] == [0.0, 0.0, 0.0, 0.0] and out[0, 4] == pytest.approx(0.5)
    assert normalise_depth(np.array([[0]], np.uint16), 500, 5500)[0, 0] == 0.0


def test_big_endian_equals_little_endian() -> None:
    mm = _frame()
    np.testing.assert_array_equal(to_lowres(mm.astype(">u2"), PRE), to_lowres(mm, PRE))


def test_uint8_is_already_normalised() -> None:
    img = np.full((48, 64), 51, np.uint8)
    np.testing.assert_allclose(to_lowres(img, PRE), 0.2, atol=1e-6)


def test_to_lowres_shape_range_and_no_alias_to_input() -> None:
    mm = _frame()
    low = to_lowres(mm, PRE)
    assert low.shape == (48, 64) and low.dtype == np.float32
    assert 0.0 <= low.min() and low.max() <= 1.0
    assert not np.shares_memory(low, mm)


def test_already_low_resolution_frame_is_only_normalised() -> None:
    low_mm = np.full((48, 64), 3000, np.uint16)
    np.testing.assert_allclose(to_lowres(low_mm, PRE), 0.5, atol=1e-6)


def test_constant_frame_downsamples_to_constant() -> None:
    out = to_lowres(np.full((480, 640), 3000, np.uint16), PRE.with_updates(downsampling="area"))
    np.testing.assert_allclose(out, 0.5, atol=1e-6)


def test_valid_area_keeps_holes_out_of_the_depth() -> None:
    """Holes (0, NaN, inf) never pull a low-resolution pixel towards "nearest"; a cell with no reading at all gets
    HOLE_VALUE, for every depth type; the legacy bicubic reduction is what it was."""
    valid_area = PRE.with_updates(downsampling="valid_area")
    mm = np.full((480, 640), 3000, np.uint16)
    rng = np.random.default_rng(1)
    mm[rng.random(mm.shape) < 0.3] = 0  # 30 % isolated holes
    mm[:10, :10] = 0  # one whole low-resolution cell without a reading
    metres = mm.astype(np.float32) / 1000.0
    metres[:10, :10] = np.nan
    metres[10:20, :10] = np.inf
    mm[10:20, :10] = 0
    for frame in (mm, metres):
        out = to_lowres(frame, valid_area)
        assert out[0, 0] == HOLE_VALUE and out[1, 0] == HOLE_VALUE
        others = np.ones(out.shape, bool)
        others[:2, 0] = False
        np.testing.assert_allclose(out[others], 0.5, atol=1e-6)
    legacy = to_lowres(mm, PRE)
    assert legacy[0, 0] == 0.0 and (legacy[2:] < 0.45).any()  # holes read as nearest, and blend in
    already_low = np.full((48, 64), 3000, np.uint16)
    already_low[5, 7] = 0
    out = to_lowres(already_low, valid_area)
    assert out[5, 7] == HOLE_VALUE and out[5, 8] == pytest.approx(0.5)


def test_valid_area_filled_gives_empty_cells_their_farthest_neighbour() -> None:
    """A hole beside an object edge takes the far side's depth (a sensor's shadow lies there), a wide hole is filled
    ring by ring, cells with readings are valid_area's; a frame without any reading stays HOLE_VALUE."""
    filled = PRE.with_updates(downsampling="valid_area_filled")
    mm = np.full((480, 640), 3000, np.uint16)
    mm[:, :200] = 1500  # near object on the left
    mm[100:200, 200:230] = 0  # shadow band beside its edge: 3 cells wide, 10 cells tall
    mm[300:400, 400:500] = 0  # a wide hole in the background
    out = to_lowres(mm, filled)
    reference = to_lowres(mm, PRE.with_updates(downsampling="valid_area"))
    holes = reference == HOLE_VALUE
    assert holes.sum() == 3 * 10 + 10 * 10
    np.testing.assert_array_equal(out[~holes], reference[~holes])
    np.testing.assert_allclose(out[holes], reference[0, 30], atol=1e-6)  # the background's depth everywhere
    assert reference[0, 0] < reference[0, 30]  # (the object is nearer)
    mm[:10] = 0  # a low-resolution row without any reading: filled from the row below, the farthest neighbour
    out = to_lowres(mm, filled)
    np.testing.assert_allclose(out[0, 19:], reference[0, 30], atol=1e-6)
    np.testing.assert_allclose(out[0, :19], reference[0, 0], atol=1e-6)  # nearer object, also below: kept
    empty = to_lowres(np.zeros((480, 640), np.uint16), filled)
    assert (empty == HOLE_VALUE).all()


@pytest.mark.parametrize(
    ("depth", "match"),
    [
        (np.zeros((480, 640), np.int32), "dtype int32"),
        (np.zeros((480, 640, 3), np.uint16), "shape"),
        (np.zeros((480, 848), np.uint16), "aspect"),
        (np.zeros((1, 1), np.uint16), "too small"),
        (np.zeros((480, 848, 1), np.uint16), "aspect"),
        (np.zeros((1, 1, 1), np.uint16), "too small"),
    ],
)
def test_bad_frames_name_the_problem(depth: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        to_lowres(depth, PRE)


def test_model_input_upsamples_only_for_the_lr_baseline() -> None:
    low = np.full((48, 64), 0.25, np.float32)
    assert to_model_input(low, PRE) is low
    up = to_model_input(low, PRE.with_updates(model_size=(640, 480)))
    assert up.shape == (480, 640)
    np.testing.assert_allclose(up, 0.25, atol=1e-6)


def test_preprocessing_round_trip_and_validation() -> None:
    pre = Preprocessing(lowres_size=(80, 60), model_size=(80, 60), near_mm=300, far_mm=4000, downsampling="area")
    assert Preprocessing.from_dict(pre.to_dict()) == pre
    with pytest.raises(ValueError, match="near_mm"):
        Preprocessing(near_mm=5000, far_mm=1000)
    with pytest.raises(ValueError, match="downsampling"):
        Preprocessing(downsampling="lanczos")
    with pytest.raises(ValueError, match="unknown"):
        Preprocessing.from_dict({"colour": 1})


def test_single_channel_frames_are_read_like_two_dimensional_ones() -> None:
    depth = np.random.default_rng(0).integers(0, 6000, (480, 640)).astype(np.uint16)
    np.testing.assert_array_equal(to_lowres(depth[:, :, None], PRE), to_lowres(depth, PRE))
