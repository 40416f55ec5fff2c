"""The inference API: what runs, ingress privacy, flip test, batching, output frames, a checkpoint round trip
(the checkpoint rules themselves: test_weights.py)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch
from samples import EAGER

from depthpose_core.backends.torch_backend import TorchNetwork
from depthpose_core.checkpoint import save_checkpoint
from depthpose_core.demo_scene import make_demo_frame
from depthpose_core.errors import CheckpointError, DepthPoseError, InputError
from depthpose_core.flip import merge_flipped
from depthpose_core.inference import PoseEstimator
from depthpose_core.models import build_model
from depthpose_core.preprocess import Preprocessing
from depthpose_core.targets import render_maps

# A tiny low resolution keeps the full DepthPose network cheap on the CPU (16x12 -> 128x96 SR features).
TINY = Preprocessing(lowres_size=(16, 12), model_size=(16, 12))


@pytest.fixture(scope="module")
def tiny() -> PoseEstimator:
    return PoseEstimator.untrained(preprocessing=TINY, **EAGER, seed=1)


def _depth(seed: int = 0, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 6000, size=(size[1], size[0])).astype(np.uint16)


def test_estimator_reports_what_runs(tiny: PoseEstimator) -> None:
    assert tiny.info.device == "cpu" and not tiny.info.trained and "untrained" in tiny.info.weights
    with pytest.raises(DepthPoseError, match="precision"):
        PoseEstimator.untrained(preprocessing=TINY, **{**EAGER, "precision": "int4"})


def test_network_sees_only_the_low_resolution(tiny: PoseEstimator) -> None:
    seen: list[torch.Size] = []
    handle = tiny.model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape))
    try:
        tiny.estimate(_depth())
    finally:
        handle.remove()
    assert seen == [torch.Size([2, 1, 12, 16])]  # frame + its mirror (flip test), at 16x12


def test_sr_head_is_never_executed_at_inference() -> None:
    model = build_model("depthpose", with_sr_head=True)

    def refuse(*_: object) -> None:
        raise AssertionError("the SR reconstruction head ran at inference")

    model.sr_head.register_forward_pre_hook(refuse)
    network = TorchNetwork(model, torch.device("cpu"), "fp32")
    est = PoseEstimator(network, TINY, output_stride=1, model_name="depthpose", weights="test", trained=False)
    assert isinstance(est.estimate(_depth()), list)


def test_flip_test_makes_the_estimator_mirror_equivariant(tiny: PoseEstimator) -> None:
    img = tiny.to_lowres(_depth(3))
    paf, heat = tiny.maps([img])
    paf_m, heat_m = tiny.maps([np.ascontiguousarray(img[:, ::-1])])
    # merge_flipped(0, 0, a, b) = T(a, b) / 2, where T mirrors, swaps left/right and negates PAF x.
    zeros_p, zeros_h = torch.zeros_like(torch.from_numpy(paf)), torch.zeros_like(torch.from_numpy(heat))
    t_paf, t_heat = merge_flipped(zeros_p, zeros_h, torch.from_numpy(paf), torch.from_numpy(heat))
    # Relative tolerances: a freshly initialised network's maps are small (N(0, 0.01^2) weights).
    for got, want in ((paf_m, 2 * t_paf.numpy()), (heat_m, 2 * t_heat.numpy())):
        scale = np.abs(want).max()
        assert scale > 0 and np.abs(got - want).max() <= 1e-4 * scale
    assert np.abs(paf - paf[:, :, :, ::-1]).max() > 0.01 * np.abs(paf).max()  # the maps are not symmetric


def test_flip_merge_of_mirrored_ground_truth_is_the_identity() -> None:
    people = np.zeros((2, 18, 3))
    rng = np.random.default_rng(0)
    people[..., 0] = rng.uniform(40, 600, (2, 18))
    people[..., 1] = rng.uniform(40, 440, (2, 18))
    people[..., 2] = 1
    people[1, 10:13, 2] = 0
    paf, heat = render_maps(people, (64, 48), (640, 480))
    mirrored = people.copy()
    mirrored[..., 0] = 640 - people[..., 0]
    from depthpose_core.keypoints import HEATMAP_FLIP

    mirrored = mirrored[:, list(HEATMAP_FLIP[:18])]  # joint j of the mirror image is joint flip(j) of the person
    paf_m, heat_m = render_maps(mirrored, (64, 48), (640, 480))
    merged_paf, merged_heat = merge_flipped(*(torch.from_numpy(a)[None] for a in (paf, heat, paf_m, heat_m)))
    np.testing.assert_allclose(merged_heat[0].numpy(), heat, atol=1e-5)
    np.testing.assert_allclose(merged_paf[0].numpy(), paf, atol=1e-5)


def test_batch_is_one_forward_pass_with_the_same_results(tiny: PoseEstimator) -> None:
    frames = [tiny.to_lowres(_depth(s)) for s in (4, 5)]
    paf_b, heat_b = tiny.maps(frames)
    for i, f in enumerate(frames):
        paf_1, heat_1 = tiny.maps([f])
        np.testing.assert_allclose(paf_b[i], paf_1[0], atol=1e-5)
        np.testing.assert_allclose(heat_b[i], heat_1[0], atol=1e-5)


def test_estimate_batch_runs_every_camera_in_one_forward_pass(tiny: PoseEstimator) -> None:
    # Three cameras with different resolutions (same aspect): one forward pass of 3 frames + 3 mirrors.
    frames = [_depth(10, (640, 480)), _depth(11, (320, 240)), _depth(12, (16, 12))]
    seen: list[torch.Size] = []
    handle = tiny.model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape))
    try:
        batch = tiny.estimate_batch(frames)
    finally:
        handle.remove()
    assert seen == [torch.Size([6, 1, 12, 16])]
    assert len(batch) == 3
    for frame, people in zip(frames, batch):
        alone = tiny.estimate(frame)
        assert len(people) == len(alone)
        for p, q in zip(people, alone):
            assert p.frame_size == (frame.shape[1], frame.shape[0])
            np.testing.assert_allclose(p.keypoints, q.keypoints, equal_nan=True)


def test_keypoints_of_a_low_resolution_frame_are_in_its_own_pixels() -> None:
    # A frame already at the low resolution is only normalised; skeletons come back in its 64x48 pixels.
    est = PoseEstimator.untrained(**EAGER, flip_test=False)
    _, truth = make_demo_frame(seed=3, num_people=1)
    paf, heat = render_maps(truth, (64, 48), (640, 480))
    est.maps = lambda lowres: (paf[None], heat[None])  # the network's place: maps of a known person
    [person] = est.estimate(np.full((48, 64), 3000, np.uint16))
    assert person.frame_size == (64, 48)
    present = person.present
    np.testing.assert_allclose(person.keypoints[present], truth[0, present, :2] / 10.0, atol=0.3)


def test_project_checkpoint_round_trip(tiny: PoseEstimator, tmp_path: pathlib.Path) -> None:
    path = save_checkpoint(tmp_path / "m.pth", tiny.model.state_dict(), model_name="depthpose", preprocessing=TINY)
    loaded = PoseEstimator.from_checkpoint(path, **EAGER)
    assert loaded.preprocessing == TINY and loaded.info.trained
    img = tiny.to_lowres(_depth(6))
    np.testing.assert_allclose(loaded.maps([img])[1], tiny.maps([img])[1], atol=1e-6)
    with pytest.raises(CheckpointError, match="holds model 'depthpose'"):
        PoseEstimator.from_checkpoint(path, model_name="rtpose_1ch", **EAGER)


def test_bad_decoder_mode_is_refused_before_any_work() -> None:
    with pytest.raises(DepthPoseError, match="decoder mode 'slow'"):
        PoseEstimator.untrained(preprocessing=TINY, **EAGER, decoder_mode="slow")


def test_keypoints_come_in_the_pixel_frame_of_the_given_frame() -> None:
    est = PoseEstimator.untrained(**EAGER)  # 64x48 -> decoded in 640x480
    _, truth = make_demo_frame(seed=0, num_people=1)
    paf, heat = render_maps(truth, (64, 48), (640, 480))
    [[native]] = est.decode_maps(paf[None], heat[None])
    [[doubled]] = est.decode_maps(paf[None], heat[None], [(1280, 960)])
    assert native.frame_size == (640, 480) and doubled.frame_size == (1280, 960)
    np.testing.assert_allclose(doubled.keypoints, 2 * native.keypoints)
    assert native.present.sum() >= 17
    np.testing.assert_allclose(native.keypoints[native.present], truth[0, native.present, :2], atol=3.0)


def test_bad_input_names_the_problem(tiny: PoseEstimator) -> None:
    with pytest.raises(InputError, match="dtype int32"):
        tiny.estimate(np.zeros((480, 640), np.int32))
    with pytest.raises(InputError, match="16x12"):
        tiny.maps([np.zeros((48, 64), np.float32)])


def test_bf16_autocast_runs_on_cpu() -> None:
    est = PoseEstimator.untrained(preprocessing=TINY, **{**EAGER, "precision": "bf16"}, seed=1)
    paf, heat = est.maps([est.to_lowres(_depth(8))])
    assert paf.dtype == np.float32 and np.isfinite(paf).all() and np.isfinite(heat).all()
