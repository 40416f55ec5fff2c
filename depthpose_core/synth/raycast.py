"""Depth and id buffers of triangle meshes, ray cast with NVIDIA Warp's BVH (``wp.Mesh``, ``wp.mesh_query_ray``).

Two layers: the static one (room, table, patient, equipment) is one BVH, cast once per camera and kept; each
moving part (a posed person) has its own BVH, moved with :meth:`MeshScene.update` (vertices replaced, BVH
refitted: the topology never changes) and cast only within the screen rectangle of its bounding box, against
the static depth. Rays leave the camera centre through every pixel with camera-frame z = 1, so the hit distance
Warp reports is the camera-frame depth z itself (mm), the quantity a depth sensor measures. Runs on the CPU
(Warp's CPU backend, one band of rows per thread) or on a CUDA device.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from depthpose_core.errors import ConfigError
from depthpose_core.synth.camera import Camera
from depthpose_core.synth.render import Box, Capsules, RenderResult, aabb_corners, screen_box

__all__ = ["MeshPart", "MeshScene", "load_warp", "primitive_parts"]


@dataclass(frozen=True)
class MeshPart:
    """One object: ``vertices`` ``(n, 3)`` room mm, ``faces`` ``(m, 3)`` vertex indices (counter-clockwise or
    not: both sides are hit), ``id`` written to the id buffer where it is the nearest surface."""

    vertices: np.ndarray
    faces: np.ndarray
    id: int


def primitive_parts(room: tuple[np.ndarray, np.ndarray], boxes: Sequence[Box], capsules: Sequence[Capsules],
                    capsule_segments: int = 12) -> list[MeshPart]:  # fmt: skip
    """The analytic renderer's primitives as triangle meshes (trimesh's box and capsule): the room box (id 0),
    oriented boxes, and capsule groups (``capsule_segments`` around each capsule; spheres where a == b)."""
    import trimesh

    lo, hi = room
    room_mesh = trimesh.creation.box(bounds=np.stack([lo, hi]))
    parts = [MeshPart(np.asarray(room_mesh.vertices), np.asarray(room_mesh.faces), 0)]
    for box in boxes:
        pose = np.eye(4)
        pose[:3, :3], pose[:3, 3] = box.axes, box.centre
        mesh = trimesh.creation.box(extents=2.0 * np.asarray(box.half), transform=pose)
        parts.append(MeshPart(np.asarray(mesh.vertices), np.asarray(mesh.faces), box.id))
    for group in capsules:
        verts, faces, n = [], [], 0
        for seg in group.segments:
            a, b, radius = seg[:3], seg[3:6], float(seg[6])
            length = float(np.linalg.norm(b - a))
            if length < 1e-6:
                mesh = trimesh.creation.icosphere(subdivisions=2, radius=radius)
                mesh.apply_translation(a)
            else:
                mesh = trimesh.creation.capsule(height=length, radius=radius, count=[capsule_segments] * 2)
                pose = trimesh.geometry.align_vectors([0.0, 0.0, 1.0], (b - a) / length)
                pose[:3, 3] = (a + b) / 2
                mesh.apply_transform(pose)
            verts.append(np.asarray(mesh.vertices))
            faces.append(np.asarray(mesh.faces) + n)
            n += len(mesh.vertices)
        parts.append(MeshPart(np.concatenate(verts), np.concatenate(faces), group.id))
    return parts


def load_warp() -> Any:
    """The ``warp`` module, initialised without its start-up banner (warnings stay)."""
    try:
        import warp as wp
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ConfigError("the mesh renderer needs NVIDIA Warp: pip install 'depthpose[synth]'") from err
    wp.config.log_level = wp.LOG_WARNING
    wp.init()
    return wp


@cache
def _kernels() -> tuple[Any, Any]:
    """The ray casting kernels (compiled by Warp once, then cached on disk by Warp): ``cast`` finds each pixel's
    nearest face of one mesh; ``nearer`` overwrites a pixel with another mesh's face where that is nearer."""
    wp = load_warp()

    @wp.kernel
    def cast(mesh: wp.uint64, origin: wp.vec3, rot: wp.mat33, dx: wp.array(dtype=wp.float32),  # type: ignore
             dy: wp.array(dtype=wp.float32), max_t: wp.float32, col0: wp.int32, row0: wp.int32,  # type: ignore
             depth: wp.array2d(dtype=wp.float32), face: wp.array2d(dtype=wp.int32)) -> None:  # type: ignore  # fmt: skip
        r, c = wp.tid()
        i = r + row0
        j = c + col0
        hit = wp.mesh_query_ray(mesh, origin, rot * wp.vec3(dx[j], dy[i], 1.0), max_t)
        if hit.result:
            depth[i, j] = hit.t
            face[i, j] = hit.face
        else:
            depth[i, j] = wp.inf
            face[i, j] = -1

    @wp.kernel
    def nearer(mesh: wp.uint64, face0: wp.int32, origin: wp.vec3, rot: wp.mat33,  # type: ignore
               dx: wp.array(dtype=wp.float32), dy: wp.array(dtype=wp.float32), max_t: wp.float32,  # type: ignore
               col0: wp.int32, row0: wp.int32, depth: wp.array2d(dtype=wp.float32),  # type: ignore
               face: wp.array2d(dtype=wp.int32)) -> None:  # type: ignore  # fmt: skip
        r, c = wp.tid()
        i = r + row0
        j = c + col0
        t = depth[i, j]
        hit = wp.mesh_query_ray(mesh, origin, rot * wp.vec3(dx[j], dy[i], 1.0), wp.min(t, max_t))
        if hit.result and hit.t < t:
            depth[i, j] = hit.t
            face[i, j] = hit.face + face0

    return cast, nearer


class _Layer:
    """Parts concatenated into one Warp mesh (one BVH)."""

    def __init__(self, wp: Any, parts: Sequence[MeshPart], device: str) -> None:
        self.offsets, faces, face_ids, start = [], [], [], 0
        for part in parts:
            v, f = np.asarray(part.vertices), np.asarray(part.faces)
            if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
                raise ConfigError(f"mesh part {part.id}: vertices must be (n, 3) and faces (m, 3), got "
                                  f"{v.shape} and {f.shape}")  # fmt: skip
            if len(f) and (f.min() < 0 or f.max() >= len(v)):
                raise ConfigError(f"mesh part {part.id}: face indices outside its {len(v)} vertices")
            self.offsets.append((start, start + len(v)))
            faces.append(f.astype(np.int32) + start)
            face_ids.append(np.full(len(f), part.id, dtype=np.int16))
            start += len(v)
        self.num_faces = sum(len(f) for f in faces)
        self.face_ids = np.concatenate(face_ids) if face_ids else np.zeros(0, np.int16)
        self.mesh: Any = None
        if self.num_faces:
            points = np.concatenate([np.asarray(p.vertices, dtype=np.float32) for p in parts])
            _check(points, "the scene")
            self.bounds = (points.min(axis=0), points.max(axis=0))
            self.points = wp.array(points, dtype=wp.vec3, device=device)
            self.mesh = wp.Mesh(points=self.points, indices=wp.array(np.concatenate(faces).reshape(-1),
                                                                      dtype=wp.int32, device=device))  # fmt: skip


def _check(points: np.ndarray, what: str) -> None:
    if not np.isfinite(points).all():
        raise ConfigError(f"{what} has non-finite vertices")


class MeshScene:
    """Triangle meshes ready to be ray cast: a static layer (room, furniture) and moving parts (people).

    Args:
        static: the parts that never move (at least one face in all).
        moving: the parts that :meth:`update` moves, indexed in this order.
        device: Warp device, "cpu" or "cuda:N".
        max_depth_mm: rays end here (farther surfaces are not hit).
        threads: CPU threads that cast rays (default: the CPUs this process may use).

    Raises:
        ConfigError: no static faces, a moving part without faces, face indices outside their part's vertices,
            or non-finite vertices.
    """

    def __init__(self, static: Sequence[MeshPart], moving: Sequence[MeshPart] = (), device: str = "cpu",
                 max_depth_mm: float = 20_000.0, threads: int | None = None) -> None:  # fmt: skip
        wp = load_warp()
        self._wp, self.device, self.max_depth_mm = wp, device, float(max_depth_mm)
        self.threads = max(1, threads if threads is not None else len(os.sched_getaffinity(0)))
        self._static = _Layer(wp, static, device)
        if not self._static.num_faces:
            raise ConfigError("a mesh scene needs at least one static face")
        self._moving = [_Layer(wp, [part], device) for part in moving]  # one BVH each: cast within its screen box
        if any(layer.mesh is None for layer in self._moving):
            raise ConfigError("every moving mesh part needs at least one face")
        face0 = np.cumsum([self._static.num_faces] + [layer.num_faces for layer in self._moving])
        self._face0 = [int(f) for f in face0[:-1]]
        _kernels()
        wp.load_module(sys.modules[__name__], device=device)  # compiled once here, not by each casting thread
        self._static_cache: dict[bytes, tuple[Any, Any]] = {}  # per camera: the static layer's depth and faces
        # Face index -> id; the last entry (index -1: no hit) is 0, the room's id.
        self._face_ids = np.concatenate([self._static.face_ids, *(m.face_ids for m in self._moving),
                                         np.zeros(1, np.int16)])  # fmt: skip

    def update(self, moves: Mapping[int, np.ndarray]) -> None:
        """Move moving parts: ``{index: vertices}`` (each the count it was built with; room mm); their BVHs are
        refitted."""
        for index, vertices in moves.items():
            layer = self._moving[index]
            lo, hi = layer.offsets[0]
            v = np.asarray(vertices, dtype=np.float32)
            if v.shape != (hi - lo, 3):
                raise ConfigError(f"mesh part {index} has {hi - lo} vertices, got an array of shape {v.shape}")
            _check(v, f"mesh part {index}")
            layer.points.assign(v)
            layer.bounds = (v.min(axis=0), v.max(axis=0))
            layer.mesh.refit()

    def _launch(self, kernel: Any, rect: tuple[int, int, int, int], inputs: list[Any],
                outputs: list[Any]) -> None:  # fmt: skip
        """``kernel`` over the pixel rectangle ``(x0, y0, x1, y1)``: on the CPU one band of rows per thread
        (Warp's CPU kernels run on one thread each and release the interpreter lock); on a GPU one launch."""
        wp = self._wp
        x0, y0, x1, y1 = rect

        def band(row0: int, row1: int) -> None:
            wp.launch(kernel, dim=(row1 - row0, x1 - x0), device=self.device, inputs=[*inputs, x0, row0, *outputs])

        edges = np.linspace(y0, y1, min(self.threads if self.device == "cpu" else 1, y1 - y0) + 1).astype(int)
        workers = [threading.Thread(target=band, args=(int(a), int(b))) for a, b in zip(edges[:-1], edges[1:])]
        for t in workers[1:]:
            t.start()
        band(int(edges[0]), int(edges[1]))
        for t in workers[1:]:
            t.join()

    def render(self, camera: Camera) -> RenderResult:
        """Depth (camera z, mm, float32; inf where nothing is hit), ids (int16, 0 where nothing is hit), parts -1.

        The static layer is cast once per camera (cached); each call casts every moving part against it, within
        the screen rectangle of its bounding box."""
        wp = self._wp
        dx, dy = camera.rays()
        h, w = camera.height, camera.width
        rot = camera.cam_to_room[:3, :3].astype(np.float32)
        rays = [wp.vec3(*camera.centre.astype(np.float32)), wp.mat33(*rot.reshape(-1)),
                wp.array(np.asarray(dx, np.float32), dtype=wp.float32, device=self.device),
                wp.array(np.asarray(dy, np.float32), dtype=wp.float32, device=self.device), self.max_depth_mm]
        cast, nearer = _kernels()
        key = np.concatenate([camera.cam_to_room.ravel(), [camera.fx, camera.fy, camera.cx, camera.cy, w, h]]).tobytes()
        if key not in self._static_cache:
            base = (wp.empty((h, w), dtype=wp.float32, device=self.device),
                    wp.empty((h, w), dtype=wp.int32, device=self.device))  # fmt: skip
            self._launch(cast, (0, 0, w, h), [self._static.mesh.id, *rays], list(base))
            self._static_cache[key] = base
        depth, face = (wp.clone(a) for a in self._static_cache[key])
        for layer, face0 in zip(self._moving, self._face0):
            rect = screen_box(camera, camera.to_camera(aabb_corners(*layer.bounds)))
            if rect is not None:
                self._launch(nearer, rect, [layer.mesh.id, face0, *rays], [depth, face])
        ids = self._face_ids[face.numpy()]
        return RenderResult(depth.numpy(), ids, np.full(ids.shape, -1, np.int16))  # meshes: no part index
