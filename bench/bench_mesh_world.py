"""Mesh people and the Warp ray caster against today's capsule renderer, on the same worlds and cameras.

Usage (from the repository root, in the venv that scripts/setup_env.sh builds)::

    python bench/bench_mesh_world.py [--frames 12] [--sheet docs/synth_mesh.png]

Worlds of 6 clinicians seen by MVOR's three cameras at 640x480. Baseline in the same run: the analytic capsule
renderer (``synth.render.render``). The mesh path per frame: posing the six Anny bodies (``HumanModel.pose``),
moving them in the scene (``MeshScene.update``: BVH refit) and ray casting (``MeshScene.render``); the static
room, table, patient and equipment are built into the BVH once per world (``build``, reported apart). Depth only,
no sensor model, no colour. ``--sheet`` writes the clean depth of both renderers side by side, with the mesh's
labelled joints.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depthpose_core.synth import World, WorldParams, load_mvor_geometry  # noqa: E402
from depthpose_core.synth.human import HumanModel, Phenotype  # noqa: E402
from depthpose_core.synth.raycast import MeshPart, MeshScene, primitive_parts  # noqa: E402
from depthpose_core.synth.render import Capsules, render  # noqa: E402


def _colour(depth: np.ndarray) -> np.ndarray:
    import cv2

    d = np.where(np.isfinite(depth), depth, 0.0)
    grey = np.clip(255.0 - (d - 1500.0) / 4500.0 * 255.0, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(grey, cv2.COLORMAP_JET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=12, help="frames per world (3 worlds)")
    parser.add_argument("--sheet", default="", help="write a side-by-side PNG here")
    args = parser.parse_args()
    geometry = load_mvor_geometry()
    t0 = time.perf_counter()
    human = HumanModel()
    load_s = time.perf_counter() - t0
    times: dict[str, list[float]] = {k: [] for k in ("capsules", "pose", "update", "raycast", "build")}
    rows = []
    for seed in (1, 2, 3):
        world = World(geometry, seed=seed, params=WorldParams(min_people=6, max_people=6))
        rng = np.random.default_rng(seed)
        shapes = [Phenotype(gender=float(rng.uniform()), weight=float(rng.uniform(0.3, 0.8)),
                            muscle=float(rng.uniform(0.3, 0.7))) for _ in world.actors]  # fmt: skip
        rests = [human.rest(shape, actor.height) for shape, actor in zip(shapes, world.actors)]
        t = time.perf_counter()
        bodies = world.bodies(0.0)
        first = human.pose(rests, [b for _, b in bodies])
        static = primitive_parts(world.room, world.boxes, world.static_capsules)
        scene = MeshScene(static, [MeshPart(m.vertices, human.faces, i) for m, (i, _) in zip(first, bodies)])
        times["build"].append(time.perf_counter() - t)
        for k in range(args.frames):
            camera = geometry.cameras[k % len(geometry.cameras)]
            bodies = world.bodies(0.5 * k)
            t = time.perf_counter()
            ref = render(camera, world.room, world.boxes, [*world.static_capsules,
                                                           *(Capsules(b.capsules, i) for i, b in bodies)])  # fmt: skip
            times["capsules"].append(time.perf_counter() - t)
            t = time.perf_counter()
            meshes = human.pose(rests, [b for _, b in bodies])
            times["pose"].append(time.perf_counter() - t)
            t = time.perf_counter()
            scene.update(dict(enumerate(m.vertices for m in meshes)))
            times["update"].append(time.perf_counter() - t)
            t = time.perf_counter()
            out = scene.render(camera)
            times["raycast"].append(time.perf_counter() - t)
            if args.sheet and seed == 1 and k < 3:
                rows.append((_colour(out.depth), _colour(ref.depth), camera, meshes))
    ms = {k: 1e3 * float(np.median(v)) for k, v in times.items()}
    mesh_frame = ms["pose"] + ms["update"] + ms["raycast"]
    print(f"6 people, 640x480, MVOR cameras, {3 * args.frames} frames; Anny model load {load_s:.1f} s; "
          f"mesh BVH build per world {ms['build']:.0f} ms")
    print(f"{'renderer':<28}{'pose ms':>9}{'update ms':>11}{'raycast ms':>12}{'frame ms':>10}{'frames/s':>10}"
          f"{'x capsules':>12}")
    print(f"{'capsules (today)':<28}{'-':>9}{'-':>11}{ms['capsules']:>12.1f}{ms['capsules']:>10.1f}"
          f"{1e3 / ms['capsules']:>10.1f}{1.0:>11.2f}x")
    print(f"{'Anny meshes + Warp BVH':<28}{ms['pose']:>9.1f}{ms['update']:>11.1f}{ms['raycast']:>12.1f}"
          f"{mesh_frame:>10.1f}{1e3 / mesh_frame:>10.1f}{ms['capsules'] / mesh_frame:>11.2f}x")
    if args.sheet:
        import cv2

        tiles = []
        for mesh_img, ref_img, camera, meshes in rows:
            mesh_img = mesh_img.copy()
            for m in meshes:
                uv, z = camera.project(m.joints)
                for (u, v), depth in zip(uv, z):
                    if depth > 0 and 0 <= u < camera.width and 0 <= v < camera.height:
                        cv2.circle(mesh_img, (int(u), int(v)), 3, (255, 255, 255), -1)
            tiles.append(np.concatenate([mesh_img, ref_img], axis=1))
        cv2.imwrite(args.sheet, cv2.resize(np.concatenate(tiles, axis=0), None, fx=0.5, fy=0.5,
                                           interpolation=cv2.INTER_AREA))  # fmt: skip
        print(f"sheet: {args.sheet} (left: meshes with their labelled joints; right: today's capsules)")


if __name__ == "__main__":
    main()
