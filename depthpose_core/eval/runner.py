"""Run an estimator over a labelled dataset: COCO results, the MVOR PCK table, throughput.

The dataset is a COCO-style keypoint file in MVOR's schema (MVOR itself with its depth images, a synthetic set
from ``depthpose synth``, or pseudo labels); its ``images`` give the depth files (``file_name``, or MVOR's colour
names mapped to depth) and its annotations the ground truth, which goes to the exact evaluator unchanged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from depthpose_core.eval.pck import PCKResult, evaluate
from depthpose_core.inference import PoseEstimator
from depthpose_core.io import image_path, load_json, read_depth

__all__ = ["DatasetRun", "run_dataset"]


@dataclass(frozen=True)
class DatasetRun:
    """Outcome of :func:`run_dataset`: the PCK result, the COCO results list, frames and wall time (s)."""

    pck: PCKResult
    results: list[dict]
    frames: int
    seconds: float

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


def run_dataset(
    estimator: PoseEstimator,
    annotations: str | os.PathLike[str] | dict,
    images_root: str | os.PathLike[str] | None = None,
    *,
    file_name: Callable[[dict], str] | None = None,
    batch_size: int = 8,
    limit: int | None = None,
    progress: bool = True,
) -> DatasetRun:
    """Estimate poses on every image of a labelled dataset and score them.

    Args:
        estimator: the model, with its preprocessing, device, flip test and decoder settings.
        annotations: the COCO-style file (or its parsed content; then ``images_root`` is required).
        images_root: folder of the images' files; None = the annotation file's folder.
        file_name: maps an image entry to its depth file (default: its ``file_name``).
        batch_size: frames per forward pass.
        limit: only the first ``limit`` images (for quick validation).
        progress: show a progress bar with frames/s.

    Raises:
        EvaluationError: malformed annotations; InputError: a depth image is missing or unreadable.
    """
    if isinstance(annotations, dict):
        gt: dict[str, Any] = annotations
        if images_root is None:
            raise ValueError("images_root is required when annotations are given as a dict")
        root = Path(images_root)
    else:
        gt = load_json(annotations, kind="ground truth")
        root = Path(images_root) if images_root is not None else Path(annotations).parent
    images = gt.get("images", [])[:limit] if limit else gt.get("images", [])
    if limit:
        ids = {img["id"] for img in images}
        gt = {**gt, "images": images, "annotations": [a for a in gt["annotations"] if a["image_id"] in ids]}
    results: list[dict] = []
    start = time.perf_counter()
    bar = tqdm(total=len(images), unit="frame", desc="eval", disable=not progress)
    for first in range(0, len(images), batch_size):
        batch = images[first : first + batch_size]
        frames = []
        for img in batch:
            frames.append(read_depth(image_path(root, img, file_name(img) if file_name else None)))
        for img, people in zip(batch, estimator.estimate_batch(frames)):
            results += [p.to_coco_result(img["id"], unit_scores=False) for p in people]
        bar.update(len(batch))
    bar.close()
    seconds = time.perf_counter() - start
    return DatasetRun(evaluate(gt, results), results, len(images), seconds)

