"""The weights registry and the one resolver of a ``model`` value: shipped entries, untrained networks, project
checkpoints (their recordings cannot be overridden), the authors' plain state dicts, the privacy limit, notices."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import numpy as np
import pytest
import torch
from samples import EAGER

from depthpose_core.checkpoint import load_checkpoint, save_checkpoint
from depthpose_core.errors import CheckpointError, DepthPoseError
from depthpose_core.inference import PoseEstimator
from depthpose_core.models import build_model, count_parameters
from depthpose_core.preprocess import Preprocessing
from depthpose_core.weights import (
    DEFAULT_WEIGHTS,
    SHIPPED,
    UNTRAINED,
    UNTRAINED_NOTICE,
    ModelRequest,
    resolve_model,
    shipped_weights,
)

TINY = Preprocessing(lowres_size=(16, 12), model_size=(16, 12))


@pytest.fixture(scope="module")
def tiny() -> PoseEstimator:
    return PoseEstimator.untrained(preprocessing=TINY, **EAGER, seed=1)


def _depth(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 6000, size=(480, 640)).astype(np.uint16)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_entry_describes_its_file(name: str) -> None:
    entry = shipped_weights(name)
    ckpt = load_checkpoint(entry.path)
    assert (ckpt.model_name, ckpt.model_kwargs, ckpt.preprocessing) == (entry.model_name, dict(entry.model_kwargs),
                                                                        entry.preprocessing)  # fmt: skip
    model = build_model(entry.model_name, **entry.model_kwargs)
    assert count_parameters(model) == entry.meta["num_params"]
    assert (entry.path.parent / entry.meta["model_card"]).is_file() and entry.notice


def test_the_empty_value_is_the_default_shipped_entry_with_its_notice() -> None:
    by_default, by_name = resolve_model(""), resolve_model(DEFAULT_WEIGHTS)
    assert by_default.weights == by_name.weights == str(SHIPPED[DEFAULT_WEIGHTS].path)
    assert by_default.notice == SHIPPED[DEFAULT_WEIGHTS].notice and "SYNTHETIC data only" in by_default.notice
    assert by_default.trained and by_default.preprocessing == SHIPPED[DEFAULT_WEIGHTS].preprocessing
    # The same file named by its path is the user's choice: no notice.
    assert resolve_model(str(SHIPPED[DEFAULT_WEIGHTS].path)).notice is None
    with pytest.raises(CheckpointError, match="no shipped weights named 'nope'"):
        shipped_weights("nope")


def test_untrained_takes_its_options_and_says_so() -> None:
    resolved = resolve_model(ModelRequest(UNTRAINED, "depthpose", (16, 12), 400.0, 5000.0, seed=3))
    assert not resolved.trained and resolved.notice == UNTRAINED_NOTICE and "RANDOMLY INITIALISED" in resolved.notice
    pre = resolved.preprocessing
    assert (pre.lowres_size, pre.model_size, pre.near_mm, pre.far_mm) == ((16, 12), (16, 12), 400.0, 5000.0)
    a, b = resolved.build(), resolve_model(ModelRequest(UNTRAINED, seed=3)).build()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))  # seeded
    assert resolve_model(UNTRAINED).preprocessing == Preprocessing()


def test_project_checkpoint_preprocessing_cannot_be_overridden(tiny: PoseEstimator, tmp_path: pathlib.Path) -> None:
    path = save_checkpoint(tmp_path / "m.pth", tiny.model.state_dict(), model_name="depthpose", preprocessing=TINY)
    with pytest.raises(CheckpointError, match="cannot be overridden"):
        PoseEstimator.from_checkpoint(path, preprocessing=TINY.with_updates(far_mm=4000.0), **EAGER)
    same = PoseEstimator.from_checkpoint(path, preprocessing=TINY, **EAGER)  # restating it is fine
    assert same.preprocessing == TINY
    # The same rule for the options of a request (node parameters, command-line flags).
    with pytest.raises(CheckpointError, match="cannot be overridden"):
        resolve_model(ModelRequest(str(path), lowres_size=(64, 48)))
    with pytest.raises(CheckpointError, match="cannot be overridden"):
        resolve_model(ModelRequest("", near_mm=300.0))  # the shipped weights too
    assert resolve_model(ModelRequest(str(path), lowres_size=(16, 12))).preprocessing == TINY
    with pytest.raises(CheckpointError, match="holds model 'depthpose', not 'rtpose_1ch'"):
        resolve_model(ModelRequest(str(path), "rtpose_1ch"))


def test_unknown_keypoint_format_is_refused(tiny: PoseEstimator, tmp_path: pathlib.Path) -> None:
    ckpt = load_checkpoint(
        save_checkpoint(tmp_path / "m.pth", tiny.model.state_dict(), model_name="depthpose", preprocessing=TINY)
    )
    ckpt.keypoint_format = "coco17"
    with pytest.raises(CheckpointError, match="keypoint format 'coco17'"):
        PoseEstimator.from_checkpoint(ckpt, **EAGER)


def test_plain_state_dict_needs_explicit_options(tiny: PoseEstimator, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "plain.pth"
    torch.save(tiny.model.state_dict(), path)
    with pytest.raises(CheckpointError, match="plain state dict"):
        PoseEstimator.from_checkpoint(path, **EAGER)
    loaded = PoseEstimator.from_checkpoint(path, model_name="depthpose", preprocessing=TINY, **EAGER)
    img = tiny.to_lowres(_depth(7))
    np.testing.assert_allclose(loaded.maps([img])[0], tiny.maps([img])[0], atol=1e-6)
    # Through a request: the architecture and the low resolution are both needed; the error names the options.
    for request in (ModelRequest(str(path)), ModelRequest(str(path), "depthpose"),
                    ModelRequest(str(path), lowres_size=(16, 12))):  # fmt: skip
        with pytest.raises(CheckpointError, match="input_width and input_height.*--lowres"):
            resolve_model(request)
    resolved = resolve_model(ModelRequest(str(path), "depthpose", (16, 12)))
    assert resolved.preprocessing == TINY and resolved.notice is None and resolved.model_kwargs == {}


def test_weights_of_another_architecture_are_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "rtpose.pth"
    torch.save(build_model("rtpose_1ch").state_dict(), path)
    with pytest.raises(CheckpointError, match="rtpose.pth"):
        PoseEstimator.from_checkpoint(path, model_name="depthpose", preprocessing=TINY, **EAGER)


def test_privacy_limit_applies_to_every_deployed_entry_point(checkpoint_file: Callable[..., pathlib.Path]) -> None:
    with pytest.raises(DepthPoseError, match="at most 160x120 .*privacy"):
        resolve_model(ModelRequest(UNTRAINED, lowres_size=(320, 240)))
    big = checkpoint_file((320, 240))
    with pytest.raises(DepthPoseError, match="reduces frames to 320x240"):
        PoseEstimator.from_request(str(big))
    # Research evaluation of full-resolution baselines turns the limit off explicitly.
    assert resolve_model(str(big), privacy=False).preprocessing.lowres_size == (320, 240)
    assert resolve_model(ModelRequest(UNTRAINED, lowres_size=(160, 120))).preprocessing.lowres_size == (160, 120)


def test_bad_values_name_the_problem(tmp_path: pathlib.Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        resolve_model(str(tmp_path / "missing.pth"))
    with pytest.raises(DepthPoseError, match="near_mm < far_mm"):
        resolve_model(ModelRequest(UNTRAINED, near_mm=4000.0, far_mm=3000.0))
    with pytest.raises(CheckpointError, match="cannot build model 'nonet'"):
        resolve_model(ModelRequest(UNTRAINED, "nonet")).build()
