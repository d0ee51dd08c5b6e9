"""
The Chinese statutory working-day calendar for caseflow (``calendar: cn``).

Statutory holidays are rest days and make-up working days (调休) are working days
(行政许可法 art. 82 counts administrative limits in working days). The data comes from
the ``chinesecalendar`` package, which knows the years the State Council has published
and raises ``NotImplementedError`` for the others; those years are simply not covered,
and caseflow marks deadlines that reach into them as provisional.

For an uncovered year from 2025 on, :meth:`ChineseCalendar.provisional_is_workday`
applies what the law itself fixes (全国年节及纪念日放假办法, 2024 revision): weekends, the
statutory holidays of art. 2 (lunar dates included) and the in-lieu days of art. 6 are
rest days. It cannot know the make-up working days and bridge days of the year's notice,
so those deadlines stay provisional until the year is published (a ``chinesecalendar``
upgrade) or loaded as an overlay (``caseflow calendar load``). See
:mod:`caseflow_cn_calendar.statutory`.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from caseflow.abc import Calendar
from caseflow_cn_calendar.statutory import (
    RULES_SINCE,
    in_lieu_days,
    provisional_rest_days,
    statutory_holidays,
)

__all__ = [
    "ChineseCalendar",
    "in_lieu_days",
    "provisional_rest_days",
    "statutory_holidays",
]


class ChineseCalendar(Calendar):
    """Mainland China's working days: weekends and statutory holidays off, 调休 days on."""

    name = "cn"

    def __init__(self) -> None:
        # Per year: the set of working days, or None when the library has no data.
        # chinesecalendar scans all its holidays on every call (~20 us); a set is O(1).
        self._years: dict[int, frozenset[dt.date] | None] = {}
        # Per year: the weekdays that are rest days by law alone (provisional rule).
        # Building them asks the holidays package (~0.5 ms); a set is O(1).
        self._provisional: dict[int, frozenset[dt.date]] = {}

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

    def covers_year(self, year: int) -> bool:
        return self._year(year) is not None

    def is_workday(self, day: dt.date) -> bool:
        workdays = self._year(day.year)
        if workdays is None:
            msg = f"the cn calendar has no data for {day.year} (chinesecalendar does not know it)"
            raise LookupError(msg)
        return day in workdays

    def provisional_is_workday(self, day: dt.date) -> bool:
        """
        Whether ``day`` is a working day by law alone, for years without a schedule.

        From 2025 on (全国年节及纪念日放假办法, 2024 revision): Monday-Friday, except the
        statutory holidays of art. 2 and the in-lieu days of art. 6 for those that fall
        on a weekend. No make-up working day (调休) is assumed: a Saturday or Sunday is
        always a rest day. Before 2025 (earlier revisions, not modelled): Monday-Friday.

        Defined for every day, covered or not; period arithmetic uses it only where
        :meth:`covers` is false.
        """
        if day.weekday() >= 5:
            return False
        if day.year < RULES_SINCE:
            return True
        rest = self._provisional.get(day.year)
        if rest is None:
            rest = self._provisional[day.year] = provisional_rest_days(day.year)
        return day not in rest

    @staticmethod
    def official_years() -> range:
        """
        The years the installed ``chinesecalendar`` has the published schedule for.

        Every day of these years is covered (:meth:`covers_year`); 2004-2026 with
        ``chinesecalendar`` 1.11. The span is the library's own: the first to the last
        year of its holiday table, the years it accepts.
        """
        known = chinese_calendar.holidays
        return range(min(known).year, max(known).year + 1)
