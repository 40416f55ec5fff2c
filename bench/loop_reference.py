"""A plain loop port of the reference PAF decoder: the baseline of the decoder benchmark and the parity oracle of
the decoder tests.

Written from the spec (docs: ``decoder-and-eval.md``, "Decoder (reference semantics)") the way the original authors'
Python code is organised: full-frame ``cv2.resize`` of all maps, shifted-array peak candidates, then Python loops
over candidates, peak pairs, samples and people. It shares no code with ``depthpose_core.decode`` on purpose.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from depthpose_core.keypoints import LIMB_ORDER, LIMBS, NUM_JOINTS
from depthpose_core.skeleton import Skeleton

__all__ = ["decode_loop"]

PEAK_THRESHOLD = 0.1
PAF_THRESHOLD = 0.05
NUM_SAMPLES = 10
INLIER_FRACTION = 0.8
MIN_PARTS = 3
MIN_MEAN_SCORE = 0.2


def _find_peaks(heatmaps: np.ndarray) -> list[list[tuple[int, int, float, int]]]:
    """Per joint: (x, y, score, id) of every refined peak."""
    all_peaks = []
    next_id = 0
    for part in range(NUM_JOINTS):
        fmap = heatmaps[:, :, part]
        # Out-of-frame neighbours are padded with -inf, so they never beat a pixel.
        padded = np.pad(fmap, 1, constant_values=-np.inf)
        candidates = np.logical_and.reduce(
            (
                fmap >= padded[:-2, 1:-1],
                fmap >= padded[2:, 1:-1],
                fmap >= padded[1:-1, :-2],
                fmap >= padded[1:-1, 2:],
                fmap > PEAK_THRESHOLD,
            )
        )
        peaks = []
        for y, x in zip(*np.nonzero(candidates)):
            window = fmap[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3]
            wy, wx = np.unravel_index(int(np.argmax(window)), window.shape)
            py, px = max(0, y - 2) + int(wy), max(0, x - 2) + int(wx)
            peaks.append((px, py, float(fmap[py, px]), next_id))
            next_id += 1
        all_peaks.append(peaks)
    return all_peaks


def _connect(pafs: np.ndarray, all_peaks: list, frame_height: int) -> list[list[tuple[int, int, float]]]:
    """Per limb type: accepted (src id, dst id, limb score)."""
    connection_all = []
    for k, (ja, jb) in enumerate(LIMBS):
        cand_a, cand_b = all_peaks[ja], all_peaks[jb]
        candidates = []
        for i, (xa, ya, _, _) in enumerate(cand_a):
            for j, (xb, yb, _, _) in enumerate(cand_b):
                vx, vy = xb - xa, yb - ya
                norm = math.sqrt(vx * vx + vy * vy)
                if norm == 0:
                    continue
                dx, dy = vx / (norm + 1e-8), vy / (norm + 1e-8)
                xs = np.linspace(xa, xb, num=NUM_SAMPLES)
                ys = np.linspace(ya, yb, num=NUM_SAMPLES)
                scores = []
                for sx, sy in zip(xs, ys):
                    px, py = int(round(float(sx))), int(round(float(sy)))
                    scores.append(float(pafs[py, px, 2 * k]) * dx + float(pafs[py, px, 2 * k + 1]) * dy)
                inliers = sum(1 for s in scores if s > PAF_THRESHOLD)
                score = sum(scores) / len(scores) + min(0.5 * frame_height / norm - 1, 0)
                if inliers > INLIER_FRACTION * len(scores) and score > 0:
                    candidates.append((i, j, score))
        candidates = sorted(candidates, key=lambda c: c[2], reverse=True)
        accepted: list[tuple[int, int, float]] = []
        used_i: list[int] = []
        used_j: list[int] = []
        for i, j, score in candidates:
            if i not in used_i and j not in used_j:
                accepted.append((cand_a[i][3], cand_b[j][3], score))
                used_i.append(i)
                used_j.append(j)
                if len(accepted) >= min(len(cand_a), len(cand_b)):
                    break
        connection_all.append(accepted)
    return connection_all


def _assemble(connection_all: list, peak_scores: dict[int, float]) -> list[list]:
    """People as [18 slots..., total, count] rows."""
    subset: list[list] = []
    for k in LIMB_ORDER:
        ja, jb = LIMBS[k]
        for a, b, score in connection_all[k]:
            found = []
            for idx, row in enumerate(subset):
                if row[ja] == a or row[jb] == b:
                    found.append(idx)
            if len(found) == 1 or (
                len(found) >= 2 and any(subset[found[0]][s] >= 0 and subset[found[1]][s] >= 0 for s in range(18))
            ):
                row = subset[found[0]]
                if row[jb] != b:
                    row[jb] = b
                    row[19] += 1
                    row[18] += peak_scores[b] + score
            elif len(found) >= 2:
                row1, row2 = subset[found[0]], subset[found[1]]
                for s in range(NUM_JOINTS):
                    if row1[s] < 0:
                        row1[s] = row2[s]
                row1[18] += row2[18]
                row1[19] += row2[19]
                row1[18] += score
                del subset[found[1]]
            else:
                row = [-1] * NUM_JOINTS + [peak_scores[a] + peak_scores[b] + score, 2]
                row[ja], row[jb] = a, b
                subset.append(row)
    return [row for row in subset if row[19] >= MIN_PARTS and row[18] / row[19] >= MIN_MEAN_SCORE]


def decode_loop(paf: np.ndarray, heat: np.ndarray, frame_size: tuple[int, int] = (640, 480)) -> list[Skeleton]:
    """Decode ``(38, h, w)`` PAFs and ``(19, h, w)`` heatmaps (float32) with the reference semantics.

    Returns:
        The people, keypoints at peak pixel + 0.5 in ``frame_size`` pixels (NaN where missing).
    """
    width, height = frame_size
    heatmaps = cv2.resize(np.ascontiguousarray(heat.transpose(1, 2, 0)), (width, height), interpolation=cv2.INTER_CUBIC)
    pafs = cv2.resize(np.ascontiguousarray(paf.transpose(1, 2, 0)), (width, height), interpolation=cv2.INTER_CUBIC)
    all_peaks = _find_peaks(heatmaps)
    coords = {pid: (x, y, s) for peaks in all_peaks for x, y, s, pid in peaks}
    connection_all = _connect(pafs, all_peaks, height)
    people = _assemble(connection_all, {pid: s for pid, (_, _, s) in coords.items()})
    skeletons = []
    for row in people:
        keypoints = np.full((NUM_JOINTS, 2), np.nan)
        scores = np.zeros(NUM_JOINTS)
        for joint in range(NUM_JOINTS):
            if row[joint] >= 0:
                x, y, s = coords[row[joint]]
                keypoints[joint] = (x + 0.5, y + 0.5)
                scores[joint] = s
        skeletons.append(Skeleton(keypoints, scores, row[18] * row[19], (width, height)))
    return skeletons
