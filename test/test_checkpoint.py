"""Checkpoint files: project format round trip, plain state dicts, and refusal of corrupt or hostile files."""

from __future__ import annotations

import pathlib
import warnings

import pytest
import torch

from depthpose_core.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from depthpose_core.errors import CheckpointError
from depthpose_core.preprocess import Preprocessing


class _Exploit:
    """Unpickling this would create a marker file (stands for arbitrary code execution)."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (pathlib.Path.touch, (self.marker,))  # type: ignore[return-value]


def test_project_checkpoint_round_trip(tmp_path: pathlib.Path) -> None:
    pre = Preprocessing(lowres_size=(80, 60), model_size=(80, 60), near_mm=400, far_mm=4500)
    sd = {"a.weight": torch.randn(3, 2), "a.bias": torch.zeros(3)}
    path = save_checkpoint(tmp_path / "m.pth", sd, model_name="depthpose", preprocessing=pre, meta={"iteration": 7})
    ckpt = load_checkpoint(path)
    assert not ckpt.is_plain and ckpt.model_name == "depthpose" and ckpt.preprocessing == pre
    assert ckpt.meta == {"iteration": 7} and ckpt.keypoint_format == "openpose-coco18"
    assert torch.equal(ckpt.state_dict["a.weight"], sd["a.weight"])
    assert not (tmp_path / "m.pth.tmp").exists()


def test_plain_state_dict_is_recognised(tmp_path: pathlib.Path) -> None:
    torch.save({"model0.0.weight": torch.zeros(64, 64, 3, 3)}, tmp_path / "plain.pth")
    ckpt = load_checkpoint(tmp_path / "plain.pth")
    assert ckpt.is_plain and ckpt.preprocessing is None and list(ckpt.state_dict) == ["model0.0.weight"]


def test_hostile_checkpoint_is_refused_without_running_code(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "pwned"
    torch.save({"state_dict": _Exploit(marker)}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="refused") as err:
        load_checkpoint(tmp_path / "evil.pth")
    assert not marker.exists()
    text = str(err.value)
    assert "global getattr" in text  # names what it refused (Path.touch pickles as getattr(Path, "touch"))
    assert "weights_only=False" not in text and "will likely succeed" not in text and "safe_globals" not in text


@pytest.mark.parametrize("kind", ["random", "truncated", "empty", "text"])
def test_corrupt_files_name_the_problem(tmp_path: pathlib.Path, kind: str) -> None:
    path = tmp_path / "bad.pth"
    good = tmp_path / "good.pth"
    torch.save({"w": torch.randn(100, 100)}, good)
    data = {
        "random": bytes(range(256)) * 10,
        "truncated": good.read_bytes()[:2000],
        "empty": b"",
        "text": b"hello",
    }[kind]
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw torch warning reaches the user either
        with pytest.raises(CheckpointError, match="bad.pth") as err:
            load_checkpoint(path)
    text = str(err.value)
    assert "corrupt or not a PyTorch file" in text and "refused" not in text and "Python objects" not in text
    assert "weights_only" not in text and "will likely succeed" not in text  # never advice to load unsafely


def test_missing_file_and_wrong_contents(tmp_path: pathlib.Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pth")
    torch.save({"w": [1, 2, 3]}, tmp_path / "lists.pth")
    with pytest.raises(CheckpointError, match="non-tensor"):
        load_checkpoint(tmp_path / "lists.pth")
    torch.save({"format": "other/9", "state_dict": {}}, tmp_path / "future.pth")
    with pytest.raises(CheckpointError, match="unsupported format"):
        load_checkpoint(tmp_path / "future.pth")
    torch.save({"format": CHECKPOINT_FORMAT, "model": "depthpose", "preprocessing": {"near_mm": 9e9},
                "state_dict": {"w": torch.zeros(1)}}, tmp_path / "badpre.pth")  # fmt: skip
    with pytest.raises(CheckpointError, match="preprocessing"):
        load_checkpoint(tmp_path / "badpre.pth")


@pytest.mark.parametrize(("key", "value", "words"), [
    ("model_kwargs", [1, 2], "model_kwargs must be a mapping, got list"),
    ("meta", ["a"], "meta must be a mapping, got list"),
    ("preprocessing", "64x48", "preprocessing must be a mapping, got str"),
    ("model_kwargs", {1: 2}, "model_kwargs has keys that are not strings"),
])  # fmt: skip
def test_metadata_of_the_wrong_type_is_a_checkpoint_error(tmp_path: pathlib.Path, key: str, value: object,
                                                           words: str) -> None:  # fmt: skip
    pre = Preprocessing(lowres_size=(64, 48), model_size=(64, 48)).to_dict()
    payload = {"format": CHECKPOINT_FORMAT, "model": "depthpose", "state_dict": {"w": torch.zeros(1)},
               "preprocessing": pre, key: value}  # fmt: skip
    torch.save(payload, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(tmp_path / "odd.pth")
