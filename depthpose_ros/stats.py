"""Frame counters and latency windows of the node, shared by the callback and the inference thread."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from depthpose_ros.counters import Count

__all__ = ["FrameStats", "StatsSnapshot"]

# Latencies kept for the percentiles: the most recent frames.
_WINDOW = 200


@dataclass(frozen=True)
class StatsSnapshot:
    """Counters since start and latency percentiles over the last frames.

    Every received image ends in exactly one of: processed, dropped (replaced by a newer frame before
    inference, or pending at shutdown), bad (not decodable as depth; by cause), failed (inference or publishing
    raised), or is still pending: ``received == processed + dropped + sum(bad) + failed + pending``.

    Attributes:
        received: images that reached the subscription callback.
        processed: images whose skeletons were published.
        dropped: images replaced by a newer one while waiting for the inference thread.
        bad: rejected images by cause (encoding, size, step, data, shape, internal).
        failed: images whose inference or publication raised.
        no_valid_depth: received images without a single valid depth reading (all 0, NaN or inf); they are
            processed like any other (usually nobody is found).
        incompatible_qos: incompatible-QoS events on the input subscription.
        no_camera_info: frames without 3D skeletons or markers because no calibrated camera_info had arrived.
        optional_output_errors: frames whose 3D skeletons, debug image or markers failed (their 2D skeletons were
            published).
        diagnostics_errors: ``/diagnostics`` publications that failed.
        decoder_capped: processed frames where some joint had more peaks than ``decoder.max_peaks`` and only the
            highest were kept (garbage maps: a broken model or an input far from its training).
        lost: images a publisher sent that never reached the node (gaps in its sequence numbers: replaced in the
            depth-limited subscription queue, or lost in transport); not part of ``received``.
        inference_ms: (p50, p95) network + decoding time, ms; NaN before the first frame.
        in_node_ms: (p50, p95) time from the callback to the publication, ms.
        end_to_end_ms: (p50, p95) time from the image's header stamp to the publication (node clock), ms;
            NaN when images carry no stamp.
    """

    received: int
    processed: int
    dropped: int
    bad: dict[str, int]
    failed: int
    no_valid_depth: int
    incompatible_qos: int
    lost: int
    no_camera_info: int
    optional_output_errors: int
    diagnostics_errors: int
    decoder_capped: int
    inference_ms: tuple[float, float]
    in_node_ms: tuple[float, float]
    end_to_end_ms: tuple[float, float]

    def __getitem__(self, count: Count) -> int:
        """The total of ``count`` (for :attr:`Count.BAD`, summed over the causes)."""
        return sum(self.bad.values()) if count is Count.BAD else int(getattr(self, count.value))


def _percentiles(values: deque[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    p50, p95 = np.percentile(np.fromiter(values, dtype=np.float64), [50, 95])
    return float(p50), float(p95)


@dataclass
class FrameStats:
    """Thread-safe counters; see :class:`StatsSnapshot` for their meaning."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counts: Counter[Count] = field(default_factory=Counter)
    _bad: Counter[str] = field(default_factory=Counter)
    _inference: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    _in_node: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    _end_to_end: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))

    def count(self, counter: Count, n: int = 1) -> int:
        """Add ``n`` to ``counter`` (any but :attr:`Count.PROCESSED` and :attr:`Count.BAD`, which have their own
        methods); returns its total."""
        if counter in (Count.PROCESSED, Count.BAD):
            raise ValueError(f"{counter} is counted by processed() or bad()")
        with self._lock:
            self._counts[counter] += n
            return self._counts[counter]

    def bad(self, cause: str) -> int:
        """Count one rejected image of ``cause``; returns that cause's total."""
        with self._lock:
            self._bad[cause] += 1
            return self._bad[cause]

    def processed(self, inference_ms: float, in_node_ms: float, end_to_end_ms: float | None) -> None:
        """Count one published frame and record its latencies (ms)."""
        with self._lock:
            self._counts[Count.PROCESSED] += 1
            self._inference.append(inference_ms)
            self._in_node.append(in_node_ms)
            if end_to_end_ms is not None:
                self._end_to_end.append(end_to_end_ms)

    def snapshot(self) -> StatsSnapshot:
        """A consistent copy of every counter and the latency percentiles."""
        with self._lock:
            counts = {c.value: self._counts[c] for c in Count if c is not Count.BAD}
            return StatsSnapshot(
                **counts, bad=dict(self._bad), inference_ms=_percentiles(self._inference),
                in_node_ms=_percentiles(self._in_node), end_to_end_ms=_percentiles(self._end_to_end),
            )  # fmt: skip
