"""
The Chinese statutory working-day calendar for caseflow (``calendar: cn``).

Statutory holidays are rest days and make-up working days (调休) are working days
(行政许可法 art. 82 counts administrative limits in working days). The data comes from
the ``chinesecalendar`` package, which knows the years the State Council has published
and raises ``NotImplementedError`` for the others; those years are simply not covered,
and caseflow marks deadlines that reach into them as provisional.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from caseflow.abc import Calendar

__all__ = ["ChineseCalendar"]


class ChineseCalendar(Calendar):
    """Mainland China's working days: weekends and statutory holidays off, 调休 days on."""

    name = "cn"

    def __init__(self) -> None:
        # Per year: the set of working days, or None when the library has no data.
        # chinesecalendar scans all its holidays on every call (~20 us); a set is O(1).
        self._years: dict[int, frozenset[dt.date] | None] = {}

    def _year(self, year: int) -> frozenset[dt.date] | None:
        if year not in self._years:
            try:
                start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
                days = chinese_calendar.get_workdays(start, end, include_weekends=True)
            except NotImplementedError:
                self._years[year] = None
            else:
                self._years[year] = frozenset(days)
        return self._years[year]

    def covers(self, day: dt.date) -> bool:
        return self._year(day.year) is not None

    def is_workday(self, day: dt.date) -> bool:
        workdays = self._year(day.year)
        if workdays is None:
            msg = f"the cn calendar has no data for {day.year} (chinesecalendar does not know it)"
            raise LookupError(msg)
        return day in workdays
