"""Decoder settings (defaults = the reference decoder's values but ``min_parts``) and their one description table."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DECODER_SETTINGS", "PUBLISHED", "DecoderParams", "SettingDoc"]


@dataclass(frozen=True)
class SettingDoc:
    """The one description of a decoder setting, and the range the node's parameter descriptor advertises (the
    node's bounds; the library itself accepts any value :class:`DecoderParams` accepts)."""

    description: str
    low: float | None = None
    high: float | None = None


#: Every decoder setting (``mode`` and each :class:`DecoderParams` field) described once. The node's parameter
#: descriptors are made from it, and the comments above the keys of ``config/inference.yaml`` and
#: ``config/depthpose.yaml`` must say the same (a test checks both files, both ways).
DECODER_SETTINGS: dict[str, SettingDoc] = {
    "mode": SettingDoc("fast: peaks at the maps' resolution refined locally, no full-frame maps (product default); "
                       "reference: the published decoder to the letter (maps resized to 640x480), for parity with "
                       "published numbers."),
    "peak_threshold": SettingDoc("A joint peak needs a heatmap value strictly above this (heatmap units, about "
                                 "[0, 1]).", 0.0, 1.0),
    "paf_threshold": SettingDoc("A limb sample is an inlier when the PAF component along the limb is strictly "
                                "above this (unit-vector units).", -1.0, 1.0),
    "min_inlier_fraction": SettingDoc("A limb candidate needs strictly more than this fraction of its samples to be "
                                      "inliers, in [0, 0.99] (1 would accept no limb).", 0.0, 0.99),
    "num_samples": SettingDoc("Points sampled on each candidate limb, end points included (at least 2).", 2, 100),
    "min_parts": SettingDoc("A person needs at least this many joints (1 or more). The published decoder uses 3; "
                            "4 drops most fragments (docs/benchmarks.md: synthetic test set, false positives per "
                            "image 0.94 -> 0.18, recall -3.4 points, PCK -0.2).", 1, 18),
    "min_mean_score": SettingDoc("A person needs (sum of its joint and limb scores) / (number of joints) of at "
                                 "least this.", 0.0, 10.0),
    "max_peaks": SettingDoc("At most this many peaks per joint, the highest (fast mode: candidates refined; "
                            "reference mode: peaks kept). Bounds the cost on garbage maps (each limb type then "
                            "scores at most max_peaks^2 candidate limbs); frames where it binds are counted.", 1,
                            1000),
}  # fmt: skip


@dataclass(frozen=True)
class DecoderParams:
    """Thresholds of the PAF decoder; both modes use all of them. Each field is described in
    :data:`DECODER_SETTINGS`.

    How the modes apply them: fast mode screens the low-resolution maps with ``peak_threshold / K`` (K = the
    bicubic model's largest gain), so the screen never drops a bump that would exceed ``peak_threshold`` after
    upsampling, and refines at most ``max_peaks`` of the highest cells per joint (real scenes stay far below it;
    it bounds time and memory on flat or garbage maps). Reference mode keeps every peak, as the reference does, up
    to the highest ``max_peaks`` (the reference's cost grows with the product of the peaks of a limb's two joints
    and did not finish on noise maps). ``min_inlier_fraction`` 0.8 with 10 samples means
    at least 9 inliers.
    """

    peak_threshold: float = 0.1
    paf_threshold: float = 0.05
    min_inlier_fraction: float = 0.8
    num_samples: int = 10
    min_parts: int = 4
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


#: The published decoder's thresholds to the letter (reference mode with these reproduces it bit for bit).
PUBLISHED = DecoderParams(min_parts=3)
