"""The bicubic upsampling model of the decoder (OpenCV ``INTER_CUBIC`` semantics), evaluated sparsely.

A low-resolution map of ``n`` cells is upsampled by an integer stride ``s`` to ``n * s`` frame pixels. Frame pixel
``p`` (0-based; its centre is at frame coordinate ``p + 0.5``) samples the map at cell coordinate
``u = (p + 0.5) / s - 0.5`` (cell ``c``'s centre is at ``u = c``) with the Keys cubic kernel (a = -0.75) on the
taps ``floor(u) - 1 .. floor(u) + 2``, indices clipped to the map (replicated border). Both axes are separable.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["KEYS_A", "PixelSampler", "cubic_weights", "max_gain", "window_weights"]

#: Keys kernel parameter of OpenCV's (and torch's) bicubic interpolation.
KEYS_A = -0.75


def cubic_weights(frac: np.ndarray) -> np.ndarray:
    """Keys weights of the four taps ``floor(u) - 1 .. floor(u) + 2`` for ``frac = u - floor(u)``.

    Args:
        frac: fractional positions in [0, 1), any shape.

    Returns:
        ``frac.shape + (4,)`` float64 weights summing to 1.
    """
    a = KEYS_A
    d = np.abs(np.asarray(frac, dtype=np.float64)[..., None] - np.array([-1.0, 0.0, 1.0, 2.0]))
    near = ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0
    far = ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a
    return np.where(d <= 1.0, near, np.where(d < 2.0, far, 0.0))


def _source_coords(pixels: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell index ``floor(u)`` and fraction ``u - floor(u)`` sampled by frame pixels (see the module docstring)."""
    u = (pixels + 0.5) / stride - 0.5
    base = np.floor(u)
    return base.astype(np.int64), u - base


def _read_only(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


@lru_cache(maxsize=16)
def window_weights(stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model on the frame pixels within one cell of a cell's centre, as a matrix on the nearby cells.

    For cell ``c`` the window holds the frame pixels ``p = c * stride + offsets`` whose source coordinate lies in
    ``[c - 1, c + 1]``; their values along one axis are ``matrix @ map[c + taps]`` (before border clipping).

    Returns:
        ``(offsets (m,), taps (t,), matrix (m, t))``: pixel offsets from ``c * stride`` (int64), cell offsets
        from ``c`` (int64) and the Keys weights (float64). Cached and read-only.
    """
    first = int(np.ceil(-0.5 * stride - 0.5))
    last = int(np.floor(1.5 * stride - 0.5))
    offsets = np.arange(first, last + 1, dtype=np.int64)
    base, frac = _source_coords(offsets.astype(np.float64), stride)
    rel = base[:, None] + np.arange(-1, 3)
    taps = np.arange(rel.min(), rel.max() + 1, dtype=np.int64)
    matrix = np.zeros((len(offsets), len(taps)))
    np.put_along_axis(matrix, rel - taps[0], cubic_weights(frac), axis=1)
    _read_only(offsets, taps, matrix)
    return offsets, taps, matrix


@lru_cache(maxsize=16)
def max_gain(stride: int) -> float:
    """Largest ``sum(|w_x| * |w_y|)`` over the 16 taps of any frame pixel: no upsampled value exceeds this times
    the largest absolute value among its taps."""
    _, frac = _source_coords(np.arange(stride, dtype=np.float64), stride)
    per_axis = np.abs(cubic_weights(frac)).sum(axis=1).max()
    return float(per_axis * per_axis)


@lru_cache(maxsize=16)
def _pixel_tables(h: int, w: int, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables of :class:`PixelSampler` for ``(C, h + 4, w + 4)`` edge-padded maps.

    Returns:
        ``(first_cell, first_row, taps, weights)``: per frame pixel coordinate, the padded index of its first tap
        (``floor(u) - 1 + 2``) and that times the padded row length; the flat offsets of the 4x4 taps from the
        first one (row-major); per phase pair ``(py % stride) * stride + px % stride``, the 16 float32 weights.
    """
    base, frac = _source_coords(np.arange(stride, dtype=np.float64), stride)
    axis = cubic_weights(frac)
    weights = (axis[:, None, :, None] * axis[None, :, None, :]).reshape(stride * stride, 16).astype(np.float32)
    pixels = np.arange(max(h, w) * stride)
    first_cell = pixels // stride + base[pixels % stride] + 1
    first_row = first_cell * (w + 4)
    taps = (np.arange(4)[:, None] * (w + 4) + np.arange(4)).ravel()
    _read_only(first_cell, first_row, taps, weights)
    return first_cell, first_row, taps, weights


def _edge_pad2(maps: np.ndarray) -> np.ndarray:
    """``(C, h, w)`` -> ``(C, h + 4, w + 4)`` float32 with two replicated cells on each side."""
    c, h, w = maps.shape
    out = np.empty((c, h + 4, w + 4), dtype=np.float32)
    out[:, 2:-2, 2:-2] = maps
    out[:, :2, 2:-2] = maps[:, :1]
    out[:, -2:, 2:-2] = maps[:, -1:]
    out[:, :, :2] = out[:, :, 2:3]
    out[:, :, -2:] = out[:, :, -3:-2]
    return out


class PixelSampler:
    """Evaluates the bicubic upsampling of ``(C, h, w)`` maps at integer frame pixels, without upsampling them.

    Args:
        maps: ``(C, h, w)`` float32 low-resolution maps (the network's layout); evaluated in float32.
        stride: frame pixels per map cell.
    """

    def __init__(self, maps: np.ndarray, stride: int) -> None:
        _, h, w = maps.shape
        # Two replicated cells on each side: every tap of every frame pixel is in range, no clipping.
        self._flat = _edge_pad2(maps).reshape(-1)
        self._plane = (h + 4) * (w + 4)
        self._stride = stride
        self._first_cell, self._first_row, self._taps, self._weights = _pixel_tables(h, w, stride)

    def __call__(self, channel: np.ndarray, px: np.ndarray, py: np.ndarray, count: int = 1) -> np.ndarray:
        """Upsampled values of channels ``channel[i] .. channel[i] + count - 1`` at pixels ``(px[i], py[i])``.

        Args:
            channel: ``(n,)`` integer first channel per row.
            px: ``(n, k)`` integer frame columns, in ``[0, w * stride)``.
            py: ``(n, k)`` integer frame rows, in ``[0, h * stride)``.
            count: consecutive channels read.

        Returns:
            ``(n, k, count)`` values (float32 arithmetic, returned as float64).
        """
        s = self._stride
        first = self._first_row[py] + self._first_cell[px] + (channel * self._plane)[:, None]
        offsets = (np.arange(count)[:, None] * self._plane + self._taps).ravel()  # channel-major, then tap
        values = np.take(self._flat, first[..., None] + offsets).reshape(*first.shape, count, 16)
        weights = self._weights[(py % s) * s + px % s]  # (n, k, 16)
        return np.einsum("nkct,nkt->nkc", values, weights).astype(np.float64)
