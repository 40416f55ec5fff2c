"""Limb candidates: PAF line integrals between peaks and the greedy per-limb matching (shared by both modes)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from depthpose_core.decode.params import DecoderParams
from depthpose_core.decode.peaks import Peaks
from depthpose_core.keypoints import LIMBS

__all__ = ["Connection", "PafSampler", "connect_limbs"]

#: ``(limb (n,), px (n, k), py (n, k)) -> (paf_x, paf_y)``: float64 ``(n, k)`` PAF components of limb ``limb[i]``
#: at the integer frame pixels ``(px[i], py[i])``.
PafSampler = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

#: An accepted limb: (source peak id, destination peak id, limb score).
Connection = tuple[int, int, float]

_LIMB_ENDS = np.array(LIMBS).T  # (2, num_limbs): source joint, destination joint


def _candidate_pairs(peaks: Peaks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source peak, destination peak) pair of every limb type: limb-major, then source, then destination.

    Returns:
        ``(limb, src, dst)`` int64 arrays: limb type and the two peak ids of each pair.
    """
    counts = np.diff(peaks.starts)
    num_src, num_dst = counts[_LIMB_ENDS[0]], counts[_LIMB_ENDS[1]]
    sizes = num_src * num_dst
    limb = np.repeat(np.arange(len(sizes)), sizes)
    rank = np.arange(len(limb)) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # position within its limb type
    per_src = num_dst[limb]
    src = peaks.starts[_LIMB_ENDS[0][limb]] + rank // np.maximum(per_src, 1)
    dst = peaks.starts[_LIMB_ENDS[1][limb]] + rank % np.maximum(per_src, 1)
    return limb, src, dst


@lru_cache(maxsize=8)
def _probe_samples(params: DecoderParams) -> tuple[np.ndarray, np.ndarray]:
    """Interior sample indices scored first (together with the two end points, enough misses to reject a pair
    whatever the others hold), and the remaining interior indices, scored only for the pairs still alive."""
    num = params.num_samples
    interior = np.arange(1, num - 1)
    num_probes = num - params.min_inliers + 1
    if num_probes >= len(interior):
        probes = interior
    else:
        probes = np.round(np.linspace(0, num - 1, num_probes + 2)[1:-1]).astype(np.int64)
    rest = np.setdiff1d(interior, probes)
    probes.flags.writeable = rest.flags.writeable = False
    return probes, rest


def _sample_coords(start: np.ndarray, stop: np.ndarray, k: np.ndarray, num: int) -> tuple[np.ndarray, np.ndarray]:
    """Interior points ``k`` of ``np.linspace(start[:, i], stop[:, i], num)`` for every pair i, rounded to pixels.

    Computed as ``np.linspace`` does for one scalar pair (``k * step + start``), so the values match a per-pair
    call bit for bit; rounding is half to even, like Python's ``round``. The end points are the peaks themselves.

    Args:
        start: ``(2, n)`` source x and y, integer pixels.
        stop: ``(2, n)`` destination x and y.
        k: sample indices in ``(0, num - 1)``.
        num: samples per pair.

    Returns:
        ``(px, py)``, each ``(n, len(k))`` int64.
    """
    step = (stop - start).astype(np.float64) / (num - 1)
    px, py = np.rint(k * step[..., None] + start[..., None]).astype(np.int64)
    return px, py


def _end_point_fields(peaks: Peaks, sample_paf: PafSampler) -> tuple[np.ndarray, np.ndarray]:
    """Each limb type's PAF at the peaks of its two joints (the first and last samples of all its pairs).

    Returns:
        ``(paf_x, paf_y)``, each ``(num_limbs, num_peaks)`` float64; entries of other joints' peaks are unused.
    """
    counts = np.diff(peaks.starts)
    ends = _LIMB_ENDS.T.ravel()  # limb 0 source, limb 0 destination, limb 1 source, ...
    sizes = counts[ends]
    limb = np.repeat(np.arange(len(ends)) // 2, sizes)
    rank = np.arange(len(limb)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    ids = peaks.starts[np.repeat(ends, sizes)] + rank
    field_x = np.zeros((len(LIMBS), len(peaks.x)))
    field_y = np.zeros_like(field_x)
    vx, vy = sample_paf(limb, peaks.x[ids, None], peaks.y[ids, None])
    field_x[limb, ids], field_y[limb, ids] = vx[:, 0], vy[:, 0]
    return field_x, field_y


def _score_pairs(
    peaks: Peaks, limb: np.ndarray, src: np.ndarray, dst: np.ndarray, sample_paf: PafSampler,
    frame_height: int, params: DecoderParams,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Reference step 3 on every pair: the indices of the pairs that pass, and their limb scores.

    Pairs are rejected in rounds as soon as they have too many misses (samples not above the PAF threshold): the
    end points first (their PAF values are shared by all pairs of a peak), then a few interior probes, then the
    rest for the pairs still alive. Every sample a surviving pair has is computed exactly as a full scoring would.
    """
    start = np.stack((peaks.x[src], peaks.y[src]))
    stop = np.stack((peaks.x[dst], peaks.y[dst]))
    dx, dy = (stop - start).astype(np.float64)
    norm = np.sqrt(dx * dx + dy * dy)
    ux, uy = dx / (norm + 1e-8), dy / (norm + 1e-8)
    num = params.num_samples
    misses_allowed = num - params.min_inliers

    field_x, field_y = _end_point_fields(peaks, sample_paf)
    along = np.empty((len(limb), num))
    along[:, 0] = field_x[limb, src] * ux + field_y[limb, src] * uy
    along[:, -1] = field_x[limb, dst] * ux + field_y[limb, dst] * uy
    misses = (along[:, 0] <= params.paf_threshold).astype(np.int64) + (along[:, -1] <= params.paf_threshold)
    # Zero-length pairs have no direction (every s_k is 0), so they can never pass.
    live = np.flatnonzero((norm > 0) & (misses <= misses_allowed))
    for samples in _probe_samples(params):
        if len(samples) == 0 or len(live) == 0:
            continue
        vx, vy = sample_paf(limb[live], *_sample_coords(start[:, live], stop[:, live], samples, num))
        values = vx * ux[live, None] + vy * uy[live, None]
        along[live[:, None], samples] = values
        misses[live] += (values <= params.paf_threshold).sum(axis=1)
        live = live[misses[live] <= misses_allowed]
    along = along[live]

    total = along[:, 0].copy()
    for k in range(1, num):  # sequential, like Python's sum(): keeps results bit-identical to a loop port
        total += along[:, k]
    score = total / num + np.minimum(0.5 * frame_height / norm[live] - 1.0, 0.0)
    return live[score > 0], score[score > 0]


def connect_limbs(
    peaks: Peaks, sample_paf: PafSampler, frame_height: int, params: DecoderParams
) -> list[list[Connection]]:
    """Score every candidate limb and match them greedily per limb type (reference steps 3 and 4).

    For each limb type and each (source, destination) peak pair: direction ``d = (dst - src) / (|dst - src| +
    1e-8)``; ``num_samples`` points from src to dst inclusive, rounded to pixels; ``s_k = PAF(point_k) . d``. A
    pair is kept if more than ``min_inlier_fraction`` of the ``s_k`` exceed ``paf_threshold`` and its limb score
    ``mean(s_k) + min(0.5 * frame_height / |dst - src| - 1, 0)`` is > 0. Kept pairs are sorted by limb score,
    descending (stable), and accepted while neither end is used yet, up to min(#sources, #destinations) limbs.

    Args:
        peaks: the joint peaks.
        sample_paf: evaluates the PAFs at integer frame pixels.
        frame_height: height of the frame in pixels (the H of the length penalty).
        params: decoder thresholds.

    Returns:
        Per limb type (index = limb number), the accepted connections in acceptance order.
    """
    connections: list[list[Connection]] = [[] for _ in LIMBS]
    limb, src, dst = _candidate_pairs(peaks)
    if len(limb) == 0:
        return connections
    kept, score = _score_pairs(peaks, limb, src, dst, sample_paf, frame_height, params)
    limb, src, dst = limb[kept], src[kept], dst[kept]
    order = np.lexsort((-score, limb))  # stable: equal scores keep the pair order
    counts = np.diff(peaks.starts).tolist()
    caps = [min(counts[a], counts[b]) for a, b in LIMBS]
    used_src: list[set[int]] = [set() for _ in LIMBS]
    used_dst: list[set[int]] = [set() for _ in LIMBS]
    for k, a, b, s in zip(limb[order].tolist(), src[order].tolist(), dst[order].tolist(), score[order].tolist()):
        if len(connections[k]) < caps[k] and a not in used_src[k] and b not in used_dst[k]:
            used_src[k].add(a)
            used_dst[k].add(b)
            connections[k].append((a, b, s))
    return connections
