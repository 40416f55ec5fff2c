"""The node's ``/diagnostics`` status: rates, drops, bad input, latencies and health levels with reasons."""

from __future__ import annotations

import math
from collections.abc import Mapping

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

from depthpose_ros.counters import BAD_CAUSE_KEY, DIAGNOSTIC_KEYS, Count
from depthpose_ros.stats import StatsSnapshot

__all__ = ["NO_INPUT_WARN_S", "status"]

#: Seconds without any input image after which the status turns WARN.
NO_INPUT_WARN_S = 5.0
#: Fraction of the period's images dropped (newest-frame-only) above which the status turns WARN.
DROP_WARN_FRACTION = 0.5


def _ms(pair: tuple[float, float]) -> tuple[str, str]:
    return tuple("n/a" if math.isnan(v) else f"{v:.1f}" for v in pair)  # type: ignore[return-value]


def status(
    name: str,
    hardware_id: str,
    now: StatsSnapshot,
    before: StatsSnapshot,
    period_s: float,
    info: Mapping[str, str],
    *,
    trained: bool,
    input_topic: str,
    seconds_since_input: float | None,
) -> DiagnosticStatus:
    """One ``DiagnosticStatus`` for the last period.

    Args:
        name: status name (the node's name).
        hardware_id: the device the network runs on.
        now: counters now; ``before``: counters one period ago.
        period_s: seconds between the two snapshots.
        info: fixed facts to report (model, weights, device, input size, ...).
        trained: False when the weights are a random initialisation (WARN).
        input_topic: the resolved input topic, named in reasons.
        seconds_since_input: seconds since the last image arrived; None if none ever did.

    Levels: ERROR when inference failed in the period or every image of the period was bad; WARN for untrained
    weights, bad input in the period, more than half the period's images dropped, images lost, incompatible QoS,
    skipped markers, failed optional outputs or diagnostics, or no input for :data:`NO_INPUT_WARN_S` seconds; OK
    otherwise. Every counter's total is reported under its :data:`~depthpose_ros.counters.DIAGNOSTIC_KEYS` key.
    """
    delta = {c: now[c] - before[c] for c in Count}
    received, bad = delta[Count.RECEIVED], delta[Count.BAD]
    errors, warnings = [], []
    if delta[Count.FAILED]:
        errors.append(f"inference failed on {delta[Count.FAILED]} frame(s)")
    if received and bad == received:
        errors.append(f"every image on {input_topic} was rejected as bad input")
    elif bad:
        warnings.append(f"{bad} bad image(s) on {input_topic}")
    if not trained:
        warnings.append("untrained (random) weights: skeletons are meaningless")
    if received and delta[Count.DROPPED] > DROP_WARN_FRACTION * received:
        warnings.append(f"dropped {delta[Count.DROPPED]} of {received} frames: inference is slower than the input")
    if delta[Count.LOST]:
        warnings.append(f"{delta[Count.LOST]} image(s) on {input_topic} never reached the node")
    if delta[Count.INCOMPATIBLE_QOS] or (now.incompatible_qos and not received):
        warnings.append(f"incompatible QoS on {input_topic} ({now.incompatible_qos} event(s))")
    if delta[Count.NO_CAMERA_INFO]:
        warnings.append("3D output enabled but no calibrated camera_info received")
    if delta[Count.OPTIONAL_OUTPUT_ERRORS]:
        warnings.append("3D skeletons, debug image or markers failed")
    if delta[Count.DIAGNOSTICS_ERRORS]:
        warnings.append("publishing /diagnostics failed")
    if delta[Count.DECODER_CAPPED]:
        warnings.append(f"the decoder's peak cap bound on {delta[Count.DECODER_CAPPED]} frame(s): garbage maps")
    if seconds_since_input is None:
        warnings.append(f"no image received on {input_topic} yet")
    elif seconds_since_input > NO_INPUT_WARN_S:
        warnings.append(f"no image on {input_topic} for {seconds_since_input:.0f} s")
    level = DiagnosticStatus.ERROR if errors else DiagnosticStatus.WARN if warnings else DiagnosticStatus.OK
    inference, in_node, end_to_end = _ms(now.inference_ms), _ms(now.in_node_ms), _ms(now.end_to_end_ms)
    values = {
        **info,
        "input topic": input_topic,
        "input rate (Hz)": f"{received / period_s:.2f}",
        "processed rate (Hz)": f"{delta[Count.PROCESSED] / period_s:.2f}",
        **{key: str(now[c]) for c, key in DIAGNOSTIC_KEYS.items()},
        **{BAD_CAUSE_KEY.format(cause=cause): str(n) for cause, n in sorted(now.bad.items())},
        "inference p50 (ms)": inference[0],
        "inference p95 (ms)": inference[1],
        "in-node latency p50 (ms)": in_node[0],
        "in-node latency p95 (ms)": in_node[1],
        "end-to-end latency p50 (ms)": end_to_end[0],
        "end-to-end latency p95 (ms)": end_to_end[1],
    }
    return DiagnosticStatus(
        level=level,
        name=name,
        message="; ".join(errors + warnings) or "ok",
        hardware_id=hardware_id,
        values=[KeyValue(key=k, value=v) for k, v in values.items()],
    )
