"""``depthpose synth``: synthetic sequences written as 16-bit depth PNGs with COCO-style labels in MVOR's schema,
and optionally as rosbag2 files.

Layout under the output folder::

    annotations.json                      COCO-style labels (MVOR schema + the 18 network joints)
    seqSSS/camC/depth/FFFFFF.png          depth, uint16 mm, 0 = no reading
    seqSSS/camC/color/FFFFFF.png          colour registered to the depth pixel grid, 8-bit RGB, if asked for
    bags/seqSSS/                          rosbag2 of sequence SSS (all its cameras), if asked for

``annotations.json`` holds ``images`` (``file_name`` relative to the folder, ``seq_id``, ``cam_id``,
``frame_index``, ``stamp_ns`` and ``topic`` (the image's time stamp and topic in the bags), the ``camera``
intrinsics and pose, and with colour its ``colour_file``) and ``annotations``: per person ``keypoints``
(MVOR-10: head, neck, shoulders, hips, elbows, wrists as x, y, v), ``keypoints18`` (the network's 18 joints),
``joints3d`` (clinicians only: the 18 joints' exact centres in the camera's optical frame, x, y, z in metres),
``bbox`` (visible pixels), ``area``, ``only_bbox``, ``person_id`` (stable within a sequence) and
``person_role``. The MVOR PCK evaluator reads it as it reads MVOR's own file.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from depthpose_core.errors import ConfigError, DepthPoseError
from depthpose_core.keypoints import MVOR10_NAMES, NET_JOINTS
from depthpose_core.synth.bag import SequenceBag, depth_topic
from depthpose_core.synth.camera import Camera
from depthpose_core.synth.colour import Appearance, shade
from depthpose_core.synth.frames import PersonLabel, SynthFrame, render_frame
from depthpose_core.synth.mvor import MVORGeometry
from depthpose_core.synth.world import World, WorldParams, jittered_camera

__all__ = ["BASE_STAMP_NS", "LabelledFrame", "SynthConfig", "SynthSummary", "annotation", "dataset_info", "demo_config",
           "image_entry", "label_file", "render_sequence", "write_dataset"]

#: Time stamp of frame 0 of sequence 0 (2026-01-01T00:00:00Z); sequence s starts 1000 s * s later.
BASE_STAMP_NS = 1_767_225_600 * 1_000_000_000


@dataclass(frozen=True)
class SynthConfig:
    """What ``write_dataset`` generates.

    Attributes:
        sequences: number of sequences (a new room, new people and new paths each).
        frames: frames per sequence.
        fps: frame rate of a sequence, Hz.
        cameras: MVOR cameras (1-3) that film every sequence.
        seed: seed of everything; sequence s uses world seed ``seed * 100003 + s``.
        camera_jitter: (degrees, mm) random re-mounting of the cameras per sequence; (0, 0) = MVOR's exact poses.
        start_spread_s: each sequence starts at a random time in [0, this] of its world's clinicians' paths.
        bag: ``None``, ``"sqlite3"`` or ``"mcap"``: also write each sequence as a rosbag2.
        colour: also render a colour frame per depth frame (registered to it; PNGs and, with ``bag``, colour
            topics).
        world: what each room holds.
    """

    sequences: int = 1
    frames: int = 30
    fps: float = 15.0
    cameras: tuple[int, ...] = (1, 2, 3)
    seed: int = 0
    camera_jitter: tuple[float, float] = (0.0, 0.0)
    start_spread_s: float = 20.0
    bag: str | None = None
    colour: bool = False
    world: WorldParams = field(default_factory=WorldParams)

    def __post_init__(self) -> None:
        if self.sequences < 1 or self.frames < 1 or not self.fps > 0:
            raise ConfigError(f"need sequences >= 1, frames >= 1 and fps > 0, got {self.sequences}, {self.frames}, "
                             f"{self.fps}")  # fmt: skip
        if not self.cameras or any(c not in (1, 2, 3) for c in self.cameras):
            raise ConfigError(f"cameras must be MVOR camera numbers 1-3, got {self.cameras}")
        if not (0 <= self.camera_jitter[0] <= 20 and 0 <= self.camera_jitter[1] <= 400):
            raise ConfigError(f"camera_jitter must stay within 20 degrees and 400 mm (the walls stand 600 mm beyond "
                             f"the cameras), got {self.camera_jitter}")  # fmt: skip
        if self.bag not in (None, "sqlite3", "mcap"):
            raise ConfigError(f"bag must be None, 'sqlite3' or 'mcap', got {self.bag!r}")


@dataclass(frozen=True)
class SynthSummary:
    """What was written: counts, paths and the rendering speed (frames/s, wall time)."""

    out_dir: str
    annotations: str
    bags: list[str]
    images: int
    persons: int
    labelled_persons: int
    seconds: float

    @property
    def frames_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("nan")


def _flat(points: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in points.reshape(-1)]


def annotation(label: PersonLabel, ann_id: int, image_id: int) -> dict:
    """The COCO-style annotation of one person label (MVOR schema plus ``keypoints18`` and ``joints3d``)."""
    mvor10 = label.mvor10()
    x, y, w, h = label.bbox
    record = {
        "id": ann_id, "image_id": image_id, "category_id": 1, "person_id": label.person_id,
        "person_role": label.role, "keypoints": _flat(mvor10), "keypoints18": _flat(label.keypoints),
        "num_keypoints": int((mvor10[:, 2] > 0).sum()), "bbox": [x, y, w, h], "area": label.num_pixels,
        "only_bbox": int(label.only_bbox), "iscrowd": 0,
    }  # fmt: skip
    if label.role != "patient":
        record["joints3d"] = [round(float(v) / 1000.0, 5) for v in label.joints_cam.reshape(-1)]
    return record


def image_entry(frame: SynthFrame, image_id: int, file_name: str, seq: int, cam_id: int, index: int,
                stamp: int) -> dict:  # fmt: skip
    """The COCO-style image entry of a frame (with its camera's intrinsics and pose)."""
    cam = frame.camera
    return {
        "id": image_id, "file_name": file_name, "width": cam.width, "height": cam.height, "seq_id": seq,
        "cam_id": cam_id, "frame_index": index, "stamp_ns": stamp, "topic": depth_topic(cam_id), "t": round(frame.t, 6),
        "camera": {"name": cam.name, "k": cam.k, "cam_to_room": [float(v) for v in cam.cam_to_room.reshape(-1)]},
    }  # fmt: skip


def label_file(images: list[dict], annotations: list[dict], info: dict) -> dict:
    """A whole COCO-style label file in MVOR's schema (with the 18 network joints' names)."""
    return {
        "info": info,
        "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(MVOR10_NAMES),
                        "keypoints18": list(NET_JOINTS)}],
        "images": images,
        "annotations": annotations,
    }  # fmt: skip


@dataclass(frozen=True)
class LabelledFrame:
    """One rendered frame of a sequence with its labels.

    Attributes:
        frame: the depth frame (uint16 mm) and its people.
        cam_id: the MVOR camera (1-3); ``camera``: its (possibly jittered) model.
        stamp: the frame's time stamp in ns (also its bag time).
        image: its COCO-style image entry; ``annotations``: its people's annotations.
        colour: ``(h, w, 3)`` uint8 RGB registered to the depth frame, or None (``SynthConfig.colour`` off).
    """

    frame: SynthFrame
    cam_id: int
    camera: Camera
    stamp: int
    image: dict
    annotations: list[dict]
    colour: np.ndarray | None = None


def demo_config(*, frames: int = 24, fps: float = 5.0, seed: int = 5, bag: str | None = None) -> SynthConfig:
    """The demo scene (``depthpose demo`` and ``make demo``): one sequence through MVOR's camera 1 with two to
    four clinicians."""
    return SynthConfig(frames=frames, fps=fps, cameras=(1,), bag=bag, seed=seed,
                       world=WorldParams(min_people=2, max_people=4))  # fmt: skip


def render_sequence(geometry: MVORGeometry, config: SynthConfig, seq: int, *, first_image_id: int = 1,
                    first_annotation_id: int = 1) -> Iterator[LabelledFrame]:  # fmt: skip
    """Render sequence ``seq`` of ``config``: frame by frame, each camera in ``config.cameras`` order.

    Image and annotation ids count up from ``first_image_id`` and ``first_annotation_id``; file names are those
    :func:`write_dataset` uses (``seqSSS/camC/depth/FFFFFF.png``, colour ``seqSSS/camC/color/FFFFFF.png``).
    Colour draws from random streams of its own: the depth frames and labels are the same with or without it.
    """
    world_seed = config.seed * 100003 + seq
    world = World(geometry, world_seed, config.world, duration_s=config.start_spread_s + config.frames / config.fps)
    rng = np.random.default_rng([config.seed, seq, 1])
    t0 = float(rng.uniform(0.0, config.start_spread_s))
    deg, mm = config.camera_jitter
    cameras = {c: jittered_camera(geometry.cameras[c - 1], rng, degrees=deg, mm=mm) if deg or mm
               else geometry.cameras[c - 1] for c in config.cameras}  # fmt: skip
    colour_rng = np.random.default_rng([config.seed, seq, 2])
    appearance = Appearance.draw(world, colour_rng) if config.colour else None
    image_id, ann_id = first_image_id, first_annotation_id
    for index in range(config.frames):
        t = t0 + index / config.fps
        stamp = BASE_STAMP_NS + seq * 1000 * 1_000_000_000 + round(index * 1e9 / config.fps)
        for cam_id, camera in cameras.items():
            frame = render_frame(world, camera, t, rng)
            name = f"seq{seq:03d}/cam{cam_id}/depth/{index:06d}.png"
            anns = [annotation(label, ann_id + k, image_id) for k, label in enumerate(frame.people)]
            image = image_entry(frame, image_id, name, seq, cam_id, index, stamp)
            colour = None
            if appearance is not None:
                colour = shade(frame, appearance, colour_rng)
                image["colour_file"] = name.replace("/depth/", "/color/")
            yield LabelledFrame(frame, cam_id, camera, stamp, image, anns, colour)
            image_id, ann_id = image_id + 1, ann_id + len(anns)


def dataset_info(geometry: MVORGeometry, config: SynthConfig) -> dict:
    """The ``info`` block of a synthetic label file."""
    return {"description": "depthpose synthetic operating-room depth", "generator": "depthpose synth",
            "config": asdict(config), "mvor_source": "camma_mvor_2018.json (3D poses and cameras)",
            "frame_size": [geometry.cameras[0].width, geometry.cameras[0].height]}  # fmt: skip


def write_dataset(out_dir: str | os.PathLike[str], geometry: MVORGeometry, config: SynthConfig,
                  *, progress: bool = True) -> SynthSummary:  # fmt: skip
    """Generate ``config.sequences`` sequences into ``out_dir`` (which must be empty or absent).

    Raises:
        DepthPoseError: the output folder is not empty, or a file cannot be written.
    """
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise DepthPoseError(f"output folder {out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    images: list[dict] = []
    annotations: list[dict] = []
    bags: list[str] = []
    total = config.sequences * config.frames * len(config.cameras)
    start = time.perf_counter()
    bar = tqdm(total=total, unit="frame", desc="synth", disable=not progress)
    for seq in range(config.sequences):
        with ExitStack() as stack:
            bag = None
            if config.bag:
                bag = stack.enter_context(SequenceBag(out / "bags" / f"seq{seq:03d}", config.bag))
                bags.append(str(bag.path))
            for item in render_sequence(geometry, config, seq, first_image_id=len(images) + 1,
                                        first_annotation_id=len(annotations) + 1):  # fmt: skip
                path = out / item.image["file_name"]
                path.parent.mkdir(parents=True, exist_ok=True)
                if not cv2.imwrite(str(path), item.frame.depth):
                    raise DepthPoseError(f"could not write {path}")
                if item.colour is not None:
                    colour_path = out / item.image["colour_file"]
                    colour_path.parent.mkdir(parents=True, exist_ok=True)
                    if not cv2.imwrite(str(colour_path), item.colour[..., ::-1]):
                        raise DepthPoseError(f"could not write {colour_path}")
                images.append(item.image)
                annotations += item.annotations
                if bag is not None:
                    bag.write_frame(item.cam_id, item.camera, item.frame.depth, item.stamp, colour=item.colour)
                bar.update(1)
    bar.close()
    seconds = time.perf_counter() - start
    data = label_file(images, annotations, dataset_info(geometry, config))
    ann_path = out / "annotations.json"
    ann_path.write_text(json.dumps(data))
    labelled = sum(1 for a in annotations if not a["only_bbox"])
    return SynthSummary(str(out), str(ann_path), bags, len(images), len(annotations), labelled, seconds)
