"""The CLI's commands: typed functions that return an exit code. Argument parsing lives in ``cli.py``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from depthpose_core.errors import DepthPoseError, InputError
from depthpose_core.keypoints import NET_JOINTS
from depthpose_core.skeleton import Skeleton

if TYPE_CHECKING:
    from depthpose_core.config import RuntimeConfig
    from depthpose_core.inference import PoseEstimator
    from depthpose_core.preprocess import Preprocessing

__all__ = ["demo", "eval_results", "evaluate", "format_people", "infer", "pseudo_label", "read_depth", "replay",
           "synth", "train"]

logger = logging.getLogger(__name__)

_UNTRAINED_BANNER = (
    "WARNING: no trained weights are loaded. This runs a RANDOMLY INITIALISED network, so the skeletons below\n"
    "         are meaningless (usually none). Pass --model CKPT to use a checkpoint."
)


def read_depth(path: str | Path) -> np.ndarray:
    """Read a depth frame: a 16-bit PNG (mm), an 8-bit PNG (normalised), or a .npy array (uint16 mm, float m)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"depth file {path} does not exist")
    if path.suffix.lower() == ".npy":
        try:
            depth = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise InputError(f"depth file {path} is not a readable .npy array: {err}") from None
    else:
        depth = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if depth is None:
            raise InputError(f"depth file {path} is not a readable image")
    if depth.ndim != 2:
        raise InputError(f"depth file {path} must hold a single-channel image, got shape {depth.shape}")
    return depth


def format_people(people: Sequence[Skeleton]) -> str:
    """A readable listing: one block per person with the present keypoints (x, y in frame pixels, score)."""
    if not people:
        return "no people found"
    lines = [f"{len(people)} people found (keypoints: x, y in {people[0].frame_size[0]}x{people[0].frame_size[1]} "
             "frame pixels, score)"]  # fmt: skip
    for i, p in enumerate(people):
        lines.append(f"person {i}: score {p.score:.2f}, {p.num_parts} of 18 joints")
        for j in np.flatnonzero(p.present):
            x, y = p.keypoints[j]
            lines.append(f"  {NET_JOINTS[j]:<15} {x:7.1f} {y:7.1f}  {p.scores[j]:.2f}")
    return "\n".join(lines)


def _write_outputs(people: list[Skeleton], lowres: np.ndarray, out_json: Path | None, overlay: Path | None,
                   image_id: int) -> None:  # fmt: skip
    from depthpose_core.viz import draw_overlay

    if out_json is not None:
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps([p.to_coco_result(image_id) for p in people], indent=1))
        print(f"wrote {out_json} ({len(people)} COCO-style results, keypoints in input-frame pixels)")
    if overlay is not None:
        overlay.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(overlay), draw_overlay(lowres, people)):
            raise InputError(f"could not write overlay image {overlay}")
        h, w = lowres.shape
        print(f"wrote {overlay} (low-resolution {w}x{h} depth enlarged by pixel replication, with skeletons)")


def _timed_estimate(
    estimator: PoseEstimator, depth: np.ndarray
) -> tuple[list[Skeleton], np.ndarray, dict[str, float]]:
    t0 = time.perf_counter()
    lowres = estimator.to_lowres(depth)
    t1 = time.perf_counter()
    people = estimator.estimate_lowres([lowres], [(depth.shape[1], depth.shape[0])])[0]
    t2 = time.perf_counter()
    return people, lowres, {"ingress_ms": (t1 - t0) * 1e3, "network_and_decode_ms": (t2 - t1) * 1e3}


def _describe(estimator: PoseEstimator) -> str:
    info, pre = estimator.info, estimator.preprocessing
    w, h = pre.lowres_size
    return (f"model {info.name}, weights: {info.weights}\n"
            f"device {info.device}, precision {info.precision}, flip test "
            f"{'on' if estimator.flip_test else 'off'}, decoder {estimator.decoder_mode}\n"
            f"input reduced to {w}x{h} at ingress; depth {pre.near_mm:.0f}-{pre.far_mm:.0f} mm -> [0, 1]")  # fmt: skip


def _estimator(
    runtime: RuntimeConfig, model: Path | None, model_name: str | None = None,
    preprocessing: Preprocessing | None = None,
) -> PoseEstimator:  # fmt: skip
    """A checkpoint's estimator, or the untrained network (announced) when there is no checkpoint."""
    from depthpose_core.inference import PoseEstimator

    if model is None:
        print(_UNTRAINED_BANNER)
        return PoseEstimator.untrained(model_name or "depthpose", preprocessing, **runtime.estimator_kwargs())
    return PoseEstimator.from_checkpoint(
        model, model_name=model_name, preprocessing=preprocessing, **runtime.estimator_kwargs()
    )


def _demo_scenes(seed: int, frames: int, mvor: Path | None) -> tuple[list[np.ndarray], dict, str]:
    """Depth frames with their ground truth (MVOR schema): a synthetic sequence through MVOR's first camera, or,
    without MVOR's file, independent procedural frames."""
    from depthpose_core.synth import World, load_mvor_geometry, render_frame
    from depthpose_core.synth.dataset import annotation, image_entry, label_file

    try:
        geometry = load_mvor_geometry(mvor)
    except DepthPoseError as err:
        from depthpose_core.demo_scene import make_demo_frame
        from depthpose_core.eval import mvor_ground_truth

        print(f"note: {err}\nnote: using procedural frames instead of the synthetic world")
        scenes = [make_demo_frame(seed + k) for k in range(frames)]
        return [d for d, _ in scenes], mvor_ground_truth([t for _, t in scenes]), "procedural operating-room frames"
    world, rng = World(geometry, seed), np.random.default_rng(seed)
    depths, images, anns = [], [], []
    for k in range(frames):
        frame = render_frame(world, geometry.cameras[0], 2.0 + 0.4 * k, rng)
        depths.append(frame.depth)
        images.append(image_entry(frame, k, f"frame{k:02d}", 0, 1, k, round((2.0 + 0.4 * k) * 1e9)))
        anns += [annotation(label, len(anns) + 1, k) for label in frame.people]
    source = f"a synthetic operating-room sequence (MVOR camera 1, {len(world.actors)} clinicians, 2.5 Hz)"
    return depths, label_file(images, anns, {"description": "depthpose demo"}), source


def demo(out_dir: Path, runtime: RuntimeConfig, *, model: Path | None = None, untrained: bool = False,
         seed: int = 0, frames: int = 12, mvor: Path | None = None) -> int:  # fmt: skip
    """The main job on the embedded default: the shipped demo weights on a synthetic operating-room sequence;
    prints skeletons with tracking ids and the MVOR PCK against the scene's truth, writes a contact sheet."""
    from depthpose_core.eval import evaluate, format_table
    from depthpose_core.tracking import SkeletonTracker
    from depthpose_core.viz import contact_sheet, labelled_tile
    from depthpose_core.weights import demo_weights

    try:
        estimator = _estimator(runtime, None if untrained else (model or demo_weights()))
        if not untrained and model is None:
            print("weights: the shipped demo model, trained on SYNTHETIC data only (see depthpose_core/weights/"
                  "MODEL_CARD.md); not a model for real operating rooms")  # fmt: skip
        print(_describe(estimator))
        depths, gt, source = _demo_scenes(seed, frames, mvor)
        print(f"input: {source}, {len(depths)} frames of 640x480 uint16 mm")
        t0 = time.perf_counter()
        lowres = [estimator.to_lowres(d) for d in depths]
        people = estimator.estimate_lowres(lowres, [(d.shape[1], d.shape[0]) for d in depths])
        seconds = time.perf_counter() - t0
        tracker = SkeletonTracker()
        results, tiles = [], []
        for k, (img, found) in enumerate(zip(gt["images"], people)):
            ids = tracker.update(found, 0.4 * k)
            print(f"frame {k:2d}: {len(found)} people, ids {ids}, "
                  f"{sum(p.num_parts for p in found)} joints")  # fmt: skip
            results += [p.to_coco_result(img["id"]) for p in found]
            tiles.append(labelled_tile(lowres[k], found, ids, str(k)))
        print(f"{len(depths)} frames in {seconds:.2f} s ({len(depths) / seconds:.1f} frames/s, one batch, "
              f"{estimator.info.device})")  # fmt: skip
        print(format_people(people[-1]).replace("people found", "people found in the last frame", 1))
        pck = evaluate(gt, results)
        print(f"\nMVOR PCK@0.2 against the scene's truth ({pck.num_persons} labelled persons):")
        print(format_table({estimator.info.name + (" (untrained)" if untrained else ""): pck}))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "demo_results.json").write_text(json.dumps(results))
        (out_dir / "demo_ground_truth.json").write_text(json.dumps(gt))
        sheet = contact_sheet(tiles)
        if not cv2.imwrite(str(out_dir / "demo_sheet.png"), sheet):
            raise InputError(f"could not write {out_dir / 'demo_sheet.png'}")
        print(f"wrote {out_dir}/demo_sheet.png (the low-resolution frames enlarged, with skeletons and ids), "
              "demo_results.json, demo_ground_truth.json")  # fmt: skip
    except DepthPoseError as err:
        print(f"ERROR: {err}")
        return 1
    return 0


def infer(
    depth_path: Path,
    runtime: RuntimeConfig,
    *,
    model: Path | None,
    out_json: Path | None = None,
    overlay: Path | None = None,
    image_id: int = 0,
    model_name: str | None = None,
    preprocessing: Preprocessing | None = None,
) -> int:
    """Estimate poses on one depth file; print them and write COCO-style JSON and a low-resolution overlay.

    ``model_name`` and ``preprocessing`` are needed for a plain state dict (e.g. the authors' released files);
    ``model=None`` runs the untrained network.
    """
    try:
        depth = read_depth(depth_path)
        estimator = _estimator(runtime, model, model_name, preprocessing)
        print(_describe(estimator))
        people, lowres, timing = _timed_estimate(estimator, depth)
        print(f"{depth_path}: {depth.shape[1]}x{depth.shape[0]} {depth.dtype}; ingress {timing['ingress_ms']:.1f} ms, "
              f"network + decoding {timing['network_and_decode_ms']:.0f} ms")  # fmt: skip
        print(format_people(people))
        _write_outputs(people, lowres, out_json, overlay, image_id)
    except DepthPoseError as err:
        print(f"ERROR: {err}")
        return 1
    return 0


def eval_results(gt_path: Path, results_path: Path, *, json_out: Path | None = None, name: str = "results") -> int:
    """Print the MVOR PCK table of a COCO results file against COCO-style ground truth."""
    from depthpose_core.eval.pck import evaluate, format_table, load_json

    try:
        gt = load_json(gt_path, kind="ground truth")
        results = load_json(results_path, kind="results")
        result = evaluate(gt, results)
    except DepthPoseError as err:
        print(f"ERROR: {err}")
        return 1
    print(f"MVOR PCK@0.2 over {result.num_persons} persons in {result.num_images} images")
    print(format_table({name: result}))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.to_dict(), indent=1))
        print(f"wrote {json_out}")
    return 0


def synth(
    out: Path, *, mvor: Path | None, sequences: int, frames: int, fps: float, cameras: tuple[int, ...],
    people: tuple[int, int], camera_jitter: tuple[float, float], bag: str | None, seed: int,
) -> int:  # fmt: skip
    """Write a synthetic dataset (and bags); print what was written and how fast."""
    from depthpose_core.synth import SynthConfig, WorldParams, load_mvor_geometry, write_dataset

    try:
        config = SynthConfig(
            sequences=sequences, frames=frames, fps=fps, cameras=cameras, seed=seed, camera_jitter=camera_jitter,
            bag=bag, world=WorldParams(min_people=people[0], max_people=people[1]),
        )  # fmt: skip
        geometry = load_mvor_geometry(mvor)
        print(f"MVOR geometry from {geometry.source}: {len(geometry.poses)} 3D poses, {len(geometry.cameras)} cameras")
        summary = write_dataset(out, geometry, config)
    except (DepthPoseError, ValueError) as err:
        print(f"ERROR: {err}")
        return 1
    print(f"wrote {summary.images} depth frames ({summary.frames_per_second:.1f} frames/s) with {summary.persons} "
          f"person labels ({summary.labelled_persons} with keypoints) to {summary.out_dir}")  # fmt: skip
    print(f"labels: {summary.annotations}")
    for path in summary.bags:
        print(f"bag: {path}")
    return 0


def pseudo_label(
    root: Path, *, backend: str, weights: str | None, results: str | None, images: str | None, out: Path,
    person_score: float, keypoint_score: float, min_keypoints: int, device: str,
) -> int:  # fmt: skip
    """Pseudo-label the depth frames under ``root``; print the summary table."""
    from depthpose_core import pseudo_label as pl

    try:
        params = pl.FilterParams(person_score, keypoint_score, min_keypoints)
        pairs = pl.find_pairs(root)
        if not pairs:
            raise DepthPoseError(f"no colour frames found under {root} (expected .../color/NAME.png with "
                                 ".../depth/NAME.png beside)")  # fmt: skip
        image_ids = pl.image_ids_from(images) if images is not None else None
        detector = pl.make_detector(backend, weights=weights, results=results, device=device, image_ids=image_ids)
        data, summary = pl.pseudo_label(root, pairs, detector, params)
        pl.write_labels(data, out)
    except (DepthPoseError, ValueError) as err:
        print(f"ERROR: {err}")
        return 1
    print(summary.table())
    unmatched = getattr(detector, "keys", set()) - {p.colour for p in pairs}
    if unmatched:
        print(f"note: the results file has detections for {len(unmatched)} image(s) that are not among the frames")
    print(f"wrote {out} ({summary.kept} labelled persons in {len(data['images'])} depth frames)")
    return 0


def train(config_path: Path, *, out_dir: str | None, resume: bool, iterations: int | None) -> int:
    """Train from a YAML config (one process, or one of torchrun's)."""
    from dataclasses import replace

    from depthpose_core.train import Trainer, load_train_config

    try:
        config = load_train_config(config_path, out_dir=out_dir)
        if iterations is not None:
            config = replace(config, optim=replace(config.optim, iterations=iterations))
        trainer = Trainer(config, resume=resume)
        if trainer.main:
            from depthpose_core.models import count_parameters

            print(f"training {config.model.name} {config.model.kwargs or ''} ({count_parameters(trainer.model):,} "
                  f"parameters) on {len(trainer.dataset)} samples, {trainer.world} process(es), device "
                  f"{trainer.device}, {config.precision}; from iteration {trainer.iteration} to "
                  f"{config.optim.iterations}; output {config.out_dir}")  # fmt: skip
        history = trainer.train()
    except (DepthPoseError, FloatingPointError) as err:
        print(f"ERROR: {err}")
        return 1
    if trainer.main and history:
        last = history[-1]
        print(f"done: iteration {last['iteration']}, loss {last['loss']:.4g}; best validation PCK "
              f"{trainer.best_pck:.1f}; checkpoints and curves.png in {config.out_dir}")  # fmt: skip
    return 0


def evaluate(
    data: Path, models: list[str], runtime: RuntimeConfig, *, images_root: Path | None, mvor_layout: bool,
    model_name: str | None, lowres: tuple[int, int] | None, out: Path, limit: int | None, batch: int,
) -> int:  # fmt: skip
    """Evaluate one or more checkpoints on a labelled dataset; print the table (side by side with --model
    repeated), write per-model COCO results, the table as JSON, and a bar plot."""
    from depthpose_core.data.mvor import depth_file_name
    from depthpose_core.eval.pck import format_table
    from depthpose_core.eval.runner import run_dataset
    from depthpose_core.preprocess import Preprocessing

    results = {}
    pre = Preprocessing(lowres_size=lowres, model_size=lowres) if lowres else None
    specs = [(name or Path(path).stem, path) for name, _, path in (spec.rpartition("=") for spec in models)]
    try:
        labels = [label for label, _ in specs]
        if len(set(labels)) < len(labels):
            raise InputError(f"models need distinct labels, got {labels}: name them as --compare NAME=CKPT")
        for label, path in specs:
            estimator = _estimator(runtime, None if path == "untrained" else Path(path), model_name, pre)
            print(f"{label}: {_describe(estimator)}")
            run = run_dataset(estimator, data, images_root, file_name=depth_file_name if mvor_layout else None,
                              batch_size=batch, limit=limit)  # fmt: skip
            print(f"{label}: {run.frames} frames in {run.seconds:.1f} s ({run.frames_per_second:.2f} frames/s)")
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{label}_results.json").write_text(json.dumps(run.results))
            results[label] = run.pck
    except DepthPoseError as err:
        print(f"ERROR: {err}")
        return 1
    table = format_table(results)
    print(f"MVOR PCK@0.2 on {data} ({next(iter(results.values())).num_persons} persons)")
    print(table)
    (out / "pck_table.txt").write_text(table + "\n")
    (out / "pck.json").write_text(json.dumps({k: v.to_dict() for k, v in results.items()}, indent=1))
    _bar_plot(results, out / "pck.png")
    print(f"wrote {out}/pck_table.txt, pck.json, pck.png and the COCO results")
    return 0


def _bar_plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(next(iter(results.values())).groups)
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(9, 4))
    for i, (label, result) in enumerate(results.items()):
        ax.bar(np.arange(len(groups)) + i * width, [result.groups[g] for g in groups], width, label=label)
    ax.set_xticks(np.arange(len(groups)) + width * (len(results) - 1) / 2, groups)
    ax.set(ylabel="PCK@0.2 (%)", ylim=(0, 100), title="MVOR PCK")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def replay(bag: Path, out: Path, runtime: RuntimeConfig, *, topics: list[str] | None, model: str | None,
           gt: Path | None, debug_image: bool, results: Path | None) -> int:  # fmt: skip
    """Replay a bag offline; print the counts and, with ground truth, the PCK per camera and overall."""
    from depthpose_core.eval.io import load_json
    from depthpose_core.eval.pck import format_table
    from depthpose_core.replay import evaluate_replay, replay_bag
    from depthpose_core.weights import demo_weights

    try:
        ground_truth = load_json(gt, kind="ground truth") if gt is not None else None
        estimator = _estimator(runtime, None if model == "untrained" else Path(model) if model else demo_weights())
        print(_describe(estimator))
        summary = replay_bag(bag, out, estimator, topics=topics, debug_image=debug_image,
                             ground_truth=ground_truth)  # fmt: skip
    except DepthPoseError as err:
        print(f"ERROR: {err}")
        return 1
    print(summary.report())
    for topic, out_topic in summary.topics.items():
        print(f"{topic} -> {out_topic}")
    print(f"wrote {out}")
    path = results or out.with_name(out.name + "_results.json")
    path.write_text(json.dumps([r for rs in summary.results.values() for r in rs]))
    print(f"wrote {path}")
    stopped = summary.interrupted or summary.error is not None
    if ground_truth is not None and stopped:
        print("no PCK: the run stopped before the end of the bag")
    elif ground_truth is not None:
        try:
            tables = evaluate_replay(summary.results, ground_truth)
        except DepthPoseError as err:
            print(f"no PCK: {err}")
        else:
            print(f"MVOR PCK@0.2 against {gt}:")
            print(format_table(tables))
    return 1 if stopped else 0
