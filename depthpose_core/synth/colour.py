"""Colour frames registered to the synthetic depth frames: the same camera and pixel grid (as MVOR's colour and
depth frames are), shaded from the clean z-buffer.

A pixel's colour is the albedo of what it shows (room surfaces, equipment, drape, skin, scrubs, cap, gloves,
trousers, shoes) times ambient plus diffuse light from the ceiling lamps, with fabric texture and sensor noise,
encoded as 8-bit sRGB. The appearance (each clinician's clothes and skin, the room's and equipment's colours, the
lighting) is drawn once per sequence, so people keep their clothes from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from depthpose_core.synth.body import FLOOR_Z
from depthpose_core.synth.frames import SynthFrame
from depthpose_core.synth.world import EQUIPMENT_ID, PATIENT_ID, World

__all__ = ["Appearance", "Outfit", "clinician_material", "shade"]

# Linear-RGB albedos (0-1). Scrubs and gowns: the blues, greens, teal and wine of OR clothing.
_SCRUBS = np.array([[0.10, 0.25, 0.45], [0.12, 0.38, 0.30], [0.08, 0.32, 0.38], [0.06, 0.10, 0.25],
                    [0.30, 0.45, 0.55], [0.30, 0.10, 0.14], [0.35, 0.50, 0.40]])  # fmt: skip
_SKIN = np.array([[0.62, 0.42, 0.32], [0.50, 0.32, 0.22], [0.35, 0.20, 0.13], [0.20, 0.11, 0.07],
                  [0.70, 0.50, 0.40]])  # fmt: skip
_CAPS = np.array([[0.10, 0.25, 0.45], [0.12, 0.38, 0.30], [0.60, 0.60, 0.62], [0.40, 0.15, 0.35],
                  [0.08, 0.32, 0.38]])  # fmt: skip
_GLOVES = np.array([[0.60, 0.58, 0.50], [0.15, 0.30, 0.55], [0.50, 0.40, 0.30]])
_SHOES = np.array([[0.70, 0.70, 0.70], [0.05, 0.05, 0.05], [0.10, 0.20, 0.45], [0.50, 0.10, 0.10]])
_EQUIPMENT = np.array([[0.70, 0.70, 0.68], [0.40, 0.42, 0.45], [0.15, 0.15, 0.16], [0.55, 0.55, 0.50],
                       [0.60, 0.62, 0.65], [0.25, 0.35, 0.45]])  # fmt: skip
_DRAPES = np.array([[0.10, 0.25, 0.45], [0.12, 0.38, 0.30], [0.08, 0.30, 0.35]])
_FLOORS = np.array([[0.30, 0.32, 0.30], [0.18, 0.28, 0.24], [0.40, 0.38, 0.34]])
_WALLS = np.array([[0.65, 0.68, 0.66], [0.45, 0.58, 0.55], [0.60, 0.60, 0.52]])

# Clinician parts (``body.make_body``'s capsule order): 0 head, 1 neck, 2 shoulders, 3 pelvis, then per side
# (left 4-10, right 11-17) torso, upper arm, forearm, hand, thigh, shin, foot.
_SIDE = ("torso", "upper_arm", "forearm", "hand", "thigh", "shin", "foot")
_PART_NAMES = ("head", "neck", "shoulders", "pelvis", *_SIDE, *_SIDE)
_CAP_NORMAL_Z = 0.3  # head surface whose room-frame normal points up more than this is covered by the cap


@dataclass(frozen=True)
class Outfit:
    """What one clinician wears (linear-RGB albedos) and whether the sleeves reach the wrists (a gown)."""

    skin: np.ndarray
    top: np.ndarray
    trousers: np.ndarray
    cap: np.ndarray
    gloves: np.ndarray
    shoes: np.ndarray
    long_sleeves: bool


def clinician_material(outfit: Outfit, part: int) -> np.ndarray:
    """Albedo of part ``part`` (index in the body's capsules) of a clinician; the head is skin (the cap is decided
    per pixel by :func:`shade`)."""
    name = _PART_NAMES[part]
    if name in ("head", "neck"):
        return outfit.skin
    if name == "forearm":
        return outfit.top if outfit.long_sleeves else outfit.skin
    if name == "hand":
        return outfit.gloves
    if name in ("thigh", "shin"):
        return outfit.trousers
    if name == "foot":
        return outfit.shoes
    return outfit.top


@dataclass(frozen=True)
class Appearance:
    """The colours and light of one sequence.

    Attributes:
        outfits: per clinician id.
        objects: per equipment id (the table included) its albedo; the patient's skin and drape.
        floor, wall, ceiling: the room's albedos.
        light: unit vector towards the ceiling lamps (room frame, z up); ``ambient``, ``diffuse`` their strengths;
            ``tint`` the light's colour (linear RGB multiplier).
        noise: standard deviation of the sensor noise, in 8-bit steps.
    """

    outfits: dict[int, Outfit]
    objects: dict[int, np.ndarray]
    patient_skin: np.ndarray
    drape: np.ndarray
    floor: np.ndarray
    wall: np.ndarray
    ceiling: np.ndarray
    light: np.ndarray
    ambient: float
    diffuse: float
    tint: np.ndarray
    noise: float

    @classmethod
    def draw(cls, world: World, rng: np.random.Generator) -> Appearance:
        """A random appearance for ``world``'s clinicians, equipment and room."""

        def pick(palette: np.ndarray) -> np.ndarray:
            return np.clip(palette[rng.integers(len(palette))] * rng.uniform(0.85, 1.15, 3), 0.0, 1.0)

        outfits = {}
        for actor in world.actors:
            top = pick(_SCRUBS)
            trousers = top if rng.random() < 0.8 else pick(_SCRUBS)
            outfits[actor.id] = Outfit(pick(_SKIN), top, trousers, pick(_CAPS), pick(_GLOVES), pick(_SHOES),
                                       bool(rng.random() < 0.3))  # fmt: skip
        ids = sorted(({b.id for b in world.boxes} | {c.id for c in world.static_capsules}) - {PATIENT_ID})
        objects = {i: np.array([0.08, 0.08, 0.09]) if i == EQUIPMENT_ID else pick(_EQUIPMENT) for i in ids}
        theta = rng.uniform(0.0, 2 * np.pi)
        tilt = rng.uniform(0.0, 0.5)
        light = np.array([np.sin(tilt) * np.cos(theta), np.sin(tilt) * np.sin(theta), np.cos(tilt)])
        return cls(outfits, objects, pick(_SKIN), pick(_DRAPES), pick(_FLOORS), pick(_WALLS),
                   np.array([0.85, 0.85, 0.85]), light, float(rng.uniform(0.25, 0.45)), float(rng.uniform(0.6, 1.0)),
                   rng.uniform(0.9, 1.1, 3), float(rng.uniform(1.0, 3.0)))  # fmt: skip


def _normals(points: np.ndarray) -> np.ndarray:
    """Unit surface normals ``(h, w, 3)`` of camera-frame points ``(h, w, 3)`` facing the camera, from the
    smaller of the two one-sided differences along each axis (so that depth edges do not bend them)."""
    def along(axis: int) -> np.ndarray:
        fwd = np.diff(points, axis=axis, append=np.take(points, [-1], axis=axis))
        back = np.diff(points, axis=axis, prepend=np.take(points, [0], axis=axis))
        use_fwd = np.abs(fwd[..., 2]) < np.abs(back[..., 2])
        return np.where(use_fwd[..., None], fwd, back)

    n = np.cross(along(1), along(0))
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
    facing = (n * points).sum(axis=-1) > 0  # pointing away from the camera: flip
    n[facing] *= -1.0
    return n


def shade(frame: SynthFrame, appearance: Appearance, rng: np.random.Generator) -> np.ndarray:
    """The colour frame ``(h, w, 3)`` uint8 RGB of ``frame``, registered to its depth pixel grid.

    Uses the frame's clean z-buffer (mm), id and part buffers and camera; ``rng`` draws the texture and noise.
    """
    cam = frame.camera
    dx, dy = cam.rays()
    z = np.where(np.isfinite(frame.clean), frame.clean, 20_000.0).astype(np.float64)
    points = np.stack([dx[None, :] * z, dy[:, None] * z, z], axis=-1)
    rot = cam.cam_to_room[:3, :3]
    normals = _normals(points) @ rot.T  # room frame
    room_z = points @ rot[2] + cam.cam_to_room[2, 3]
    a = appearance
    albedo = np.empty(z.shape + (3,))
    # The room: floor, ceiling, walls by height.
    albedo[:] = a.wall
    albedo[room_z < FLOOR_Z + 30.0] = a.floor
    albedo[room_z > room_z.max() - 30.0] = a.ceiling
    ids, parts = frame.ids, frame.parts
    for ident, colour in a.objects.items():
        albedo[ids == ident] = colour
    patient = ids == PATIENT_ID
    albedo[patient] = a.drape
    albedo[patient & (parts == 0)] = a.patient_skin  # the head out of the drape
    for ident, outfit in a.outfits.items():
        mine = ids == ident
        if not mine.any():
            continue
        for part in np.unique(parts[mine]):
            albedo[mine & (parts == part)] = clinician_material(outfit, int(part))
        albedo[mine & (parts == 0) & (normals[..., 2] > _CAP_NORMAL_Z)] = outfit.cap
    texture = 1.0 + rng.normal(0.0, 0.04, z.shape)[..., None]
    light = a.ambient + a.diffuse * np.clip(normals @ a.light, 0.0, None)
    exposure = 1.0 / ((a.ambient + a.diffuse) * a.tint.max())  # a fully lit white surface just reaches 1: no clipping
    linear = albedo * texture * light[..., None] * a.tint * exposure
    linear = cv2.GaussianBlur(linear.astype(np.float32), (0, 0), 0.6)  # the lens: no aliased stair steps
    srgb = 255.0 * np.clip(linear, 0.0, 1.0) ** (1 / 2.2) + rng.normal(0.0, a.noise, linear.shape)
    return np.clip(np.round(srgb), 0, 255).astype(np.uint8)
