"""The authors' released DepthPose checkpoints load into ``build_model("depthpose")`` without key mapping.

The parameter table below is written out from the authors' model definition (CAMMA-public/ORPose-Depth,
``lib/models/depthpose_x8.py``), independently of this project's model code. A random state dict with exactly
these names and shapes stands in for ``depthpose_64x48.pth`` / ``depthpose_80x60.pth``, which are not
redistributable.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from depthpose_core.errors import CheckpointError
from depthpose_core.models import DepthPose, build_model, load_weights

# fmt: off
AUTHORS_PARAMETERS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("stage1_conv1.weight", (64, 1, 3, 3)), ("stage1_conv1.bias", (64,)),
    ("stage1_conv2.weight", (128, 64, 3, 3)), ("stage1_conv2.bias", (128,)),
    ("stage1_conv3.weight", (256, 128, 3, 3)), ("stage1_conv3.bias", (256,)),
    ("stage2_conv1.weight", (64, 64, 3, 3)), ("stage2_conv1.bias", (64,)),
    ("stage2_conv2.weight", (128, 64, 3, 3)), ("stage2_conv2.bias", (128,)),
    ("stage2_conv3.weight", (256, 128, 3, 3)), ("stage2_conv3.bias", (256,)),
    ("stage3_conv1.weight", (64, 64, 3, 3)), ("stage3_conv1.bias", (64,)),
    ("stage3_conv2.weight", (128, 64, 3, 3)), ("stage3_conv2.bias", (128,)),
    ("stage3_conv3.weight", (256, 128, 3, 3)), ("stage3_conv3.bias", (256,)),
    ("stage3_conv4.weight", (256, 256, 3, 3)), ("stage3_conv4.bias", (256,)),
    ("conv_x2_1.weight", (32, 64, 3, 3)), ("conv_x2_1.bias", (32,)),
    ("conv_x4_1.weight", (32, 64, 3, 3)), ("conv_x4_1.bias", (32,)),
    ("conv_x4_2.weight", (32, 32, 3, 3)), ("conv_x4_2.bias", (32,)),
    ("model0.0.weight", (64, 64, 3, 3)), ("model0.0.bias", (64,)),
    ("model0.2.weight", (64, 64, 3, 3)), ("model0.2.bias", (64,)),
    ("model0.5.weight", (128, 64, 3, 3)), ("model0.5.bias", (128,)),
    ("model0.7.weight", (128, 128, 3, 3)), ("model0.7.bias", (128,)),
    ("model0.10.weight", (256, 128, 3, 3)), ("model0.10.bias", (256,)),
    ("model0.12.weight", (256, 256, 3, 3)), ("model0.12.bias", (256,)),
    ("model0.14.weight", (256, 256, 3, 3)), ("model0.14.bias", (256,)),
    ("model0.16.weight", (256, 256, 3, 3)), ("model0.16.bias", (256,)),
    ("model0.19.weight", (512, 256, 3, 3)), ("model0.19.bias", (512,)),
    ("model0.21.weight", (512, 512, 3, 3)), ("model0.21.bias", (512,)),
    ("model0.23.weight", (256, 512, 3, 3)), ("model0.23.bias", (256,)),
    ("model0.25.weight", (128, 256, 3, 3)), ("model0.25.bias", (128,)),
    ("model1_1.0.weight", (128, 128, 3, 3)), ("model1_1.0.bias", (128,)),
    ("model1_1.2.weight", (128, 128, 3, 3)), ("model1_1.2.bias", (128,)),
    ("model1_1.4.weight", (128, 128, 3, 3)), ("model1_1.4.bias", (128,)),
    ("model1_1.6.weight", (512, 128, 1, 1)), ("model1_1.6.bias", (512,)),
    ("model1_1.8.weight", (38, 512, 1, 1)), ("model1_1.8.bias", (38,)),
    ("model1_2.0.weight", (128, 128, 3, 3)), ("model1_2.0.bias", (128,)),
    ("model1_2.2.weight", (128, 128, 3, 3)), ("model1_2.2.bias", (128,)),
    ("model1_2.4.weight", (128, 128, 3, 3)), ("model1_2.4.bias", (128,)),
    ("model1_2.6.weight", (512, 128, 1, 1)), ("model1_2.6.bias", (512,)),
    ("model1_2.8.weight", (19, 512, 1, 1)), ("model1_2.8.bias", (19,)),
    ("model2_1.0.weight", (128, 249, 7, 7)), ("model2_1.0.bias", (128,)),
    ("model2_1.2.weight", (128, 128, 7, 7)), ("model2_1.2.bias", (128,)),
    ("model2_1.4.weight", (128, 128, 7, 7)), ("model2_1.4.bias", (128,)),
    ("model2_1.6.weight", (128, 128, 7, 7)), ("model2_1.6.bias", (128,)),
    ("model2_1.8.weight", (128, 128, 7, 7)), ("model2_1.8.bias", (128,)),
    ("model2_1.10.weight", (128, 128, 1, 1)), ("model2_1.10.bias", (128,)),
    ("model2_1.12.weight", (38, 128, 1, 1)), ("model2_1.12.bias", (38,)),
    ("model2_2.0.weight", (128, 249, 7, 7)), ("model2_2.0.bias", (128,)),
    ("model2_2.2.weight", (128, 128, 7, 7)), ("model2_2.2.bias", (128,)),
    ("model2_2.4.weight", (128, 128, 7, 7)), ("model2_2.4.bias", (128,)),
    ("model2_2.6.weight", (128, 128, 7, 7)), ("model2_2.6.bias", (128,)),
    ("model2_2.8.weight", (128, 128, 7, 7)), ("model2_2.8.bias", (128,)),
    ("model2_2.10.weight", (128, 128, 1, 1)), ("model2_2.10.bias", (128,)),
    ("model2_2.12.weight", (19, 128, 1, 1)), ("model2_2.12.bias", (19,)),
    ("model3_1.0.weight", (128, 249, 7, 7)), ("model3_1.0.bias", (128,)),
    ("model3_1.2.weight", (128, 128, 7, 7)), ("model3_1.2.bias", (128,)),
    ("model3_1.4.weight", (128, 128, 7, 7)), ("model3_1.4.bias", (128,)),
    ("model3_1.6.weight", (128, 128, 7, 7)), ("model3_1.6.bias", (128,)),
    ("model3_1.8.weight", (128, 128, 7, 7)), ("model3_1.8.bias", (128,)),
    ("model3_1.10.weight", (128, 128, 1, 1)), ("model3_1.10.bias", (128,)),
    ("model3_1.12.weight", (38, 128, 1, 1)), ("model3_1.12.bias", (38,)),
    ("model3_2.0.weight", (128, 249, 7, 7)), ("model3_2.0.bias", (128,)),
    ("model3_2.2.weight", (128, 128, 7, 7)), ("model3_2.2.bias", (128,)),
    ("model3_2.4.weight", (128, 128, 7, 7)), ("model3_2.4.bias", (128,)),
    ("model3_2.6.weight", (128, 128, 7, 7)), ("model3_2.6.bias", (128,)),
    ("model3_2.8.weight", (128, 128, 7, 7)), ("model3_2.8.bias", (128,)),
    ("model3_2.10.weight", (128, 128, 1, 1)), ("model3_2.10.bias", (128,)),
    ("model3_2.12.weight", (19, 128, 1, 1)), ("model3_2.12.bias", (19,)),
    ("model4_1.0.weight", (128, 249, 7, 7)), ("model4_1.0.bias", (128,)),
    ("model4_1.2.weight", (128, 128, 7, 7)), ("model4_1.2.bias", (128,)),
    ("model4_1.4.weight", (128, 128, 7, 7)), ("model4_1.4.bias", (128,)),
    ("model4_1.6.weight", (128, 128, 7, 7)), ("model4_1.6.bias", (128,)),
    ("model4_1.8.weight", (128, 128, 7, 7)), ("model4_1.8.bias", (128,)),
    ("model4_1.10.weight", (128, 128, 1, 1)), ("model4_1.10.bias", (128,)),
    ("model4_1.12.weight", (38, 128, 1, 1)), ("model4_1.12.bias", (38,)),
    ("model4_2.0.weight", (128, 249, 7, 7)), ("model4_2.0.bias", (128,)),
    ("model4_2.2.weight", (128, 128, 7, 7)), ("model4_2.2.bias", (128,)),
    ("model4_2.4.weight", (128, 128, 7, 7)), ("model4_2.4.bias", (128,)),
    ("model4_2.6.weight", (128, 128, 7, 7)), ("model4_2.6.bias", (128,)),
    ("model4_2.8.weight", (128, 128, 7, 7)), ("model4_2.8.bias", (128,)),
    ("model4_2.10.weight", (128, 128, 1, 1)), ("model4_2.10.bias", (128,)),
    ("model4_2.12.weight", (19, 128, 1, 1)), ("model4_2.12.bias", (19,)),
)
# fmt: on
AUTHORS_NUM_PARAMS = 39_003_204


def _random_state_dict(seed: int) -> dict[str, Tensor]:
    """He-scaled random weights (activations stay O(1) through 30+ layers) and small random biases."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in AUTHORS_PARAMETERS:
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
        scale = math.sqrt(2.0 / fan_in) if len(shape) > 1 else 0.05
        state[name] = torch.randn(shape, generator=generator) * scale
    return state


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "depthpose_64x48.pth"
    torch.save(_random_state_dict(seed=0), path)
    return path


@pytest.fixture(scope="module")
def state_dict(checkpoint: Path) -> dict[str, Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def loaded(state_dict: dict[str, Tensor]) -> DepthPose:
    model = build_model("depthpose")
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def _reference_forward(sd: dict[str, Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """The authors' data flow, written with functional ops straight from the state dict."""

    def c(name: str, y: Tensor, relu: bool = True) -> Tensor:
        w = sd[f"{name}.weight"]
        y = F.conv2d(y, w, sd[f"{name}.bias"], padding=w.shape[-1] // 2)
        return F.relu(y) if relu else y

    def branch(prefix: str, y: Tensor, indices: tuple[int, ...]) -> Tensor:
        for i in indices[:-1]:
            y = c(f"{prefix}.{i}", y)
        return c(f"{prefix}.{indices[-1]}", y, relu=False)

    y = c("stage1_conv2", c("stage1_conv1", x))
    x2 = F.pixel_shuffle(c("stage1_conv3", y, relu=False), 2)
    y = c("stage2_conv2", c("stage2_conv1", x2))
    x4 = F.pixel_shuffle(c("stage2_conv3", y, relu=False), 2)
    y = c("stage3_conv3", c("stage3_conv2", c("stage3_conv1", x4)))
    x8 = F.pixel_shuffle(c("stage3_conv4", y, relu=False), 2)
    s2 = c("conv_x2_1", F.max_pool2d(x2, 2))
    s1 = c("conv_x4_2", F.max_pool2d(c("conv_x4_1", F.max_pool2d(x4, 2)), 2))
    f = x8
    for i in (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25):
        f = c(f"model0.{i}", f)
        if i in (2, 7, 16):
            f = F.max_pool2d(f, 2)
    paf, heat = branch("model1_1", f, (0, 2, 4, 6, 8)), branch("model1_2", f, (0, 2, 4, 6, 8))
    for t in (2, 3, 4):
        y = torch.cat((paf, heat, f, s1, s2), dim=1)
        paf = branch(f"model{t}_1", y, (0, 2, 4, 6, 8, 10, 12))
        heat = branch(f"model{t}_2", y, (0, 2, 4, 6, 8, 10, 12))
    return paf, heat


def test_table_is_the_published_size() -> None:
    names = [name for name, _ in AUTHORS_PARAMETERS]
    assert len(names) == len(set(names)) == 154
    assert sum(math.prod(shape) for _, shape in AUTHORS_PARAMETERS) == AUTHORS_NUM_PARAMS


def test_model_names_and_shapes_are_the_authors() -> None:
    expected = {name: shape for name, shape in AUTHORS_PARAMETERS}
    got = {name: tuple(t.shape) for name, t in build_model("depthpose").state_dict().items()}
    assert got == expected


def test_plain_state_dict_loads_strictly_and_is_used(state_dict: dict[str, Tensor], loaded: DepthPose) -> None:
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor, state_dict[name]), name
    x = torch.rand(2, 1, 6, 8, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        paf, heat = loaded(x)
        ref_paf, ref_heat = _reference_forward(state_dict, x)
        fresh_paf, _ = build_model("depthpose").eval()(x)
    torch.testing.assert_close(paf, ref_paf, rtol=1e-4, atol=1e-4 * ref_paf.abs().max().item())
    torch.testing.assert_close(heat, ref_heat, rtol=1e-4, atol=1e-4 * ref_heat.abs().max().item())
    assert ref_paf.abs().max() > 10 * fresh_paf.abs().max()  # not the fresh init's near-zero maps
    assert not torch.allclose(paf, fresh_paf)


@pytest.mark.parametrize("size", [(64, 48), (80, 60)])
def test_full_size_forward(loaded: DepthPose, size: tuple[int, int]) -> None:
    width, height = size
    x = torch.rand(1, 1, height, width, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        paf, heat = loaded(x)
    assert paf.shape == (1, 38, height, width)
    assert heat.shape == (1, 19, height, width)
    assert torch.isfinite(paf).all() and torch.isfinite(heat).all()
    assert paf.std() > 0 and heat.std() > 0


def test_load_weights_accepts_the_authors_checkpoint(state_dict: dict[str, Tensor]) -> None:
    model = build_model("depthpose")
    assert load_weights(model, state_dict, source="depthpose_64x48.pth") == ()
    assert torch.equal(model.model4_2[12].weight, state_dict["model4_2.12.weight"])


def test_load_weights_strips_the_ddp_prefix(state_dict: dict[str, Tensor]) -> None:
    model = build_model("depthpose")
    load_weights(model, {f"module.{k}": v for k, v in state_dict.items()}, source="ddp.pth")
    assert torch.equal(model.stage1_conv1.weight, state_dict["stage1_conv1.weight"])


def test_authors_checkpoint_into_a_model_with_sr_head(
    state_dict: dict[str, Tensor], caplog: pytest.LogCaptureFixture
) -> None:
    model = build_model("depthpose", with_sr_head=True)
    assert model.sr_head is not None
    head_before = model.sr_head.weight.detach().clone()
    with caplog.at_level("INFO", logger="depthpose_core.models.weights"):
        kept = load_weights(model, state_dict, source="depthpose_80x60.pth")
    assert kept == ("sr_head.weight", "sr_head.bias")
    assert "sr_head.weight" in caplog.text and "depthpose_80x60.pth" in caplog.text
    assert torch.equal(model.sr_head.weight, head_before)
    assert torch.equal(model.model0[25].weight, state_dict["model0.25.weight"])


def test_trained_head_is_dropped_for_inference(state_dict: dict[str, Tensor]) -> None:
    head = {"sr_head.weight": torch.ones(1, 64, 3, 3), "sr_head.bias": torch.ones(1)}
    model = build_model("depthpose")
    assert load_weights(model, {**state_dict, **head}, source="trained.pth") == ("sr_head.weight", "sr_head.bias")
    assert model.sr_head is None
    assert torch.equal(model.model1_1[0].bias, state_dict["model1_1.0.bias"])


def test_partial_sr_head_is_an_error(state_dict: dict[str, Tensor]) -> None:
    model = build_model("depthpose", with_sr_head=True)
    with pytest.raises(CheckpointError, match=r"1 missing key: sr_head\.bias"):
        load_weights(model, {**state_dict, "sr_head.weight": torch.zeros(1, 64, 3, 3)}, source="half.pth")


def test_missing_key_is_named(state_dict: dict[str, Tensor]) -> None:
    broken = {k: v for k, v in state_dict.items() if k != "model3_2.4.bias"}
    with pytest.raises(CheckpointError, match=r"broken\.pth.*DepthPose.*1 missing key: model3_2\.4\.bias$"):
        load_weights(build_model("depthpose"), broken, source="broken.pth")


def test_many_missing_keys_are_abridged(state_dict: dict[str, Tensor]) -> None:
    broken = {k: v for k, v in state_dict.items() if not k.startswith("model4_")}
    with pytest.raises(CheckpointError, match=r"28 missing keys: model4_1\.0\.weight, .* and 23 more$"):
        load_weights(build_model("depthpose"), broken, source="stage3.pth")


def test_unexpected_key_is_named(state_dict: dict[str, Tensor]) -> None:
    extra = {**state_dict, "model5_1.0.weight": torch.zeros(128, 249, 7, 7)}
    with pytest.raises(CheckpointError, match=r"extra\.pth.*1 unexpected key: model5_1\.0\.weight$"):
        load_weights(build_model("depthpose"), extra, source="extra.pth")


def test_shape_mismatch_is_named(state_dict: dict[str, Tensor]) -> None:
    wrong = {**state_dict, "model0.0.weight": torch.zeros(64, 3, 3, 3)}
    model = build_model("depthpose")
    before = model.model0[0].weight.detach().clone()
    with pytest.raises(
        CheckpointError,
        match=r"rgb\.pth.*1 shape mismatch: model0\.0\.weight expected \(64, 64, 3, 3\), got \(64, 3, 3, 3\)$",
    ):
        load_weights(model, wrong, source="rgb.pth")
    assert torch.equal(model.model0[0].weight, before)  # nothing was loaded


def test_problems_are_reported_together(state_dict: dict[str, Tensor]) -> None:
    mixed = {k: v for k, v in state_dict.items() if k != "conv_x2_1.weight"}
    mixed["model0.25.bias"] = torch.zeros(256)
    mixed["head.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as info:
        load_weights(build_model("depthpose"), mixed, source="mixed.pth")
    message = str(info.value)
    assert "1 missing key: conv_x2_1.weight" in message
    assert "1 unexpected key: head.weight" in message
    assert "model0.25.bias expected (128,), got (256,)" in message


def test_sr_head_is_not_optional_for_the_sr_network() -> None:
    sr = build_model("sr")
    state = {k: v for k, v in sr.state_dict().items() if not k.startswith("sr_head.")}
    with pytest.raises(CheckpointError, match=r"SRNet: 2 missing keys: sr_head\.weight, sr_head\.bias"):
        load_weights(sr, state, source="sr.pth")


def test_non_tensor_entries_are_rejected(state_dict: dict[str, Tensor]) -> None:
    with pytest.raises(CheckpointError, match=r"odd\.pth.*not name -> tensor: epoch"):
        load_weights(build_model("depthpose"), {**state_dict, "epoch": 3}, source="odd.pth")  # type: ignore[dict-item]
