"""The trainer: the paper's losses and schedule, exact resume, validation PCK, logs and plots, and DDP.

Run it with ``depthpose train CONFIG.yaml`` (one process; CPU or one GPU) or under ``torchrun --nproc_per_node N
-m depthpose_core.cli train CONFIG.yaml`` (DistributedDataParallel; NCCL on GPUs, gloo on CPUs). Each step draws
``batch_size / world_size`` samples per process; only rank 0 validates and writes files.

Files in ``out_dir``: ``checkpoint.pth`` (everything to resume: weights, optimiser, schedule, scaler, RNG,
iteration), ``model_final.pth`` / ``model_best.pth`` / ``model_<iteration>.pth`` (project checkpoints for
inference, with the preprocessing and the config), ``log.csv``, TensorBoard events, ``curves.png``.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from depthpose_core.backends.torch_backend import TorchNetwork
from depthpose_core.checkpoint import load_checkpoint, save_checkpoint
from depthpose_core.data import PoseDataset, TargetConfig, load_mvor_records, load_records
from depthpose_core.decode import DecoderParams
from depthpose_core.errors import DepthPoseError
from depthpose_core.eval.pck import PCKResult
from depthpose_core.eval.runner import run_dataset
from depthpose_core.inference import PoseEstimator
from depthpose_core.models import SRNet, SRPoseNetwork, SRRTPose, build_model, load_weights
from depthpose_core.preprocess import Preprocessing
from depthpose_core.runtime import autocast, check_precision, resolve_device
from depthpose_core.train.config import TrainConfig
from depthpose_core.train.init import init_from_rtpose_coco
from depthpose_core.train.losses import pose_loss, sr_loss

__all__ = ["Trainer"]

logger = logging.getLogger(__name__)

_CSV_FIELDS = ("iteration", "lr", "loss", "loss_pose", "loss_sr", "seconds_per_iteration", "val_pck_average",
               "val_recall")


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) without it."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


class _Batches:
    """Deterministic batch order: epoch e is a permutation drawn from (seed, e); rank r takes every world-th
    sample of each global batch. Resumable at any iteration (the order never depends on the past)."""

    def __init__(self, size: int, batch: int, seed: int, rank: int, world: int) -> None:
        if batch % world:
            raise DepthPoseError(f"batch_size {batch} is not divisible by the {world} processes")
        self.size, self.batch, self.seed, self.rank, self.world = size, batch, seed, rank, world
        self.per_epoch = size // batch
        if self.per_epoch == 0:
            raise DepthPoseError(f"the training set has {size} samples, fewer than one batch of {batch}")

    def epoch(self, epoch: int, skip: int = 0) -> list[list[int]]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(self.size, generator=g).tolist()
        batches = [order[i * self.batch : (i + 1) * self.batch] for i in range(self.per_epoch)]
        return [b[self.rank :: self.world] for b in batches[skip:]]


class _RunLog:
    """The run's ``log.csv`` and TensorBoard events (rank 0). Both restart from ``history`` (after a resume: the
    rows up to its checkpoint), so rows logged after that checkpoint, or by an earlier run into this folder, are
    not repeated or mixed in."""

    def __init__(self, out: Path, iteration: int, history: list[dict[str, float]]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        out.mkdir(parents=True, exist_ok=True)
        self._tb = SummaryWriter(str(out / "tensorboard"), purge_step=iteration)
        self._file = (out / "log.csv").open("w", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=_CSV_FIELDS)
        self._csv.writeheader()
        self._csv.writerows(history)
        self._file.flush()

    def write(self, row: dict[str, float], pck: PCKResult | None) -> None:
        """One logged row (and the validation PCK by group when there is one)."""
        self._csv.writerow(row)
        self._file.flush()
        step = int(row["iteration"])
        for key in ("loss", "loss_pose", "loss_sr", "lr", "seconds_per_iteration"):
            self._tb.add_scalar(f"train/{key}", row[key], step)
        if pck is not None:
            for group, value in pck.groups.items():
                self._tb.add_scalar(f"val_pck/{group}", value, step)
            self._tb.add_scalar("val/recall", pck.recall, step)

    def close(self) -> None:
        self._tb.close()
        self._file.close()


class _ForwardTrain(nn.Module):
    """Calls the model's ``forward_train`` as ``forward``, so that DDP (which hooks ``forward``) sees it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> Any:
        forward_train: Callable[[torch.Tensor], Any] = self.model.forward_train  # type: ignore[assignment]
        return forward_train(x)


class Trainer:
    """One training run (see the module docstring).

    Args:
        config: the run's configuration.
        resume: continue from ``out_dir/checkpoint.pth`` if it exists.
        progress: show a progress bar (rank 0).
    """

    def __init__(self, config: TrainConfig, *, resume: bool = False, progress: bool = True) -> None:
        self.config = config
        self.rank, self.world, local_rank = _distributed()
        device = config.device
        if self.world > 1 and device in ("auto", "cuda") and torch.cuda.is_available():
            device = f"cuda:{local_rank}"
        self.device = resolve_device(device)
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.main = self.rank == 0
        self.progress = progress and self.main
        self.out = Path(config.out_dir)
        torch.manual_seed(config.seed)

        m = config.model
        kwargs = dict(m.kwargs)
        if m.name in ("depthpose", "depthpose_lite"):
            kwargs["with_sr_head"] = config.loss.sr > 0
        self.model = build_model(m.name, **kwargs)
        if m.init:
            if m.init_kind == "rtpose_coco":
                init_from_rtpose_coco(self.model, m.init, seed=config.seed)
            elif m.init_kind == "checkpoint":
                target = getattr(self.model, m.init_into) if m.init_into else self.model
                load_weights(target, load_checkpoint(m.init).state_dict, source=m.init)
            else:
                raise DepthPoseError(f"model.init_kind must be rtpose_coco or checkpoint, got {m.init_kind!r}")
        for name, param in self.model.named_parameters():
            if any(name.startswith(prefix) for prefix in m.freeze):
                param.requires_grad_(False)
        self.model_kwargs = dict(m.kwargs)
        self.preprocessing = Preprocessing(lowres_size=m.lowres, model_size=m.model_size or m.lowres,
                                           near_mm=m.near_mm, far_mm=m.far_mm, downsampling=m.downsampling)  # fmt: skip
        self.uses_sr = config.loss.sr > 0 and isinstance(self.model, (SRPoseNetwork, SRNet, SRRTPose))
        self.uses_pose = config.loss.pose > 0 and getattr(self.model, "num_stages", 0) > 0
        if not (self.uses_sr or self.uses_pose):
            raise DepthPoseError(f"model {m.name} with loss weights {config.loss} has nothing to learn")
        targets = TargetConfig(output_stride=getattr(self.model, "output_stride", 1) or 1,
                               sr_factor=8 if self.uses_sr else 0, sigma_640=config.data.heatmap_sigma)  # fmt: skip
        d = config.data
        if d.mvor_layout:
            records = load_mvor_records(d.train, d.images_root or Path(d.train).parent)
        else:
            records = load_records(d.train, d.images_root)
        self.dataset = PoseDataset(records, self.preprocessing, targets, config.data.augment, seed=config.seed)
        self.batches = _Batches(len(self.dataset), config.optim.batch_size, config.seed, self.rank, self.world)

        self.model.to(self.device)
        if config.channels_last:
            self.model.to(memory_format=torch.channels_last)
        params = [p for p in self.model.parameters() if p.requires_grad]
        o = config.optim
        if o.optimizer == "sgd":
            self.optimizer: torch.optim.Optimizer = torch.optim.SGD(params, lr=o.lr, momentum=o.momentum,
                                                                    weight_decay=o.weight_decay)  # fmt: skip
        elif o.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=o.lr, betas=(o.momentum, 0.999), weight_decay=o.weight_decay)
        else:
            raise DepthPoseError(f"optim.optimizer must be sgd or adam, got {o.optimizer!r}")
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        check_precision(config.precision)
        if config.precision == "fp16" and self.device.type != "cuda":
            raise DepthPoseError("fp16 training needs a CUDA device; use bf16 on the CPU")
        self.scaler = torch.amp.GradScaler("cuda", enabled=config.precision == "fp16")
        self.net: nn.Module = _ForwardTrain(self.model)
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.net, device_ids=ids)
        self.iteration = 0
        self.best_pck = -math.inf
        self.history: list[dict[str, float]] = []
        if resume and (self.out / "checkpoint.pth").is_file():
            self.load_state_dict(torch.load(self.out / "checkpoint.pth", map_location=self.device, weights_only=True))
            if self.main:
                logger.info("resumed %s at iteration %d", self.out / "checkpoint.pth", self.iteration)

    # -- schedule ------------------------------------------------------------------------------------------

    def _lr_factor(self, step: int) -> float:
        o = self.config.optim
        factor = o.gamma ** sum(step >= s for s in o.lr_steps)
        if o.warmup and step < o.warmup:
            factor *= (step + 1) / o.warmup
        return factor

    # -- state ---------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this run is."""
        state = {
            "iteration": self.iteration, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
            "torch_rng": torch.get_rng_state(), "best_pck": self.best_pck, "history": self.history,
            "config": self.config.to_dict(),
        }  # fmt: skip
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s content."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        self.iteration = int(state["iteration"])
        self.best_pck = float(state["best_pck"])
        self.history = list(state["history"])

    # -- steps ---------------------------------------------------------------------------------------------

    def _loader(self) -> Iterator[dict[str, torch.Tensor]]:
        """Batches from the current iteration on, epoch after epoch."""
        epoch, skip = divmod(self.iteration, self.batches.per_epoch)
        workers = self.config.data.workers
        while True:
            self.dataset.set_epoch(epoch)
            loader = DataLoader(self.dataset, batch_sampler=self.batches.epoch(epoch, skip), num_workers=workers,
                                pin_memory=self.device.type == "cuda")  # fmt: skip
            yield from loader
            epoch, skip = epoch + 1, 0

    def run_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One optimiser step on one batch; returns the losses (per sample, this process's shard)."""
        self.net.train()
        dev = self.device
        x = batch["input"].to(dev, non_blocking=True)
        if self.config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, self.config.precision):
            out = self.net(x)
        losses = {"loss_pose": torch.zeros((), device=dev), "loss_sr": torch.zeros((), device=dev)}
        if self.uses_pose:
            losses["loss_pose"] = pose_loss(out.stages, batch["paf"].to(dev), batch["heat"].to(dev),
                                            batch["mask"].to(dev))  # fmt: skip
        if self.uses_sr:
            losses["loss_sr"] = sr_loss(out.sr, batch["sr"].to(dev))
        loss = self.config.loss.pose * losses["loss_pose"] + self.config.loss.sr * losses["loss_sr"]
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss is {loss.item()} at iteration {self.iteration}: training diverged "
                                     "(lower the learning rate, or clip gradients with optim.grad_clip)")  # fmt: skip
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.optim.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.optim.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.iteration += 1
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in losses.items()}}

    # -- validation and files ------------------------------------------------------------------------------

    def estimator(self) -> PoseEstimator:
        """The model being trained as an estimator (shares its weights; the SR head is not run)."""
        c = self.config
        network = TorchNetwork(self.model, self.device, "fp32", tune_cpu=False)  # fp32: validation is exact
        return PoseEstimator(network, self.preprocessing, output_stride=int(getattr(self.model, "output_stride", 1)),
                             model_name=c.model.name, weights=f"{c.out_dir} @ {self.iteration}", trained=True,
                             flip_test=c.flip_test, decoder_mode=c.decoder_mode,
                             decoder_params=DecoderParams())  # fmt: skip

    def validate(self) -> PCKResult | None:
        """MVOR PCK on the validation set (rank 0; None without a validation set)."""
        c = self.config.data
        if c.val is None or not self.main or not self.uses_pose:
            return None
        self.model.eval()
        from depthpose_core.data.mvor import depth_file_name

        run = run_dataset(self.estimator(), c.val, c.images_root, limit=c.val_images, progress=False,
                          file_name=depth_file_name if c.mvor_layout else None)  # fmt: skip
        return run.pck

    def save(self, pck: PCKResult | None, *, final: bool = False) -> None:
        """Write the resume checkpoint and the inference checkpoints (rank 0)."""
        if not self.main:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        best = pck is not None and pck.groups["Average"] > self.best_pck
        if pck is not None and best:  # before the resume state is written: a resumed run knows its best so far
            self.best_pck = pck.groups["Average"]
        tmp = self.out / "checkpoint.pth.tmp"
        torch.save(self.state_dict(), tmp)
        os.replace(tmp, self.out / "checkpoint.pth")
        meta = {"iteration": self.iteration, "config": self.config.to_dict(),
                "val_pck": pck.groups if pck is not None else None}  # fmt: skip
        weights = self.model.state_dict()  # DepthPose's training-only SR head included: inference drops it
        kwargs: dict[str, Any] = {"model_name": self.config.model.name, "preprocessing": self.preprocessing,
                  "model_kwargs": self.model_kwargs, "meta": meta}  # fmt: skip
        save_checkpoint(self.out / f"model_{self.iteration}.pth", weights, **kwargs)
        if best:
            save_checkpoint(self.out / "model_best.pth", weights, **kwargs)
        if final:
            save_checkpoint(self.out / "model_final.pth", weights, **kwargs)

    # -- the loop ------------------------------------------------------------------------------------------

    def train(self) -> list[dict[str, float]]:
        """Train up to ``optim.iterations``; returns the logged history (rank 0)."""
        c = self.config
        total = c.optim.iterations
        log = _RunLog(self.out, self.iteration, self.history) if self.main else None
        bar = tqdm(total=total, initial=self.iteration, unit="it", desc="train", disable=not self.progress)
        window: list[dict[str, float]] = []
        started = time.perf_counter()
        batches = self._loader()
        try:
            while self.iteration < total:
                stats = self.run_step(next(batches))
                window.append(stats)
                bar.update(1)
                last = self.iteration == total
                pck = None
                if c.data.val is not None and (self.iteration % c.val_every == 0 or last):
                    pck = self.validate()
                if self.iteration % c.log_every == 0 or last or pck is not None:
                    seconds = (time.perf_counter() - started) / len(window)
                    row = {"iteration": self.iteration, "lr": float(self.scheduler.get_last_lr()[0]),
                           **{k: sum(w[k] for w in window) / len(window) for k in ("loss", "loss_pose", "loss_sr")},
                           "seconds_per_iteration": seconds,
                           "val_pck_average": pck.groups["Average"] if pck is not None else float("nan"),
                           "val_recall": pck.recall if pck is not None else float("nan")}  # fmt: skip
                    window, started = [], time.perf_counter()
                    if log is not None:
                        self.history.append(row)
                        log.write(row, pck)
                        bar.set_postfix(loss=f"{row['loss']:.3g}",
                                        pck="" if pck is None else f"{pck.groups['Average']:.1f}")  # fmt: skip
                if self.iteration % c.checkpoint_every == 0 or last or pck is not None:
                    self.save(pck, final=last)
        finally:
            bar.close()
            if log is not None:
                log.close()
        if self.main:
            from depthpose_core.plots import plot_curves

            plot_curves(self.history, self.out / "curves.png")
        if self.world > 1:
            dist.barrier()
        return self.history
