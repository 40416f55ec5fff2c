"""Joint peaks: the reference search on upsampled heatmaps and the fast search on the network's own maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.decode.bicubic import max_gain, window_weights

__all__ = ["Peaks", "cap_peaks", "frame_peaks", "lowres_peaks"]

# 5x5 refinement window of the reference search, row-major.
_REFINE_DY, _REFINE_DX = (g.ravel() for g in np.mgrid[-2:3, -2:3])
# Fast mode keeps one peak per joint within this many pixels (Chebyshev), the reach of the 5x5 refinement.
_MERGE_RADIUS = 2
# 3x3 neighbourhood of one hill-climbing step, row-major.
_STEP_DY, _STEP_DX = (g.ravel() for g in np.mgrid[-1:2, -1:2])


@dataclass(frozen=True)
class Peaks:
    """Joint peaks in sensor-frame pixels; a peak's id is its index in these arrays.

    Peaks are sorted by joint, then row-major (reference mode: by the position of the pixel that nominated them).

    Attributes:
        joint: ``(P,)`` int64 joint channel (network order).
        x: ``(P,)`` int64 pixel column in the frame.
        y: ``(P,)`` int64 pixel row in the frame.
        score: ``(P,)`` float64 heatmap value at the peak.
        starts: ``(num_joints + 1,)`` int64; joint ``j`` owns ids ``starts[j]:starts[j + 1]``.
    """

    joint: np.ndarray
    x: np.ndarray
    y: np.ndarray
    score: np.ndarray
    starts: np.ndarray

    @classmethod
    def from_sorted(
        cls, joint: np.ndarray, x: np.ndarray, y: np.ndarray, score: np.ndarray, num_joints: int
    ) -> Peaks:
        """Wrap arrays already sorted by joint (then row-major) and index the joint groups."""
        joint = joint.astype(np.int64)
        starts = np.searchsorted(joint, np.arange(num_joints + 1))
        return cls(joint, x.astype(np.int64), y.astype(np.int64), score.astype(np.float64), starts)


def frame_peaks(heat_up: np.ndarray, num_joints: int, threshold: float) -> Peaks:
    """The reference peak search on heatmaps upsampled to the frame.

    A pixel of channel ``j < num_joints`` is a candidate if its value is ``> threshold`` and ``>=`` each of its
    in-frame 4-neighbours; a candidate moves to the first maximum (row-major) of the 5x5 window around it, clipped
    at the frame, and takes that pixel's value as its score. Candidates are kept one to one (twins stay twins).

    Args:
        heat_up: ``(H, W, C)`` float32 heatmaps at frame resolution, channel last (``C >= num_joints``).
        num_joints: channels searched (the background channel comes after them and is skipped).
        threshold: peak threshold (heatmap units); compared in the maps' dtype.

    Returns:
        The peaks, sorted by joint then by candidate position (row-major).
    """
    height, width, channels = heat_up.shape
    flat = heat_up.reshape(-1)
    above = heat_up[:, :, :num_joints] > heat_up.dtype.type(threshold)
    pixel, joint = np.divmod(np.flatnonzero(above.reshape(-1)), num_joints)
    idx = pixel * channels + joint  # flat (H, W, C) index
    value = flat[idx]
    y, x = np.divmod(pixel, width)
    # One direction at a time, so that the candidate set shrinks (most candidates fail left or right).
    for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        coord, size, step = (x, width, dx) if dx else (y, height, dy)
        inside = coord > 0 if step < 0 else coord < size - 1
        neighbour = np.where(inside, idx + (dy * width + dx) * channels, idx)
        keep = value >= flat[neighbour]
        idx, joint, value, x, y = idx[keep], joint[keep], value[keep], x[keep], y[keep]
    order = np.argsort((joint * height + y) * width + x, kind="stable")
    joint, y, x = joint[order], y[order], x[order]

    wy = y[:, None] + _REFINE_DY
    wx = x[:, None] + _REFINE_DX
    inside = (wy >= 0) & (wy < height) & (wx >= 0) & (wx < width)
    cells = (np.clip(wy, 0, height - 1) * width + np.clip(wx, 0, width - 1)) * channels + joint[:, None]
    window = np.where(inside, flat[cells], -np.inf)
    best = np.argmax(window, axis=1)
    score = window[np.arange(len(best)), best]
    return Peaks.from_sorted(joint, x + _REFINE_DX[best], y + _REFINE_DY[best], score, num_joints)


def _highest_per_joint(joint: np.ndarray, value: np.ndarray, max_per_joint: int) -> tuple[np.ndarray, int]:
    """Indices (ascending) of at most ``max_per_joint`` entries per joint, the highest ``value`` first (the first
    in the given order on a tie), and the number of joints that had more; ``joint`` is sorted."""
    counts = np.bincount(joint)
    capped = int((counts > max_per_joint).sum())
    if not capped:
        return np.arange(len(joint)), 0
    by_value = np.lexsort((-value, joint))  # per joint, highest first (stable)
    rank = np.arange(len(joint)) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.sort(by_value[rank < max_per_joint]), capped


def cap_peaks(peaks: Peaks, max_per_joint: int) -> tuple[Peaks, int]:
    """At most ``max_per_joint`` peaks per joint, the highest (ties: the earlier id), in their order; and the
    number of joints that had more (0: ``peaks`` unchanged)."""
    kept, capped = _highest_per_joint(peaks.joint, peaks.score, max_per_joint)
    if not capped:
        return peaks, 0
    num_joints = len(peaks.starts) - 1
    return Peaks.from_sorted(peaks.joint[kept], peaks.x[kept], peaks.y[kept], peaks.score[kept], num_joints), capped


def _nominate(heat: np.ndarray, threshold: float, max_per_joint: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Cells of ``(J, h, w)`` maps whose value is ``> threshold`` and ``>=`` each in-map 4-neighbour; at most
    ``max_per_joint`` per joint (the highest; the first in row-major order on a tie).

    Returns:
        ``(joint, row, column)`` int64 arrays, in (joint, row-major) order, and the number of joints capped.
    """
    _, h, w = heat.shape
    flat = heat.reshape(-1)
    idx = np.flatnonzero(flat > threshold)
    value = flat[idx]
    joint, cell = np.divmod(idx, h * w)
    cy, cx = np.divmod(cell, w)
    last = flat.size - 1  # out-of-map neighbours are masked; the clip only keeps their indices valid
    ok = ((cx == 0) | (value >= flat[idx - 1])) & ((cx == w - 1) | (value >= flat[np.minimum(idx + 1, last)]))
    ok &= ((cy == 0) | (value >= flat[idx - w])) & ((cy == h - 1) | (value >= flat[np.minimum(idx + w, last)]))
    joint, cy, cx, value = joint[ok], cy[ok], cx[ok], value[ok]
    kept, capped = _highest_per_joint(joint, value, max_per_joint)
    return joint[kept], cy[kept], cx[kept], capped


def _separable(matrix: np.ndarray, patch: np.ndarray) -> np.ndarray:
    """``matrix @ patch[i] @ matrix.T`` for every ``(t, t)`` patch of ``(n, t, t)``, as two large products.

    Returns:
        ``(n, m, m)`` float64 for an ``(m, t)`` matrix.
    """
    n, t, _ = patch.shape
    m = matrix.shape[0]
    rows = (matrix @ patch.transpose(1, 0, 2).reshape(t, n * t)).reshape(m * n, t)  # (m, n, t): rows done
    return (rows @ matrix.T).reshape(m, n, m).transpose(1, 0, 2)


def _climb(model: np.ndarray, iy: np.ndarray, ix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hill-climb in ``(n, m, m)`` windows from ``(iy, ix)``: 8-neighbour steps to the highest strictly higher
    pixel (first in row-major order) until none is higher.

    Returns:
        The end rows, columns and values.
    """
    size = model.shape[1]
    iy, ix = iy.copy(), ix.copy()
    current = model[np.arange(len(iy)), iy, ix]
    moving = np.arange(len(iy))
    while len(moving):
        ny = np.minimum(np.maximum(iy[moving, None] + _STEP_DY, 0), size - 1)
        nx = np.minimum(np.maximum(ix[moving, None] + _STEP_DX, 0), size - 1)
        around = model[moving[:, None], ny, nx]
        rank = np.arange(len(moving))
        best = np.argmax(around, axis=1)
        value = around[rank, best]
        higher = value > current[moving]
        rank, best, moving = rank[higher], best[higher], moving[higher]
        iy[moving], ix[moving], current[moving] = ny[rank, best], nx[rank, best], value[higher]
    return iy, ix, current


def _merge_nearby(joint: np.ndarray, x: np.ndarray, y: np.ndarray, score: np.ndarray, height: int) -> np.ndarray:
    """Bool mask keeping, among peaks of one joint within ``_MERGE_RADIUS`` pixels (Chebyshev) of each other, the
    highest (the first given on a tie). Peaks must be sorted by joint, then row."""
    r = _MERGE_RADIUS
    key = joint * (height + 2 * r) + y  # rows of different joints never come within r of each other
    lo = np.searchsorted(key, key - r, side="left")
    count = np.searchsorted(key, key + r, side="right") - lo
    i = np.repeat(np.arange(len(key)), count)
    j = lo[i] + np.arange(len(i)) - np.repeat(np.cumsum(count) - count, count)
    beaten = (np.abs(x[i] - x[j]) <= r) & ((score[j] > score[i]) | ((score[j] == score[i]) & (j < i)))
    keep = np.ones(len(key), dtype=bool)
    keep[i[beaten]] = False
    return keep


def lowres_peaks(heat: np.ndarray, stride: int, threshold: float, max_per_joint: int) -> tuple[Peaks, int]:
    """The fast peak search: nominate on the low-resolution maps, refine on the bicubic model near each nominee.

    1. A cell is nominated if it is ``>=`` its in-map 4-neighbours and ``> threshold / max_gain(stride)``: the
       bicubic model never exceeds ``max_gain`` times its largest tap, so no bump that would pass ``threshold``
       after upsampling is screened out. At most ``max_per_joint`` cells per joint (the highest) go on.
    2. The model is evaluated on the nominee's own cell (``stride`` x ``stride`` pixels). Its best pixel is the
       end point if it lies inside the cell; on the cell's edge, a hill climb (8-neighbour steps to the highest
       strictly higher pixel) continues from it on the in-frame pixels within one cell of the nominee's centre
       (source coordinate within +-1 cell). A climb that ends on the edge of that window inside the frame is heading
       for another cell's bump and is dropped; one that ends on the frame edge is kept.
    3. The end pixel is the peak (integer pixels, no sub-pixel step) if its value is ``> threshold``; of the peaks
       of one joint within 2 pixels of each other (Chebyshev; plateaus, nominees sharing a bump) only the highest
       stays (the first in row-major order on a tie).

    The search never looks at the frame's outer half cell unless a nominee's own bump leads there, so bicubic
    overshoot at the border does not create spurious peaks (unlike :func:`frame_peaks`).

    Args:
        heat: ``(J, h, w)`` joint heatmaps at the network's resolution (float32 or float64).
        stride: frame pixels per map cell (the frame is ``w * stride`` x ``h * stride``).
        threshold: peak threshold (heatmap units) on the upsampled model.
        max_per_joint: nominee cap per joint.

    Returns:
        The peaks, sorted by joint then row-major, and the number of joints whose nominees were capped.
    """
    num_joints, h, w = heat.shape
    height, width = h * stride, w * stride
    joint, cy, cx, capped = _nominate(heat, threshold / max_gain(stride), max_per_joint)

    offsets, taps, matrix = window_weights(stride)
    rows = np.minimum(np.maximum(cy[:, None] + taps, 0), h - 1)
    cols = np.minimum(np.maximum(cx[:, None] + taps, 0), w - 1)
    flat_rows = (joint[:, None] * h + rows) * w
    patch = np.take(heat, flat_rows[:, :, None] + cols[:, None, :]).astype(np.float64)
    # The model on the nominee's own cell (always inside the frame) first.
    own = int(np.searchsorted(offsets, 0))
    cell_model = _separable(matrix[own : own + stride], patch).reshape(len(joint), stride * stride)
    best = np.argmax(cell_model, axis=1)
    value = cell_model[np.arange(len(joint)), best]
    iy, ix = np.divmod(best, stride)
    iy += own
    ix += own
    # A best pixel inside the cell is a local maximum; one on the cell's edge may have a higher neighbour outside:
    # climb from there on the whole window.
    climbers = np.flatnonzero((iy == own) | (iy == own + stride - 1) | (ix == own) | (ix == own + stride - 1))
    model = _separable(matrix, patch[climbers])  # (c, m, m): window rows x columns
    py, px = cy[climbers, None] * stride + offsets, cx[climbers, None] * stride + offsets
    outside = ((py < 0) | (py >= height))[:, :, None] | ((px < 0) | (px >= width))[:, None, :]
    model[outside] = -np.inf
    iy[climbers], ix[climbers], value[climbers] = _climb(model, iy[climbers], ix[climbers])

    ry, rx = cy * stride + offsets[iy], cx * stride + offsets[ix]
    size = len(offsets)
    on_window_edge = (
        ((iy == 0) & (ry > 0))
        | ((iy == size - 1) & (ry < height - 1))
        | ((ix == 0) & (rx > 0))
        | ((ix == size - 1) & (rx < width - 1))
    )
    keep = ~on_window_edge & (value > threshold)
    joint, rx, ry, value = joint[keep], rx[keep], ry[keep], value[keep]
    order = np.argsort((joint * height + ry) * width + rx, kind="stable")
    joint, rx, ry, value = joint[order], rx[order], ry[order], value[order]
    first = _merge_nearby(joint, rx, ry, value, height)
    return Peaks.from_sorted(joint[first], rx[first], ry[first], value[first], num_joints), capped
