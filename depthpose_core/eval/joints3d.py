"""3D joint error of lifted skeletons against a synthetic set's exact joints (``joints3d``, optical frame, m).

Only joints the ground truth marks visible (v = 2) are scored: a hidden joint's pixel shows another surface, whose
depth is not the joint's. A detected person is paired with the labelled person whose visible joints lie nearest
in the image (mean distance over the joints both have, within half the labelled person's keypoint box); each
labelled person gets at most one detection. Errors are the Euclidean distance in mm; ``bias`` is the median of
the signed z error (negative: nearer to the camera than the joint centre).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from depthpose_core.errors import EvaluationError
from depthpose_core.keypoints import NUM_JOINTS
from depthpose_core.skeleton import Skeleton

__all__ = ["JOINT_GROUPS_3D", "Joint3DErrors", "exact_people", "match_to_truth"]

#: Joint groups of the 3D table (network joint indices).
JOINT_GROUPS_3D: dict[str, tuple[int, ...]] = {
    "Face": (0, 14, 15, 16, 17), "Neck": (1,), "Shoulder": (2, 5), "Elbow": (3, 6), "Wrist": (4, 7),
    "Hip": (8, 11), "Leg": (9, 10, 12, 13),
}  # fmt: skip


def exact_people(annotations: Sequence[Mapping]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The keypoint-labelled people of one image that carry exact 3D joints.

    Args:
        annotations: the image's COCO-style annotations (a synthetic set's, with ``keypoints18`` and
            ``joints3d``); people with ``only_bbox`` or without ``joints3d`` are left out.

    Returns:
        Per person ``(keypoints18 (18, 3) x, y pixels and visibility, joints3d (18, 3) metres)``.

    Raises:
        EvaluationError: ``joints3d`` or ``keypoints18`` is not 54 finite numbers.
    """
    out = []
    for ann in annotations:
        if ann.get("only_bbox") or "joints3d" not in ann:
            continue
        try:
            kp = np.asarray(ann["keypoints18"], dtype=np.float64).reshape(NUM_JOINTS, 3)
            xyz = np.asarray(ann["joints3d"], dtype=np.float64).reshape(NUM_JOINTS, 3)
        except (KeyError, TypeError, ValueError) as err:
            raise EvaluationError(f"annotation {ann.get('id')}: keypoints18/joints3d are not 18 x 3 numbers ({err})")
        if not (np.isfinite(kp).all() and np.isfinite(xyz).all()):
            raise EvaluationError(f"annotation {ann.get('id')}: keypoints18/joints3d hold NaN or inf")
        out.append((kp, xyz))
    return out


def match_to_truth(people: Sequence[Skeleton], truth: Sequence[np.ndarray]) -> list[tuple[int, int]]:
    """Pairs ``(detection index, truth index)``, nearest first (see module docstring).

    Args:
        people: detections in the labels' pixel frame.
        truth: per labelled person ``(18, 3)`` keypoints (x, y, visibility).
    """
    candidates = []
    for i, person in enumerate(people):
        for t, kp in enumerate(truth):
            common = person.present & (kp[:, 2] > 0)
            if not common.any():
                continue
            labelled = kp[kp[:, 2] > 0, :2]
            size = float(np.max(labelled.max(axis=0) - labelled.min(axis=0)))
            dist = float(np.linalg.norm(person.keypoints[common] - kp[common, :2], axis=1).mean())
            if dist <= max(size, 1.0) / 2.0:
                candidates.append((dist, i, t))
    pairs, used_det, used_truth = [], set(), set()
    for _, i, t in sorted(candidates):
        if i not in used_det and t not in used_truth:
            pairs.append((i, t))
            used_det.add(i)
            used_truth.add(t)
    return pairs


@dataclass
class Joint3DErrors:
    """Accumulated 3D errors per network joint: distances and signed z errors (mm) of lifted joints, and how many
    scored joints had no 3D point."""

    distances: list[list[float]] = field(default_factory=lambda: [[] for _ in range(NUM_JOINTS)])
    z_errors: list[list[float]] = field(default_factory=lambda: [[] for _ in range(NUM_JOINTS)])
    missing: np.ndarray = field(default_factory=lambda: np.zeros(NUM_JOINTS, dtype=int))

    def add(self, lifted: np.ndarray, exact: np.ndarray, visible: np.ndarray) -> None:
        """Score one person: ``lifted`` and ``exact`` (18, 3) m (NaN = no point), ``visible`` (18,) bool (the
        joints to score: labelled visible and detected)."""
        for j in np.flatnonzero(visible):
            if np.isnan(lifted[j]).any():
                self.missing[j] += 1
                continue
            self.distances[j].append(float(np.linalg.norm(lifted[j] - exact[j])) * 1000.0)
            self.z_errors[j].append(float(lifted[j, 2] - exact[j, 2]) * 1000.0)

    def group(self, joints: Sequence[int]) -> dict[str, float]:
        """Summary of some joints: ``n`` scored, ``median`` and ``p90`` distance (mm), share within 100 mm
        (``within_100``, %), median signed z error (``bias``, mm) and share without a point (``missing``, %)."""
        d = np.array([v for j in joints for v in self.distances[j]])
        z = np.array([v for j in joints for v in self.z_errors[j]])
        missing = int(sum(self.missing[j] for j in joints))
        n = len(d) + missing
        if len(d) == 0:
            return {"n": n, "median": float("nan"), "p90": float("nan"), "within_100": float("nan"),
                    "bias": float("nan"), "missing": 100.0 if n else float("nan")}  # fmt: skip
        return {"n": n, "median": float(np.median(d)), "p90": float(np.percentile(d, 90)),
                "within_100": float((d <= 100.0).mean() * 100.0), "bias": float(np.median(z)),
                "missing": missing / n * 100.0}  # fmt: skip

    def table(self) -> dict[str, dict[str, float]]:
        """:meth:`group` per ``JOINT_GROUPS_3D`` entry plus ``All`` (every joint)."""
        rows = {name: self.group(joints) for name, joints in JOINT_GROUPS_3D.items()}
        rows["All"] = self.group(range(NUM_JOINTS))
        return rows
