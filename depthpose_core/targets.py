"""Training ground truth: Gaussian joint heatmaps and part affinity fields rendered from labelled people.

Map cell ``c`` covers frame pixels ``[c * s, (c + 1) * s)`` for stride ``s`` = frame width / map width; its centre
is at frame coordinate ``(c + 0.5) * s``, which is where the decoder's half-pixel bicubic model puts cell ``c``.
"""

from __future__ import annotations

import numpy as np

from depthpose_core.keypoints import LIMBS, NUM_HEATMAPS, NUM_JOINTS, NUM_PAFS

__all__ = ["render_maps"]


def _stride(map_size: tuple[int, int], frame_size: tuple[int, int]) -> float:
    sizes = (*map_size, *frame_size)
    if len(sizes) != 4 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                                  for v in sizes):  # fmt: skip
        raise ValueError(f"map_size and frame_size must be (width, height) in positive pixels, got {sizes!r}")
    stride_x = frame_size[0] / map_size[0]
    if not np.isclose(stride_x, frame_size[1] / map_size[1]):
        raise ValueError(f"frame {frame_size} px is not map {map_size} cells scaled by one stride on both axes")
    return stride_x


def render_maps(
    people: np.ndarray,
    map_size: tuple[int, int],
    frame_size: tuple[int, int],
    *,
    sigma: float = 7.0,
    paf_width: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Render the OpenPose-style training targets of one frame.

    Args:
        people: ``(N, 18, 3)`` per person and network joint: x, y in frame pixels (continuous coordinates, pixel
            centres at +0.5) and a label flag (> 0 = labelled; 0 = missing: no heatmap peak, no limb).
        map_size: (w, h) of the output maps, cells.
        frame_size: (width, height) of the frame the coordinates refer to, pixels.
        sigma: Gaussian standard deviation of the heatmaps, frame pixels.
        paf_width: a PAF covers the cells whose centre lies within this many map cells of the limb segment.

    Returns:
        ``(paf, heat)``: ``(38, h, w)`` and ``(19, h, w)`` float32. Heatmap j = max over people of
        ``exp(-d^2 / (2 sigma^2))`` (d = distance from the cell centre to the joint); channel 18 = max(0, 1 - max
        over the 18 joint channels). PAF limb k (channels 2k, 2k + 1) = the unit vector from its first to its second
        joint on the covered cells, averaged over the people covering a cell; 0 elsewhere and for zero-length limbs.

    Raises:
        ValueError: bad shapes, sizes, non-finite labelled coordinates, or non-positive sigma / paf_width.
    """
    people = np.asarray(people, dtype=np.float64)
    if people.ndim != 3 or people.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"people must have shape (N, {NUM_JOINTS}, 3), got {people.shape}")
    stride = _stride(map_size, frame_size)
    if not sigma > 0 or not paf_width > 0:
        raise ValueError(f"sigma and paf_width must be > 0, got sigma={sigma!r} px, paf_width={paf_width!r} cells")
    labelled = people[:, :, 2] > 0
    if not np.isfinite(people[:, :, :2][labelled]).all():
        raise ValueError("people holds a labelled joint with a NaN or infinite coordinate")

    xy = np.where(labelled[:, :, None], people[:, :, :2], 0.0)  # unlabelled coordinates may be NaN

    w, h = map_size
    cx = (np.arange(w) + 0.5) * stride
    cy = (np.arange(h) + 0.5) * stride
    x, y = xy[:, :, 0, None], xy[:, :, 1, None]
    gx = np.where(labelled[:, :, None], np.exp(-((cx - x) ** 2) / (2 * sigma**2)), 0.0)  # (N, 18, w)
    gy = np.exp(-((cy - y) ** 2) / (2 * sigma**2))  # (N, 18, h)
    heat = np.zeros((NUM_HEATMAPS, h, w))
    if len(people):
        heat[:NUM_JOINTS] = (gy[:, :, :, None] * gx[:, :, None, :]).max(axis=0)
    heat[NUM_JOINTS] = np.maximum(0.0, 1.0 - heat[:NUM_JOINTS].max(axis=0))

    src, dst = np.array(LIMBS).T
    start, end = xy[:, src], xy[:, dst]  # (N, 19, 2)
    vec = end - start
    length = np.linalg.norm(vec, axis=-1)
    valid = labelled[:, src] & labelled[:, dst] & (length > 0)
    unit = np.where(valid[..., None], vec / np.where(length > 0, length, 1.0)[..., None], 0.0)
    # Distance from each cell centre to each segment: project, clamp to the segment, measure.
    rel_x = cx[None, None, None, :] - start[:, :, 0, None, None]  # (N, 19, 1, w)
    rel_y = cy[None, None, :, None] - start[:, :, 1, None, None]  # (N, 19, h, 1)
    along = rel_x * unit[:, :, 0, None, None] + rel_y * unit[:, :, 1, None, None]
    t = np.clip(along, 0.0, length[:, :, None, None])
    dist2 = (rel_x - t * unit[:, :, 0, None, None]) ** 2 + (rel_y - t * unit[:, :, 1, None, None]) ** 2
    covered = valid[:, :, None, None] & (dist2 <= (paf_width * stride) ** 2)  # (N, 19, h, w)
    count = covered.sum(axis=0)
    paf = np.zeros((NUM_PAFS, h, w))
    for axis in (0, 1):
        summed = (covered * unit[:, :, axis, None, None]).sum(axis=0)
        paf[axis::2] = summed / np.maximum(count, 1)
    return paf.astype(np.float32), heat.astype(np.float32)
