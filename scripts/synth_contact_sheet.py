"""A contact sheet of the synthetic world: colour and depth side by side, the same frames (``docs/synth_colour.jpg``).

Usage::

    python scripts/synth_contact_sheet.py [--out docs/synth_colour.jpg] [--seeds 3]

Row r shows world seed r through MVOR's three cameras; each tile is the colour frame and, beside it, the depth
frame (colour-mapped, 0.5-6 m; black = no reading) with the exact 2D labels of the clinicians drawn on both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from depthpose_core.keypoints import NET_JOINTS
from depthpose_core.synth import Appearance, World, WorldParams, load_mvor_geometry, render_frame, shade

_LIMBS = [("neck", "right_shoulder"), ("neck", "left_shoulder"), ("right_shoulder", "right_elbow"),
          ("right_elbow", "right_wrist"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
          ("neck", "right_hip"), ("neck", "left_hip"), ("neck", "nose")]  # fmt: skip
_J = {name: i for i, name in enumerate(NET_JOINTS)}


def _draw(image: np.ndarray, keypoints: np.ndarray) -> None:
    for a, b in _LIMBS:
        pa, pb = keypoints[_J[a]], keypoints[_J[b]]
        if pa[2] > 0 and pb[2] > 0:
            cv2.line(image, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), (255, 255, 255), 2, cv2.LINE_AA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/synth_colour.jpg"))
    parser.add_argument("--seeds", type=int, default=3, help="rows (one world each)")
    args = parser.parse_args()
    geometry = load_mvor_geometry()
    rows = []
    for seed in range(args.seeds):
        world = World(geometry, 1000 + seed, WorldParams(min_people=3, max_people=6))
        appearance = Appearance.draw(world, np.random.default_rng(seed))
        tiles = []
        for camera in geometry.cameras:
            frame = render_frame(world, camera, 4.0, np.random.default_rng(seed))
            colour = np.ascontiguousarray(shade(frame, appearance, np.random.default_rng(seed))[:, :, ::-1])
            scaled = np.clip((frame.depth.astype(np.float32) - 500.0) / 5500.0 * 255.0, 0, 255).astype(np.uint8)
            depth = cv2.applyColorMap(scaled, cv2.COLORMAP_TURBO)
            depth[frame.depth == 0] = 0
            for person in frame.people:
                if not person.only_bbox:
                    _draw(colour, person.keypoints)
                    _draw(depth, person.keypoints)
            tiles.append(np.hstack([colour, depth]))
        rows.append(np.hstack(tiles))
    sheet = cv2.resize(np.vstack(rows), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
