"""Training: configs, losses, RTPose COCO initialisation, learning on a small synthetic set, exact resume, DDP with
torchrun on the CPU (gloo), and `depthpose eval` comparing models."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import runpy
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from samples import EAGER

from depthpose_core.checkpoint import load_checkpoint
from depthpose_core.cli import main
from depthpose_core.errors import DepthPoseError
from depthpose_core.eval.runner import run_dataset
from depthpose_core.inference import PoseEstimator
from depthpose_core.models import build_model
from depthpose_core.preprocess import HOLE_VALUE
from depthpose_core.synth import WorldParams
from depthpose_core.train import Trainer, init_from_rtpose_coco, load_train_config, pose_loss, sr_loss

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory: pytest.TempPathFactory, synth_dataset: Callable[..., Path]) -> Path:
    """A small synthetic set (1-2 people per frame) and a config that trains the shipped DepthPose-Lite on it at
    32x24 in fp32 with wide heatmap Gaussians, so that a few hundred CPU steps show learning."""
    root = tmp_path_factory.mktemp("train")
    data = synth_dataset(sequences=4, frames=1, cameras=(1, 2), seed=5, world=WorldParams(min_people=1, max_people=2))
    (root / "train").symlink_to(data, target_is_directory=True)
    (root / "cfg.yaml").write_text(
        "model: {name: depthpose_lite, kwargs: {width: 1.0, num_refinement: 1}, lowres: [32, 24]}\n"
        "data: {train: train/annotations.json, val: train/annotations.json, val_images: 8, workers: 0,"
        " augment: null, heatmap_sigma: 14.0}\n"
        "optim: {optimizer: adam, lr: 0.001, iterations: 320, lr_steps: [1000], batch_size: 4, warmup: 10}\n"
        "loss: {pose: 1.0, sr: 1.0}\n"
        "precision: fp32\nchannels_last: true\nval_every: 160\ncheckpoint_every: 160\nlog_every: 10\n"
        "device: cpu\n"
    )
    return root


def test_shipped_configs_load_and_keep_the_paper_defaults() -> None:
    paper = load_train_config(REPO / "config/train/depthpose_64x48.yaml")
    o = paper.optim
    assert (o.optimizer, o.lr, o.momentum, o.iterations, o.lr_steps, o.gamma, o.batch_size) == (
        "sgd", 0.001, 0.9, 32000, (12000,), 0.1, 12)
    assert (paper.loss.pose, paper.loss.sr) == (1.0, 1.0) and paper.model.lowres == (64, 48)
    names = {p.stem: load_train_config(p) for p in (REPO / "config/train").glob("*.yaml")}
    assert names["depthpose_80x60"].model.lowres == (80, 60) and names["depthpose_80x60"].optim.lr == 0.001
    assert names["rtpose_640x480"].model.name == "rtpose_1ch" and names["rtpose_640x480"].loss.sr == 0
    assert names["rtpose_lr64x48_upsampled"].model.model_size == (640, 480)
    assert names["sr_64x48"].loss.pose == 0 and names["sr_rtpose_64x48"].model.freeze == ("sr.",)


def test_lite_and_table1_configs_hold_one_recipe() -> None:
    """The shipped lite recipe and the Table 1 rows: same data, budget and augmentation; compute-matched models."""
    lite = load_train_config(REPO / "config/train/lite_64x48.yaml")
    assert (lite.model.name, lite.model.downsampling, lite.precision) == ("depthpose_lite", "valid_area", "fp32")
    assert (lite.loss.pose, lite.loss.sr) == (1.0, 1.0)  # the paper's losses, equal weights
    rows = {p.stem.removeprefix("table1_"): load_train_config(p) for p in (REPO / "config/train").glob("table1_*")}
    assert set(rows) == {"depthpose_lite_64x48", "sr_lite_64x48", "sr_rtpose_lite_64x48", "rtpose_lite_bicubic_64x48",
                         "depthpose_lite_80x60"}  # fmt: skip
    for name, cfg in rows.items():
        assert (cfg.data, cfg.optim.iterations, cfg.optim.lr_steps, cfg.precision) == (
            rows["depthpose_lite_64x48"].data, 600, (480,), "fp32"), name
        assert cfg.model.downsampling == "valid_area", name
    assert rows["sr_lite_64x48"].loss.pose == 0 and rows["sr_rtpose_lite_64x48"].model.freeze == ("sr.",)
    assert rows["rtpose_lite_bicubic_64x48"].model.model_size == (512, 384)
    assert rows["depthpose_lite_80x60"].model.lowres == (80, 60)


def test_every_shipped_config_builds_its_model() -> None:
    """A file that changes model.name gets only its own builder arguments (model.kwargs is not merged with the
    base file's): every config in config/train builds (on the meta device: no weights allocated)."""
    for path in sorted((REPO / "config/train").glob("*.yaml")):
        cfg = load_train_config(path)
        with torch.device("meta"):
            build_model(cfg.model.name, **cfg.model.kwargs)
    assert load_train_config(REPO / "config/train/table1_sr_lite_64x48.yaml").model.kwargs == {}


def test_lite_recipe_smoke_run_loss_falls(tiny_set: Path) -> None:
    """CI's short run of the shipped lite recipe (fp32, valid_area, its sigma) on the tiny set: both losses fall,
    and the checkpoint records the valid_area ingress that inference then applies."""
    lite = load_train_config(REPO / "config/train/lite_64x48.yaml", out_dir=str(tiny_set / "lite"))
    tiny = load_train_config(tiny_set / "cfg.yaml")
    config = replace(lite, data=replace(lite.data, train=tiny.data.train, val=None, workers=0),
                     model=replace(lite.model, lowres=(32, 24)),
                     optim=replace(lite.optim, iterations=60, batch_size=4, warmup=10), log_every=10)  # fmt: skip
    history = Trainer(config, progress=False).train()
    assert history[-1]["loss_pose"] < 0.8 * history[0]["loss_pose"], history
    assert history[-1]["loss_sr"] < 0.5 * history[0]["loss_sr"], history
    est = PoseEstimator.from_checkpoint(tiny_set / "lite" / "model_final.pth", **EAGER)
    assert est.info.name == "depthpose_lite" and est.preprocessing.downsampling == "valid_area"
    holes = np.full((240, 320), 3000, np.uint16)
    holes[:10, :10] = 0  # one low-resolution cell without a reading: its own value at inference too
    low = est.to_lowres(holes)
    assert low[0, 0] == HOLE_VALUE and np.allclose(low[1:], low[1, 1])


def test_config_errors_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("optim: {learning_rate: 0.1}\n")
    with pytest.raises(DepthPoseError, match="unknown keys \\['learning_rate'\\]"):
        load_train_config(tmp_path / "bad.yaml")
    (tmp_path / "ingress.yaml").write_text("model: {downsampling: lanczos}\n")
    with pytest.raises(DepthPoseError, match="model.downsampling 'lanczos' is not one of"):
        load_train_config(tmp_path / "ingress.yaml")
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\n")
    with pytest.raises(DepthPoseError, match="nest too deep"):
        load_train_config(tmp_path / "loop.yaml")


def test_losses_are_masked_euclidean_sums_per_sample() -> None:
    paf, heat = torch.zeros(2, 38, 4, 4), torch.zeros(2, 19, 4, 4)
    out = [(torch.ones(2, 38, 4, 4), torch.ones(2, 19, 4, 4))] * 3
    mask = torch.ones(2, 57, 4, 4)
    assert pose_loss(out, paf, heat, mask) == pytest.approx(3 * 57 * 16 * 2 / (2 * 2))
    mask[:, :, :2] = 0  # half the cells masked out: no gradient from them
    assert pose_loss(out, paf, heat, mask) == pytest.approx(3 * 57 * 8 * 2 / (2 * 2))
    assert sr_loss(torch.full((2, 1, 8, 8), 0.5), torch.zeros(2, 1, 8, 8)) == pytest.approx(0.25 * 64 * 2 / 4)


def test_rtpose_coco_initialisation_copies_and_adapts(tmp_path: Path) -> None:
    torch.manual_seed(0)
    coco = build_model("rtpose_1ch").state_dict()
    coco["model0.0.weight"] = torch.randn(64, 3, 3, 3)  # the colour network's first conv
    torch.save(coco, tmp_path / "rtpose_coco.pth")
    depthpose = build_model("depthpose")
    counts = init_from_rtpose_coco(depthpose, tmp_path / "rtpose_coco.pth")
    state = depthpose.state_dict()
    assert torch.equal(state["model1_1.0.weight"], coco["model1_1.0.weight"])  # same shape: copied
    assert torch.equal(state["model3_2.0.weight"][:, :185], coco["model3_2.0.weight"])  # 185 -> 249 channels
    extra = state["model3_2.0.weight"][:, 185:]
    noise = 0.05 * coco["model3_2.0.weight"].std()
    assert torch.allclose(extra, coco["model3_2.0.weight"][:, 57:121] * 0.5, atol=noise)
    assert state["model0.0.weight"].shape == (64, 64, 3, 3)
    assert counts["adapted"] == 1 + 6 and counts["kept"] > 0  # front conv, 3 stages x 2 branches; SR kept
    rtpose = build_model("rtpose_1ch")
    init_from_rtpose_coco(rtpose, tmp_path / "rtpose_coco.pth")
    assert torch.allclose(rtpose.state_dict()["model0.0.weight"], coco["model0.0.weight"].sum(1, keepdim=True))
    with pytest.raises(DepthPoseError, match="full-width"):
        init_from_rtpose_coco(build_model("depthpose", width=0.5), tmp_path / "rtpose_coco.pth")


def test_training_learns_on_a_small_synthetic_set(tiny_set: Path) -> None:
    config = load_train_config(tiny_set / "cfg.yaml", out_dir=str(tiny_set / "run"))
    trainer = Trainer(config, progress=False)
    before = run_dataset(trainer.estimator(), tiny_set / "train/annotations.json", progress=False).pck
    history = trainer.train()
    after = run_dataset(trainer.estimator(), tiny_set / "train/annotations.json", progress=False).pck
    first, last = history[0]["loss_pose"], history[-1]["loss_pose"]
    assert last < 0.85 * first  # the pose loss falls
    assert history[-1]["loss_sr"] < 0.3 * history[0]["loss_sr"]  # and so does the SR loss
    assert after.groups["Average"] > before.groups["Average"] + 10.0, (before.groups, after.groups)
    # The files a run leaves: inference checkpoints with their metadata, logs, curves.
    ckpt = load_checkpoint(tiny_set / "run" / "model_final.pth")
    assert ckpt.model_name == "depthpose_lite" and ckpt.model_kwargs == {"width": 1.0, "num_refinement": 1}
    assert ckpt.preprocessing.lowres_size == (32, 24) and ckpt.meta["iteration"] == 320
    assert (tiny_set / "run" / "curves.png").stat().st_size > 1000
    rows = list(csv.DictReader((tiny_set / "run" / "log.csv").open()))
    assert [int(r["iteration"]) for r in rows][-1] == 320
    assert any(r["val_pck_average"] != "nan" for r in rows)
    assert list((tiny_set / "run" / "tensorboard").iterdir())
    est = PoseEstimator.from_checkpoint(tiny_set / "run" / "model_best.pth", **EAGER)
    assert est.info.trained and est.preprocessing.lowres_size == (32, 24)


def test_resume_continues_exactly(tiny_set: Path) -> None:
    base = load_train_config(tiny_set / "cfg.yaml")
    short = replace(base, optim=replace(base.optim, iterations=4), data=replace(base.data, val=None))
    straight = Trainer(replace(short, out_dir=str(tiny_set / "straight")), progress=False)
    straight.train()
    half = Trainer(replace(short, out_dir=str(tiny_set / "halves"), optim=replace(short.optim, iterations=2)),
                   progress=False)  # fmt: skip
    half.train()
    resumed = Trainer(replace(short, out_dir=str(tiny_set / "halves")), resume=True, progress=False)
    assert resumed.iteration == 2
    resumed.train()
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert resumed.optimizer.state_dict()["state"][0]["step"] == straight.optimizer.state_dict()["state"][0]["step"]


def test_the_resume_checkpoint_holds_the_best_validation_pck_so_far(tiny_set: Path) -> None:
    from types import SimpleNamespace

    base = load_train_config(tiny_set / "cfg.yaml")
    trainer = Trainer(replace(base, out_dir=str(tiny_set / "best"), data=replace(base.data, val=None)),
                      progress=False)  # fmt: skip
    recorded = []
    for value in (10.0, 30.0, 20.0):  # validation PCK at three saves
        trainer.save(SimpleNamespace(groups={"Average": value}))  # type: ignore[arg-type]
        recorded.append(torch.load(tiny_set / "best" / "checkpoint.pth", weights_only=True)["best_pck"])
    assert recorded == [10.0, 30.0, 30.0]  # was one save behind: a finished run resumed said the previous best
    resumed = Trainer(replace(base, out_dir=str(tiny_set / "best"), data=replace(base.data, val=None)),
                      resume=True, progress=False)  # fmt: skip
    assert resumed.best_pck == 30.0


# Run after the parallel suite, in a pytest process of its own (Makefile `test`): inside a pytest-xdist worker that
# had run other tests, the worker died while torchrun ran (about 1 run in 2, no Python traceback, not reproduced in
# a fresh process; cause not found, torchrun's own session did not help).
@pytest.mark.isolated
def test_ddp_on_two_cpu_processes(tiny_set: Path) -> None:
    out = tiny_set / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(REPO / "test" / "ddp_worker.py"), str(tiny_set / "cfg.yaml"), str(out)],
        capture_output=True, text=True, timeout=600, env=env,
        start_new_session=True,  # torchrun signals its process group on exit: keep the pytest worker out of it
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [line.split() for line in proc.stdout.splitlines() if line.startswith("RANK")]
    ranks = {int(line[1]): line for line in lines}
    assert sorted(ranks) == [0, 1], proc.stdout[-2000:]
    assert ranks[0][3] == ranks[1][3] == "3"  # both ranks stepped 3 times
    assert ranks[0][5] == ranks[1][5]  # parameter checksums agree: gradients were averaged
    assert ranks[0][7] != ranks[1][7]  # ... over different samples (each rank its shard)
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [r["iteration"] for r in rows] == ["1", "2", "3"]  # only rank 0 wrote


def test_eval_command_compares_models_side_by_side(tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = tiny_set / "run" / "model_final.pth"
    if not ckpt.exists():  # the learning test writes it; run standalone, train briefly here
        config = load_train_config(tiny_set / "cfg.yaml", out_dir=str(tiny_set / "run"))
        Trainer(replace(config, optim=replace(config.optim, iterations=2)), progress=False).train()
    out = tiny_set / "eval"
    code = main(["eval", str(tiny_set / "train/annotations.json"), "--model", f"trained={ckpt}",
                 "--compare", "untrained", "--lowres", "32x24", "--no-flip", "--device", "cpu",
                 "--out", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    table = text[text.index("Method") :].splitlines()
    assert table[2].startswith("trained") and table[3].startswith("untrained") and len(table[2].split()) == 9
    assert (out / "pck.png").stat().st_size > 1000 and (out / "trained_results.json").is_file()


def test_eval_command_gives_mean_and_spread_over_runs_sharing_a_name(
    tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = []
    for seed in (0, 1):
        config = load_train_config(tiny_set / "cfg.yaml", out_dir=str(tiny_set / f"seed{seed}"), seed=seed)
        Trainer(replace(config, optim=replace(config.optim, iterations=2)), progress=False).train()
        runs.append(tiny_set / f"seed{seed}" / "model_final.pth")
    out = tiny_set / "eval_seeds"
    args = ["eval", str(tiny_set / "train/annotations.json"), "--lowres", "32x24", "--no-flip", "--device", "cpu",
            "--backend", "torch",
            "--out", str(out), "--model", f"lite={runs[0]}", "--model", f"lite={runs[1]}", "--model", "untrained"]
    assert main(args) == 0
    table = capsys.readouterr().out.split("Method")[1].splitlines()
    assert table[0].split()[-3:] == ["Recall", "FP/img", "Runs"]
    assert table[2].startswith("lite") and table[2].count("±") == 8 and table[2].split()[-1] == "2"
    assert table[3].startswith("untrained") and "±" not in table[3] and table[3].split()[-1] == "1"
    saved = json.loads((out / "pck.json").read_text())
    assert [len(saved["lite"]), len(saved["untrained"])] == [2, 1]
    assert (out / "lite_run0_results.json").is_file() and (out / "lite_run1_results.json").is_file()
    assert main([*args, "--model", f"again={runs[0]}"]) == 1  # one checkpoint twice: refused
    (tmp := tiny_set / "table1_pck.json").write_text(json.dumps(saved))
    _check_table1_report(tmp, tiny_set / "table1.png")


def _check_table1_report(pck_json: Path, plot: Path) -> None:
    """scripts/table1_report.py on an eval's pck.json: a Markdown row per model with mean ± sd over its runs,
    the paper's rows, and the bar plot."""
    # In this process: the script spawned from a pytest-xdist worker made the worker die in CI (cause not found).
    out, argv = io.StringIO(), sys.argv
    sys.argv = ["table1_report.py", str(pck_json), str(plot)]
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as code:
            runpy.run_path(str(REPO / "scripts/table1_report.py"), run_name="__main__")
    finally:
        sys.argv = argv
    assert code.value.code == 0
    rows = {line.split("|")[1].strip(): line for line in out.getvalue().splitlines() if line.startswith("| ")}
    assert rows["lite"].count("±") == 8 and rows["lite"].split("|")[2].strip() == "2"
    assert "| 66.5 |" in rows["paper: DepthPose 64x48"] and plot.stat().st_size > 1000
