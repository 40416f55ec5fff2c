"""A one-slot mailbox between the subscription callback and the inference thread: the newest frame wins."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

__all__ = ["LatestOnly"]

T = TypeVar("T")


class LatestOnly(Generic[T]):
    """Holds at most one pending item. :meth:`put` replaces a pending item (returned, so that the caller can
    count it as dropped); :meth:`take` removes the pending item, so that nothing is handed out twice."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False

    def put(self, item: T) -> T | None:
        """Make ``item`` the pending one; return the item it replaced, if any (``item`` itself after
        :meth:`close`: nothing is accepted any more)."""
        with self._cond:
            if self._closed:
                return item
            replaced, self._item = self._item, item
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None) -> T | None:
        """Wait for and remove the pending item; None after :meth:`close` or when ``timeout`` (s) passes."""
        with self._cond:
            self._cond.wait_for(lambda: self._item is not None or self._closed, timeout)
            if self._closed:
                return None
            item, self._item = self._item, None
            return item

    def wait_closed(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking early on :meth:`close`; True if closed."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed, timeout)

    def close(self) -> T | None:
        """Wake every waiter; later :meth:`take` calls return None. Returns the pending item it discards."""
        with self._cond:
            self._closed = True
            discarded, self._item = self._item, None
            self._cond.notify_all()
            return discarded

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed
