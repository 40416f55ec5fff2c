"""Decoder person filter sweep: PCK, recall and false positives per image for ``min_parts`` x ``min_mean_score``.

Usage (from the repository root)::

    python bench/sweep_decoder.py data/synth_val/annotations.json [--model demo] [--parts 3 4 5 6]
        [--scores 0.2 0.3 0.4 0.5] [--no-flip]

The network runs once per image (flip test on unless ``--no-flip``); every setting then decodes the same maps,
so the rows differ only by the decoder. Pick defaults on a validation set and confirm them on a held-out set:
the MVOR protocol leaves false positives free, so a stricter filter can only keep or lower PCK and recall,
and the table shows what each removed phantom skeleton costs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depthpose_core.eval.pck import evaluate  # noqa: E402
from depthpose_core.inference import PoseEstimator  # noqa: E402
from depthpose_core.io import image_path, load_json, read_depth  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="COCO-style labels with depth images (a synthetic set)")
    parser.add_argument("--model", default="demo", help="shipped weights name or checkpoint file")
    parser.add_argument("--parts", type=int, nargs="+", default=[3, 4, 5, 6], help="min_parts values")
    parser.add_argument("--scores", type=float, nargs="+", default=[0.2, 0.3, 0.4, 0.5],
                        help="min_mean_score values")  # fmt: skip
    parser.add_argument("--no-flip", action="store_true", help="skip the flip test")
    args = parser.parse_args()

    estimator = PoseEstimator.from_request(args.model)
    estimator.flip_test = not args.no_flip
    gt = load_json(args.data, kind="ground truth")
    maps, sizes = [], []
    for img in tqdm(gt["images"], unit="frame", desc="network"):
        depth = read_depth(image_path(args.data.parent, img))
        maps.append(estimator.maps([estimator.to_lowres(depth)]))
        sizes.append((depth.shape[1], depth.shape[0]))
    base = estimator.decoder_params
    print(f"{args.data}: {len(gt['images'])} images, model {args.model}, flip test {estimator.flip_test}")
    print(f"{'min_parts':>9}  {'min_mean_score':>14}  {'Average':>7}  {'Wrist':>5}  {'Recall':>6}  {'FP/img':>6}")
    for parts in args.parts:
        for score in args.scores:
            estimator.decoder_params = replace(base, min_parts=parts, min_mean_score=score)
            results = []
            for img, (paf, heat), size in zip(gt["images"], maps, sizes):
                people = estimator.decode_maps(paf, heat, [size])[0]
                results += [p.to_coco_result(img["id"], unit_scores=False) for p in people]
            r = evaluate(gt, results)
            print(f"{parts:>9}  {score:>14.2f}  {r.groups['Average']:>7.1f}  {r.groups['Wrist']:>5.1f}  "
                  f"{r.recall:>6.1f}  {r.false_positives_per_image:>6.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
