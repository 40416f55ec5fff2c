"""The mailbox between the subscription callbacks and the inference thread: per camera the newest frame wins,
and the frames of several cameras that arrive close together are taken as one batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["LatestPerKey"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class LatestPerKey(Generic[K, T]):
    """Holds at most one pending item per key (camera). :meth:`put` replaces the key's pending item (returned,
    so that the caller can count it as dropped); :meth:`take` removes what it hands out, so that nothing is
    handed out twice.

    Args:
        keys: how many keys can have items (:meth:`take` stops waiting once every key has one).
    """

    def __init__(self, keys: int = 1) -> None:
        self._cond = threading.Condition()
        self._items: dict[K, T] = {}
        self._keys = keys
        self._closed = False

    def put(self, key: K, item: T) -> T | None:
        """Make ``item`` the pending one of ``key``; return the item it replaced, if any (``item`` itself after
        :meth:`close`: nothing is accepted any more)."""
        with self._cond:
            if self._closed:
                return item
            replaced = self._items.get(key)
            self._items[key] = item
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None, window: float = 0.0) -> dict[K, T]:
        """Wait for a first item, then up to ``window`` seconds more for the other keys' (not waiting once every
        key has one), and remove and return them all; empty after :meth:`close` or when ``timeout`` (s) passes
        without any item."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._items) or self._closed, timeout)
            if self._closed or not self._items:
                return {}
            end = time.monotonic() + window
            while len(self._items) < self._keys and not self._closed:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._closed:
                return {}
            items, self._items = self._items, {}
            return items

    def wait_closed(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking early on :meth:`close`; True if closed."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed, timeout)

    def close(self) -> dict[K, T]:
        """Wake every waiter; later :meth:`take` calls return nothing. Returns the pending items it discards."""
        with self._cond:
            self._closed = True
            discarded, self._items = self._items, {}
            self._cond.notify_all()
            return discarded

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed
