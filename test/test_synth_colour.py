"""Registered colour frames of the synthetic world: the same pixel grid as depth, clothes and skin where the id and
part buffers say, and colour that changes nothing of the depth frames and labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest

from depthpose_core.bags import open_bag, select_topics, typestore
from depthpose_core.messages import image_to_rgb, stamp_ns
from depthpose_core.synth import Appearance, MVORGeometry, World, WorldParams, render_frame, shade
from depthpose_core.synth.colour import clinician_material


def _chroma(rgb: np.ndarray) -> np.ndarray:
    """Linear-light chromaticity (r, g) / (r + g + b): independent of the shading's brightness."""
    lin = (np.asarray(rgb, np.float64) / 255.0) ** 2.2
    return lin[..., :2] / np.maximum(lin.sum(axis=-1, keepdims=True), 1e-6)


def _albedo_chroma(albedo: np.ndarray) -> np.ndarray:
    """The chromaticity of a linear-RGB albedo under the light's tint (pass ``albedo * tint``)."""
    return albedo[:2] / albedo.sum()


def test_colour_is_registered_to_the_depth_pixel_grid(mvor_geometry: MVORGeometry) -> None:
    world = World(mvor_geometry, 7, WorldParams(min_people=3, max_people=3))
    appearance = Appearance.draw(world, np.random.default_rng(0))
    frame = render_frame(world, mvor_geometry.cameras[0], 3.0, np.random.default_rng(1))
    colour = shade(frame, appearance, np.random.default_rng(2))
    assert colour.shape == frame.depth.shape + (3,) and colour.dtype == np.uint8
    # The chromaticity each clinician pixel should have: its own part's albedo (not the head: its cap is chosen
    # per pixel), on each part's inside (one pixel in from its border, where the lens blur mixes neighbours).
    expected = np.full(frame.depth.shape + (2,), np.nan)
    for ident, outfit in appearance.outfits.items():
        for part in range(1, 18):
            mask = (frame.ids == ident) & (frame.parts == part)
            mask = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            expected[mask] = _albedo_chroma(clinician_material(outfit, part) * appearance.tint)
    region = np.isfinite(expected[..., 0])
    assert region.sum() > 2000

    def agreement(image: np.ndarray) -> float:
        smooth = cv2.blur(image, (3, 3))  # averages the sensor noise, which dark albedos make large in chromaticity
        return float((np.abs(_chroma(smooth[region]) - expected[region]).max(axis=1) < 0.03).mean())

    exact = agreement(colour)
    assert exact > 0.9
    # The clothes sit on the depth frame's people to the pixel: a colour frame shifted by 2 pixels agrees less.
    for shift in ((0, 2), (2, 0)):
        assert agreement(np.roll(colour, shift, axis=(0, 1))) < exact - 0.05


def test_the_cap_covers_the_top_of_the_head_and_the_face_stays_skin(mvor_geometry: MVORGeometry) -> None:
    world = World(mvor_geometry, 7, WorldParams(min_people=3, max_people=3))
    appearance = Appearance.draw(world, np.random.default_rng(0))
    frame = render_frame(world, mvor_geometry.cameras[0], 3.0, np.random.default_rng(1))
    colour = shade(frame, appearance, np.random.default_rng(2))
    for ident, outfit in appearance.outfits.items():
        head = (frame.ids == ident) & (frame.parts == 0)
        if head.sum() < 100:
            continue
        chroma = _chroma(cv2.blur(colour, (3, 3))[head])
        near_cap = np.abs(chroma - _albedo_chroma(outfit.cap * appearance.tint)).max(axis=1) < 0.03
        near_skin = np.abs(chroma - _albedo_chroma(outfit.skin * appearance.tint)).max(axis=1) < 0.03
        assert near_cap.mean() > 0.2 and (near_cap | near_skin).mean() > 0.8  # seen from the ceiling: mostly cap


def test_colour_changes_nothing_of_depth_and_labels(synth_dataset: Callable[..., Path]) -> None:
    fields = {"sequences": 2, "frames": 2, "cameras": (1, 3), "seed": 4}
    plain, coloured = synth_dataset(**fields), synth_dataset(**fields, colour=True)
    a = json.loads((plain / "annotations.json").read_text())
    b = json.loads((coloured / "annotations.json").read_text())
    assert a["annotations"] == b["annotations"]
    for img_a, img_b in zip(a["images"], b["images"]):
        assert img_b["colour_file"] == img_a["file_name"].replace("/depth/", "/color/")
        assert {k: v for k, v in img_b.items() if k != "colour_file"} == img_a
        depth_a = cv2.imread(str(plain / img_a["file_name"]), cv2.IMREAD_UNCHANGED)
        depth_b = cv2.imread(str(coloured / img_b["file_name"]), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(depth_a, depth_b)
        rgb = cv2.imread(str(coloured / img_b["colour_file"]), cv2.IMREAD_COLOR)
        assert rgb.shape == (img_b["height"], img_b["width"], 3)
    assert not any((plain / "seq000" / "cam1").glob("color"))


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_a_colour_bag_is_laid_out_like_an_rgbd_driver(synth_dataset: Callable[..., Path], storage: str) -> None:
    out = synth_dataset(sequences=1, frames=3, cameras=(1, 2), seed=6, colour=True, bag=storage)
    labels = json.loads((out / "annotations.json").read_text())
    store = typestore(project_messages=False)
    with open_bag(out / "bags" / "seq000") as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        assert topics == {
            f"/cam{c}/{kind}/{name}": msgtype for c in (1, 2) for kind in ("depth", "color")
            for name, msgtype in (("image_raw", "sensor_msgs/msg/Image"), ("camera_info", "sensor_msgs/msg/CameraInfo"))
        }  # fmt: skip
        stamps: dict[str, list[int]] = {t: [] for t in topics}
        for conn, bag_time, raw in reader.messages():
            msg = store.deserialize_cdr(raw, conn.msgtype)
            stamps[conn.topic].append(stamp_ns(msg.header))
            assert stamp_ns(msg.header) == bag_time
            if conn.topic.endswith("color/image_raw"):
                assert msg.encoding == "rgb8" and msg.header.frame_id == f"cam{conn.topic[4]}_depth_optical_frame"
                cam, index = int(conn.topic[4]), len(stamps[conn.topic]) - 1
                image = next(i for i in labels["images"] if i["cam_id"] == cam and i["frame_index"] == index)
                png = cv2.imread(str(out / image["colour_file"]), cv2.IMREAD_COLOR)[:, :, ::-1]
                np.testing.assert_array_equal(image_to_rgb(msg), png)  # the bag's colour is the PNG's
        assert len({tuple(v) for v in stamps.values()}) == 1  # every stream stamped in sync
        # Offline replay takes the depth streams only.
        images, infos = select_topics(reader, None, "bag")
        assert sorted(c.topic for c in images) == ["/cam1/depth/image_raw", "/cam2/depth/image_raw"]
        assert sorted(c.topic for c in infos) == ["/cam1/depth/camera_info", "/cam2/depth/camera_info"]
