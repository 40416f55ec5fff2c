"""Person ids that stay stable across frames: a light tracker on keypoint boxes.

Each frame's people are matched to the tracks of earlier frames by the overlap (IoU) of their keypoint boxes
with the tracks' boxes predicted at the frame's time (constant velocity). Matching is greedy, highest overlap
first. Unmatched people start new tracks with new ids; tracks unseen for longer than ``max_age_s`` end. Ids
start at 1 and are never reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from depthpose_core.skeleton import Skeleton

__all__ = ["SkeletonTracker", "TrackerParams"]


@dataclass(frozen=True)
class TrackerParams:
    """Tracker settings.

    Attributes:
        min_iou: a person continues a track only if the IoU of its box with the track's predicted box is at
            least this (0..1].
        max_age_s: a track ends when no person matched it for this long, in seconds of the frames' time stamps.
        box_margin: boxes are padded on every side by this fraction of their larger side (keypoint boxes of thin
            or side-on people are narrow; padding keeps their overlap meaningful).
        velocity_smoothing: weight of the previous velocity when a track is updated, in [0, 1); 0 = use only
            the latest displacement.
    """

    min_iou: float = 0.2
    max_age_s: float = 1.0
    box_margin: float = 0.1
    velocity_smoothing: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.min_iou <= 1.0:
            raise ValueError(f"TrackerParams.min_iou must be in (0, 1], got {self.min_iou!r}")
        if not self.max_age_s >= 0.0:
            raise ValueError(f"TrackerParams.max_age_s must be >= 0 seconds, got {self.max_age_s!r}")
        if not self.box_margin >= 0.0:
            raise ValueError(f"TrackerParams.box_margin must be >= 0, got {self.box_margin!r}")
        if not 0.0 <= self.velocity_smoothing < 1.0:
            raise ValueError(f"TrackerParams.velocity_smoothing must be in [0, 1), got {self.velocity_smoothing!r}")


@dataclass
class _Track:
    id: int
    box: np.ndarray  # (4,) x0, y0, x1, y1 in frame pixels at time `seen`
    velocity: np.ndarray  # (4,) pixels per second
    seen: float  # time stamp of the last match, seconds


def _padded_box(person: Skeleton, margin: float) -> np.ndarray:
    x0, y0, x1, y1 = person.box() or (0.0, 0.0, 0.0, 0.0)
    pad = margin * max(x1 - x0, y1 - y0) + 1.0  # + 1 px: a box of one keypoint still has an area
    return np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a (n, 4)`` with every box of ``b (m, 4)`` -> ``(n, m)``."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


class SkeletonTracker:
    """Assigns track ids to the people of successive frames of one camera.

    Args:
        params: matching and ageing settings.
    """

    def __init__(self, params: TrackerParams | None = None) -> None:
        self.params = params or TrackerParams()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._frame_size: tuple[int, int] | None = None
        self._last_time: float | None = None

    def reset(self) -> None:
        """Forget all tracks (ids keep counting up: an id is never given twice)."""
        self._tracks = []
        self._frame_size = None
        self._last_time = None

    def update(self, people: Sequence[Skeleton], stamp_s: float) -> list[int]:
        """Match one frame's people to the tracks and return their ids, in the order of ``people``.

        Args:
            people: the frame's skeletons (all in the same pixel frame).
            stamp_s: the frame's time stamp in seconds (e.g. the image header's stamp). A stamp earlier than
                the previous frame's (a bag replayed from the start) or a change of pixel frame resets the tracks.

        Returns:
            One id (>= 1) per person.
        """
        frame = people[0].frame_size if people else self._frame_size
        if (self._last_time is not None and stamp_s < self._last_time) or frame != self._frame_size:
            self._tracks = []
        self._frame_size, self._last_time = frame, stamp_s
        p = self.params
        self._tracks = [t for t in self._tracks if stamp_s - t.seen <= p.max_age_s]
        boxes = np.array([_padded_box(person, p.box_margin) for person in people]).reshape(-1, 4)
        ids = [0] * len(people)
        if self._tracks and len(people):
            predicted = np.array([t.box + t.velocity * (stamp_s - t.seen) for t in self._tracks])
            overlap = _iou(predicted, boxes)
            taken = np.zeros(len(self._tracks), dtype=bool)
            order = np.argsort(-overlap, axis=None, kind="stable")
            for ti, di in zip(*np.unravel_index(order, overlap.shape)):
                if overlap[ti, di] < p.min_iou:
                    break
                if taken[ti] or ids[di]:
                    continue
                track = self._tracks[ti]
                dt = stamp_s - track.seen
                if dt > 0:
                    step = (boxes[di] - track.box) / dt
                    track.velocity = p.velocity_smoothing * track.velocity + (1.0 - p.velocity_smoothing) * step
                track.box, track.seen = boxes[di], stamp_s
                ids[di] = track.id
                taken[ti] = True
        for di, box in enumerate(boxes):
            if not ids[di]:
                self._tracks.append(_Track(self._next_id, box, np.zeros(4), stamp_s))
                ids[di] = self._next_id
                self._next_id += 1
        return ids
