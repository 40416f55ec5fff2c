"""The node's counters: one vocabulary for the node (what it counts), its ``/diagnostics`` (what it reports) and
live replay (what it reads back). A new counter is added here and nowhere else is a name typed."""

from __future__ import annotations

from enum import Enum

__all__ = ["BAD_CAUSE_KEY", "DIAGNOSTIC_KEYS", "REPLAY_COUNTS", "Count"]


class Count(str, Enum):
    """A frame counter of the node (the value is the :class:`~depthpose_ros.stats.StatsSnapshot` field)."""

    RECEIVED = "received"
    PROCESSED = "processed"
    DROPPED = "dropped"
    BAD = "bad"  # the total over causes; the causes are counted apart (``StatsSnapshot.bad``)
    FAILED = "failed"
    NO_VALID_DEPTH = "no_valid_depth"
    INCOMPATIBLE_QOS = "incompatible_qos"
    LOST = "lost"
    NO_CAMERA_INFO = "no_camera_info"
    OPTIONAL_OUTPUT_ERRORS = "optional_output_errors"
    DIAGNOSTICS_ERRORS = "diagnostics_errors"
    DECODER_CAPPED = "decoder_capped"


#: The ``/diagnostics`` key of every counter's total since start.
DIAGNOSTIC_KEYS: dict[Count, str] = {
    Count.RECEIVED: "images received",
    Count.PROCESSED: "frames processed",
    Count.DROPPED: "frames dropped",
    Count.FAILED: "frames failed",
    Count.BAD: "bad input",
    Count.NO_VALID_DEPTH: "frames without valid depth",
    Count.INCOMPATIBLE_QOS: "incompatible QoS events",
    Count.LOST: "images lost before the node",
    Count.NO_CAMERA_INFO: "frames without 3D output (no calibrated camera_info)",
    Count.OPTIONAL_OUTPUT_ERRORS: "3D or debug output errors",
    Count.DIAGNOSTICS_ERRORS: "diagnostics errors",
    Count.DECODER_CAPPED: "frames with the decoder's peak cap hit",
}
#: The ``/diagnostics`` key of the count of bad images of one cause, e.g. ``bad input: encoding``.
BAD_CAUSE_KEY = "bad input: {cause}"
#: The counters a live replay reads back and reports as differences over the replay: together they account for
#: every frame published (received = processed + dropped + bad + failed + pending; lost never arrived).
REPLAY_COUNTS: tuple[Count, ...] = (Count.RECEIVED, Count.PROCESSED, Count.DROPPED, Count.FAILED, Count.BAD,
                                    Count.LOST)  # fmt: skip
