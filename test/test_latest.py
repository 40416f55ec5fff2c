"""The one-slot mailbox between the node's callback and its inference thread (``depthpose_ros.latest``)."""

from __future__ import annotations

import threading
import time

from depthpose_ros.latest import LatestOnly


def test_newest_item_wins_and_the_replaced_one_is_returned() -> None:
    box: LatestOnly[int] = LatestOnly()
    assert box.put(1) is None
    assert box.put(2) == 1
    assert box.take(timeout=0) == 2
    # Taken items are gone: nothing is handed out twice.
    assert box.take(timeout=0) is None


def test_take_waits_for_a_put_from_another_thread() -> None:
    box: LatestOnly[str] = LatestOnly()
    threading.Timer(0.05, box.put, args=("frame",)).start()
    assert box.take(timeout=10.0) == "frame"


def test_take_times_out_when_nothing_arrives() -> None:
    box: LatestOnly[int] = LatestOnly()
    start = time.monotonic()
    assert box.take(timeout=0.05) is None
    assert time.monotonic() - start >= 0.04


def test_close_wakes_a_waiting_taker_and_returns_the_discarded_item() -> None:
    box: LatestOnly[int] = LatestOnly()
    taken: list[int | None] = []
    taker = threading.Thread(target=lambda: taken.append(box.take()))
    taker.start()
    time.sleep(0.05)
    assert box.close() is None
    taker.join(timeout=10.0)
    assert not taker.is_alive() and taken == [None]

    pending: LatestOnly[int] = LatestOnly()
    pending.put(7)
    assert pending.close() == 7
    assert pending.closed and pending.take(timeout=0) is None


def test_after_close_put_refuses_the_item_so_it_can_be_counted() -> None:
    box: LatestOnly[int] = LatestOnly()
    box.close()
    assert box.put(3) == 3
    assert box.take(timeout=0) is None


def test_wait_closed_sleeps_until_close() -> None:
    box: LatestOnly[int] = LatestOnly()
    assert box.wait_closed(0.01) is False
    threading.Timer(0.05, box.close).start()
    assert box.wait_closed(10.0) is True
