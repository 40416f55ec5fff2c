"""The node's frame counters (``depthpose_ros.stats``) and the one counters vocabulary (``depthpose_ros.counters``)."""

from __future__ import annotations

import math
import threading
from dataclasses import fields

import pytest

from depthpose_ros.counters import DIAGNOSTIC_KEYS, REPLAY_COUNTS, Count
from depthpose_ros.stats import FrameStats, StatsSnapshot


def test_every_counter_is_a_snapshot_field_and_reported_under_a_unique_key() -> None:
    snapshot_fields = {f.name for f in fields(StatsSnapshot)}
    assert {c.value for c in Count} <= snapshot_fields
    # Every counter reaches /diagnostics (diagnostics_errors once did not), each under its own key.
    assert set(DIAGNOSTIC_KEYS) == set(Count)
    assert len(set(DIAGNOSTIC_KEYS.values())) == len(Count)
    assert set(REPLAY_COUNTS) <= set(Count)
    # The snapshot holds the counters, the bad causes and the latencies, nothing else.
    latencies = {"inference_ms", "in_node_ms", "end_to_end_ms"}
    assert snapshot_fields == {c.value for c in Count} | latencies


def test_counts_bad_causes_and_totals() -> None:
    stats = FrameStats()
    assert stats.count(Count.RECEIVED) == 1
    assert stats.count(Count.RECEIVED, 4) == 5
    assert stats.count(Count.DROPPED) == 1
    assert stats.bad("encoding") == 1
    assert stats.bad("encoding") == 2
    assert stats.bad("size") == 1
    snap = stats.snapshot()
    assert snap.received == 5 and snap[Count.RECEIVED] == 5
    assert snap.dropped == 1 and snap.failed == 0 and snap.diagnostics_errors == 0
    assert snap.bad == {"encoding": 2, "size": 1}
    assert snap[Count.BAD] == 3


@pytest.mark.parametrize("counter", [Count.PROCESSED, Count.BAD])
def test_processed_and_bad_have_their_own_methods(counter: Count) -> None:
    with pytest.raises(ValueError, match=counter.value):
        FrameStats().count(counter)


def test_latency_percentiles_over_processed_frames() -> None:
    stats = FrameStats()
    before = stats.snapshot()
    assert all(math.isnan(v) for v in (*before.inference_ms, *before.in_node_ms, *before.end_to_end_ms))
    for ms in range(1, 101):
        stats.processed(float(ms), 2.0 * ms, None if ms % 2 else float(ms))
    snap = stats.snapshot()
    assert snap.processed == 100
    assert snap.inference_ms == pytest.approx((50.5, 95.05))
    assert snap.in_node_ms == pytest.approx((101.0, 190.1))
    # Frames without a stamp add no end-to-end latency: only the 50 even values are in the window.
    assert snap.end_to_end_ms[0] == pytest.approx(51.0)


def test_latency_window_keeps_the_most_recent_frames() -> None:
    stats = FrameStats()
    for _ in range(500):
        stats.processed(1000.0, 1000.0, None)
    for _ in range(200):
        stats.processed(1.0, 1.0, None)
    snap = stats.snapshot()
    assert snap.processed == 700
    assert snap.inference_ms == (1.0, 1.0)


def test_snapshot_is_a_copy() -> None:
    stats = FrameStats()
    stats.bad("data")
    snap = stats.snapshot()
    stats.bad("data")
    stats.count(Count.LOST, 3)
    assert snap.bad == {"data": 1} and snap.lost == 0


def test_counting_from_threads_loses_nothing() -> None:
    stats = FrameStats()

    def work() -> None:
        for _ in range(2000):
            stats.count(Count.RECEIVED)
            stats.bad("step")
            stats.processed(1.0, 1.0, 1.0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = stats.snapshot()
    assert (snap.received, snap.bad["step"], snap.processed) == (8000, 8000, 8000)
