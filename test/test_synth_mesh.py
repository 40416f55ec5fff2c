"""The mesh world's parts: Warp ray casting of triangle meshes, and Anny people posed to the world's bodies."""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

import numpy as np
import pytest

from depthpose_core.errors import ConfigError
from depthpose_core.keypoints import NET_JOINTS
from depthpose_core.synth.body import FLOOR_Z, canonical_pose, make_body
from depthpose_core.synth.mvor import load_mvor_geometry
from depthpose_core.synth.raycast import MeshPart, MeshScene, primitive_parts
from depthpose_core.synth.render import Capsules, render
from depthpose_core.synth.world import World

_J = {name: i for i, name in enumerate(NET_JOINTS)}


@pytest.fixture(scope="module")
def geometry():  # type: ignore[no-untyped-def]
    return load_mvor_geometry()


def test_mesh_depth_equals_the_analytic_renderer_on_the_same_primitives(geometry) -> None:  # type: ignore[no-untyped-def]
    world = World(geometry, seed=4)
    camera = geometry.cameras[1]
    ref = render(camera, world.room, world.boxes, [])  # room and boxes: exact as triangles
    mesh = MeshScene(primitive_parts(world.room, world.boxes, [])).render(camera)
    same_id = (mesh.ids == ref.ids).mean()
    assert same_id > 0.995  # only pixels on an edge between two surfaces may differ
    agree = mesh.ids == ref.ids
    assert np.abs(mesh.depth[agree] - ref.depth[agree]).max() < 0.05  # mm: the hit distance is camera z
    assert np.isfinite(mesh.depth).all()  # the room encloses the camera


def test_capsules_as_meshes_lie_within_their_facets_of_the_exact_ones(geometry) -> None:  # type: ignore[no-untyped-def]
    camera = geometry.cameras[0]
    centre = camera.centre + camera.cam_to_room[:3, :3] @ np.array([0.0, 0.0, 2500.0])
    caps = [Capsules(np.array([[*(centre - [300.0, 0, 0]), *(centre + [300.0, 0, 0]), 120.0]]), 5)]
    room = (centre - 8000.0, centre + 8000.0)
    ref = render(camera, room, [], caps)
    mesh = MeshScene(primitive_parts(room, [], caps, capsule_segments=24)).render(camera)
    both = (ref.ids == 5) & (mesh.ids == 5)
    assert both.sum() > 0.97 * (ref.ids == 5).sum()
    # A polygonal capsule lies inside the round one: never nearer, at most the facets' sagitta farther.
    diff = mesh.depth[both] - ref.depth[both]
    assert diff.min() > -0.05 and np.median(diff) < 2.0


def test_update_moves_a_part_and_refits(geometry) -> None:  # type: ignore[no-untyped-def]
    camera = geometry.cameras[0]
    centre = camera.centre + camera.cam_to_room[:3, :3] @ np.array([0.0, 0.0, 3000.0])
    square = np.array([[-200.0, -200, 0], [200, -200, 0], [200, 200, 0], [-200, 200, 0]])
    axes = camera.cam_to_room[:3, :3]
    part = MeshPart(centre + square @ axes.T, np.array([[0, 1, 2], [0, 2, 3]]), 9)
    scene = MeshScene(primitive_parts((centre - 9000.0, centre + 9000.0), [], []), [part])
    before = scene.render(camera)
    assert (before.ids == 9).sum() > 100 and np.nanmin(before.depth) == pytest.approx(3000.0, abs=0.1)
    scene.update({0: part.vertices - axes[:, 2] * 1000.0})  # 1 m nearer the camera
    after = scene.render(camera)
    assert np.nanmin(after.depth[after.ids == 9]) == pytest.approx(2000.0, abs=0.1)
    assert (after.ids == 9).sum() > 2 * (before.ids == 9).sum()  # nearer: larger on screen
    assert (after.ids[before.ids != 9] == 9).any()  # rays that saw the room before now hit the square
    with pytest.raises(ConfigError, match="has 4 vertices"):
        scene.update({0: part.vertices[:3]})
    with pytest.raises(ConfigError, match="non-finite"):
        scene.update({0: np.full((4, 3), np.nan)})


@pytest.mark.parametrize(("faces", "match"), [(np.array([[0, 1, 7]]), "outside"),
                                              (np.zeros((0, 3), int), "static face"),
                                              (np.array([0, 1, 2]), r"\(m, 3\)")])  # fmt: skip
def test_bad_meshes_are_refused(faces: np.ndarray, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MeshScene([MeshPart(np.zeros((3, 3)), faces, 1)])


@pytest.fixture(scope="module")
def human():  # type: ignore[no-untyped-def]
    from depthpose_core.synth.human import HumanModel

    # On a fresh machine Anny first writes its asset cache (minutes): one pytest worker at a time.
    with open(Path(tempfile.gettempdir()) / "depthpose_anny_cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return HumanModel()


def test_a_posed_human_stands_on_the_floor_in_the_bodys_pose(human, geometry) -> None:  # type: ignore[no-untyped-def]
    from depthpose_core.synth.human import Phenotype

    for k, (pose, yaw) in enumerate([(geometry.poses[3], 0.4), (geometry.poses[40], -2.0)]):
        body = make_body(canonical_pose(pose), height=1800.0, build=1.0, position=np.array([100.0, 900.0]), yaw=yaw)
        rest = human.rest(Phenotype(gender=0.2 + 0.6 * k, weight=0.4 + 0.2 * k), 1800.0)
        mesh = human.pose([rest], [body])[0]
        assert mesh.vertices.shape == (human.num_vertices, 3) and mesh.vertices[:, 2].min() == pytest.approx(FLOOR_Z)
        assert 1600.0 < np.ptp(mesh.vertices[:, 2]) < 1850.0  # standing, about its height (knees slightly bent)
        err = np.linalg.norm(mesh.joints - body.joints, axis=1)
        # The mesh keeps Anny's proportions: joints near the targets, not at them; the limbs point the same way.
        assert np.median(err) < 150.0 and err.max() < 350.0, err.round()
        for a, b in (("left_shoulder", "left_elbow"), ("right_elbow", "right_wrist"), ("left_hip", "left_knee")):
            d_mesh = mesh.joints[_J[b]] - mesh.joints[_J[a]]
            d_body = body.joints[_J[b]] - body.joints[_J[a]]
            cos = d_mesh @ d_body / np.linalg.norm(d_mesh) / np.linalg.norm(d_body)
            assert cos > 0.9, (a, b, cos)
        facing = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        assert (mesh.joints[_J["nose"]] - mesh.head) @ facing > 30.0  # the face looks where the body faces


def test_labels_of_a_rendered_human_land_on_its_mesh(human, geometry) -> None:  # type: ignore[no-untyped-def]
    from depthpose_core.synth.human import Phenotype

    camera = geometry.cameras[0]
    body = make_body(canonical_pose(geometry.poses[10]), height=1700.0, build=1.0,
                     position=camera.centre[:2] + camera.cam_to_room[:2, 2] * 1500.0, yaw=0.3)  # fmt: skip
    mesh = human.pose([human.rest(Phenotype(), 1700.0)], [body])[0]
    lo = np.minimum(camera.centre, mesh.vertices.min(axis=0)) - 3000.0
    hi = np.maximum(camera.centre, mesh.vertices.max(axis=0)) + 3000.0
    scene = MeshScene(primitive_parts((lo, hi), [], []), [MeshPart(mesh.vertices, human.faces, 3)])
    out = scene.render(camera)
    uv, z = camera.project(mesh.joints)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < camera.width) & (uv[:, 1] >= 0) & (uv[:, 1] < camera.height) & (z > 0)
    assert inside.sum() >= 14
    px = np.round(uv[inside]).astype(int)
    on_body = out.ids[px[:, 1], px[:, 0]] == 3
    assert on_body.mean() > 0.9  # every joint lies in the body: its pixel shows the person (or it is hidden)
    # Joints lie behind the surface the camera sees (inside the body), most of them just under it; a joint
    # hidden by another part of the same body (the far hip behind the torso) lies deeper.
    seen = out.depth[px[:, 1], px[:, 0]]
    assert (z[inside] - seen >= -1.0).all()  # never in front of the surface
    assert np.median((z[inside] - seen)[on_body]) < 120.0


def test_phenotypes_and_heights_are_checked() -> None:
    from depthpose_core.synth.human import Phenotype

    with pytest.raises(ConfigError, match="weight"):
        Phenotype(weight=1.5)


def test_heights_outside_adult_range_are_refused(human) -> None:  # type: ignore[no-untyped-def]
    from depthpose_core.synth.human import Phenotype

    with pytest.raises(ConfigError, match="height"):
        human.rest(Phenotype(), 300.0)
