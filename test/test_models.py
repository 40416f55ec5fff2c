"""Behaviour of every registered network: shapes, gradients, the SR head's privacy rule, sizes and costs."""

from __future__ import annotations

import math

import pytest
import torch
from samples import EAGER
from torch import Tensor, nn

from depthpose_core.models import (
    DepthPose,
    RTPose,
    SRNet,
    SRRTPose,
    TrainOutput,
    build_model,
    count_macs,
    count_parameters,
    init_sr_orthogonal_,
    list_models,
    register_model,
)
from depthpose_core.models._blocks import SR_STAGES, BranchConfig, SRBlock, SRStageConfig
from depthpose_core.models._lite import DepthwiseConv3x3

# Small inputs (W, H) that keep a backward pass cheap, and the stage count of each model.
SMALL_INPUT = {"depthpose": (8, 6), "depthpose_lite": (8, 6), "rtpose_1ch": (32, 24), "rtpose_lite": (32, 24),
               "sr": (8, 6), "sr_lite": (8, 6), "sr_rtpose": (4, 3), "sr_rtpose_lite": (4, 3)}  # fmt: skip
NUM_STAGES = {"depthpose": 4, "depthpose_lite": 2, "rtpose_1ch": 6, "rtpose_lite": 2, "sr": 0, "sr_lite": 0,
              "sr_rtpose": 6, "sr_rtpose_lite": 2}  # fmt: skip
SR_ONLY = ("sr", "sr_lite")
# Exact counts, measured once and checked against the spec's rounded figures in the tests below.
NUM_PARAMS = {"depthpose": 39_003_204, "depthpose_lite": 336_224, "rtpose_1ch": 52_310_294, "sr": 1_772_225,
              "sr_rtpose": 54_082_519, "rtpose_lite": 382_528, "sr_lite": 48_985,
              "sr_rtpose_lite": 344_309}  # fmt: skip
SR_HEAD_PARAMS = 577
DEPTHPOSE_MACS = {(64, 48): 213_041_872_896, (80, 60): 332_877_926_400}
RTPOSE_MACS_640x480 = 308_003_020_800
LITE_MACS = {(64, 48): 1_557_829_632, (80, 60): 2_434_108_800}

# Build every variant once per module; tests that change weights build their own.
_cache: dict[tuple[str, bool], nn.Module] = {}


def _model(name: str, *, with_sr_head: bool = False) -> nn.Module:
    key = (name, with_sr_head)
    if key not in _cache:
        torch.manual_seed(0)
        _cache[key] = build_model(name, with_sr_head=with_sr_head or None)
    return _cache[key]


def _batch(name: str, batch: int = 2) -> Tensor:
    width, height = SMALL_INPUT[name]
    return torch.rand(batch, 1, height, width, generator=torch.Generator().manual_seed(3))


def test_registered_names() -> None:
    assert list_models() == ["depthpose", "depthpose_lite", "rtpose_1ch", "rtpose_lite", "sr", "sr_lite", "sr_rtpose",
                             "sr_rtpose_lite"]  # fmt: skip
    assert set(SMALL_INPUT) == set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_forward_shapes_and_finite(name: str) -> None:
    model = _model(name).eval()
    x = _batch(name)
    width, height = SMALL_INPUT[name]
    with torch.inference_mode():
        out = model(x)
    if name in SR_ONLY:
        assert out.shape == (2, 1, 8 * height, 8 * width)
        assert torch.isfinite(out).all()
        return
    stride = model.output_stride
    paf, heat = out
    assert paf.shape == (2, 38, height // stride, width // stride)
    assert heat.shape == (2, 19, height // stride, width // stride)
    assert torch.isfinite(paf).all() and torch.isfinite(heat).all()


def test_output_strides() -> None:
    assert (DepthPose.output_stride, RTPose.output_stride, SRRTPose.output_stride) == (1, 8, 1)
    assert SRNet.upscale_factor == 8


@pytest.mark.parametrize("name", list_models())
def test_forward_train_matches_forward(name: str) -> None:
    model = _model(name).eval()
    x = _batch(name)
    with torch.inference_mode():
        train = model.forward_train(x)
        out = model(x)
    assert isinstance(train, TrainOutput)
    assert len(train.stages) == model.num_stages == NUM_STAGES[name]
    if name in SR_ONLY:
        assert torch.equal(train.sr, out)
        return
    assert all(torch.equal(a, b) for a, b in zip(train.stages[-1], out))
    assert all(paf.shape[1] == 38 and heat.shape[1] == 19 for paf, heat in train.stages)
    if name in ("sr_rtpose", "sr_rtpose_lite"):
        width, height = SMALL_INPUT[name]
        assert train.sr is not None and train.sr.shape == (2, 1, 8 * height, 8 * width)
        with torch.inference_mode():
            assert torch.equal(train.sr, model.sr(x))
    else:
        assert train.sr is None


def test_stages_differ_from_each_other() -> None:
    with torch.inference_mode():
        stages = _model("depthpose").eval().forward_train(_batch("depthpose")).stages
    for (paf_a, _), (paf_b, _) in zip(stages, stages[1:]):
        assert not torch.equal(paf_a, paf_b)


@pytest.mark.parametrize(("name", "with_sr_head"),
                         [(n, False) for n in list_models()] + [(n, True) for n in ("depthpose", "depthpose_lite")])
def test_gradient_reaches_every_parameter(name: str, with_sr_head: bool) -> None:
    torch.manual_seed(0)
    model = build_model(name, with_sr_head=with_sr_head or None).train()
    out = model.forward_train(_batch(name))
    loss = sum(paf.square().mean() + heat.square().mean() for paf, heat in out.stages)
    if out.sr is not None:
        loss = loss + out.sr.square().mean()
    assert torch.isfinite(loss)
    loss.backward()
    for pname, param in model.named_parameters():
        assert param.grad is not None, pname
        assert torch.isfinite(param.grad).all(), pname
        assert param.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", ["depthpose", "depthpose_lite"])
def test_forward_never_runs_the_sr_head(name: str) -> None:
    model = _model(name, with_sr_head=True).eval()
    calls: list[tuple[int, ...]] = []
    handle = model.sr_head.register_forward_hook(lambda _m, _i, out: calls.append(tuple(out.shape)))
    try:
        with torch.inference_mode():
            paf, _ = model(_batch(name))
            assert calls == []
            train = model.forward_train(_batch(name))
    finally:
        handle.remove()
    assert calls == [(2, 1, 48, 64)]
    assert train.sr is not None and train.sr.shape == (2, 1, 48, 64)
    assert torch.equal(train.stages[-1][0], paf)


def test_sr_head_is_optional_and_small() -> None:
    plain, headed = _model("depthpose"), _model("depthpose", with_sr_head=True)
    assert plain.sr_head is None
    with pytest.raises(RuntimeError, match=r"DepthPose was built without the SR reconstruction head"):
        plain.reconstruct(torch.zeros(1, 64, 8, 8))
    assert count_parameters(headed) - count_parameters(plain) == SR_HEAD_PARAMS
    assert not any(name.startswith("sr_head.") for name in plain.state_dict())
    with torch.inference_mode():
        assert plain.forward_train(_batch("depthpose")).sr is None


def test_depthpose_admits_any_input_size() -> None:
    with torch.inference_mode():
        paf, heat = _model("depthpose").eval()(torch.rand(1, 1, 3, 5))
    assert paf.shape == (1, 38, 3, 5) and heat.shape == (1, 19, 3, 5)


def test_rtpose_floors_odd_sizes_and_rejects_tiny_inputs() -> None:
    model = _model("rtpose_1ch").eval()
    with torch.inference_mode():
        paf, _ = model(torch.rand(1, 1, 13, 20))
    assert paf.shape == (1, 38, 1, 2)
    with pytest.raises(ValueError, match=r"7x16 pixels .* at least 8x8"):
        model(torch.rand(1, 1, 16, 7))


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("shape", [(1, 3, 48, 64), (48, 64), (1, 1, 1, 48, 64)])
def test_wrong_input_shape_is_a_value_error(name: str, shape: tuple[int, ...]) -> None:
    model = _model(name)
    with pytest.raises(ValueError, match=r"expected a depth batch of shape \(B, 1, H, W\), got shape"):
        model(torch.zeros(shape))


def test_rtpose_and_sr_names() -> None:
    rtpose = {name: tuple(t.shape) for name, t in _model("rtpose_1ch").state_dict().items()}
    assert rtpose["model0.0.weight"] == (64, 1, 3, 3)
    assert rtpose["model0.25.weight"] == (128, 256, 3, 3)
    assert rtpose["model1_1.8.weight"] == (38, 512, 1, 1)
    assert rtpose["model2_1.0.weight"] == (128, 185, 7, 7)
    assert rtpose["model6_2.12.weight"] == (19, 128, 1, 1)
    assert "model7_1.0.weight" not in rtpose and "model5_1.12.weight" in rtpose
    # SR weights move between the standalone SR network and DepthPose without renaming.
    sr = {name: tuple(t.shape) for name, t in _model("sr").state_dict().items()}
    depthpose = {name: tuple(t.shape) for name, t in _model("depthpose", with_sr_head=True).state_dict().items()}
    assert sr.items() <= depthpose.items()
    assert {n.split(".")[0] for n in _model("sr_rtpose").state_dict()} == {"sr", "pose"}


@pytest.mark.parametrize("name", list_models())
def test_parameter_counts(name: str) -> None:
    assert count_parameters(_model(name)) == NUM_PARAMS[name]


def test_counts_match_the_spec() -> None:
    assert NUM_PARAMS["depthpose"] == 39_003_204
    assert round(NUM_PARAMS["rtpose_1ch"] / 1e6, 1) == 52.3
    assert NUM_PARAMS["sr_rtpose"] == NUM_PARAMS["sr"] + NUM_PARAMS["rtpose_1ch"]
    # Spec (conv multiply-accumulates, bias additions not counted): 213.0 G, 332.9 G, about 308 G.
    assert round(DEPTHPOSE_MACS[(64, 48)] / 1e9, 1) == 213.0
    assert round(DEPTHPOSE_MACS[(80, 60)] / 1e9, 1) == 332.9
    assert round(RTPOSE_MACS_640x480 / 1e9) == 308


@pytest.mark.parametrize("size", sorted(DEPTHPOSE_MACS))
def test_depthpose_macs(size: tuple[int, int]) -> None:
    assert count_macs(_model("depthpose"), size) == DEPTHPOSE_MACS[size]
    # The training-only head is not run by forward, so it costs nothing at inference.
    assert count_macs(_model("depthpose", with_sr_head=True), size) == DEPTHPOSE_MACS[size]


@pytest.mark.parametrize("size", sorted(LITE_MACS))
def test_lite_costs_a_fraction_of_depthpose_and_nothing_for_its_sr_head(size: tuple[int, int]) -> None:
    assert count_macs(_model("depthpose_lite"), size) == LITE_MACS[size]
    assert count_macs(_model("depthpose_lite", with_sr_head=True), size) == LITE_MACS[size]
    assert DEPTHPOSE_MACS[size] / LITE_MACS[size] > 130  # 1/137 of the paper's network at both sizes
    assert count_parameters(_model("depthpose_lite", with_sr_head=True)) == NUM_PARAMS["depthpose_lite"] + 73


def test_table1_lite_baselines_match_depthpose_lite_compute() -> None:
    """The re-run of Table 1 compares at equal cost: both baselines within 25 % of DepthPose-Lite's GMAC at 64x48
    (measured: +11 % each), the SR+RTPose one spending part of it on the SR network."""
    lite = LITE_MACS[(64, 48)]
    bicubic = count_macs(_model("rtpose_lite"), (512, 384))
    sr_rtpose = count_macs(_model("sr_rtpose_lite"), (64, 48))
    assert (bicubic, sr_rtpose) == (1_733_695_488, 1_727_895_552)
    assert all(0.75 * lite <= macs <= 1.25 * lite for macs in (bicubic, sr_rtpose))
    assert sr_rtpose == count_macs(_model("sr_lite"), (64, 48)) + count_macs(build_model("rtpose_lite",
                                                                                          front_width=0.0625),
                                                                              (512, 384))  # fmt: skip
    assert NUM_PARAMS["sr_rtpose_lite"] == NUM_PARAMS["sr_lite"] + count_parameters(_model("sr_rtpose_lite").pose)
    sr_names = {k for k in _model("sr_lite").state_dict()}
    assert sr_names <= {k.removeprefix("sr.") for k in _model("sr_rtpose_lite").state_dict() if k.startswith("sr.")}


def test_lite_options() -> None:
    assert build_model("depthpose_lite", num_refinement=0).num_stages == 1
    assert count_parameters(build_model("depthpose_lite", width=0.5)) < NUM_PARAMS["depthpose_lite"] / 2
    with pytest.raises(ValueError, match="num_refinement must be 0-3"):
        build_model("depthpose_lite", num_refinement=4)
    with torch.inference_mode():  # the 80x60 input, too; and narrow widths (their channel floors must agree)
        paf, heat = _model("depthpose_lite").eval()(torch.rand(1, 1, 60, 80))
        narrow = build_model("depthpose_lite", width=0.125).eval()(torch.rand(1, 1, 48, 64))
    assert paf.shape == (1, 38, 60, 80) and heat.shape == (1, 19, 60, 80)
    assert narrow[0].shape == (1, 38, 48, 64)


def test_rtpose_and_sr_macs() -> None:
    assert count_macs(_model("rtpose_1ch"), (640, 480)) == RTPOSE_MACS_640x480
    head_macs = 64 * 9 * 480 * 640
    sr_macs = count_macs(_model("sr"), (80, 60))
    assert count_macs(_model("sr_rtpose"), (80, 60)) == sr_macs + RTPOSE_MACS_640x480
    # The SR network's convs are DepthPose's SR block plus the head.
    sr_block_macs = sum(
        60 * 80 * 4**s * c_in * c_out * 9
        for s, cfg in enumerate(SR_STAGES)
        for c_in, c_out in zip(cfg.widths[:-1], cfg.widths[1:])
    )
    assert sr_macs == sr_block_macs + head_macs


def test_count_macs_formula_and_meta_run() -> None:
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(8, 6, 1, groups=2))
    before = [p.detach().clone() for p in net.parameters()]
    assert count_macs(net, (10, 4)) == 8 * 40 * 9 + 6 * 10 * 4
    assert count_macs(net, (10, 4), in_channels=1) == count_macs(net, (10, 4))
    assert all(p.device.type == "cpu" and torch.equal(p, b) for p, b in zip(net.parameters(), before))
    assert not net._forward_hooks and not net[0]._forward_hooks
    with pytest.raises(ValueError, match=r"0x48"):
        count_macs(net, (0, 48))


def test_build_model_errors_and_none_kwargs() -> None:
    valid = ", ".join(list_models())
    with pytest.raises(ValueError, match=rf"unknown model 'openpose'; valid models are: {valid}$"):
        build_model("openpose")
    assert build_model("rtpose_1ch", with_sr_head=None).num_stages == 6
    with pytest.raises(TypeError):
        build_model("rtpose_1ch", with_sr_head=True)


def test_register_model_refuses_duplicates() -> None:
    def depthpose() -> nn.Module:  # same name as the registered DepthPose builder
        return nn.Identity()

    with pytest.raises(ValueError, match=r"'depthpose' is already registered"):
        register_model(depthpose)
    assert isinstance(build_model("depthpose"), DepthPose)


def test_stage_tables_are_checked() -> None:
    with pytest.raises(ValueError, match=r"multiple of 4"):
        SRStageConfig((64, 64, 130))
    with pytest.raises(ValueError, match=r"at least one conv"):
        SRStageConfig((64,))
    with pytest.raises(ValueError, match=r"stage 3 takes 64 channels but stage 2 gives 32"):
        SRBlock(with_head=False, stages=(SR_STAGES[0], SRStageConfig((64, 128)), SR_STAGES[2]))
    with pytest.raises(ValueError, match=r"three stages"):
        SRBlock(with_head=False, stages=SR_STAGES[:2])
    with pytest.raises(ValueError, match=r"kernel size must be odd"):
        BranchConfig(4, 5, 128, 128)


def _is_orthogonal(weight: Tensor, gain: float) -> bool:
    w = weight.detach().reshape(weight.shape[0], -1)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    return torch.allclose(gram, gain**2 * torch.eye(gram.shape[0]), atol=1e-4)


def test_sr_block_is_initialised_orthogonally() -> None:
    torch.manual_seed(0)
    model = DepthPose(with_sr_head=True)
    relu_gain = math.sqrt(2.0)
    for layer in (model.stage1_conv1, model.stage2_conv2, model.stage3_conv3, model.conv_x4_2):
        assert _is_orthogonal(layer.weight, relu_gain)
    for layer in (model.stage1_conv3, model.stage3_conv4, model.sr_head):
        assert _is_orthogonal(layer.weight, 1.0)
    assert not _is_orthogonal(model.model0[0].weight, relu_gain)  # pose network: N(0, 0.01^2)
    assert model.model0[0].weight.std().item() == pytest.approx(0.01, rel=0.05)

    with torch.no_grad():
        for layer, _ in model.sr_layers():
            layer.weight.fill_(0.5)
            layer.bias.fill_(0.5)
    init_sr_orthogonal_(model)
    assert _is_orthogonal(model.stage2_conv1.weight, relu_gain) and _is_orthogonal(model.sr_head.weight, 1.0)
    assert all(not layer.bias.any() for layer, _ in model.sr_layers())


def test_init_sr_orthogonal_reaches_nested_blocks_and_needs_one() -> None:
    torch.manual_seed(0)
    model = SRRTPose()
    with torch.no_grad():
        model.sr.stage1_conv2.weight.zero_()
    init_sr_orthogonal_(model)
    assert _is_orthogonal(model.sr.stage1_conv2.weight, math.sqrt(2.0))
    with pytest.raises(ValueError, match=r"RTPose has no super-resolution block"):
        init_sr_orthogonal_(_model("rtpose_1ch"))


def test_width_multiplier_scales_every_layer_but_the_outputs() -> None:

    full, slim = build_model("depthpose"), build_model("depthpose", width=0.25)
    assert [n for n, _ in full.named_parameters()] == [n for n, _ in slim.named_parameters()]  # same layout
    assert count_parameters(slim) < count_parameters(full) / 12
    assert count_macs(slim, (64, 48)) < count_macs(full, (64, 48)) / 14
    paf, heat = slim(torch.rand(2, 1, 48, 64))
    assert paf.shape == (2, 38, 48, 64) and heat.shape == (2, 19, 48, 64)
    assert slim.stage1_conv1.out_channels == 16 and slim.model2_1[0].in_channels == 57 + 32 + 2 * 8
    with pytest.raises(ValueError, match="width"):
        build_model("depthpose", width=0.0)


def test_width_is_recorded_in_checkpoints(tmp_path) -> None:
    from depthpose_core.checkpoint import save_checkpoint
    from depthpose_core.inference import PoseEstimator
    from depthpose_core.preprocess import Preprocessing

    slim = build_model("depthpose", width=0.25)
    path = save_checkpoint(tmp_path / "slim.pth", slim.state_dict(), model_name="depthpose",
                           model_kwargs={"width": 0.25}, preprocessing=Preprocessing())  # fmt: skip
    est = PoseEstimator.from_checkpoint(path, **EAGER)
    assert est.model.width == 0.25
    x = torch.rand(1, 1, 48, 64)
    torch.testing.assert_close(est.model(x)[1], slim.eval()(x)[1])  # channels-last on the CPU: not bit-equal


@pytest.mark.parametrize("dilation", [2, 4])
@pytest.mark.parametrize("size", [(48, 64), (60, 80), (47, 61)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_dilated_depthwise_on_sub_grids_equals_the_dilated_convolution(dilation: int, size: tuple[int, int],
                                                                       channels_last: bool) -> None:  # fmt: skip
    torch.manual_seed(dilation)
    fast = DepthwiseConv3x3(6, dilation=dilation)
    plain = nn.Conv2d(6, 6, 3, padding=dilation, dilation=dilation, groups=6, bias=False)
    plain.load_state_dict(fast.state_dict())  # the same parameters under the same names
    x = torch.randn(2, 6, *size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = fast(xa), plain(xb)
    assert ya.shape == yb.shape == x.shape and torch.allclose(ya, yb, atol=1e-5)
    g = torch.randn_like(ya)
    ya.backward(g)
    yb.backward(g)
    assert xa.grad is not None and xb.grad is not None and torch.allclose(xa.grad, xb.grad, atol=1e-5)
    assert fast.weight.grad is not None and plain.weight.grad is not None
    assert torch.allclose(fast.weight.grad, plain.weight.grad, rtol=1e-4, atol=1e-3)  # sums over 2x6x3000 terms
