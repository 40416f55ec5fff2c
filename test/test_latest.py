"""The mailbox between the node's callbacks and its inference thread (``depthpose_ros.latest``)."""

from __future__ import annotations

import threading
import time

from depthpose_ros.latest import LatestPerKey


def test_newest_item_per_key_wins_and_the_replaced_one_is_returned() -> None:
    box: LatestPerKey[str, int] = LatestPerKey(keys=2)
    assert box.put("a", 1) is None
    assert box.put("a", 2) == 1
    assert box.put("b", 3) is None
    assert box.take(timeout=0) == {"a": 2, "b": 3}
    # Taken items are gone: nothing is handed out twice.
    assert box.take(timeout=0) == {}


def test_take_waits_for_a_put_from_another_thread() -> None:
    box: LatestPerKey[str, str] = LatestPerKey()
    threading.Timer(0.05, box.put, args=("", "frame")).start()
    assert box.take(timeout=10.0) == {"": "frame"}


def test_take_times_out_when_nothing_arrives() -> None:
    box: LatestPerKey[str, int] = LatestPerKey()
    start = time.monotonic()
    assert box.take(timeout=0.05) == {}
    assert time.monotonic() - start >= 0.04


def test_the_window_gathers_other_keys_and_ends_early_when_all_have_arrived() -> None:
    box: LatestPerKey[str, int] = LatestPerKey(keys=3)
    box.put("cam1", 1)
    threading.Timer(0.05, box.put, args=("cam2", 2)).start()
    threading.Timer(0.10, box.put, args=("cam3", 3)).start()
    start = time.monotonic()
    assert box.take(timeout=10.0, window=5.0) == {"cam1": 1, "cam2": 2, "cam3": 3}
    assert time.monotonic() - start < 2.0  # not the whole window: every camera had a frame
    # A camera that stays silent costs at most the window.
    box.put("cam1", 4)
    start = time.monotonic()
    assert box.take(timeout=10.0, window=0.05) == {"cam1": 4}
    assert 0.04 <= time.monotonic() - start < 2.0


def test_close_wakes_a_waiting_taker_and_returns_the_discarded_items() -> None:
    box: LatestPerKey[str, int] = LatestPerKey()
    taken: list[dict[str, int]] = []
    taker = threading.Thread(target=lambda: taken.append(box.take()))
    taker.start()
    time.sleep(0.05)
    assert box.close() == {}
    taker.join(timeout=10.0)
    assert not taker.is_alive() and taken == [{}]

    pending: LatestPerKey[str, int] = LatestPerKey()
    pending.put("", 7)
    assert pending.close() == {"": 7}
    assert pending.closed and pending.take(timeout=0) == {}


def test_after_close_put_refuses_the_item_so_it_can_be_counted() -> None:
    box: LatestPerKey[str, int] = LatestPerKey()
    box.close()
    assert box.put("", 3) == 3
    assert box.take(timeout=0) == {}


def test_wait_closed_sleeps_until_close() -> None:
    box: LatestPerKey[str, int] = LatestPerKey()
    assert box.wait_closed(0.01) is False
    threading.Timer(0.05, box.close).start()
    assert box.wait_closed(10.0) is True
