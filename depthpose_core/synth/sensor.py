"""Structured-light depth sensor effects on a clean z-buffer (MVOR was recorded with such RGB-D cameras).

In order: Gaussian noise whose standard deviation grows with the square of the depth (Khoshelham & Elberink,
2012: about 1.4 mm at 1 m, 23 mm at 4 m); quantisation of the disparity (the sensor measures disparity in 1/8
pixel steps, so depth steps also grow with the square of the depth); missing readings beyond the range, on
surfaces seen at grazing angles, in the projector's shadow (a one-sided band beside each object, as wide as the
disparity step between the object and what lies behind it), along depth edges (mixed pixels), plus sparse random
dropouts; finally rounding to whole millimetres, 0 = no reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.synth.camera import Camera

__all__ = ["SensorModel", "apply_sensor", "projector_shadow"]


@dataclass(frozen=True)
class SensorModel:
    """Parameters of :func:`apply_sensor` (millimetres, pixels).

    Attributes:
        noise_k: noise standard deviation = ``noise_k * z**2`` (mm, z in mm).
        focal_baseline: focal length (px) x projector-camera baseline (mm): disparity in px = focal_baseline / z,
            for the quantisation and the projector's shadow.
        projector_side: +1 = the projector sits towards the image's +u (right) of the camera, -1 = left, 0 = no
            projector shadow; the shadow falls on the side away from the projector (a Kinect v1's emitter is at
            its camera's +u: shadows left of objects).
        disparity_step: disparity quantisation step, px.
        min_range, max_range: readings outside [min, max] mm are missing.
        far_dropout_start: beyond this depth (mm) a reading is missing with a probability rising linearly to 0.5
            at ``max_range``.
        grazing_cos: surfaces whose normal makes cos(angle) below this with the viewing ray are missing with
            a probability rising to 1 at grazing incidence.
        edge_jump: a depth step larger than ``edge_jump + edge_jump_rel * z`` between neighbours marks an edge.
        edge_dropout: probability that a pixel next to an edge is missing.
        random_dropout: probability of a random missing pixel anywhere.
    """

    noise_k: float = 1.42e-6
    focal_baseline: float = 540.0 * 75.0
    disparity_step: float = 0.125
    projector_side: int = 1
    min_range: float = 400.0
    max_range: float = 8000.0
    far_dropout_start: float = 5000.0
    grazing_cos: float = 0.25
    edge_jump: float = 60.0
    edge_jump_rel: float = 0.02
    edge_dropout: float = 0.6
    random_dropout: float = 0.003


def _normals_cos(depth: np.ndarray, dx: np.ndarray, dy: np.ndarray, fx: float, fy: float) -> np.ndarray:
    """|cos| of the angle between the surface normal and the viewing ray, per pixel, from depth gradients.

    For points ``P = z r`` with ray ``r = (dx, dy, 1)``, the normal ``dP/du x dP/dv`` is parallel to
    ``m = (-fx z_u, -fy z_v, fx dx z_u + fy dy z_v + z)`` with ``m . r = z``, so ``cos = z / (|m| |r|)``.
    """
    zu = np.zeros_like(depth)
    zv = np.zeros_like(depth)
    zu[:, 1:-1] = (depth[:, 2:] - depth[:, :-2]) * 0.5
    zv[1:-1] = (depth[2:] - depth[:-2]) * 0.5
    a, b = dx[None, :].astype(depth.dtype), dy[:, None].astype(depth.dtype)
    mx, my = fx * zu, fy * zv
    mz = a * mx + b * my + depth
    norm_m = np.sqrt(mx * mx + my * my + mz * mz)
    norm_r = np.sqrt(a * a + b * b + 1.0)
    return np.abs(depth) / np.maximum(norm_m * norm_r, 1e-6)


def projector_shadow(depth: np.ndarray, focal_baseline: float, side: int, margin_px: float = 0.5) -> np.ndarray:
    """Pixels the projector cannot light: another surface in the same row lies between them and the projector.

    A point at column u and depth z meets the projector's image row at ``u - side * focal_baseline / z`` (px);
    the projector lights, per projector column, only the nearest surface, so a pixel is in shadow when a pixel
    on the projector's side of it reaches the projector at or beyond its own column (``margin_px`` of slack
    keeps slanted surfaces lit).

    Args:
        depth: ``(h, w)`` depth, mm (0 or inf = nothing: such pixels cast no shadow and get none).
        focal_baseline: focal length (px) x projector-camera baseline (mm).
        side: +1 projector towards +u, -1 towards -u.

    Returns:
        ``(h, w)`` bool, True = in the projector's shadow.
    """
    if side < 0:  # the mirror image, whose projector lies towards +u
        return projector_shadow(depth[:, ::-1], focal_baseline, 1, margin_px)[:, ::-1]
    valid = np.isfinite(depth) & (depth > 0)
    columns = np.arange(depth.shape[1], dtype=np.float32)[None, :]
    at = np.where(valid, columns - np.float32(focal_baseline) / np.where(valid, depth, 1.0), np.inf)
    # The smallest projector column reached by any pixel strictly to the right.
    right = np.minimum.accumulate(at[:, :0:-1], axis=1)[:, ::-1]
    return valid & np.concatenate([right <= at[:, :-1] - margin_px, np.zeros((len(at), 1), bool)], axis=1)


def apply_sensor(
    depth: np.ndarray, camera: Camera, rng: np.random.Generator, model: SensorModel | None = None
) -> np.ndarray:
    """Turn a clean z-buffer into a sensor frame.

    Args:
        depth: ``(h, w)`` clean depth of ``camera``, mm (inf = nothing).
        camera: the camera that rendered it (rays and focal lengths for the surface angles).
        rng: random generator (the frame is deterministic for a given state).
        model: sensor parameters; None = :class:`SensorModel` defaults.

    Returns:
        ``(h, w)`` uint16 depth in mm, 0 = no reading.
    """
    m = model or SensorModel()
    finite = np.isfinite(depth)
    z = np.where(finite, depth, 0.0).astype(np.float32)
    noisy = z + rng.standard_normal(z.shape, dtype=np.float32) * (np.float32(m.noise_k) * z * z)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.float32(m.disparity_step)
        disparity = np.round(np.float32(m.focal_baseline) / noisy / step) * step
        measured = np.float32(m.focal_baseline) / disparity
    missing = ~finite | (z < m.min_range) | (z > m.max_range) | ~np.isfinite(measured)
    if m.projector_side:
        missing |= projector_shadow(z, m.focal_baseline, m.projector_side)
    keep = np.clip((z - m.far_dropout_start) / (m.max_range - m.far_dropout_start), 0.0, 1.0) * np.float32(-0.5) + 1
    cos = _normals_cos(z, *camera.rays(), camera.fx, camera.fy)
    keep *= 1.0 - np.clip(1.0 - cos / np.float32(m.grazing_cos), 0.0, 1.0)
    local_max, local_min = z.copy(), z.copy()
    for a, b in ((np.s_[:, 1:], np.s_[:, :-1]), (np.s_[:, :-1], np.s_[:, 1:]), (np.s_[1:], np.s_[:-1]),
                 (np.s_[:-1], np.s_[1:])):  # fmt: skip
        np.maximum(local_max[a], z[b], out=local_max[a])
        np.minimum(local_min[a], z[b], out=local_min[a])
    edge = (local_max - local_min) > (m.edge_jump + m.edge_jump_rel * z)
    keep *= np.where(edge, np.float32(1.0 - m.edge_dropout), np.float32(1.0)) * np.float32(1.0 - m.random_dropout)
    missing |= rng.random(z.shape, dtype=np.float32) >= keep
    out = np.where(missing, 0.0, np.round(measured))
    return np.clip(out, 0, 65535).astype(np.uint16)
