"""The node's ``/diagnostics`` status (``depthpose_ros.diagnostics``): levels, reasons and every counter's key."""

from __future__ import annotations

import pytest
from diagnostic_msgs.msg import DiagnosticStatus

from depthpose_ros.counters import BAD_CAUSE_KEY, DIAGNOSTIC_KEYS, Count
from depthpose_ros.diagnostics import NO_INPUT_WARN_S, status
from depthpose_ros.stats import FrameStats, StatsSnapshot

TOPIC = "/ceiling/depth"


def _report(now: StatsSnapshot, before: StatsSnapshot | None = None, *, trained: bool = True,
            since_input: float | None = 0.1) -> DiagnosticStatus:  # fmt: skip
    return status("depthpose", "cpu", now, before or FrameStats().snapshot(), 2.0, {"model": "depthpose"},
                  trained=trained, input_topic=TOPIC, seconds_since_input=since_input)  # fmt: skip


def _values(report: DiagnosticStatus) -> dict[str, str]:
    return {kv.key: kv.value for kv in report.values}


def _healthy(frames: int = 10) -> FrameStats:
    stats = FrameStats()
    stats.count(Count.RECEIVED, frames)
    for _ in range(frames):
        stats.processed(20.0, 25.0, 30.0)
    return stats


def test_healthy_period_is_ok_with_rates_latencies_and_every_counter() -> None:
    report = _report(_healthy().snapshot())
    assert report.level == DiagnosticStatus.OK and report.message == "ok"
    assert report.name == "depthpose" and report.hardware_id == "cpu"
    values = _values(report)
    assert values["model"] == "depthpose" and values["input topic"] == TOPIC
    assert values["input rate (Hz)"] == "5.00" and values["processed rate (Hz)"] == "5.00"
    assert values["inference p50 (ms)"] == "20.0" and values["end-to-end latency p95 (ms)"] == "30.0"
    assert set(DIAGNOSTIC_KEYS.values()) <= set(values)
    assert values[DIAGNOSTIC_KEYS[Count.PROCESSED]] == "10" and values[DIAGNOSTIC_KEYS[Count.DIAGNOSTICS_ERRORS]] == "0"


def test_latencies_before_the_first_frame_are_not_available() -> None:
    values = _values(_report(FrameStats().snapshot()))
    assert values["inference p50 (ms)"] == "n/a" and values["in-node latency p95 (ms)"] == "n/a"


def test_failed_inference_is_an_error() -> None:
    stats = _healthy()
    stats.count(Count.FAILED, 2)
    report = _report(stats.snapshot())
    assert report.level == DiagnosticStatus.ERROR
    assert "inference failed on 2 frame(s)" in report.message


def test_all_bad_is_an_error_some_bad_a_warning_with_causes_reported() -> None:
    stats = FrameStats()
    stats.count(Count.RECEIVED, 3)
    for cause in ("encoding", "encoding", "size"):
        stats.bad(cause)
    report = _report(stats.snapshot())
    assert report.level == DiagnosticStatus.ERROR and f"every image on {TOPIC} was rejected" in report.message
    values = _values(report)
    assert values[BAD_CAUSE_KEY.format(cause="encoding")] == "2" and values[BAD_CAUSE_KEY.format(cause="size")] == "1"
    assert values[DIAGNOSTIC_KEYS[Count.BAD]] == "3"

    some = _healthy()
    some.count(Count.RECEIVED)
    some.bad("data")
    report = _report(some.snapshot())
    assert report.level == DiagnosticStatus.WARN and f"1 bad image(s) on {TOPIC}" in report.message


def test_levels_count_only_the_period() -> None:
    stats = _healthy()
    stats.count(Count.FAILED)
    before = stats.snapshot()
    stats.count(Count.RECEIVED, 5)
    for _ in range(5):
        stats.processed(20.0, 25.0, 30.0)
    report = _report(stats.snapshot(), before)
    assert report.level == DiagnosticStatus.OK
    # Totals since start are still reported.
    assert _values(report)[DIAGNOSTIC_KEYS[Count.FAILED]] == "1"


@pytest.mark.parametrize(
    ("counter", "n", "reason"),
    [
        (Count.DROPPED, 6, "dropped 6 of 10 frames"),
        (Count.LOST, 2, f"2 image(s) on {TOPIC} never reached the node"),
        (Count.INCOMPATIBLE_QOS, 1, f"incompatible QoS on {TOPIC}"),
        (Count.NO_CAMERA_INFO, 1, "no calibrated camera_info"),
        (Count.OPTIONAL_OUTPUT_ERRORS, 1, "3D skeletons, debug image or markers failed"),
        (Count.DIAGNOSTICS_ERRORS, 1, "publishing /diagnostics failed"),
        (Count.DECODER_CAPPED, 3, "the decoder's peak cap bound on 3 frame(s)"),
    ],
)
def test_warnings_name_their_reason(counter: Count, n: int, reason: str) -> None:
    stats = _healthy()
    stats.count(counter, n)
    report = _report(stats.snapshot())
    assert report.level == DiagnosticStatus.WARN
    assert reason in report.message
    assert _values(report)[DIAGNOSTIC_KEYS[counter]] == str(n)


def test_half_dropped_is_not_yet_a_warning() -> None:
    stats = _healthy()
    stats.count(Count.DROPPED, 5)
    assert _report(stats.snapshot()).level == DiagnosticStatus.OK


def test_untrained_weights_and_silence_are_warnings() -> None:
    snap = _healthy().snapshot()
    assert "untrained" in _report(snap, trained=False).message
    assert f"no image received on {TOPIC} yet" in _report(FrameStats().snapshot(), since_input=None).message
    late = _report(snap, since_input=NO_INPUT_WARN_S + 2)
    assert late.level == DiagnosticStatus.WARN and f"no image on {TOPIC} for 7 s" in late.message
    assert _report(snap, since_input=NO_INPUT_WARN_S - 1).level == DiagnosticStatus.OK


def test_incompatible_qos_keeps_warning_while_nothing_arrives() -> None:
    stats = FrameStats()
    stats.count(Count.INCOMPATIBLE_QOS)
    before = stats.snapshot()
    report = _report(stats.snapshot(), before)
    assert report.level == DiagnosticStatus.WARN and "incompatible QoS" in report.message
