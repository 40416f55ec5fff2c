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
    """Sample indices scored first for every pair (if all of them fail, the pair has too few inliers whatever the
    others hold), and the remaining indices, scored only for the pairs that survive the probes."""
    num = params.num_samples
    num_probes = num - params.min_inliers + 1
    if num_probes > num // 2:
        probes = np.arange(num)
    else:
        probes = np.round(np.linspace(0, num - 1, num_probes + 2)[1:-1]).astype(np.int64)
    rest = np.setdiff1d(np.arange(num), probes)
    probes.flags.writeable = rest.flags.writeable = False
    return probes, rest


def _sample_coords(start: np.ndarray, stop: np.ndarray, k: np.ndarray, num: int) -> tuple[np.ndarray, np.ndarray]:
    """Points ``k`` of ``np.linspace(start[:, i], stop[:, i], num)`` for every pair i, rounded to integer pixels.

    Computed as ``np.linspace`` does for one scalar pair (``k * step + start``, exactly ``stop`` at the end), so
    the values match a per-pair call bit for bit; rounding is half to even, like Python's ``round``.

    Args:
        start: ``(2, n)`` source x and y, integer pixels.
        stop: ``(2, n)`` destination x and y.
        k: sample indices in ``[0, num)``.
        num: samples per pair.

    Returns:
        ``(px, py)``, each ``(n, len(k))`` int64.
    """
    step = (stop - start).astype(np.float64) / (num - 1)
    points = k * step[..., None] + start[..., None]
    px, py = np.rint(np.where(k == num - 1, stop[..., None], points)).astype(np.int64)
    return px, py


def _score_pairs(
    peaks: Peaks, limb: np.ndarray, src: np.ndarray, dst: np.ndarray, sample_paf: PafSampler,
    frame_height: int, params: DecoderParams,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Reference step 3 on every pair: the indices of the pairs that pass, and their limb scores."""
    start = np.stack((peaks.x[src], peaks.y[src]))
    stop = np.stack((peaks.x[dst], peaks.y[dst]))
    dx, dy = (stop - start).astype(np.float64)
    norm = np.sqrt(dx * dx + dy * dy)
    ux, uy = dx / (norm + 1e-8), dy / (norm + 1e-8)
    num = params.num_samples

    probes, rest = _probe_samples(params)
    vx, vy = sample_paf(limb, *_sample_coords(start, stop, probes, num))
    probed = vx * ux[:, None] + vy * uy[:, None]
    # Zero-length pairs have no direction (every s_k is 0), so they can never pass.
    misses_allowed = num - params.min_inliers
    live = np.flatnonzero((norm > 0) & ((probed <= params.paf_threshold).sum(axis=1) <= misses_allowed))
    along = np.empty((len(live), num))
    along[:, probes] = probed[live]
    if len(rest) and len(live):
        vx, vy = sample_paf(limb[live], *_sample_coords(start[:, live], stop[:, live], rest, num))
        along[:, rest] = vx * ux[live, None] + vy * uy[live, None]

    total = along[:, 0].copy()
    for k in range(1, num):  # sequential, like Python's sum(): keeps results bit-identical to a loop port
        total += along[:, k]
    score = total / num + np.minimum(0.5 * frame_height / norm[live] - 1.0, 0.0)
    passed = ((along > params.paf_threshold).sum(axis=1) >= params.min_inliers) & (score > 0)
    return live[passed], score[passed]


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
