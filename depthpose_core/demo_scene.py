"""A small procedural depth frame of an operating room, made by the project itself for the demo and tests.

It paints a 640x480 ceiling-camera view in image space: floor and back wall, an operating table with a lying
patient, a monitor cart and standing clinicians as thick limbs at plausible depths, plus sensor effects
(depth-dependent noise, 1 mm quantisation, missing pixels at depth edges). It is a stand-in for the full
synthetic world (3D geometry from the real MVOR cameras) that replaces it.
"""

from __future__ import annotations

import cv2
import numpy as np

from depthpose_core.keypoints import LIMBS, NUM_JOINTS

__all__ = ["FRAME_SIZE", "make_demo_frame"]

#: (width, height) of the generated frame in pixels.
FRAME_SIZE = (640, 480)

# A standing person seen from a ceiling camera, network joint order, in units of body height, relative to the
# point between the feet: (x, y) in image directions. Nose, neck, R sho/elb/wri, L sho/elb/wri, R hip/knee/ankle,
# L hip/knee/ankle, R/L eye, R/L ear ("right" is the person's right, on the image's left for a person facing us).
_TEMPLATE = np.array([
    (0.00, -0.93), (0.00, -0.82), (-0.11, -0.81), (-0.15, -0.64), (-0.12, -0.48), (0.11, -0.81), (0.15, -0.64),
    (0.12, -0.48), (-0.07, -0.50), (-0.07, -0.26), (-0.07, 0.00), (0.07, -0.50), (0.07, -0.26), (0.07, 0.00),
    (-0.02, -0.95), (0.02, -0.95), (-0.045, -0.94), (0.045, -0.94),
])  # fmt: skip
# Limbs drawn as thick segments (trunk-to-hip, legs, shoulders, arms, neck); the face is the head disc.
_BODY_LIMBS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 14)
# Fraction of body height above the floor for each joint (drives depth: the camera looks down).
_HEIGHT = np.array([0.93, 0.82, 0.81, 0.64, 0.48, 0.81, 0.64, 0.48, 0.5, 0.26, 0.0, 0.5, 0.26, 0.0,
                    0.95, 0.95, 0.94, 0.94])  # fmt: skip


def _floor_depth(v: np.ndarray | float) -> np.ndarray | float:
    """Floor depth in mm at image row v: farther towards the top of the image."""
    return 2600.0 + 3.2 * (480.0 - np.asarray(v, dtype=np.float64))


def _paint(depth: np.ndarray, mask: np.ndarray, value: float | np.ndarray) -> None:
    """Z-buffered paint: keep the nearer of the existing depth and ``value`` where ``mask`` is set."""
    np.minimum(depth, np.where(mask, value, np.inf), out=depth)


def _person(rng: np.random.Generator, x_feet: float, y_feet: float) -> np.ndarray:
    """(18, 3) joints x, y (frame pixels) and height above floor (mm) of one standing clinician."""
    height_px = rng.uniform(230, 300) * (0.75 + 0.25 * y_feet / 480)
    pose = _TEMPLATE.copy()
    pose[[3, 4, 6, 7], 0] += rng.uniform(-0.12, 0.12, 4)  # arms
    pose[[4, 7], 1] += rng.uniform(-0.15, 0.05, 2)
    xy = np.array([x_feet, y_feet]) + pose * height_px
    return np.column_stack([xy, _HEIGHT * rng.uniform(1650, 1900)])


def make_demo_frame(seed: int = 0, num_people: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Render one depth frame.

    Args:
        seed: random seed; the same seed gives the same frame.
        num_people: standing clinicians to place (1-4).

    Returns:
        (depth, people): depth is (480, 640) uint16 in millimetres with 0 = no reading; people is (N, 18, 3)
        float64 x, y in frame pixels (pixel centres at +0.5) and a flag (1 = visible in the frame, 0 = outside).
    """
    if not 1 <= num_people <= 4:
        raise ValueError(f"num_people must be 1-4, got {num_people}")
    rng = np.random.default_rng(seed)
    w, h = FRAME_SIZE
    rows = np.arange(h, dtype=np.float64)[:, None]
    depth = np.broadcast_to(_floor_depth(rows), (h, w)).copy()
    depth[: int(h * 0.12)] = 5200.0  # back wall

    table = np.zeros((h, w), np.uint8)
    cv2.rectangle(table, (220, 190), (430, 300), 1, -1)
    _paint(depth, table > 0, _floor_depth(rows) - 950.0)
    patient = np.zeros((h, w), np.uint8)
    cv2.ellipse(patient, (325, 245), (95, 30), 0, 0, 360, 1, -1)
    _paint(depth, patient > 0, _floor_depth(rows) - 1180.0)
    cart = np.zeros((h, w), np.uint8)
    cv2.rectangle(cart, (520, 120), (600, 230), 1, -1)
    _paint(depth, cart > 0, _floor_depth(rows) - 1400.0)

    slots = rng.permutation([120.0, 250.0, 400.0, 540.0])[:num_people]
    people = np.zeros((num_people, NUM_JOINTS, 3))
    for i, x in enumerate(slots):
        y_feet = rng.uniform(380, 465)
        joints = _person(rng, x + rng.uniform(-25, 25), y_feet)
        floor = float(_floor_depth(y_feet))
        canvas = np.full((h, w), np.inf)
        for a, b in (LIMBS[k] for k in _BODY_LIMBS):
            layer = np.zeros((h, w), np.uint8)
            thick = 22 if a in (1, 8, 11) else 14
            cv2.line(layer, tuple(np.round(joints[a, :2]).astype(int)), tuple(np.round(joints[b, :2]).astype(int)),
                     1, thick)  # fmt: skip
            _paint(canvas, layer > 0, floor - 0.5 * (joints[a, 2] + joints[b, 2]))
        torso = np.round(joints[[2, 5, 11, 8], :2]).astype(np.int32)
        layer = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(layer, torso, 1)
        _paint(canvas, layer > 0, floor - joints[1, 2] * 0.85)
        layer = np.zeros((h, w), np.uint8)
        cv2.circle(layer, tuple(np.round(joints[0, :2]).astype(int)), 15, 1, -1)
        _paint(canvas, layer > 0, floor - joints[0, 2])
        np.minimum(depth, canvas, out=depth)
        inside = (joints[:, 0] >= 0) & (joints[:, 0] < w) & (joints[:, 1] >= 0) & (joints[:, 1] < h)
        people[i] = np.column_stack([joints[:, :2] + 0.5, inside.astype(np.float64)])

    noise = rng.normal(0.0, 1.0, (h, w)) * (1.5e-6 * depth**2)  # ~1 cm at 2.6 m, growing with distance squared
    edges = cv2.Canny(np.clip(depth / 20.0, 0, 255).astype(np.uint8), 20, 60) > 0
    edges = cv2.dilate(edges.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    dropout = rng.random((h, w)) < 0.01
    out = np.round(depth + noise)
    out[edges | dropout] = 0
    return np.clip(out, 0, 65535).astype(np.uint16), people
