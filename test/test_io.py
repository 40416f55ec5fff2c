"""File reading in one place: depth frames (PNG/NPY, mm or m), colour frames, image paths, JSON label and
result files; every failure names the file and the problem."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from depthpose_core.errors import EvaluationError, InputError
from depthpose_core.io import image_path, load_json, read_colour, read_depth


def test_depth_files_in_every_accepted_form(tmp_path: Path) -> None:
    mm = np.random.default_rng(0).integers(0, 7000, (48, 64)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "mm.png"), mm)
    cv2.imwrite(str(tmp_path / "norm.png"), (mm // 30).astype(np.uint8))
    np.save(tmp_path / "mm.npy", mm)
    np.save(tmp_path / "m.npy", mm.astype(np.float32) / 1000.0)
    np.testing.assert_array_equal(read_depth(tmp_path / "mm.png"), mm)
    assert read_depth(tmp_path / "norm.png").dtype == np.uint8
    np.testing.assert_array_equal(read_depth(tmp_path / "mm.npy"), mm)
    np.testing.assert_allclose(read_depth(str(tmp_path / "m.npy")), mm / 1000.0, rtol=1e-6)


def test_bad_depth_files_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing.png does not exist"):
        read_depth(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match="junk.png is not a readable image"):
        read_depth(tmp_path / "junk.png")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(InputError, match="junk.npy is not a readable .npy array"):
        read_depth(tmp_path / "junk.npy")
    np.save(tmp_path / "rgb.npy", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(InputError, match="single-channel image, got shape \\(4, 4, 3\\)"):
        read_depth(tmp_path / "rgb.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="objects.npy is not a readable .npy array"):
        read_depth(tmp_path / "objects.npy")  # pickled objects are never loaded


def test_colour_frames_come_as_rgb(tmp_path: Path) -> None:
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[..., 2] = 200  # red in OpenCV's order
    cv2.imwrite(str(tmp_path / "c.png"), bgr)
    rgb = read_colour(tmp_path / "c.png")
    assert rgb.shape == (8, 8, 3) and (rgb[..., 0] == 200).all() and (rgb[..., 2] == 0).all()
    with pytest.raises(InputError, match="colour image .*none.png is missing or unreadable"):
        read_colour(tmp_path / "none.png")


def test_image_paths_of_label_entries(tmp_path: Path) -> None:
    assert image_path(tmp_path, {"id": 1, "file_name": "a/b.png"}) == tmp_path / "a" / "b.png"
    assert image_path(tmp_path, {"id": 1, "file_name": "a/b.png"}, "c.png") == tmp_path / "c.png"
    with pytest.raises(InputError, match="image entry 7 has no file_name"):
        image_path(tmp_path, {"id": 7})


def test_load_json_reads_both_kinds(tmp_path: Path) -> None:
    (tmp_path / "gt.json").write_text('{"images": []}')
    (tmp_path / "res.json").write_text("[]")
    assert load_json(tmp_path / "gt.json", kind="ground truth") == {"images": []}
    assert load_json(str(tmp_path / "res.json"), kind="results") == []


@pytest.mark.parametrize(
    ("content", "kind", "message"),
    [
        (None, "results", "results file .*missing.json does not exist"),
        ("[1, 2", "results", r"results file .*bad.json is not valid JSON: .* line 1 column 6"),
        ("", "ground truth", "ground truth file .*bad.json is not valid JSON"),
        (b"[\xff]", "results", "results file .*bad.json cannot be decoded as text"),
        ("[]", "ground truth", "ground truth file .*bad.json must hold a JSON object at the top level, got array"),
        ("{}", "results", "results file .*bad.json must hold a JSON array at the top level, got object"),
        ("3", "results", "must hold a JSON array at the top level, got number"),
        ("[]", "detections", "unknown file kind 'detections'"),
        ("[" * 100_000 + "]" * 100_000, "results", "results file .*bad.json nests arrays or objects too deeply"),
    ],
)
def test_load_json_errors_name_the_file(tmp_path: Path, content: str | bytes | None, kind: str, message: str) -> None:
    path = tmp_path / ("missing.json" if content is None else "bad.json")
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(EvaluationError, match=message):
        load_json(path, kind=kind)


def test_load_json_on_a_directory(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="is a directory"):
        load_json(tmp_path, kind="results")
