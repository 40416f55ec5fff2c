"""The synthetic operating room: a room, an operating table with a lying patient, equipment and clinicians who
move smoothly over time, seen by MVOR's real ceiling cameras (or cameras jittered around them).

Everything is deterministic from the seed the world is built with; time ``t`` (seconds) only moves the
clinicians. Room frame: MVOR's (mm, z up), floor at ``body.FLOOR_Z``; the table stands where MVOR's clinicians
stood around one (its long axis along y).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depthpose_core.errors import ConfigError
from depthpose_core.synth.body import FLOOR_Z, Body, canonical_pose, make_body, rot_z
from depthpose_core.synth.camera import Camera
from depthpose_core.synth.mvor import MVORGeometry
from depthpose_core.synth.render import Box, Capsules

__all__ = ["PATIENT_ID", "Actor", "World", "WorldParams", "jittered_camera"]

#: Id of the patient in the id buffer and in the labels (a person without keypoint labels).
PATIENT_ID = 100
#: Ids of equipment start here; clinicians are 1, 2, ...
EQUIPMENT_ID = 200

_UP = np.array([0.0, 0.0, 1.0])
_TABLE_CENTRE = np.array([107.0, 1070.0])  # mean pelvis position of MVOR's clinicians, room mm
_TABLE_HALF = np.array([1000.0, 280.0])  # half length, half width, mm
_TABLE_TOP = FLOOR_Z + 900.0
_CEILING = FLOOR_Z + 2950.0
# Equipment stands this far from the table centre, beyond where clinicians walk (<= 1.9 m along the table).
_EQUIPMENT_DIST = (2450.0, 3000.0)
_ROOM_REACH = 3800.0  # mm from the table centre that stays inside the room (equipment <= 3.55 m)


@dataclass(frozen=True)
class WorldParams:
    """What a world holds.

    Attributes:
        min_people, max_people: number of clinicians (uniform).
        height_mm: mean and standard deviation of body height (clipped to 1500-2000 mm).
        build: range of the body thickness factor.
        walk_speed: range of walking speeds, mm/s.
        stand_s: range of the time a clinician stands at a place before walking to the next, s.
        ring_mm: range of the distance from the table's edge at which clinicians stand and walk, mm.
        pose_hold_s: range of the time a clinician keeps one MVOR upper-body pose before blending to another.
        equipment: how many pieces of equipment (range).
    """

    min_people: int = 1
    max_people: int = 6
    height_mm: tuple[float, float] = (1730.0, 80.0)
    build: tuple[float, float] = (0.85, 1.25)
    walk_speed: tuple[float, float] = (400.0, 1100.0)
    stand_s: tuple[float, float] = (1.0, 5.0)
    ring_mm: tuple[float, float] = (250.0, 900.0)
    pose_hold_s: tuple[float, float] = (1.5, 4.0)
    equipment: tuple[int, int] = (2, 6)

    def __post_init__(self) -> None:
        if not 1 <= self.min_people <= self.max_people <= 50:
            raise ConfigError(f"need 1 <= min_people <= max_people <= 50, got {self.min_people}, {self.max_people}")


def _ease(x: np.ndarray | float) -> np.ndarray | float:
    """Smooth step on [0, 1]: zero velocity at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def jittered_camera(camera: Camera, rng: np.random.Generator, *, degrees: float, mm: float) -> Camera:
    """``camera`` turned by up to ``degrees`` about each axis and moved by up to ``mm`` (a new mounting)."""
    angles = np.radians(rng.uniform(-degrees, degrees, 3))
    rot = np.eye(3)
    for axis, angle in enumerate(angles):
        c, s = np.cos(angle), np.sin(angle)
        r = np.eye(3)
        i, j = [k for k in range(3) if k != axis]
        r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
        rot = rot @ r
    pose = camera.cam_to_room.copy()
    pose[:3, :3] = pose[:3, :3] @ rot
    pose[:3, 3] += rng.uniform(-mm, mm, 3)
    name = f"{camera.name}_jitter"
    return Camera(camera.fx, camera.fy, camera.cx, camera.cy, camera.width, camera.height, pose, name)


@dataclass
class Actor:
    """A clinician: body proportions, a path around the table and a schedule of MVOR upper-body poses.

    Attributes:
        id: person id (>= 1), stable over time.
        height, build: body height (mm) and thickness factor.
        waypoints: ``(n, 4)`` stops: angle around the table (rad), distance from its edge (mm), arrival and
            departure time (s). Between a departure and the next arrival the actor walks (eased speed).
        stand_yaw: ``(n,)`` heading offset from facing the table while standing at each stop, radians.
        poses: ``(m, 12, 3)`` canonical MVOR poses and ``pose_times`` ``(m,)`` when each is reached.
        knee_bend: hip-to-ankle distance as a fraction of the leg length.
        stride_length: gait cycle length, mm.
    """

    id: int
    height: float
    build: float
    waypoints: np.ndarray
    stand_yaw: np.ndarray
    poses: np.ndarray
    pose_times: np.ndarray
    knee_bend: float = 0.97
    stride_length: float = 1300.0


class World:
    """One synthetic operating room.

    Args:
        geometry: MVOR's cameras and 3D poses.
        seed: everything random about the world (layout, people, paths, poses).
        params: what the world holds.
        duration_s: the time span the clinicians' paths cover (any ``t`` is valid; they stand still after it).
    """

    def __init__(self, geometry: MVORGeometry, seed: int, params: WorldParams | None = None,
                 duration_s: float = 60.0) -> None:  # fmt: skip
        self.params = params or WorldParams()
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.table_centre = _TABLE_CENTRE + rng.normal(0.0, 150.0, 2)
        self.table_yaw = np.pi / 2 + rng.normal(0.0, 0.15)
        # Walls beyond the cameras and beyond everything placed around the table (people, equipment).
        cams = np.array([c.centre[:2] for c in geometry.cameras])
        lo = np.minimum(cams.min(axis=0) - 600.0, self.table_centre - _ROOM_REACH)
        hi = np.maximum(cams.max(axis=0) + 600.0, self.table_centre + _ROOM_REACH)
        self.room = (np.array([*lo, FLOOR_Z]), np.array([*hi, _CEILING]))
        self.boxes: list[Box] = []
        self.static_capsules: list[Capsules] = []
        self._table_and_patient(rng)
        self._equipment(rng)
        canonical = np.array([canonical_pose(p) for p in geometry.poses])
        n = int(rng.integers(self.params.min_people, self.params.max_people + 1))
        self._sector_start = rng.uniform(0.0, 2 * np.pi)
        self.actors = [self._actor(rng, i + 1, n, canonical, duration_s) for i in range(n)]

    # -- static scene ------------------------------------------------------------------------------------------

    def _table_frame(self, local: np.ndarray) -> np.ndarray:
        """Table-local (u along the length, v across) -> room xy."""
        return self.table_centre + local @ rot_z(self.table_yaw)[:2, :2].T

    def _table_and_patient(self, rng: np.random.Generator) -> None:
        axes = rot_z(self.table_yaw)
        top = np.array([*self.table_centre, _TABLE_TOP - 40.0])
        self.boxes.append(Box(top, axes, np.array([*_TABLE_HALF, 40.0]), EQUIPMENT_ID))
        column = np.array([*self.table_centre, (FLOOR_Z + _TABLE_TOP) / 2])
        self.boxes.append(Box(column, axes, np.array([250.0, 200.0, (_TABLE_TOP - FLOOR_Z) / 2]), EQUIPMENT_ID))
        # The patient lies along the table, covered by a drape from the chest down.
        u0 = rng.uniform(-150.0, 150.0)
        z = _TABLE_TOP + 110.0
        along = axes[:, 0]
        head = np.array([*self._table_frame(np.array([[u0 + 830.0, 0.0]]))[0], z + 10.0])
        chest = head - along * 250.0
        feet = head - along * 1650.0
        segments = [[*head, *head, 105.0], [*chest, *(chest - along * 500.0), 150.0],
                    [*(chest - along * 450.0), *feet, 120.0]]  # fmt: skip
        self.static_capsules.append(Capsules(np.array(segments), PATIENT_ID))
        drape_centre = (chest + feet) / 2 - along * 50.0 + np.array([0.0, 0.0, 40.0])
        self.boxes.append(Box(drape_centre, axes, np.array([820.0, 330.0 + rng.uniform(0, 60), 110.0]), PATIENT_ID))

    def _equipment(self, rng: np.random.Generator) -> None:
        count = int(rng.integers(self.params.equipment[0], self.params.equipment[1] + 1))
        kinds = rng.choice(["anaesthesia", "trolley", "monitor", "c_arm", "lamp", "iv_pole"], size=count)
        angles = rng.permutation(np.linspace(0, 2 * np.pi, count, endpoint=False)) + rng.uniform(0, 2 * np.pi)
        for i, (kind, angle) in enumerate(zip(kinds, angles)):
            ident = EQUIPMENT_ID + 1 + i
            dist = rng.uniform(*_EQUIPMENT_DIST)
            xy = self.table_centre + dist * np.array([np.cos(angle), np.sin(angle)])
            yaw = angle + np.pi + rng.normal(0.0, 0.3)  # facing the table, roughly
            axes = rot_z(yaw)
            if kind == "anaesthesia":
                self.boxes.append(Box(np.array([*xy, FLOOR_Z + 700.0]), axes, np.array([300.0, 320.0, 700.0]), ident))
                self.boxes.append(Box(np.array([*xy, FLOOR_Z + 1600.0]), axes, np.array([60.0, 260.0, 200.0]), ident))
            elif kind == "trolley":
                for height in (FLOOR_Z + 880.0, FLOOR_Z + 300.0):
                    self.boxes.append(Box(np.array([*xy, height]), axes, np.array([300.0, 550.0, 20.0]), ident))
                legs = [[*(xy + axes[:2, :2] @ np.array([sx * 280.0, sy * 520.0])), FLOOR_Z,
                         *(xy + axes[:2, :2] @ np.array([sx * 280.0, sy * 520.0])), FLOOR_Z + 880.0, 15.0]
                        for sx in (-1, 1) for sy in (-1, 1)]  # fmt: skip
                self.static_capsules.append(Capsules(np.array(legs), ident))
            elif kind == "monitor":
                self.boxes.append(Box(np.array([*xy, FLOOR_Z + 50.0]), axes, np.array([250.0, 250.0, 50.0]), ident))
                self.static_capsules.append(Capsules(np.array([[*xy, FLOOR_Z, *xy, FLOOR_Z + 1500.0, 25.0]]), ident))
                self.boxes.append(Box(np.array([*xy, FLOOR_Z + 1650.0]), axes, np.array([40.0, 280.0, 190.0]), ident))
            elif kind == "c_arm":
                self.boxes.append(Box(np.array([*xy, FLOOR_Z + 500.0]), axes, np.array([450.0, 300.0, 500.0]), ident))
                centre = np.array([*(xy - axes[:2, 0] * 300.0), FLOOR_Z + 1150.0])
                arc = [centre + 450.0 * (np.cos(a) * axes[:, 1] + np.sin(a) * _UP)
                       for a in np.linspace(-np.pi / 2, np.pi / 2, 8)]  # fmt: skip
                segments = [[*p, *q, 70.0] for p, q in zip(arc[:-1], arc[1:])]
                segments.append([*arc[3], *xy, FLOOR_Z + 1000.0, 90.0])  # the arm holding the C
                self.static_capsules.append(Capsules(np.array(segments), ident))
            elif kind == "lamp":
                near = self.table_centre + rng.uniform(-700.0, 700.0, 2)
                hub = np.array([*near, _CEILING])
                head = np.array([*near, FLOOR_Z + rng.uniform(2150.0, 2450.0)])  # above the tallest heads
                self.static_capsules.append(Capsules(np.array([[*hub, *head, 45.0]]), ident))
                tilt = rot_z(yaw) @ np.array([[1.0, 0.0, 0.0], [0.0, np.cos(0.4), -np.sin(0.4)],
                                               [0.0, np.sin(0.4), np.cos(0.4)]])  # fmt: skip
                self.boxes.append(Box(head - np.array([0.0, 0.0, 80.0]), tilt, np.array([320.0, 320.0, 70.0]), ident))
            else:  # IV pole with a bag
                self.static_capsules.append(Capsules(np.array([[*xy, FLOOR_Z, *xy, FLOOR_Z + 2000.0, 14.0]]), ident))
                self.boxes.append(Box(np.array([*xy, FLOOR_Z + 1800.0]), axes, np.array([80.0, 30.0, 120.0]), ident))

    # -- clinicians --------------------------------------------------------------------------------------------

    def _actor(self, rng: np.random.Generator, ident: int, count: int, canonical: np.ndarray,
               duration_s: float) -> Actor:  # fmt: skip
        p = self.params
        height = float(np.clip(rng.normal(*p.height_mm), 1500.0, 2000.0))
        sector = 2 * np.pi / count
        start = self._sector_start + (ident - 1) * sector
        # Each clinician keeps to its own sector of the ring (away from its edges): paths never cross.
        angle, t, waypoints, stand = start + rng.uniform(0.15, 0.85) * sector, 0.0, [], []
        while t <= duration_s + 10.0:
            dist = rng.uniform(*p.ring_mm)
            hold = rng.uniform(*p.stand_s)
            waypoints.append((angle, dist, t, t + hold))
            stand.append(rng.normal(0.0, 0.5))
            target = start + rng.uniform(0.15, 0.85) * sector
            path = abs(target - angle) * np.linalg.norm(_TABLE_HALF + dist)
            t += hold + max(path / rng.uniform(*p.walk_speed), 1.2)  # even a side step takes 1.2 s
            angle = target
        pose_times = np.cumsum(rng.uniform(*p.pose_hold_s, size=int(duration_s / p.pose_hold_s[0]) + 3))
        poses = canonical[rng.integers(0, len(canonical), size=len(pose_times))]
        return Actor(ident, height, float(rng.uniform(*p.build)), np.array(waypoints), np.array(stand), poses,
                     np.concatenate([[0.0], pose_times[:-1]]), knee_bend=float(rng.uniform(0.93, 1.0)))  # fmt: skip

    def _ring(self, angle: float, dist: float) -> tuple[np.ndarray, np.ndarray]:
        """Point on the ellipse around the table at ``angle`` and its inward normal (room xy). The ellipse passes
        ``dist`` mm outside the table's corners (and farther beyond its sides and ends); it is smooth, so
        clinicians walking along it move smoothly."""
        a, b = (_TABLE_HALF + dist) * np.sqrt(2.0)
        c, s = np.cos(angle), np.sin(angle)
        rot = rot_z(self.table_yaw)[:2, :2]
        inward = rot @ -np.array([c / a, s / b])
        return self.table_centre + rot @ np.array([a * c, b * s]), inward / np.linalg.norm(inward)

    def _state(self, actor: Actor, t: float) -> tuple[np.ndarray, float, float, np.ndarray]:
        """Position (xy), heading, stride (mm) and canonical pose of ``actor`` at time ``t``."""
        w = actor.waypoints
        k = int(np.clip(np.searchsorted(w[:, 2], t, side="right") - 1, 0, len(w) - 1))
        f = 0.0  # progress of the walk from stop k to stop k + 1
        if k + 1 < len(w) and t > w[k, 3]:
            f = float(_ease((t - w[k, 3]) / max(w[k + 1, 2] - w[k, 3], 1e-6)))
        nxt = min(k + 1, len(w) - 1)
        angle = w[k, 0] + (w[nxt, 0] - w[k, 0]) * f
        dist = w[k, 1] + (w[nxt, 1] - w[k, 1]) * f
        speed_frac = 4.0 * f * (1.0 - f)
        pos, inward = self._ring(angle, dist)
        offset = actor.stand_yaw[k] + (actor.stand_yaw[nxt] - actor.stand_yaw[k]) * f
        facing = np.arctan2(inward[1], inward[0]) + offset
        if speed_frac > 0:
            # Turn towards the walking direction on long walks; side-step on short ones.
            path = abs(w[nxt, 0] - w[k, 0]) * np.linalg.norm(_TABLE_HALF + dist)
            ahead, _ = self._ring(angle + np.sign(w[nxt, 0] - w[k, 0]) * 0.05, dist)
            walk = np.arctan2(*(ahead - pos)[::-1])
            turn = min(1.0, 2.0 * speed_frac) * min(1.0, path / 1200.0)
            facing = facing + np.angle(np.exp(1j * (walk - facing))) * turn
        # Whole gait cycles over the walk, so that both feet are together when it starts and ends.
        cycles = max(1, round(abs(w[nxt, 0] - w[k, 0]) * np.linalg.norm(_TABLE_HALF + dist) / actor.stride_length))
        stride = 320.0 * speed_frac * np.sin(2 * np.pi * cycles * f)
        j = int(np.clip(np.searchsorted(actor.pose_times, t, side="right") - 1, 0, len(actor.poses) - 1))
        blend = float(_ease((t - actor.pose_times[j]) / 0.8)) if j > 0 else 1.0
        pose = actor.poses[j] if j == 0 else actor.poses[j - 1] * (1.0 - blend) + actor.poses[j] * blend
        return pos, float(facing), float(stride), pose

    def bodies(self, t: float) -> list[tuple[int, Body]]:
        """The clinicians at time ``t`` (seconds): ``(id, body)`` pairs."""
        out = []
        for actor in self.actors:
            pos, yaw, stride, pose = self._state(actor, t)
            body = make_body(pose, height=actor.height, build=actor.build, position=pos, yaw=yaw, stride=stride,
                             knee_bend=actor.knee_bend)  # fmt: skip
            out.append((actor.id, body))
        return out

