"""Synthetic frames: the world rendered by one camera at one time, sensor effects applied, people labelled.

Labels per person: the 18 network joints and MVOR's head point projected to the frame (continuous pixel
coordinates, centres at +0.5) with COCO visibility flags: 2 = visible, 1 = inside the frame but hidden (by
something else or by the person's own body, decided by the depth test against the clean z-buffer), 0 = outside
the frame or behind the camera (coordinates 0); the 18 joints' exact 3D positions in the camera's optical frame;
the box of the person's visible pixels; whether only the box is usable (``only_bbox``: too little of the person
is labelled, or the person is the unlabelled patient).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.keypoints import NET_FROM_MVOR10
from depthpose_core.synth.body import Body
from depthpose_core.synth.camera import Camera
from depthpose_core.synth.render import Box, Capsules, render
from depthpose_core.synth.sensor import SensorModel, apply_sensor
from depthpose_core.synth.world import PATIENT_ID, World

__all__ = ["VISIBILITY_TOLERANCE_MM", "PersonLabel", "SynthFrame", "render_frame", "render_scene"]

#: A joint counts as visible when the clean z-buffer at its pixel is no nearer than the joint's depth minus the
#: depth of the joint under the body surface minus this tolerance (mm).
VISIBILITY_TOLERANCE_MM = 30.0
# A person is keypoint-labelled (only_bbox 0) with at least this many labelled MVOR-10 joints and visible pixels.
_MIN_LABELLED_JOINTS = 3
_MIN_PIXELS = 150


@dataclass(frozen=True)
class PersonLabel:
    """Ground truth of one person in one frame.

    Attributes:
        person_id: stable id of the person over a sequence (the patient: ``world.PATIENT_ID``).
        keypoints: ``(18, 3)`` network joints: x, y (pixels, centres at +0.5) and visibility 0/1/2.
        head: ``(3,)`` MVOR's head point, same convention.
        bbox: ``(x, y, w, h)`` of the person's visible pixels, pixels.
        num_pixels: visible pixels of the person.
        only_bbox: True when the keypoints are not to be used (see module docstring).
        role: ``"clinician"`` or ``"patient"``.
        joints_cam: ``(18, 3)`` the network joints' centres in the camera's optical frame (x right, y down, z
            forward; mm), whatever their visibility (the patient: NaN, it has no joints).
    """

    person_id: int
    keypoints: np.ndarray
    head: np.ndarray
    bbox: tuple[float, float, float, float]
    num_pixels: int
    only_bbox: bool
    role: str
    joints_cam: np.ndarray

    def mvor10(self) -> np.ndarray:
        """``(10, 3)`` MVOR-10 keypoints (head = MVOR's head point); missing = (0, 0, 0)."""
        return np.vstack([self.head[None], self.keypoints[list(NET_FROM_MVOR10)]])


@dataclass(frozen=True)
class SynthFrame:
    """``depth`` (h, w) uint16 mm (0 = no reading), the ``clean`` float32 z-buffer (mm, inf = nothing), the id and
    part buffers (``render.RenderResult``), the people's labels, the camera and the time ``t`` (s)."""

    depth: np.ndarray
    clean: np.ndarray
    ids: np.ndarray
    parts: np.ndarray
    people: list[PersonLabel]
    camera: Camera
    t: float


def _label_points(points: np.ndarray, radius: np.ndarray, camera: Camera, clean: np.ndarray) -> np.ndarray:
    """``(n, 3)`` room points -> ``(n, 3)`` x, y, visibility against the clean z-buffer."""
    uv, z = camera.project(points)
    col, row = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    inside = (z > 0) & (col >= 0) & (col < camera.width) & (row >= 0) & (row < camera.height)
    out = np.zeros((len(points), 3))
    surface = clean[np.clip(row, 0, camera.height - 1), np.clip(col, 0, camera.width - 1)]
    visible = surface >= z - radius - VISIBILITY_TOLERANCE_MM
    out[inside, :2] = uv[inside]
    out[inside, 2] = np.where(visible[inside], 2.0, 1.0)
    return out


def _box(ids: np.ndarray, ident: int) -> tuple[tuple[float, float, float, float], int]:
    rows, cols = np.nonzero(ids == ident)
    if len(rows) == 0:
        return (0.0, 0.0, 0.0, 0.0), 0
    x0, y0 = float(cols.min()), float(rows.min())
    return (x0, y0, float(cols.max()) + 1.0 - x0, float(rows.max()) + 1.0 - y0), len(rows)


def render_scene(camera: Camera, room: tuple[np.ndarray, np.ndarray], boxes: list[Box], objects: list[Capsules],
                 bodies: list[tuple[int, Body]], rng: np.random.Generator, sensor: SensorModel | None = None,
                 t: float = 0.0) -> SynthFrame:  # fmt: skip
    """Render a scene and label its clinicians (``bodies``: ``(id, body)``; objects with ``world.PATIENT_ID``
    are labelled as the unlabelled patient)."""
    groups = list(objects) + [Capsules(body.capsules, ident) for ident, body in bodies]
    result = render(camera, room, boxes, groups)
    depth = apply_sensor(result.depth, camera, rng, sensor)
    people = []
    for ident, body in bodies:
        bbox, pixels = _box(result.ids, ident)
        if pixels == 0:
            continue
        keypoints = _label_points(body.joints, body.joint_radius, camera, result.depth)
        head = _label_points(body.head[None], np.array([body.capsules[0, 6]]), camera, result.depth)[0]
        mvor_labelled = int(head[2] > 0) + int((keypoints[list(NET_FROM_MVOR10), 2] > 0).sum())
        only_bbox = mvor_labelled < _MIN_LABELLED_JOINTS or pixels < _MIN_PIXELS
        people.append(PersonLabel(ident, keypoints, head, bbox, pixels, only_bbox, "clinician",
                                  camera.to_camera(body.joints)))
    bbox, pixels = _box(result.ids, PATIENT_ID)
    if pixels:
        people.append(PersonLabel(PATIENT_ID, np.zeros((18, 3)), np.zeros(3), bbox, pixels, True, "patient",
                                  np.full((18, 3), np.nan)))
    return SynthFrame(depth, result.depth, result.ids, result.parts, people, camera, t)


def render_frame(world: World, camera: Camera, t: float, rng: np.random.Generator,
                 sensor: SensorModel | None = None) -> SynthFrame:  # fmt: skip
    """Render ``world`` at time ``t`` (s) through ``camera``, with sensor effects drawn from ``rng``."""
    return render_scene(camera, world.room, world.boxes, world.static_capsules, world.bodies(t), rng, sensor, t)
