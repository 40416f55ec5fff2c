"""The synthetic operating-room world: geometry, depth units, labels against the z-buffer, determinism, and the
files `depthpose synth` writes (PNG + JSON read by the evaluator, rosbag2 read by rosbags)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_typestore

from depthpose_core.cli import main
from depthpose_core.data import to_net18
from depthpose_core.errors import DepthPoseError
from depthpose_core.eval.pck import evaluate
from depthpose_core.io import load_json
from depthpose_core.keypoints import COCO17_FROM_NET, NET_JOINTS
from depthpose_core.synth import Camera, MVORGeometry, World, WorldParams, load_mvor_geometry, render_frame
from depthpose_core.synth.body import FLOOR_Z, canonical_pose, make_body
from depthpose_core.synth.frames import VISIBILITY_TOLERANCE_MM, render_scene
from depthpose_core.synth.render import Box, Capsules, render
from depthpose_core.synth.sensor import SensorModel, apply_sensor, projector_shadow


@pytest.fixture(scope="module")
def geometry(mvor_geometry: MVORGeometry) -> MVORGeometry:
    return mvor_geometry


def _looking_down(height_mm: float = 2500.0) -> Camera:
    """A camera at (0, 0, FLOOR_Z + height) looking straight down at the floor; image x = room x."""
    pose = np.eye(4)
    pose[:3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    pose[:3, 3] = (0.0, 0.0, FLOOR_Z + height_mm)
    return Camera(540.0, 540.0, 319.5, 239.5, 640, 480, pose, "down")


ROOM = (np.array([-5000.0, -5000.0, FLOOR_Z]), np.array([5000.0, 5000.0, FLOOR_Z + 3000.0]))


def test_mvor_geometry_is_the_real_one(geometry) -> None:
    assert len(geometry.cameras) == 3 and geometry.poses.shape == (1056, 12, 3)
    # The 3D poses project onto the cameras' images, and standing clinicians' hips are ~0.9 m above the floor.
    for camera in geometry.cameras:
        uv, z = camera.project(geometry.poses.reshape(-1, 3))
        inside = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < 640) & (uv[:, 1] >= 0) & (uv[:, 1] < 480)
        assert inside.mean() > 0.9
    hips = geometry.poses[:, 4:6, 2].mean(axis=1) - FLOOR_Z
    assert 850 < np.median(hips) < 1000
    assert all(1500 < c.centre[2] - FLOOR_Z < 3000 for c in geometry.cameras)  # ceiling mounted


def test_missing_mvor_file_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DepthPoseError, match="MVOR annotations not found .* DEPTHPOSE_MVOR_DIR"):
        load_mvor_geometry(tmp_path / "nothing.json")
    (tmp_path / "bad.json").write_text('{"cameras_info": {}}')
    with pytest.raises(DepthPoseError, match="does not hold MVOR cameras"):
        load_mvor_geometry(tmp_path / "bad.json")


def test_depth_is_camera_z_in_millimetres() -> None:
    cam = _looking_down(2500.0)
    # A sphere of radius 200 mm whose centre is 1000 mm above the floor, straight below the camera.
    sphere = Capsules(np.array([[0.0, 0.0, FLOOR_Z + 1000.0, 0.0, 0.0, FLOOR_Z + 1000.0, 200.0]]), 7)
    box = Box(np.array([600.0, 0.0, FLOOR_Z + 400.0]), np.eye(3), np.array([300.0, 300.0, 400.0]), 9)
    out = render(cam, ROOM, [box], [sphere])
    assert out.depth[240, 320] == pytest.approx(2500.0 - 1000.0 - 200.0, abs=1.0)  # top of the sphere
    assert out.ids[240, 320] == 7
    assert out.depth[5, 5] == pytest.approx(2500.0, abs=1.0) and out.ids[5, 5] == 0  # the floor, z = 2.5 m
    # The box top (800 mm high) at x = 600 mm: pixel column 319.5 + 540 * 600 / 1700.
    col = int(round(319.5 + 540 * 600 / 1700))
    assert out.depth[240, col] == pytest.approx(1700.0, abs=1.0) and out.ids[240, col] == 9
    # The sphere's silhouette: the ray grazing the sphere at pixel distance r_px from the centre.
    dist, r = 1500.0, 200.0
    r_px = 540.0 * r / np.sqrt(dist**2 - r**2)
    assert out.ids[240, 320 - int(r_px) + 1] == 7 and out.ids[240, 320 - int(r_px) - 2] == 0
    # Sensor frames are uint16 millimetres with 0 = no reading, close to the clean depth.
    noisy = apply_sensor(out.depth, cam, np.random.default_rng(0), SensorModel(random_dropout=0.0))
    assert noisy.dtype == np.uint16
    valid = noisy > 0
    assert valid.mean() > 0.95
    assert np.median(np.abs(noisy[valid] - out.depth[valid])) < 15.0


def test_the_projector_shadow_is_a_band_on_the_far_side_as_wide_as_the_disparity_step() -> None:
    depth = np.full((4, 640), 2500.0, np.float32)
    depth[:, 300:400] = 1700.0  # a near block in front of a far wall
    depth[3, 380:] = np.inf  # nothing there: casts no shadow, gets none
    fb = 540.0 * 75.0
    # Projector towards +u: far pixel u is dark when the block's left edge reaches the projector at or left of it:
    # 300 - fb / 1700 <= u - fb / 2500 - 0.5, so u >= 292.9 (a band fb * (1/1700 - 1/2500) = 7.6 px wide).
    right = projector_shadow(depth, fb, 1)
    assert np.flatnonzero(right[0]).tolist() == list(range(293, 300))
    assert np.flatnonzero(right[3]).tolist() == list(range(293, 300))
    left = projector_shadow(depth, fb, -1)  # mirrored: the band lies right of the block
    assert np.flatnonzero(left[0]).tolist() == list(range(400, 407))
    assert not left[3].any()  # the block's right edge meets nothing
    cam = _looking_down(2500.0)
    rng = np.random.default_rng(0)
    quiet = SensorModel(random_dropout=0.0, edge_dropout=0.0, grazing_cos=1e-3)
    frame = np.full((480, 640), 2500.0, np.float32)
    frame[200:280, 300:400] = 1700.0
    lit = apply_sensor(frame, cam, rng, replace(quiet, projector_side=0))
    dark = apply_sensor(frame, cam, rng, quiet)
    assert (lit[240, 290:300] > 0).all() and (dark[240, 293:300] == 0).all() and dark[240, 292] > 0
    assert (dark[240, 400:410] > 0).all()


def test_capsule_matches_an_independent_ray_test() -> None:
    cam = _looking_down(2500.0)
    a, b, r = np.array([-400.0, 100.0, FLOOR_Z + 900.0]), np.array([300.0, -200.0, FLOOR_Z + 1300.0]), 120.0
    out = render(cam, ROOM, [], [Capsules(np.array([[*a, *b, r]]), 3)])
    rng = np.random.default_rng(1)
    ca, cb = cam.to_camera(a), cam.to_camera(b)
    for _ in range(400):
        u, v = int(rng.integers(0, 640)), int(rng.integers(0, 480))
        d = np.array([(u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy, 1.0])
        # March along the ray in 0.5 mm steps of z and find the first point within r of the segment.
        ts = np.arange(500.0, 2600.0, 0.5)
        pts = ts[:, None] * d
        s = np.clip(((pts - ca) @ (cb - ca)) / ((cb - ca) @ (cb - ca)), 0, 1)
        inside = np.linalg.norm(pts - (ca + s[:, None] * (cb - ca)), axis=1) <= r
        expected = ts[np.argmax(inside)] if inside.any() else None
        if expected is None:
            assert out.ids[v, u] != 3
        else:
            assert out.ids[v, u] == 3 and out.depth[v, u] == pytest.approx(expected, abs=1.0)


@pytest.fixture(scope="module")
def frames(geometry) -> list:
    world = World(geometry, seed=11, params=WorldParams(min_people=4, max_people=6))
    rng = np.random.default_rng(0)
    return [render_frame(world, cam, t, rng) for t in (0.0, 3.0, 7.5) for cam in geometry.cameras]


def test_visible_joints_land_on_their_body_and_flags_match_the_z_buffer(frames, geometry) -> None:
    world = World(geometry, seed=11, params=WorldParams(min_people=4, max_people=6))
    checked = {0: 0, 1: 0, 2: 0}
    for frame in frames:
        bodies = dict(world.bodies(frame.t))
        for person in frame.people:
            if person.role != "clinician":
                continue
            body = bodies[person.person_id]
            uv, z = frame.camera.project(body.joints)
            for j, (x, y, v) in enumerate(person.keypoints):
                inside = z[j] > 0 and 0 <= uv[j, 0] < 640 and 0 <= uv[j, 1] < 480
                checked[int(v)] += 1
                if not inside:
                    assert v == 0 and x == y == 0
                    continue
                assert (x, y) == pytest.approx(tuple(uv[j]))
                col, row = int(x), int(y)
                surface = frame.clean[row, col]
                limit = z[j] - body.joint_radius[j] - VISIBILITY_TOLERANCE_MM
                if v == 2:
                    assert surface >= limit
                    patch = frame.ids[max(row - 2, 0) : row + 3, max(col - 2, 0) : col + 3]
                    assert (patch == person.person_id).any()  # the joint lies on this person's rendered body
                else:
                    assert v == 1 and surface < limit
    assert min(checked.values()) > 20  # every kind of flag occurred


def test_visibility_in_built_scenes() -> None:
    cam = _looking_down(2500.0)
    pose = np.zeros((12, 3))
    pose[:, 1] = [0, 0, 180, -180, 100, -100, 220, -220, 240, -240, 250, -250]  # left side towards +y
    pose[:, 2] = [620, 500, 480, 480, 0, 0, 250, 250, 30, 30, -40, -40]  # a standing upper body, arms down
    canonical = pose - pose[[4, 5]].mean(axis=0)
    body = make_body(canonical, height=1750.0, build=1.0, position=np.array([0.0, 0.0]), yaw=0.0)
    rng = np.random.default_rng(0)
    # Alone, seen from straight above: the shoulders are visible; the neck and the nose hide under the top of the
    # head, the hips, knees and ankles under the shoulders and torso (the person's own body occludes them).
    alone = render_scene(cam, ROOM, [], [], [(1, body)], rng).people[0].keypoints
    j = {name: alone[i, 2] for i, name in enumerate(NET_JOINTS)}
    assert j["left_shoulder"] == j["right_shoulder"] == 2
    assert j["neck"] == j["nose"] == j["left_hip"] == j["left_knee"] == j["left_ankle"] == j["right_ankle"] == 1
    # A board above the person's left side hides the left shoulder, elbow and wrist; the right side stays visible.
    board = Box(np.array([0.0, 120.0, FLOOR_Z + 2050.0]), np.eye(3), np.array([300.0, 80.0, 10.0]), 9)  # 0.45 m below
    covered = render_scene(cam, ROOM, [board], [], [(1, body)], rng).people[0].keypoints
    c = {name: covered[i, 2] for i, name in enumerate(NET_JOINTS)}
    assert c["left_shoulder"] == c["left_elbow"] == c["left_wrist"] == 1 and c["right_shoulder"] == 2
    # Moved to the frame's edge: the joints beyond it are outside (0, at 0, 0), the rest still labelled.
    edge = make_body(canonical, height=1750.0, build=1.0, position=np.array([1200.0, 0.0]), yaw=0.0)
    cut = render_scene(cam, ROOM, [], [], [(1, edge)], rng).people[0].keypoints
    uv, _ = cam.project(edge.joints)
    outside = uv[:, 0] >= 640
    assert outside.any() and (~outside).any()
    assert (cut[outside] == 0).all() and (cut[~outside, 2] > 0).all()


def test_boxes_cover_exactly_the_visible_pixels(frames) -> None:
    for frame in frames:
        for person in frame.people:
            rows, cols = np.nonzero(frame.ids == person.person_id)
            x, y, w, h = person.bbox
            assert (x, y, x + w, y + h) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
            assert person.num_pixels == len(rows)
        assert any(p.role == "patient" and p.only_bbox for p in frame.people)


def test_bodies_have_plausible_proportions(geometry) -> None:
    rng = np.random.default_rng(0)
    for pose in geometry.poses[rng.integers(0, len(geometry.poses), 20)]:
        body = make_body(canonical_pose(pose), height=1750.0, build=1.0, position=np.zeros(2), yaw=0.3)
        j = body.joints
        ankles = sorted([j[10, 2] - FLOOR_Z, j[13, 2] - FLOOR_Z])
        assert abs(ankles[0] - 68) < 1 and ankles[1] < 68 + 150  # one foot on the floor, the other near it
        assert 750 < j[8, 2] - FLOOR_Z < 960  # hips
        assert j[1, 2] > j[8, 2] and j[0, 2] > j[1, 2] - 150  # neck above hips, nose near the head
        assert 1300 < body.head[2] - FLOOR_Z + 95 < 1900  # top of the head
        thigh = np.linalg.norm(j[8] - j[9])
        assert thigh == pytest.approx(0.245 * 1750, rel=1e-3)


def test_same_seed_same_frames_other_seed_other_frames(geometry) -> None:
    def make(seed: int):
        return render_frame(World(geometry, seed), geometry.cameras[1], 2.0, np.random.default_rng(seed))

    a, b, c = make(5), make(5), make(6)
    assert np.array_equal(a.depth, b.depth) and len(a.people) == len(b.people)
    assert all(np.array_equal(p.keypoints, q.keypoints) for p, q in zip(a.people, b.people))
    assert not np.array_equal(a.depth, c.depth)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_people_move_smoothly_keep_their_ids_and_their_distance(geometry, seed: int) -> None:
    world = World(geometry, seed=seed, params=WorldParams(min_people=6, max_people=6))
    previous, steps, moved = None, [], 0.0
    for k in range(450):  # 30 s at 15 Hz: many stops, walks and pose changes
        joints = {ident: body.joints for ident, body in world.bodies(k / 15.0)}
        assert sorted(joints) == [1, 2, 3, 4, 5, 6]
        pelvis = np.array([(j[8] + j[11])[:2] / 2 for j in joints.values()])
        gaps = np.linalg.norm(pelvis[:, None] - pelvis[None], axis=-1)[np.triu_indices(6, 1)]
        assert gaps.min() > 400.0  # nobody walks through anybody
        if previous is not None:
            steps += [np.linalg.norm(joints[i] - previous[i], axis=1).max() for i in joints]
            moved += sum(np.linalg.norm(joints[i][1] - previous[i][1]) for i in joints)
        previous = joints
    steps = np.array(steps)
    # mm per frame of the fastest joint: a brisk turn swings a hand at ~4 m/s (270 mm), never a jump.
    assert steps.max() < 400.0 and np.percentile(steps, 99) < 200.0
    assert moved > 3000.0  # they do move


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_synth_command_writes_what_the_evaluator_and_rosbags_read(
    tmp_path: Path, mvor_dir: Path, capsys: pytest.CaptureFixture[str], storage: str
) -> None:
    out = tmp_path / "ds"
    code = main(["synth", str(out), "--mvor", str(mvor_dir / "camma_mvor_2018.json"), "--frames", "4",
                 "--cameras", "1,3", "--people", "2-4", "--bag", storage, "--seed", "7"])  # fmt: skip
    assert code == 0, capsys.readouterr().out
    assert "wrote 8 depth frames" in capsys.readouterr().out
    gt = load_json(out / "annotations.json", kind="ground truth")
    assert len(gt["images"]) == 8
    for image in gt["images"]:
        depth = cv2.imread(str(out / image["file_name"]), cv2.IMREAD_UNCHANGED)
        assert depth.dtype == np.uint16 and depth.shape == (480, 640) and (depth == 0).any() and depth.max() < 9000
    labelled = [a for a in gt["annotations"] if not a["only_bbox"]]
    assert labelled and all(len(a["keypoints"]) == 30 and len(a["keypoints18"]) == 54 for a in labelled)
    for a in labelled:  # the MVOR-10 keypoints are the same joints as the 18-joint ones
        from_mvor, _ = to_net18(a["keypoints"], "mvor")
        k18 = np.array(a["keypoints18"]).reshape(18, 3)
        labelled18 = from_mvor[:, 2] > 0
        assert np.array_equal(from_mvor[labelled18], k18[labelled18])
    # The exact 3D joints (optical frame, m) project onto the labelled pixels through the image's own K.
    images = {i["id"]: i for i in gt["images"]}
    projected = 0
    for a in gt["annotations"]:
        if a["person_role"] == "patient":
            assert "joints3d" not in a
            continue
        xyz = np.array(a["joints3d"]).reshape(18, 3)
        fx, _, cx, _, fy, cy = images[a["image_id"]]["camera"]["k"][:6]
        k18 = np.array(a["keypoints18"]).reshape(18, 3)
        seen = k18[:, 2] > 0
        assert (xyz[seen, 2] > 0.3).all()
        uv = np.column_stack([fx * xyz[:, 0] / xyz[:, 2] + cx + 0.5, fy * xyz[:, 1] / xyz[:, 2] + cy + 0.5])
        np.testing.assert_allclose(uv[seen], k18[seen, :2], atol=0.05)  # labels are rounded to 0.01 px
        projected += int(seen.sum())
    assert projected > 50
    # The evaluator reads the file as it reads MVOR's: the labels themselves as detections score high.
    results = []
    for a in labelled:
        k = np.array(a["keypoints18"]).reshape(18, 3)[list(COCO17_FROM_NET)]
        k[:, 2] = k[:, 2] > 0
        results.append({"image_id": a["image_id"], "category_id": 1, "keypoints": k.reshape(-1).tolist(),
                        "score": float(a["area"])})  # fmt: skip
    pck = evaluate(gt, results)
    assert pck.num_persons == len(labelled) and pck.groups["Wrist"] > 60 and pck.groups["Elbow"] > 60
    # The bag: per camera a 16UC1 image and camera info per frame, stamped, equal to the PNGs.
    store = get_typestore(Stores.ROS2_KILTED)
    with Reader(out / "bags" / "seq000") as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        assert counts == {"/cam1/depth/image_raw": 4, "/cam1/depth/camera_info": 4,
                          "/cam3/depth/image_raw": 4, "/cam3/depth/camera_info": 4}  # fmt: skip
        stamps = []
        images = {i["stamp_ns"] * 10 + i["cam_id"]: i for i in gt["images"]}
        for conn, stamp, raw in reader.messages():
            msg = store.deserialize_cdr(raw, conn.msgtype)
            assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec == stamp
            if conn.msgtype == "sensor_msgs/msg/Image":
                cam = int(conn.topic[4])
                assert msg.encoding == "16UC1" and msg.header.frame_id == f"cam{cam}_depth_optical_frame"
                png = cv2.imread(str(out / images[stamp * 10 + cam]["file_name"]), cv2.IMREAD_UNCHANGED)
                assert np.array_equal(np.frombuffer(msg.data, "<u2").reshape(480, 640), png)
                stamps.append(stamp)
            else:
                assert list(msg.k) == pytest.approx(json.loads(json.dumps(images[stamp * 10 + int(conn.topic[4])]
                                                                          ["camera"]["k"])))  # fmt: skip
        assert sorted(set(stamps)) == sorted({i["stamp_ns"] for i in gt["images"]})
