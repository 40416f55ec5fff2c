"""RGB-D rosbag2 recordings as pseudo-labelling input: colour and aligned depth frames paired by time stamp.

A driver that aligns depth to colour (RealSense ``aligned_depth_to_color``, Azure Kinect ``depth_to_rgb``, the
synthetic bags of ``depthpose synth --colour``) records, per camera, a colour ``sensor_msgs/Image`` topic and a
depth topic on the colour pixel grid. Each colour frame is paired with the depth frame of the same camera whose
header stamp is nearest, within a tolerance, each depth frame used once; frames left without a partner are
counted. The paired depth frames are written as 16-bit PNGs (mm) into the training set; colour frames stay in
memory for the detector and are never written.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from depthpose_core.bags import IMAGE, is_colour_topic, open_bag, typestore
from depthpose_core.errors import DepthPoseError, InputError
from depthpose_core.messages import image_to_depth, image_to_rgb, stamp_ns
from depthpose_core.pseudo_label.detectors import ColourFrame

__all__ = ["BagPairing", "TopicPair", "bag_frames", "match_stamps", "topic_pairs"]

# Depth topic names that say the depth is on the colour pixel grid, preferred when a camera has several.
_ALIGNED_HINTS = ("aligned", "to_color", "to_colour", "to_rgb")


@dataclass(frozen=True)
class TopicPair:
    """A camera's colour image topic and its aligned depth image topic."""

    colour: str
    depth: str


@dataclass
class BagPairing:
    """How a bag's frames paired: frames per topic, pairs per colour topic, frames without a partner per topic, and
    the frames whose pixels could not be read (per topic and problem)."""

    frames: Counter[str] = field(default_factory=Counter)
    paired: Counter[str] = field(default_factory=Counter)
    unpaired: Counter[str] = field(default_factory=Counter)
    unreadable: Counter[tuple[str, str]] = field(default_factory=Counter)

    def table(self) -> str:
        """A small text table: per topic its frames, pairs and frames left unpaired or unreadable."""
        rows = [("topic", "frames", "paired", "unpaired", "unreadable")]
        for topic in sorted(self.frames):
            bad = sum(n for (t, _), n in self.unreadable.items() if t == topic)
            rows.append((topic, str(self.frames[topic]), str(self.paired[topic]), str(self.unpaired[topic]),
                         str(bad)))  # fmt: skip
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                         for r in rows)  # fmt: skip


def topic_pairs(image_topics: Sequence[str], requested: Sequence[tuple[str, str]] | None = None, *,
                where: object = "the bag") -> list[TopicPair]:  # fmt: skip
    """The colour/depth topic pairs to read.

    Args:
        image_topics: the bag's ``sensor_msgs/Image`` topics.
        requested: explicit ``(colour, depth)`` pairs; None = every colour topic (:func:`bags.is_colour_topic`)
            with the one depth topic of its camera (same namespace above ``color``/``rgb``), an aligned one
            preferred when there are several.
        where: names the bag in errors.

    Raises:
        DepthPoseError: a requested topic is not an image topic of the bag; no colour topic; no depth topic; a
            camera whose depth topic is ambiguous.
    """
    have = sorted(set(image_topics))
    if requested:
        missing = sorted({t for pair in requested for t in pair} - set(have))
        if missing:
            raise DepthPoseError(f"{where} has no sensor_msgs/Image topic {missing}; it has {have}")
        return [TopicPair(c, d) for c, d in requested]
    colour = [t for t in have if is_colour_topic(t)]
    depth = [t for t in have if not is_colour_topic(t)]
    if not colour:
        raise DepthPoseError(f"{where} holds no colour image topic (a .../color/..., .../colour/... or .../rgb/... "
                             f"sensor_msgs/Image; it has {have}): pseudo labels come from colour frames")  # fmt: skip
    if not depth:
        raise DepthPoseError(f"{where} holds colour images {colour} but no depth image topic: record the depth "
                             "aligned to colour too (e.g. RealSense align_depth)")  # fmt: skip
    pairs = []
    for topic in colour:
        parts = topic.split("/")
        cut = max(i for i, p in enumerate(parts[:-1]) if p in ("color", "colour", "rgb"))
        camera = "/".join(parts[:cut]) + "/"
        mine = [t for t in depth if t.startswith(camera)]
        if len(mine) > 1:
            mine = [t for t in mine if any(h in t for h in _ALIGNED_HINTS)] or mine
        if len(mine) != 1:
            found = "none" if not mine else ", ".join(mine)
            raise DepthPoseError(f"{where}: colour topic {topic} has no single depth topic under {camera} ({found}): "
                                 "name the pair with --pair COLOUR_TOPIC DEPTH_TOPIC")  # fmt: skip
        pairs.append(TopicPair(topic, mine[0]))
    return pairs


def match_stamps(colour: Sequence[int], depth: Sequence[int], tolerance_ns: int) -> list[tuple[int, int]]:
    """One-to-one pairs ``(colour index, depth index)`` of stamps at most ``tolerance_ns`` apart, nearest first."""
    c, d = np.asarray(colour, dtype=np.int64), np.asarray(depth, dtype=np.int64)
    if not len(c) or not len(d):
        return []
    order = np.argsort(d, kind="stable")
    pos = np.searchsorted(d[order], c)
    candidates = []
    for i, p in enumerate(pos):
        for k in (p - 1, p):
            if 0 <= k < len(d):
                gap = abs(int(c[i]) - int(d[order[k]]))
                if gap <= tolerance_ns:
                    candidates.append((gap, i, int(order[k])))
    used_c: set[int] = set()
    used_d: set[int] = set()
    out = []
    for _, i, j in sorted(candidates):
        if i not in used_c and j not in used_d:
            used_c.add(i)
            used_d.add(j)
            out.append((i, j))
    return sorted(out)


def _depth_mm(msg: Any) -> np.ndarray:
    """A depth message as uint16 mm (0 = no reading).

    Raises:
        ImageError: unreadable, or 8-bit normalised depth (which has no millimetres to train on).
    """
    depth = image_to_depth(msg)
    if depth.dtype.kind == "u" and depth.dtype.itemsize == 2:
        return depth.astype(np.uint16)
    if depth.dtype.kind == "f":
        mm = depth.astype(np.float64) * 1000.0
        mm[~np.isfinite(mm) | (mm <= 0) | (mm > 65535)] = 0
        return np.round(mm).astype(np.uint16)
    raise InputError(f"{msg.encoding} depth is normalised to 8 bits: a training set needs depth in mm (16UC1 or "
                     "32FC1)")  # fmt: skip


def bag_frames(bag: str | os.PathLike[str], out_root: str | os.PathLike[str],
               requested: Sequence[tuple[str, str]] | None = None, *, tolerance_ms: float = 10.0,
               progress: bool = True) -> tuple[list[tuple[ColourFrame, str]], BagPairing]:  # fmt: skip
    """Pair a bag's colour and depth frames and write the paired depth frames under ``out_root``.

    Depth frames go to ``depth/<depth topic>/<stamp ns>.png`` (uint16 mm). Returns ``(colour frame, depth file
    relative to out_root)`` per pair in stamp order (the colour frame's key is ``<colour topic>@<stamp ns>``), and
    the pairing's counts.

    Raises:
        DepthPoseError: not a readable bag, no colour/depth topics (see :func:`topic_pairs`), no frame paired at all
            (the streams are not synchronised), or a colour and depth topic whose sizes are not the same pixel grid
            up to scale.
    """
    out_root = Path(out_root)
    tolerance_ns = round(tolerance_ms * 1e6)
    pairing = BagPairing()
    store = typestore(project_messages=False)
    with open_bag(bag) as reader:
        images = [c for c in reader.connections if c.msgtype == IMAGE]
        pairs = topic_pairs(sorted({c.topic for c in images}), requested, where=bag)
        wanted = {t for p in pairs for t in (p.colour, p.depth)}
        conns = [c for c in images if c.topic in wanted]
        stamps: dict[str, list[int]] = {t: [] for t in wanted}
        sizes: dict[str, tuple[int, int]] = {}
        total = sum(c.msgcount for c in conns)
        for conn, _, raw in tqdm(reader.messages(connections=conns), total=total, unit="msg", desc="pair stamps",
                                 disable=not progress):  # fmt: skip
            msg = store.deserialize_cdr(raw, conn.msgtype)
            stamp = stamp_ns(msg.header)
            if stamp in stamps[conn.topic]:
                pairing.unreadable[(conn.topic, "a second frame with the same stamp")] += 1
                continue
            stamps[conn.topic].append(stamp)
            sizes.setdefault(conn.topic, (int(msg.width), int(msg.height)))
        matched: dict[str, set[int]] = {}  # depth topic -> its paired stamps
        keep: dict[str, dict[int, str]] = {}  # colour topic -> colour stamp -> depth file
        for pair in pairs:
            _check_grids(pair, sizes, bag)
            c, d = stamps[pair.colour], stamps[pair.depth]
            found = match_stamps(c, d, tolerance_ns)
            pairing.frames[pair.colour], pairing.frames[pair.depth] = len(c), len(d)
            pairing.paired[pair.colour] = pairing.paired[pair.depth] = len(found)
            pairing.unpaired[pair.colour], pairing.unpaired[pair.depth] = len(c) - len(found), len(d) - len(found)
            if c and d and not found:
                gaps = np.abs(np.subtract.outer(np.asarray(c[:200]), np.asarray(d[:200]))).min(axis=1)
                raise DepthPoseError(f"{bag}: no frame of {pair.colour} has a frame of {pair.depth} within "
                                     f"{tolerance_ms:g} ms (median nearest gap {np.median(gaps) / 1e6:.1f} ms): the "
                                     "streams are not synchronised; raise --tolerance-ms if the driver stamps "
                                     "them that far apart")  # fmt: skip
            matched[pair.depth] = {d[j] for _, j in found}
            keep[pair.colour] = {c[i]: _depth_name(pair.depth, d[j]) for i, j in found}
        tried: set[str] = set()
        written: set[str] = set()
        depth_conns = [c for c in conns if c.topic in matched]
        for conn, _, raw in tqdm(reader.messages(connections=depth_conns), total=sum(c.msgcount for c in depth_conns),
                                 unit="frame", desc="write depth", disable=not progress):  # fmt: skip
            msg = store.deserialize_cdr(raw, conn.msgtype)
            stamp = stamp_ns(msg.header)
            name = _depth_name(conn.topic, stamp)
            if stamp not in matched[conn.topic] or name in tried:
                continue
            tried.add(name)
            try:
                depth = _depth_mm(msg)
            except InputError as err:
                pairing.unreadable[(conn.topic, str(err))] += 1
                continue
            path = out_root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(path), depth):
                raise DepthPoseError(f"could not write {path}")
            written.add(name)
        frames = list(_colour_frames(reader, store, [c for c in conns if c.topic in keep], keep, written, pairing))
    return frames, pairing


def _colour_frames(reader: Any, store: Any, conns: list[Any], keep: dict[str, dict[int, str]], depth_files: set[str],
                   pairing: BagPairing) -> Iterator[tuple[ColourFrame, str]]:  # fmt: skip
    """The paired colour frames whose depth frame was written (``depth_files``), decoded to RGB."""
    seen: set[tuple[str, int]] = set()
    for conn, _, raw in reader.messages(connections=conns):
        msg = store.deserialize_cdr(raw, conn.msgtype)
        stamp = stamp_ns(msg.header)
        depth_name = keep[conn.topic].get(stamp)
        if depth_name is None or (conn.topic, stamp) in seen:
            continue
        seen.add((conn.topic, stamp))
        try:
            pixels = image_to_rgb(msg)
        except InputError as err:
            pairing.unreadable[(conn.topic, str(err))] += 1
            continue
        if depth_name in depth_files:  # its depth frame was readable
            yield ColourFrame(None, f"{conn.topic}@{stamp}", pixels), depth_name


def _depth_name(topic: str, stamp: int) -> str:
    return f"depth{topic}/{stamp}.png"


def _check_grids(pair: TopicPair, sizes: dict[str, tuple[int, int]], bag: object) -> None:
    if pair.colour not in sizes or pair.depth not in sizes:
        return
    (cw, ch), (dw, dh) = sizes[pair.colour], sizes[pair.depth]
    if cw * dh != ch * dw:
        raise DepthPoseError(f"{bag}: colour topic {pair.colour} is {cw}x{ch} but depth topic {pair.depth} is "
                             f"{dw}x{dh}: not the same pixel grid; record the depth aligned to colour")  # fmt: skip
