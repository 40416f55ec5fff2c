"""Overlays carry no more than the low resolution."""

from __future__ import annotations

import numpy as np

from depthpose_core.skeleton import Skeleton
from depthpose_core.viz import draw_overlay


def _blocks_constant(image: np.ndarray, scale: int) -> np.ndarray:
    h, w = image.shape[0] // scale, image.shape[1] // scale
    blocks = image.reshape(h, scale, w, scale, 3)
    return (blocks == blocks[:, :1, :, :1]).all(axis=(1, 3, 4))


def test_overlay_is_the_low_resolution_image_enlarged() -> None:
    lowres = np.random.default_rng(0).random((48, 64)).astype(np.float32)
    image = draw_overlay(lowres, [], scale=8)
    assert image.shape == (384, 512, 3) and image.dtype == np.uint8
    assert _blocks_constant(image, 8).all()


def test_skeletons_are_drawn_in_their_own_frame() -> None:
    lowres = np.zeros((48, 64), np.float32)
    kps = np.full((18, 2), np.nan)
    kps[1] = (320.0, 100.0)  # neck, in a 640x480 frame
    kps[2] = (280.0, 110.0)  # right shoulder
    person = Skeleton(kps, np.where(np.isnan(kps[:, 0]), 0.0, 0.9), 5.0, (640, 480))
    image = draw_overlay(lowres, [person], scale=8)
    drawn = ~_blocks_constant(image, 8)
    ys, xs = np.nonzero(drawn)
    # 640x480 -> 512x384 is x0.8: the limb spans x 224..256, y 80..88 -> low-res blocks 28..32, 10..11
    assert 26 <= xs.min() and xs.max() <= 33 and 8 <= ys.min() and ys.max() <= 12
