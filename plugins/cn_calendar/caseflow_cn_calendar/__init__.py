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
        self._covered_years: dict[int, bool] = {}

    def covers(self, day: dt.date) -> bool:
        year = day.year
        covered = self._covered_years.get(year)
        if covered is None:
            try:
                chinese_calendar.is_workday(dt.date(year, 1, 1))
            except NotImplementedError:
                covered = False
            else:
                covered = True
            self._covered_years[year] = covered
        return covered

    def is_workday(self, day: dt.date) -> bool:
        if not self.covers(day):
            msg = f"the cn calendar has no data for {day.year} (chinesecalendar does not know it)"
            raise LookupError(msg)
        return bool(chinese_calendar.is_workday(day))
