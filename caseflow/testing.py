"""
Helpers for host applications' tests (and caseflow's own).

``MovableClock`` lets a test (or the demo) move time without sleeping.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class MovableClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: dt.datetime | str, tz: str = "Asia/Shanghai") -> None:
        self._tz = ZoneInfo(tz)
        self._now = self._aware(start)

    def _aware(self, value: dt.datetime | str) -> dt.datetime:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        return value.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, value: dt.datetime | str) -> dt.datetime:
        """Jump to ``value`` (naive values are read in the clock's time zone)."""
        self._now = self._aware(value)
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``timedelta(**delta)``."""
        self._now += dt.timedelta(**delta)
        return self._now
