"""3D lift accuracy: the error of lifted joints against a synthetic set's exact 3D joints, per depth sampling rule.

Usage (from the repository root)::

    python bench/bench_lift.py data/synth_val/annotations.json [--model demo] [--limit N]

Two tables per rule (``LiftParams`` reach x quantile; reach 0 = the 3x3 cells around the joint, and reach 0 with
quantile 0 is the rule before issue 14: the nearest reading of those cells): joints lifted from the *labelled*
2D positions (the lift alone) and from the model's *detections* (what the node publishes, flip test on). Both
score the joints the labels mark visible, against the exact centres in the camera's optical frame. Choose a rule
on the validation set and confirm it on the held-out one.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depthpose_core.eval.joints3d import Joint3DErrors, exact_people, match_to_truth  # noqa: E402
from depthpose_core.inference import PoseEstimator  # noqa: E402
from depthpose_core.intrinsics import Intrinsics  # noqa: E402
from depthpose_core.io import image_path, load_json, read_depth  # noqa: E402
from depthpose_core.lift import LiftParams, lift_skeleton  # noqa: E402
from depthpose_core.skeleton import Skeleton  # noqa: E402


def _labelled(kp: np.ndarray, size: tuple[int, int]) -> Skeleton:
    keypoints = np.where(kp[:, 2:] > 0, kp[:, :2], np.nan)
    return Skeleton(keypoints, (kp[:, 2] > 0).astype(float), 1.0, size)


def _print(title: str, errors: dict[LiftParams, Joint3DErrors]) -> None:
    groups = list(next(iter(errors.values())).table())
    print(f"\n{title}: median 3D error, mm (All: median / p90 / within 100 mm % / z bias mm / no point %)")
    print(f"{'reach':>5} {'q':>4} " + " ".join(f"{g:>8}" for g in groups[:-1]) + "   All")
    for params, err in errors.items():
        rows = err.table()
        a = rows["All"]
        cells = " ".join(f"{rows[g]['median']:>8.0f}" for g in groups[:-1])
        print(f"{params.reach:>5.1f} {params.quantile:>4.2f} {cells}   {a['median']:.0f} / {a['p90']:.0f} / "
              f"{a['within_100']:.1f} / {a['bias']:+.0f} / {a['missing']:.1f}  (n={a['n']})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="a synthetic set's annotations.json (with joints3d)")
    parser.add_argument("--model", default="demo", help="shipped weights name or checkpoint file")
    parser.add_argument("--reach", type=float, nargs="+", default=[0.0, 1.0, 2.0, 3.0], help="reach values")
    parser.add_argument("--quantiles", type=float, nargs="+", default=[0.0, 0.25, 0.5], help="quantile values")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images")
    args = parser.parse_args()

    estimator = PoseEstimator.from_request(args.model)
    gt = load_json(args.data, kind="ground truth")
    by_image = defaultdict(list)
    for ann in gt["annotations"]:
        by_image[ann["image_id"]].append(ann)
    rules = [LiftParams(r, q) for r in args.reach for q in args.quantiles]
    labelled = {p: Joint3DErrors() for p in rules}
    detected = {p: Joint3DErrors() for p in rules}
    matched = truths = 0
    images = gt["images"][: args.limit]
    for img in tqdm(images, unit="frame", desc="lift"):
        depth = read_depth(image_path(args.data.parent, img))
        size = (depth.shape[1], depth.shape[0])
        camera = Intrinsics.from_k(img["camera"]["k"], img["width"], img["height"])
        lowres = estimator.to_lowres(depth)
        people = estimator.estimate_lowres([lowres], [size])[0]
        truth = exact_people(by_image[img["id"]])
        pairs = match_to_truth(people, [kp for kp, _ in truth])
        truths += len(truth)
        matched += len(pairs)
        for params in rules:
            for kp, xyz in truth:
                lifted = lift_skeleton(_labelled(kp, size), lowres, estimator.preprocessing, camera, params)
                labelled[params].add(lifted, xyz, kp[:, 2] == 2)
            for i, t in pairs:
                kp, xyz = truth[t]
                lifted = lift_skeleton(people[i], lowres, estimator.preprocessing, camera, params)
                detected[params].add(lifted, xyz, (kp[:, 2] == 2) & people[i].present)
    ingress = estimator.preprocessing.downsampling
    if truths == 0:
        print(f"{args.data}: no labelled person has exact 3D joints (joints3d): a set written before they were "
              "recorded? Write it again with depthpose synth", file=sys.stderr)  # fmt: skip
        return 1
    print(f"{args.data}: {len(images)} images, model {args.model} ({ingress} ingress), {matched} of {truths} "
          "labelled people detected")  # fmt: skip
    _print("labelled 2D joints", labelled)
    _print("detected joints", detected)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
