"""Decoder thresholds (defaults = the reference decoder's values)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DecoderParams"]


@dataclass(frozen=True)
class DecoderParams:
    """Thresholds of the PAF decoder; both modes use all of them but ``max_peaks`` (fast mode only).

    Attributes:
        peak_threshold: a joint peak needs a heatmap value strictly above this (heatmap units, ~[0, 1]). Fast mode
            screens the low-resolution maps with ``peak_threshold / K`` (K = the bicubic model's largest gain), so
            the screen never drops a bump that would exceed ``peak_threshold`` after upsampling.
        paf_threshold: a limb sample is an inlier if its PAF component along the limb is strictly above this
            (PAF units: a unit vector on the limb).
        min_inlier_fraction: a limb candidate needs strictly more than this fraction of its samples to be inliers
            (0.8 with 10 samples = at least 9); in [0, 1).
        num_samples: points sampled on each candidate limb, end points included (>= 2).
        min_parts: a person needs at least this many joints to be kept (>= 1).
        min_mean_score: a person needs (sum of its part and limb scores) / (number of parts) at least this
            (heatmap/PAF units).
        max_peaks: fast mode only: at most this many peak candidates per joint (the highest cells of the
            low-resolution maps) are refined (>= 1). Real scenes stay far below it; it bounds time and memory on flat
            or garbage maps (an untrained network). Reference mode keeps every peak, as the reference does, so its
            cost grows quadratically with the peaks per joint.
    """

    peak_threshold: float = 0.1
    paf_threshold: float = 0.05
    min_inlier_fraction: float = 0.8
    num_samples: int = 10
    min_parts: int = 3
    min_mean_score: float = 0.2
    max_peaks: int = 64

    def __post_init__(self) -> None:
        for name in ("peak_threshold", "paf_threshold", "min_mean_score"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"DecoderParams.{name} must be a finite number, got {value!r}")
        fraction = self.min_inlier_fraction
        if not isinstance(fraction, (int, float)) or isinstance(fraction, bool) or not 0.0 <= fraction < 1.0:
            raise ValueError(f"DecoderParams.min_inlier_fraction must be in [0, 1), got {fraction!r}")
        for name, minimum in (("num_samples", 2), ("min_parts", 1), ("max_peaks", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"DecoderParams.{name} must be an integer >= {minimum}, got {value!r}")

    @property
    def min_inliers(self) -> int:
        """Smallest number of inlier samples a limb candidate needs (strictly more than the fraction)."""
        return math.floor(self.min_inlier_fraction * self.num_samples) + 1
