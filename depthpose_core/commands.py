"""The CLI's commands: typed functions that call library functions, print what happened and return an exit code.

They raise :class:`~depthpose_core.errors.DepthPoseError` for anything the user can fix; ``cli.main`` turns it into
one ``ERROR:`` line and exit code 1. Argument parsing lives in ``cli.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from depthpose_core.errors import DepthPoseError, InputError
from depthpose_core.io import check_writable, load_json, read_depth, write_image, write_text
from depthpose_core.skeleton import format_people
from depthpose_core.weights import UNTRAINED, ModelRequest, resolve_model

if TYPE_CHECKING:
    from depthpose_core.config import RuntimeConfig
    from depthpose_core.inference import PoseEstimator

__all__ = ["demo", "eval_results", "evaluate", "export", "infer", "pseudo_label", "replay", "synth", "train"]


def _estimator(request: ModelRequest, runtime: RuntimeConfig, *, privacy: bool = True) -> PoseEstimator:
    """The estimator of ``request``, announced: its notice (demo weights, untrained network) and what runs."""
    from depthpose_core.inference import PoseEstimator

    estimator = PoseEstimator.from_request(request, runtime, privacy=privacy)
    if estimator.info.notice:
        print(f"WARNING: {estimator.info.notice}")
    return estimator


def _demo_scenes(seed: int, frames: int, mvor: Path | None) -> tuple[list[np.ndarray], dict, str, float]:
    """Depth frames with their ground truth (MVOR schema) and frame rate: the demo scene of the synthetic world
    (``synth.demo_config``), or, without MVOR's file, independent procedural frames at 5 Hz."""
    from depthpose_core.synth import dataset_info, demo_config, label_file, load_mvor_geometry, render_sequence

    config = demo_config(frames=frames, seed=seed)
    try:
        geometry = load_mvor_geometry(mvor)
    except DepthPoseError as err:
        from depthpose_core.demo_scene import make_demo_frame
        from depthpose_core.eval import mvor_ground_truth

        print(f"note: {err}\nnote: using procedural frames instead of the synthetic world")
        scenes = [make_demo_frame(seed + k) for k in range(frames)]
        return ([d for d, _ in scenes], mvor_ground_truth([t for _, t in scenes]), "procedural operating-room frames",
                config.fps)  # fmt: skip
    sequence = list(render_sequence(geometry, config, 0))
    gt = label_file([f.image for f in sequence], [a for f in sequence for a in f.annotations],
                    dataset_info(geometry, config))  # fmt: skip
    people = max(len(f.frame.people) for f in sequence)
    source = f"a synthetic operating-room sequence (MVOR camera 1, up to {people} people in view, {config.fps:g} Hz)"
    return [f.frame.depth for f in sequence], gt, source, config.fps


def demo(out_dir: Path, runtime: RuntimeConfig, *, model: str = "", untrained: bool = False, seed: int = 5,
         frames: int = 12, mvor: Path | None = None) -> int:  # fmt: skip
    """The main job on the embedded default: the shipped demo weights on a synthetic operating-room sequence;
    prints skeletons with tracking ids and the MVOR PCK against the scene's truth, writes a contact sheet."""
    from depthpose_core.eval import evaluate, format_table
    from depthpose_core.tracking import SkeletonTracker
    from depthpose_core.viz import contact_sheet, labelled_tile

    estimator = _estimator(ModelRequest(UNTRAINED if untrained else model), runtime)
    print(estimator.describe())
    depths, gt, source, fps = _demo_scenes(seed, frames, mvor)
    print(f"input: {source}, {len(depths)} frames of 640x480 uint16 mm")
    t0 = time.perf_counter()
    lowres = [estimator.to_lowres(d) for d in depths]
    people = estimator.estimate_lowres(lowres, [(d.shape[1], d.shape[0]) for d in depths])
    seconds = time.perf_counter() - t0
    tracker = SkeletonTracker()
    results, tiles = [], []
    for k, (img, found) in enumerate(zip(gt["images"], people)):
        ids = tracker.update(found, k / fps)
        print(f"frame {k:2d}: {len(found)} people, ids {ids}, {sum(p.num_parts for p in found)} joints")
        results += [p.to_coco_result(img["id"]) for p in found]
        tiles.append(labelled_tile(lowres[k], found, ids, str(k)))
    print(f"{len(depths)} frames in {seconds:.2f} s ({len(depths) / seconds:.1f} frames/s, one batch, "
          f"{estimator.info.device})")  # fmt: skip
    print(format_people(people[-1]).replace("people found", "people found in the last frame", 1))
    pck = evaluate(gt, results)
    print(f"\nMVOR PCK@0.2 against the scene's truth ({pck.num_persons} labelled persons):")
    print(format_table({estimator.info.name + ("" if estimator.info.trained else " (untrained)"): pck}))
    write_text(out_dir / "demo_results.json", json.dumps(results), what="results file")
    write_text(out_dir / "demo_ground_truth.json", json.dumps(gt), what="ground-truth file")
    write_image(out_dir / "demo_sheet.png", contact_sheet(tiles), what="contact sheet")
    print(f"wrote {out_dir}/demo_sheet.png (the low-resolution frames enlarged, with skeletons and ids), "
          "demo_results.json, demo_ground_truth.json")  # fmt: skip
    return 0


def infer(depth_path: Path, runtime: RuntimeConfig, request: ModelRequest, *, out_json: Path | None = None,
          overlay: Path | None = None, image_id: int = 0) -> int:  # fmt: skip
    """Estimate poses on one depth file; print them and write COCO-style JSON and a low-resolution overlay."""
    from depthpose_core.viz import draw_overlay

    depth = read_depth(depth_path)
    for path, what in ((out_json, "results file"), (overlay, "overlay image")):
        if path is not None:
            check_writable(path, what=what)
    estimator = _estimator(request, runtime)
    print(estimator.describe())
    t0 = time.perf_counter()
    lowres = estimator.to_lowres(depth)
    t1 = time.perf_counter()
    people = estimator.estimate_lowres([lowres], [(depth.shape[1], depth.shape[0])])[0]
    t2 = time.perf_counter()
    print(f"{depth_path}: {depth.shape[1]}x{depth.shape[0]} {depth.dtype}; ingress {(t1 - t0) * 1e3:.1f} ms, "
          f"network + decoding {(t2 - t1) * 1e3:.0f} ms")  # fmt: skip
    print(format_people(people))
    if out_json is not None:
        write_text(out_json, json.dumps([p.to_coco_result(image_id) for p in people], indent=1), what="results file")
        print(f"wrote {out_json} ({len(people)} COCO-style results, keypoints in input-frame pixels)")
    if overlay is not None:
        write_image(overlay, draw_overlay(lowres, people), what="overlay image")
        h, w = lowres.shape
        print(f"wrote {overlay} (low-resolution {w}x{h} depth enlarged by pixel replication, with skeletons)")
    return 0


def eval_results(gt_path: Path, results_path: Path, *, json_out: Path | None = None, name: str = "results") -> int:
    """Print the MVOR PCK table of a COCO results file against COCO-style ground truth."""
    from depthpose_core.eval.pck import evaluate, format_table

    if json_out is not None:
        check_writable(json_out, what="PCK file")
    results = load_json(results_path, kind="results or labels")
    gt = load_json(gt_path, kind="ground truth")
    if isinstance(results, dict) and "annotations" in results:  # a label file (pseudo labels): its labelled persons
        from depthpose_core.pseudo_label import labels_as_results

        results = labels_as_results(results, gt)
    result = evaluate(gt, results)
    if not results:
        print(f"WARNING: results file {results_path} holds no detections: every person counts as missed",
              file=sys.stderr)  # fmt: skip
    print(f"MVOR PCK@0.2 over {result.num_persons} persons in {result.num_images} images: {len(results)} result "
          f"records, {result.num_matched} persons matched to one, {result.num_false_positives} matched to no "
          "person")  # fmt: skip
    print(format_table({name: result}))
    if json_out is not None:
        write_text(json_out, json.dumps(result.to_dict(), indent=1), what="PCK file")
        print(f"wrote {json_out}")
    return 0


def synth(
    out: Path, *, mvor: Path | None, sequences: int, frames: int, fps: float, cameras: tuple[int, ...],
    people: tuple[int, int], camera_jitter: tuple[float, float], bag: str | None, seed: int, colour: bool = False,
) -> int:  # fmt: skip
    """Write a synthetic dataset (and bags, colour frames); print what was written and how fast."""
    from depthpose_core.synth import SynthConfig, WorldParams, load_mvor_geometry, write_dataset

    config = SynthConfig(
        sequences=sequences, frames=frames, fps=fps, cameras=cameras, seed=seed, camera_jitter=camera_jitter,
        bag=bag, colour=colour, world=WorldParams(min_people=people[0], max_people=people[1]),
    )  # fmt: skip
    geometry = load_mvor_geometry(mvor)
    print(f"MVOR geometry from {geometry.source}: {len(geometry.poses)} 3D poses, {len(geometry.cameras)} cameras")
    summary = write_dataset(out, geometry, config)
    kinds = "depth and colour" if colour else "depth"
    print(f"wrote {summary.images} {kinds} frames ({summary.frames_per_second:.1f} frames/s) with {summary.persons} "
          f"person labels ({summary.labelled_persons} with keypoints) to {summary.out_dir}")  # fmt: skip
    print(f"labels: {summary.annotations}")
    for path in summary.bags:
        print(f"bag: {path}")
    return 0


def pseudo_label(
    root: Path, *, backend: str, weights: str | None, results: str | None, images: str | None, out: Path | None,
    person_score: float, keypoint_score: float, min_keypoints: int, device: str, data_dir: Path | None = None,
    pairs: list[tuple[str, str]] | None = None, tolerance_ms: float = 10.0,
) -> int:  # fmt: skip
    """Pseudo-label the depth frames under ``root``, or those of the RGB-D bag ``root`` (written to ``data_dir``);
    print the summary tables."""
    from depthpose_core import pseudo_label as pl

    params = pl.FilterParams(person_score, keypoint_score, min_keypoints)
    is_bag = (root / "metadata.yaml").is_file()
    data_root = (data_dir or root.with_name(root.name + "_pseudo")) if is_bag else root
    if is_bag and data_root.exists() and any(data_root.iterdir()):
        raise InputError(f"data folder {data_root} is not empty")
    if not is_bag and (data_dir is not None or pairs):
        raise InputError(f"{root} is not a rosbag2 folder (no metadata.yaml): --data-dir and --pair are for bags")
    image_ids = pl.image_ids_from(images) if images is not None else None
    detector = pl.make_detector(backend, weights=weights, results=results, device=device, image_ids=image_ids)
    if is_bag:
        frames, pairing = pl.bag_frames(root, data_root, pairs, tolerance_ms=tolerance_ms)
        print(pairing.table())
        for (topic, problem), count in sorted(pairing.unreadable.items()):
            print(f"unreadable: {topic}: {count} x {problem}")
    else:
        found = pl.find_pairs(root)
        if not found:
            raise InputError(f"no colour frames found under {root} (expected .../color/NAME.png with "
                             ".../depth/NAME.png beside)")  # fmt: skip
        frames = pl.folder_frames(root, found)
    data, summary = pl.pseudo_label(data_root, frames, detector, params)
    out = out or data_root / "pseudo_labels.json"
    pl.write_labels(data, out)
    print(summary.table())
    unmatched: set[str] = getattr(detector, "keys", set()) - {frame.key for frame, _ in frames}
    if unmatched:
        print(f"note: the results file has detections for {len(unmatched)} image(s) that are not among the frames")
    print(f"wrote {out} ({summary.kept} labelled persons in {len(data['images'])} depth frames)")
    return 0


def train(config_path: Path, *, out_dir: str | None, resume: bool, iterations: int | None,
          seed: int | None = None, init: str | None = None) -> int:
    """Train from a YAML config (one process, or one of torchrun's)."""
    from dataclasses import replace

    from depthpose_core.models import count_parameters
    from depthpose_core.train import Trainer, load_train_config

    config = load_train_config(config_path, out_dir=out_dir, seed=seed)
    if iterations is not None:
        config = replace(config, optim=replace(config.optim, iterations=iterations))
    if init is not None:
        config = replace(config, model=replace(config.model, init=init))
    trainer = Trainer(config, resume=resume)
    if trainer.main:
        print(f"training {config.model.name} {config.model.kwargs or ''} ({count_parameters(trainer.model):,} "
              f"parameters) on {len(trainer.dataset)} samples, {trainer.world} process(es), device "
              f"{trainer.device}, {config.precision}; from iteration {trainer.iteration} to "
              f"{config.optim.iterations}; output {config.out_dir}")  # fmt: skip
    history = trainer.train()
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
    repeated; checkpoints sharing a NAME are runs of one model, shown as mean ± standard deviation), write
    per-run COCO results, the table as JSON (per name, a list of runs), and a bar plot.

    Research evaluation: the full-resolution baselines of the paper's Table 1 run here, so the privacy limit of
    the deployed tools does not apply.
    """
    from depthpose_core.data.mvor import depth_file_name
    from depthpose_core.eval.pck import PCKResult, format_table
    from depthpose_core.eval.runner import run_dataset
    from depthpose_core.plots import plot_pck_bars

    specs = [(name or Path(path).stem, path) for name, _, path in (spec.rpartition("=") for spec in models)]
    if len({path for _, path in specs}) < len(specs):
        raise InputError("the same checkpoint is given twice: give each run once (NAME=CKPT; runs of one model, "
                         "e.g. its seeds, share a NAME)")  # fmt: skip
    check_writable(out / "pck.json", what="evaluation output folder")
    results: dict[str, list[PCKResult]] = {}
    for label, path in specs:
        estimator = _estimator(ModelRequest(path, model_name, lowres), runtime, privacy=False)
        print(f"{label}: {estimator.describe()}")
        run = run_dataset(estimator, data, images_root, file_name=depth_file_name if mvor_layout else None,
                          batch_size=batch, limit=limit)  # fmt: skip
        print(f"{label}: {run.frames} frames in {run.seconds:.1f} s ({run.frames_per_second:.2f} frames/s)")
        runs = results.setdefault(label, [])
        stem = label if sum(lab == label for lab, _ in specs) == 1 else f"{label}_run{len(runs)}"
        write_text(out / f"{stem}_results.json", json.dumps(run.results), what="results file")
        runs.append(run.pck)
    table = format_table(results)
    print(f"MVOR PCK@0.2 on {data} ({results[specs[0][0]][0].num_persons} persons)")
    print(table)
    write_text(out / "pck_table.txt", table + "\n", what="PCK table")
    write_text(out / "pck.json", json.dumps({k: [r.to_dict() for r in v] for k, v in results.items()}, indent=1),
               what="PCK file")  # fmt: skip
    plot_pck_bars(results, out / "pck.png")
    print(f"wrote {out}/pck_table.txt, pck.json, pck.png and the COCO results")
    return 0


def replay(bag: Path, out: Path, runtime: RuntimeConfig, *, topics: list[str] | None, model: str,
           gt: Path | None, debug_image: bool, results: Path | None) -> int:  # fmt: skip
    """Replay a bag offline; print the counts and, with ground truth, the PCK per camera and overall."""
    from depthpose_core.eval.pck import format_table
    from depthpose_core.replay import evaluate_replay, replay_bag

    ground_truth = load_json(gt, kind="ground truth") if gt is not None else None
    path = results or out.with_name(out.name + "_results.json")
    check_writable(out, what="output bag")  # both checked before the replay: no bag without its results file
    check_writable(path, what="results file")
    estimator = _estimator(ModelRequest(model), runtime)
    print(estimator.describe())
    summary = replay_bag(bag, out, estimator, topics=topics, debug_image=debug_image, ground_truth=ground_truth)
    print(summary.report())
    for topic, out_topic in summary.topics.items():
        print(f"{topic} -> {out_topic}")
    print(f"wrote {out}")
    write_text(path, json.dumps([r for rs in summary.results.values() for r in rs]), what="results file")
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


def export(request: ModelRequest, fmt: str, *, out: Path | None, batch: int | None) -> int:
    """``depthpose export``: a checkpoint's inference graph with its metadata, then a check that the file alone
    reproduces the checkpoint's maps (fp32, on a synthetic depth frame)."""
    from depthpose_core.backends.export import EXPORT_FORMATS, check_export, export_checkpoint

    resolved = resolve_model(request, privacy=False)  # the limit applies where the file runs
    if out is None:
        out = Path(resolved.weights).with_suffix(EXPORT_FORMATS.get(fmt, ""))
    path = export_checkpoint(resolved, out, fmt, batch=batch)
    err = check_export(resolved, path)
    print(
        f"wrote {path} ({fmt}, batch {batch or 'dynamic'}; model {resolved.model_name}, input "
        f"{resolved.preprocessing.model_size[0]}x{resolved.preprocessing.model_size[1]}, preprocessing in the "
        f"file); its maps match the checkpoint's within {err:.1e} (fp32)"
    )
    return 0
