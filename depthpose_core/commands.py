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

__all__ = ["demo", "eval_results", "format_people", "infer", "pseudo_label", "read_depth", "synth"]

logger = logging.getLogger(__name__)

_UNTRAINED_BANNER = (
    "WARNING: no trained weights are loaded. This runs a RANDOMLY INITIALISED network, so the skeletons below\n"
    "         are meaningless (usually none). Trained weights come with a later release; pass --model CKPT to use\n"
    "         your own checkpoint."
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


def _decoder_check(estimator: PoseEstimator, truth: np.ndarray, lowres: np.ndarray, overlay: Path) -> None:
    """Decode maps rendered from the scene's true skeletons (not the network's) and score them: shows the
    decoder, the output frame and the evaluator at work while no trained weights exist."""
    from depthpose_core.eval import evaluate, format_table, mvor_ground_truth
    from depthpose_core.targets import render_maps
    from depthpose_core.viz import draw_overlay

    frame = estimator.preprocessing.decode_frame
    paf, heat = render_maps(truth, estimator.map_size, frame)
    [people] = estimator.decode_maps(paf[None], heat[None], [frame])
    result = evaluate(mvor_ground_truth([truth], frame), [p.to_coco_result(0) for p in people])
    print(f"\ndecoder check: maps rendered from the scene's {len(truth)} true skeletons (NOT the network's output) "
          f"decode to {len(people)} people; MVOR PCK@0.2 against the truth:")  # fmt: skip
    print(format_table({f"decoder ({estimator.decoder_mode})": result}))
    overlay.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(overlay), draw_overlay(lowres, people)):
        raise InputError(f"could not write overlay image {overlay}")
    print(f"wrote {overlay} (decoder check skeletons on the low-resolution image)")


def _estimator(
    runtime: RuntimeConfig, model: Path | None, model_name: str | None = None,
    preprocessing: Preprocessing | None = None,
) -> PoseEstimator:  # fmt: skip
    """A checkpoint's estimator, or the untrained default (announced) when there is no checkpoint."""
    from depthpose_core.inference import PoseEstimator

    if model is None:
        print(_UNTRAINED_BANNER)
        return PoseEstimator.untrained(model_name or "depthpose", preprocessing, **runtime.estimator_kwargs())
    return PoseEstimator.from_checkpoint(
        model, model_name=model_name, preprocessing=preprocessing, **runtime.estimator_kwargs()
    )


def demo(out_dir: Path, runtime: RuntimeConfig, *, model: Path | None = None, seed: int = 0) -> int:
    """The main job on an embedded default: a generated operating-room depth frame -> skeletons + overlay."""
    from depthpose_core.demo_scene import make_demo_frame

    try:
        estimator = _estimator(runtime, model)
        print(_describe(estimator))
        depth, truth = make_demo_frame(seed)
        print(f"frame: generated operating-room depth, {depth.shape[1]}x{depth.shape[0]} uint16 mm, seed {seed}, "
              f"{len(truth)} people in the scene")  # fmt: skip
        people, lowres, timing = _timed_estimate(estimator, depth)
        print(f"ingress {timing['ingress_ms']:.1f} ms, network + decoding {timing['network_and_decode_ms']:.0f} ms")
        print(format_people(people))
        _write_outputs(people, lowres, out_dir / "demo_results.json", out_dir / "demo_overlay.png", seed)
        _decoder_check(estimator, truth, lowres, out_dir / "demo_decoder_check.png")
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
