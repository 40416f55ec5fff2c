"""``depthpose_demo_live``: the main demo through the real node. A synthetic operating-room bag is generated
(``depthpose synth``), the node runs with the shipped demo weights in its own process, the bag is played to it in
real time (``depthpose_replay_live``), and the user gets the report (frames answered, dropped, latency), the MVOR
PCK of the node's answers against the scene's truth, and a contact sheet of the low-resolution frames with the
received skeletons and track ids.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rclpy.executors import ExternalShutdownException

from depthpose_core.bags import IMAGE, SKELETON_ARRAY, open_bag, output_topic, typestore
from depthpose_core.errors import DepthPoseError
from depthpose_core.io import write_image
from depthpose_core.messages import image_to_depth, skeletons_from_array, stamp_ns
from depthpose_core.preprocess import Preprocessing, to_lowres
from depthpose_core.share import share_file
from depthpose_core.synth import demo_config, depth_topic, info_topic, load_mvor_geometry, write_dataset
from depthpose_core.viz import contact_sheet, labelled_tile
from depthpose_core.weights import resolve_model
from depthpose_ros.live_replay import live_replay, print_report
from depthpose_ros.node import CAMERA_INFO_TOPIC, INPUT_TOPIC, OUTPUT_TOPIC

__all__ = ["main"]

_CAMERA = 1
_IMAGES = depth_topic(_CAMERA)
_SKELETONS = output_topic(_IMAGES, "skeletons")
#: What the demo writes into its output folder (replaced on the next run).
_OUTPUTS = ("synth", "answers", "answers_results.json", "demo_sheet.png", "node.log")


def _dds_environment() -> dict[str, str]:
    """This process's environment for the demo: discovery kept on this machine, and (unless the user set one)
    the project's Fast DDS profile, whose large shared-memory segment carries 640x480 frames without loss."""
    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if "FASTDDS_DEFAULT_PROFILES_FILE" not in env:
        try:
            env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(share_file("config", "fastdds_localhost.xml"))
        except DepthPoseError:
            pass  # Fast DDS's own defaults: slower for 640x480 frames, but they work
    return env


def _start_node(model: Path | None, log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``depthpose_node`` in its own process (device auto); without ``model``, its default: the shipped weights."""
    args = [sys.executable, "-m", "depthpose_ros.node", "--ros-args", "-r", f"{INPUT_TOPIC}:={_IMAGES}",
            "-r", f"{OUTPUT_TOPIC}:={_SKELETONS}", "-r", f"{CAMERA_INFO_TOPIC}:={info_topic(_CAMERA)}"]  # fmt: skip
    if model is not None:
        args += ["-p", f"model:={model}"]
    with log.open("w") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _sheet(bag: Path, answers: Path, pre: Preprocessing, columns: int = 4) -> tuple[int, int, int]:
    """Write ``answers``' contact sheet beside it: every frame of the input bag reduced to the model's low
    resolution (as at the node's ingress), with the skeletons the node answered. Returns the sheet's (h, w, 3)."""
    store = typestore()
    with open_bag(answers) as reader:
        received = {stamp_ns(m.header): skeletons_from_array(m) for m in (
            store.deserialize_cdr(raw, SKELETON_ARRAY) for c, _, raw in reader.messages() if c.topic == _SKELETONS)}
    tiles = []
    with open_bag(bag) as reader:
        conns = [c for c in reader.connections if c.topic == _IMAGES]
        for k, (_, _, raw) in enumerate(reader.messages(connections=conns)):
            msg = store.deserialize_cdr(raw, IMAGE)
            people, ids = received.get(stamp_ns(msg.header), ([], []))
            label = f"{k}" if stamp_ns(msg.header) in received else f"{k} dropped"
            tiles.append(labelled_tile(to_lowres(image_to_depth(msg), pre), people, ids, label))
    sheet = contact_sheet(tiles, columns)
    path = answers.with_name("demo_sheet.png")
    write_image(path, sheet, what="contact sheet")
    return sheet.shape


def run(out: Path, *, frames: int, fps: float, seed: int, model: Path | None, mvor: Path | None) -> int:
    """The demo (see the module docstring); returns the exit code."""
    for previous in _OUTPUTS:  # a previous demo's outputs are replaced
        path = out / previous
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    resolved = resolve_model(str(model or ""))  # the node resolves the same value: the preprocessing it will use
    if resolved.notice:
        print(f"WARNING: {resolved.notice}")
    data = out / "synth"
    config = demo_config(frames=frames, fps=fps, seed=seed, bag="sqlite3")
    write_dataset(data, load_mvor_geometry(mvor), config, progress=False)
    bag = data / "bags" / "seq000"
    print(f"input: {bag}, a synthetic operating room seen by MVOR's camera {_CAMERA}: {frames} depth frames "
          f"640x480 16UC1 at {fps:g} Hz on {_IMAGES}")  # fmt: skip
    env = _dds_environment()
    os.environ.update(env)  # this process publishes too: same discovery range and transport profile
    node_log = out / "node.log"
    node = _start_node(model, node_log, env)
    try:
        print(f"node: depthpose_node (log {node_log}) answering on {_SKELETONS}; playing the bag in real time")
        gt = json.loads((data / "annotations.json").read_text())
        report = live_replay(bag, out / "answers", topics=[_IMAGES], wait_s=60.0, ground_truth=gt)
    except DepthPoseError as err:
        if node.poll() is None:
            raise
        tail = "\n".join(node_log.read_text().splitlines()[-5:])
        raise DepthPoseError(f"{err}: the node exited with code {node.returncode}; its log ends:\n{tail}") from None
    finally:
        _stop(node)
    print_report(report, out / "answers", gt, "the scene's truth")
    h, w, _ = _sheet(bag, out / "answers", resolved.preprocessing)
    print(f"\nwrote {out}/demo_sheet.png ({w}x{h}: the low-resolution frames enlarged, with the node's skeletons and "
          f"track ids), answers/ (the node's skeleton arrays, a rosbag2), answers_results.json, synth/ (the input "
          "bag and its truth), node.log")  # fmt: skip
    return 130 if report.interrupted else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``depthpose_demo_live``."""
    parser = argparse.ArgumentParser(prog="depthpose_demo_live", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo_out"),
                        help="output folder (a previous demo's outputs in it are replaced)")  # fmt: skip
    scene = demo_config()
    parser.add_argument("--frames", type=int, default=scene.frames, help="frames in the synthetic bag")
    parser.add_argument("--fps", type=float, default=scene.fps, help="frame rate of the synthetic bag (Hz)")
    parser.add_argument("--seed", type=int, default=scene.seed, help="seed of the synthetic scene")
    parser.add_argument("--model", type=Path, help="depthpose checkpoint (default: the shipped demo weights)")
    parser.add_argument("--mvor", type=Path, help="camma_mvor_2018.json for the room geometry (default: found)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        code = run(args.out, frames=args.frames, fps=args.fps, seed=args.seed, model=args.model, mvor=args.mvor)
    except DepthPoseError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 130
    print(f"demo took {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
