"""A z-buffer ray caster for the synthetic world's primitives: room box, oriented boxes, capsules.

Every primitive is intersected only with the rays of the pixels its projected bounding box covers, so the cost
follows the screen area of the scene's objects, not their count times the frame. Depth is the camera-frame z of
the nearest hit, in mm (float32); a second buffer holds the id of what was hit (0 = room), a third which part of
it (the capsule's index in its group; -1 for boxes and the room).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.synth.camera import Camera

__all__ = ["Box", "Capsules", "RenderResult", "aabb_corners", "render", "screen_box"]

_NEAR = 50.0  # mm: primitives closer than this to the camera plane get the full frame as their screen box


@dataclass(frozen=True)
class Box:
    """An oriented box: ``centre`` (3,), ``axes`` 3x3 (columns = the box's unit axes), ``half`` (3,) half sizes,
    all in room mm; ``id`` is written to the id buffer."""

    centre: np.ndarray
    axes: np.ndarray
    half: np.ndarray
    id: int


@dataclass(frozen=True)
class Capsules:
    """Capsules ``(K, 7)`` = end a (3), end b (3), radius, in room mm, sharing one ``id``."""

    segments: np.ndarray
    id: int


@dataclass(frozen=True)
class RenderResult:
    """``depth`` (h, w) float32 mm (camera z; inf where nothing was hit), ``ids`` (h, w) int16 and ``parts`` (h, w)
    int16 (the hit capsule's index in its group, -1 for boxes and the room)."""

    depth: np.ndarray
    ids: np.ndarray
    parts: np.ndarray


def screen_box(camera: Camera, corners_cam: np.ndarray) -> tuple[int, int, int, int] | None:
    """Pixel rectangle (x0, y0, x1, y1), end exclusive, covering camera-frame points, or None if off screen."""
    z = corners_cam[:, 2]
    if (z <= 0).all():
        return None
    if (z < _NEAR).any():
        return 0, 0, camera.width, camera.height
    u = camera.fx * corners_cam[:, 0] / z + camera.cx
    v = camera.fy * corners_cam[:, 1] / z + camera.cy
    x0, x1 = max(int(np.floor(u.min())), 0), min(int(np.ceil(u.max())) + 1, camera.width)
    y0, y1 = max(int(np.floor(v.min())), 0), min(int(np.ceil(v.max())) + 1, camera.height)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def aabb_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The 8 corners ``(8, 3)`` of the axis-aligned box ``[lo, hi]``."""
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


class _Target:
    """The depth and id buffers with the camera's per-pixel rays."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.depth = np.full((camera.height, camera.width), np.inf, dtype=np.float32)
        self.ids = np.zeros((camera.height, camera.width), dtype=np.int16)
        self.parts = np.full((camera.height, camera.width), -1, dtype=np.int16)
        self.dx, self.dy = camera.rays()

    def write(self, rect: tuple[int, int, int, int], t: np.ndarray, ident: int, part: int = -1) -> None:
        x0, y0, x1, y1 = rect
        depth, ids, parts = self.depth[y0:y1, x0:x1], self.ids[y0:y1, x0:x1], self.parts[y0:y1, x0:x1]
        nearer = t < depth
        depth[nearer] = t[nearer]
        ids[nearer] = ident
        parts[nearer] = part


def _room(target: _Target, camera: Camera, lo: np.ndarray, hi: np.ndarray) -> None:
    """The inside of the room box ``[lo, hi]`` (room mm): the farthest-away walls, floor and ceiling."""
    m = camera.room_to_cam
    dx, dy = target.dx[None, :], target.dy[:, None]
    t_exit = np.full(target.depth.shape, np.inf, dtype=np.float64)
    cam_in_room = camera.centre
    for axis in range(3):
        # Room axis direction in camera coordinates, and each ray's component along it.
        a = m[:3, axis]
        along = a[0] * dx + a[1] * dy + a[2]
        for bound in (lo[axis], hi[axis]):
            t = (bound - cam_in_room[axis]) / np.where(np.abs(along) > 1e-12, along, 1e-12)
            t_exit = np.where(t > 0, np.minimum(t_exit, t), t_exit)
    target.write((0, 0, camera.width, camera.height), t_exit.astype(np.float32), 0)


def _box(target: _Target, camera: Camera, box: Box) -> None:
    m = camera.room_to_cam
    axes_cam = m[:3, :3] @ box.axes  # columns: box axes in camera coordinates
    centre_cam = m[:3, :3] @ box.centre + m[:3, 3]
    corners = centre_cam + (aabb_corners(-box.half, box.half) @ axes_cam.T)
    rect = screen_box(camera, corners)
    if rect is None:
        return
    x0, y0, x1, y1 = rect
    dx, dy = target.dx[None, x0:x1], target.dy[y0:y1, None]
    t_near = np.full((y1 - y0, x1 - x0), -np.inf)
    t_far = np.full((y1 - y0, x1 - x0), np.inf)
    origin = -(axes_cam.T @ centre_cam)  # camera origin in box coordinates
    for k in range(3):
        a = axes_cam[:, k]
        d = a[0] * dx + a[1] * dy + a[2]
        d = np.where(np.abs(d) > 1e-12, d, 1e-12)
        t1, t2 = (-box.half[k] - origin[k]) / d, (box.half[k] - origin[k]) / d
        t_near = np.maximum(t_near, np.minimum(t1, t2))
        t_far = np.minimum(t_far, np.maximum(t1, t2))
    hit = (t_far >= t_near) & (t_near > 0)
    target.write(rect, np.where(hit, t_near, np.inf).astype(np.float32), box.id)


def _capsule(target: _Target, camera: Camera, a: np.ndarray, b: np.ndarray, radius: float, ident: int,
             part: int) -> None:  # fmt: skip
    """One capsule with camera-frame ends ``a``, ``b`` (a == b: a sphere), the ``part``-th of its group."""
    lo, hi = np.minimum(a, b) - radius, np.maximum(a, b) + radius
    rect = screen_box(camera, aabb_corners(lo, hi))
    if rect is None:
        return
    x0, y0, x1, y1 = rect
    dx, dy = target.dx[None, x0:x1], target.dy[y0:y1, None]
    dd = dx * dx + dy * dy + 1.0
    best = np.full((y1 - y0, x1 - x0), np.inf)
    for centre in (a, b) if np.any(a != b) else (a,):
        # Sphere |t d - c|^2 = r^2.
        half_b = -(dx * centre[0] + dy * centre[1] + centre[2])
        c = centre @ centre - radius * radius
        h = half_b * half_b - dd * c
        t = (-half_b - np.sqrt(np.maximum(h, 0.0))) / dd
        best = np.where((h >= 0) & (t > 0) & (t < best), t, best)
    ba = b - a
    baba = ba @ ba
    if baba > 1e-9:
        oa = -a
        bard = ba[0] * dx + ba[1] * dy + ba[2]
        rdoa = oa[0] * dx + oa[1] * dy + oa[2]
        baoa, oaoa = ba @ oa, oa @ oa
        qa = baba * dd - bard * bard
        qb = baba * rdoa - baoa * bard
        qc = baba * oaoa - baoa * baoa - radius * radius * baba
        h = qb * qb - qa * qc
        safe_qa = np.where(np.abs(qa) > 1e-12, qa, 1e-12)
        t = (-qb - np.sqrt(np.maximum(h, 0.0))) / safe_qa
        y = baoa + t * bard
        ok = (h >= 0) & (np.abs(qa) > 1e-12) & (t > 0) & (y > 0) & (y < baba)
        best = np.where(ok & (t < best), t, best)
    target.write(rect, best.astype(np.float32), ident, part)


def render(
    camera: Camera, room: tuple[np.ndarray, np.ndarray], boxes: list[Box], capsules: list[Capsules]
) -> RenderResult:
    """Render the clean depth of a scene.

    Args:
        camera: the camera.
        room: ``(lo, hi)`` corners of the room box, room mm (the camera must be inside).
        boxes: oriented boxes.
        capsules: capsule groups (one per person or object).
    """
    target = _Target(camera)
    _room(target, camera, *room)
    for box in boxes:
        _box(target, camera, box)
    m = camera.room_to_cam
    for group in capsules:
        seg = group.segments
        ends_a = seg[:, :3] @ m[:3, :3].T + m[:3, 3]
        ends_b = seg[:, 3:6] @ m[:3, :3].T + m[:3, 3]
        for part, (a, b, r) in enumerate(zip(ends_a, ends_b, seg[:, 6])):
            _capsule(target, camera, a, b, float(r), group.id, part)
    return RenderResult(target.depth, target.ids, target.parts)
