"""Articulated clinicians for the synthetic world: MVOR upper bodies completed to whole bodies of capsules.

An MVOR 3D pose gives the upper body (head, neck, shoulders, hips, elbows, wrists, hands). It is brought to a
canonical frame (pelvis at the origin, facing +x, left +y, z up), scaled to the person's height, turned and placed
on the floor. Legs come from a two-bone inverse kinematics with the feet on the floor (stance or walking phase),
the face joints (nose, eyes, ears) from the head point and the direction the torso faces. Proportions follow
standard anthropometric ratios of body height H; ``build`` thickens or thins the body.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.keypoints import NET_JOINTS, NUM_JOINTS

__all__ = ["FLOOR_Z", "Body", "canonical_pose", "make_body", "rot_z"]

#: Floor height in MVOR's room frame, mm: standing MVOR clinicians have their hips at z = -24 mm (median), which is
#: 0.52 H above the floor for a body height H of about 1.74 m.
FLOOR_Z = -930.0

_UP = np.array([0.0, 0.0, 1.0])
_J = {name: i for i, name in enumerate(NET_JOINTS)}
# MVOR joint indices (see synth.mvor.MVOR_JOINTS).
_HEAD, _NECK, _LSHO, _RSHO, _LHIP, _RHIP, _LELB, _RELB, _LWRI, _RWRI, _LHAND, _RHAND = range(12)

# Anthropometric ratios of body height H.
_TORSO = 0.29  # neck to mid-hip
_THIGH = 0.245
_SHIN = 0.246
_ANKLE_HEIGHT = 0.039
_FOOT = 0.12
# Body part radii in mm for a 1750 mm person of average build, and whether ``build`` scales them.
_RADII = {
    "head": (95.0, False), "neck": (45.0, False), "torso": (100.0, True), "shoulders": (55.0, True),
    "pelvis": (88.0, True), "upper_arm": (48.0, True), "forearm": (38.0, True), "hand": (30.0, False),
    "thigh": (72.0, True), "shin": (50.0, True), "foot": (35.0, False),
}  # fmt: skip


@dataclass(frozen=True)
class Body:
    """One person in the room frame (mm).

    Attributes:
        joints: ``(18, 3)`` the network's joints (``keypoints.NET_JOINTS`` order).
        head: ``(3,)`` MVOR's head point (the MVOR-10 "head" label; the network has no such joint).
        capsules: ``(K, 7)`` body segments: end points a (3), b (3) and radius (a sphere when a == b).
        joint_radius: ``(18,)`` how deep under the body surface each joint lies, mm (visibility tolerance).
    """

    joints: np.ndarray
    head: np.ndarray
    capsules: np.ndarray
    joint_radius: np.ndarray


def rot_z(yaw: float) -> np.ndarray:
    """3x3 rotation by ``yaw`` radians about the room's z (up) axis."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def canonical_pose(pose: np.ndarray) -> np.ndarray:
    """An MVOR pose ``(12, 3)`` (room frame) moved to pelvis = origin, facing +x, its left side towards +y."""
    pelvis = pose[[_LHIP, _RHIP]].mean(axis=0)
    lateral = (pose[_LSHO] - pose[_RSHO]) + (pose[_LHIP] - pose[_RHIP])
    yaw = np.arctan2(lateral[1], lateral[0]) - np.pi / 2  # the left side points to yaw + 90 degrees
    return (pose - pelvis) @ rot_z(-yaw).T


def _two_bone(hip: np.ndarray, ankle: np.ndarray, thigh: float, shin: float, forward: np.ndarray) -> tuple:
    """Knee position bending towards ``forward``, and the ankle (pulled in when out of reach)."""
    leg = ankle - hip
    dist = float(np.linalg.norm(leg))
    reach = 0.999 * (thigh + shin)
    if dist > reach:
        ankle = hip + leg * (reach / dist)
        leg, dist = ankle - hip, reach
    axis = leg / dist
    along = (thigh**2 - shin**2 + dist**2) / (2 * dist)
    out = np.sqrt(max(thigh**2 - along**2, 0.0))
    bend = forward - axis * (forward @ axis)
    norm = np.linalg.norm(bend)
    bend = bend / norm if norm > 1e-6 else np.cross(axis, [0.0, 1.0, 0.0])
    return hip + axis * along + bend * out, ankle


def make_body(
    canonical: np.ndarray,
    *,
    height: float,
    build: float,
    position: np.ndarray,
    yaw: float,
    stride: float = 0.0,
    knee_bend: float = 0.97,
) -> Body:
    """Build a whole body.

    Args:
        canonical: ``(12, 3)`` MVOR upper body from :func:`canonical_pose`.
        height: body height H, mm.
        build: radius factor of torso and limbs (about 0.85-1.25).
        position: ``(2,)`` floor position of the pelvis, room mm.
        yaw: heading in radians (0 = facing +x).
        stride: walking phase offset of the feet along the heading, mm (left foot forward when > 0).
        knee_bend: hip-to-ankle distance as a fraction of the leg length (1 = straight legs).
    """
    scale = _TORSO * height / max(float(np.linalg.norm(canonical[_NECK] - canonical[[_LHIP, _RHIP]].mean(axis=0))), 1.0)
    rot = rot_z(yaw)
    thigh, shin, ankle_h = _THIGH * height, _SHIN * height, _ANKLE_HEIGHT * height
    upper = canonical * scale @ rot.T
    # The higher hip (a tilted pelvis) sets the height, so that both feet reach the floor.
    lift = FLOOR_Z + ankle_h + knee_bend * (thigh + shin) - upper[[_LHIP, _RHIP], 2].max()
    upper += np.array([position[0], position[1], lift])
    forward, left = rot[:, 0], rot[:, 1]
    r = {name: base * (height / 1750.0) * (build if scaled else 1.0) for name, (base, scaled) in _RADII.items()}

    joints = np.zeros((NUM_JOINTS, 3))
    for net, mv in (("neck", _NECK), ("left_shoulder", _LSHO), ("right_shoulder", _RSHO), ("left_hip", _LHIP),
                    ("right_hip", _RHIP), ("left_elbow", _LELB), ("right_elbow", _RELB), ("left_wrist", _LWRI),
                    ("right_wrist", _RWRI)):  # fmt: skip
        joints[_J[net]] = upper[mv]
    head = upper[_HEAD]
    # Face on the head sphere, oriented like the torso (the head turns with it).
    rh, unit = r["head"], height / 1750.0
    joints[_J["nose"]] = head + forward * (rh - 8 * unit) - _UP * 25 * unit  # inside the head: on the body
    for side, sign in (("left", 1.0), ("right", -1.0)):
        joints[_J[f"{side}_eye"]] = head + forward * (rh - 10 * unit) + _UP * 10 * unit + left * sign * 32 * unit
        joints[_J[f"{side}_ear"]] = head - forward * 10 * unit + left * sign * (rh - 5 * unit)
    feet = {}
    for side, sign, hip_i in (("left", 1.0, _LHIP), ("right", -1.0, _RHIP)):
        hip = upper[hip_i]
        ankle = np.array([hip[0], hip[1], FLOOR_Z + ankle_h]) + forward * sign * stride * 0.5
        knee, ankle = _two_bone(hip, ankle, thigh, shin, forward)
        joints[_J[f"{side}_knee"]], joints[_J[f"{side}_ankle"]] = knee, ankle
        feet[side] = ankle + forward * _FOOT * height - _UP * (ankle[2] - FLOOR_Z - r["foot"])

    j = joints
    mid_sho = (j[_J["left_shoulder"]] + j[_J["right_shoulder"]]) / 2
    mid_hip = (j[_J["left_hip"]] + j[_J["right_hip"]]) / 2
    segments = [
        (head, head, r["head"]),
        (j[_J["neck"]], head, r["neck"]),
        (j[_J["left_shoulder"]], j[_J["right_shoulder"]], r["shoulders"]),
        (j[_J["left_hip"]], j[_J["right_hip"]], r["pelvis"]),
    ]
    for side in ("left", "right"):
        sho, hip = j[_J[f"{side}_shoulder"]], j[_J[f"{side}_hip"]]
        segments += [
            (sho + 0.45 * (mid_sho - sho), hip + 0.25 * (mid_hip - hip), r["torso"]),
            (sho, j[_J[f"{side}_elbow"]], r["upper_arm"]),
            (j[_J[f"{side}_elbow"]], j[_J[f"{side}_wrist"]], r["forearm"]),
            (j[_J[f"{side}_wrist"]], upper[_LHAND if side == "left" else _RHAND], r["hand"]),
            (hip, j[_J[f"{side}_knee"]], r["thigh"]),
            (j[_J[f"{side}_knee"]], j[_J[f"{side}_ankle"]], r["shin"]),
            (j[_J[f"{side}_ankle"]], feet[side], r["foot"]),
        ]
    capsules = np.array([[*a, *b, rad] for a, b, rad in segments])
    depth_of = {"nose": 0.0, "eye": 0.0, "ear": 0.0, "neck": r["neck"], "shoulder": r["shoulders"],
                "elbow": r["upper_arm"], "wrist": r["forearm"], "hip": r["pelvis"], "knee": r["thigh"],
                "ankle": r["shin"]}  # fmt: skip
    joint_radius = np.array([depth_of[name.split("_")[-1]] for name in NET_JOINTS])
    return Body(joints, head, capsules, joint_radius)
