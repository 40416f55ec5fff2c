"""Overlay images of skeletons on the low-resolution depth image (never on a full-resolution frame)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from depthpose_core.keypoints import LIMBS
from depthpose_core.skeleton import Skeleton

__all__ = ["PALETTE", "contact_sheet", "draw_overlay", "labelled_tile", "track_colour"]

#: Track colours, RGB 0-255: a track id's colour is ``PALETTE[id % len(PALETTE)]`` in every output (overlay
#: images, debug images, RViz markers), so one person keeps one colour everywhere.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (0, 200, 0), (0, 64, 255), (255, 200, 0), (200, 0, 255), (0, 200, 200), (255, 0, 128),
)  # fmt: skip


def track_colour(track_id: int) -> tuple[int, int, int]:
    """The RGB (0-255) colour of track ``track_id``."""
    return PALETTE[track_id % len(PALETTE)]


def draw_overlay(lowres: np.ndarray, people: Sequence[Skeleton], *, scale: int = 8,
                 ids: Sequence[int] | None = None) -> np.ndarray:  # fmt: skip
    """Draw skeletons over a low-resolution depth image.

    The image is the low-resolution array enlarged by pixel replication (``scale`` x ``scale`` blocks of one
    value), so it holds no more depth information than the low resolution itself; skeleton lines are drawn on
    top.

    Args:
        lowres: (h, w) float32 normalised depth in [0, 1] (the network input).
        people: skeletons in any pixel frame covering the same field of view (each carries its frame size).
        scale: integer enlargement factor (1 keeps the image at the low resolution).
        ids: per person a track id that picks its colour (so a person keeps it across frames); None = list order.

    Returns:
        (h * scale, w * scale, 3) uint8 BGR image.
    """
    if lowres.ndim != 2:
        raise ValueError(f"lowres must be (h, w), got shape {lowres.shape}")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    grey = np.clip(lowres * 255.0, 0, 255).astype(np.uint8)
    image = cv2.applyColorMap(grey, cv2.COLORMAP_BONE)
    image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    h, w = image.shape[:2]
    thickness = max(1, scale // 4)
    for i, person in enumerate(people):
        colour = track_colour(ids[i] if ids is not None else i)[::-1]  # OpenCV draws BGR
        pts = person.rescaled((w, h)).keypoints
        present = ~np.isnan(pts[:, 0])
        for a, b in LIMBS:
            if present[a] and present[b]:
                cv2.line(image, _pixel(pts[a]), _pixel(pts[b]), colour, thickness, cv2.LINE_AA)
        for j in np.flatnonzero(present):
            cv2.circle(image, _pixel(pts[j]), thickness + 1, colour, -1, cv2.LINE_AA)
    return image


def _pixel(xy: np.ndarray) -> tuple[int, int]:
    """Continuous coordinates (pixel centres at +0.5) -> integer pixel for drawing."""
    return int(np.floor(xy[0])), int(np.floor(xy[1]))


def labelled_tile(lowres: np.ndarray, people: Sequence[Skeleton], ids: Sequence[int], label: str,
                  *, scale: int = 4) -> np.ndarray:  # fmt: skip
    """:func:`draw_overlay` with ``label`` written in its top-left corner (a frame number, say)."""
    image = draw_overlay(lowres, people, scale=scale, ids=ids)
    (w, h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    cv2.rectangle(image, (0, 0), (w + 8, h + base + 6), (0, 0, 0), cv2.FILLED)
    cv2.putText(image, label, (4, h + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def contact_sheet(tiles: Sequence[np.ndarray], columns: int = 4) -> np.ndarray:
    """Equal-sized BGR tiles laid out row by row, ``columns`` per row (empty cells black)."""
    h, w, _ = tiles[0].shape
    rows = -(-len(tiles) // columns)
    sheet = np.zeros((rows * h, columns * w, 3), np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = tile
    return sheet

