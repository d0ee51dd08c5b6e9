"""
The rest days the law itself fixes, for years whose schedule is not yet published.

全国年节及纪念日放假办法 (State Council; 2024 revision, in force 1 January 2025):

- art. 2, holidays for all citizens (全体公民放假的节日): 元旦 1 day (1 January); 春节
  4 days (农历除夕 and 正月初一 to 初三); 清明节 1 day (the day of the Qingming solar
  term); 劳动节 2 days (1 and 2 May); 端午节 1 day (lunar 5/5); 中秋节 1 day (lunar 8/15);
  国庆节 3 days (1 to 3 October).
- art. 6: such a holiday that falls on a Saturday or Sunday is made up on a working day
  (补假). Here that is the first Monday-Friday after it that is neither a statutory
  holiday nor already another holiday's in-lieu day: 劳动节 on Sat 1 and Sun 2 May 2027
  gives Mon 3 and Tue 4 May. Each holiday counts: a Sunday that is both 中秋节 and a day
  of 国庆节 is made up twice. A holiday on a weekday is not made up, even when two
  holidays share it (中秋节 on 3 October 2028).

What the law does not fix is not here: the make-up working days and bridge days (调休)
that art. 7 lets the State Council arrange each year, its notice's practice of merging
国庆节 and 中秋节 into one 8-day break, art. 3's holidays for some citizens only (half
days, never made up: art. 6), and art. 4's local holidays. A deadline computed from these
rules is provisional: it may move when the year's notice is loaded.

The lunar and solar-term dates (除夕, 初一, 清明, 端午, 中秋) come from the ``holidays``
package (its Chinese lunisolar tables cover 1901-2100; in later years only the
fixed-date holidays are known). Years before 2025 followed earlier revisions and are not
modelled: ``chinesecalendar`` covers 2004 on.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import holidays

__all__ = ["RULES_SINCE", "in_lieu_days", "provisional_rest_days", "statutory_holidays"]

#: The first year the 2024 revision of 全国年节及纪念日放假办法 applies to.
RULES_SINCE: Final = 2025

_ONE_DAY = dt.timedelta(days=1)

# Art. 2's holidays on fixed Gregorian dates: (month, day) per holiday.
_FIXED: Final = {
    "元旦": ((1, 1),),
    "劳动节": ((5, 1), (5, 2)),
    "国庆节": ((10, 1), (10, 2), (10, 3)),
}

# The holidays package's names (in its source language, zh_CN) for the days it computes.
_NEW_YEAR = "春节"  # 正月初一 to 初三
_LUNAR: Final = ("清明节", "端午节", "中秋节")

# The order art. 2 lists them in.
_ORDER: Final = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


def _lunar_dates(year: int) -> dict[str, list[dt.date]]:
    """The days the ``holidays`` package names for ``year``, by name (no in-lieu days)."""
    known = holidays.country_holidays("CN", years=year, observed=False, language="zh_CN")
    by_name: dict[str, list[dt.date]] = {}
    for day in sorted(known):
        for name in known.get_list(day):
            by_name.setdefault(name, []).append(day)
    return by_name


def statutory_holidays(year: int) -> dict[str, tuple[dt.date, ...]]:
    """
    The holidays for all citizens in ``year`` (全国年节及纪念日放假办法 art. 2), by name.

    In art. 2's order: 元旦, 春节 (除夕 and 初一 to 初三), 清明节, 劳动节, 端午节, 中秋节,
    国庆节; each with its days in date order. The 2027 春节 is Fri 5 to Mon 8 February.
    A holiday whose lunar date the ``holidays`` package does not know (after 2100) is
    left out.

    Raises:
        ValueError: for a year before 2025, which earlier revisions governed.
    """
    if year < RULES_SINCE:
        msg = f"全国年节及纪念日放假办法 (2024) applies from {RULES_SINCE}, not to {year}"
        raise ValueError(msg)
    found: dict[str, tuple[dt.date, ...]] = {
        name: tuple(dt.date(year, month, day) for month, day in dates)
        for name, dates in _FIXED.items()
    }
    lunar = _lunar_dates(year)
    if lunar.get(_NEW_YEAR):
        first = lunar[_NEW_YEAR][0]  # 正月初一; 除夕 is the day before it
        found[_NEW_YEAR] = tuple(first + n * _ONE_DAY for n in range(-1, 3))
    for name in _LUNAR:
        if lunar.get(name):
            found[name] = (lunar[name][0],)
    return {name: found[name] for name in _ORDER if name in found}


def in_lieu_days(year: int) -> tuple[dt.date, ...]:
    """
    The days off in ``year`` that make up for statutory holidays on weekends (art. 6).

    For each holiday day on a Saturday or Sunday (counted once per holiday), in date
    order: the first Monday-Friday after it that is not a statutory holiday and not yet
    taken by an earlier one. 2027: Tue 9 and Wed 10 February (春节 on Sat 6 and Sun 7),
    Mon 3 and Tue 4 May, Mon 4 and Tue 5 October. No holiday lies late enough in the year
    for its in-lieu day to fall in the next one.

    Raises:
        ValueError: for a year before 2025 (see :func:`statutory_holidays`).
    """
    return _in_lieu(statutory_holidays(year))


def provisional_rest_days(year: int) -> frozenset[dt.date]:
    """
    The weekdays of ``year`` that are rest days by law alone.

    Art. 2's holidays that fall on Monday-Friday, and art. 6's in-lieu days. With the
    weekends they are the provisional calendar's rest days; every other day is a working
    day (no 调休 is assumed).

    Raises:
        ValueError: for a year before 2025 (see :func:`statutory_holidays`).
    """
    by_name = statutory_holidays(year)
    on_weekdays = {day for days in by_name.values() for day in days if day.weekday() < 5}
    return frozenset(on_weekdays.union(_in_lieu(by_name)))


def _in_lieu(by_name: dict[str, tuple[dt.date, ...]]) -> tuple[dt.date, ...]:
    statutory = {day for days in by_name.values() for day in days}
    on_weekends = sorted(day for days in by_name.values() for day in days if day.weekday() >= 5)
    taken: list[dt.date] = []
    for day in on_weekends:
        candidate = day + _ONE_DAY
        while candidate.weekday() >= 5 or candidate in statutory or candidate in taken:
            candidate += _ONE_DAY
        taken.append(candidate)
    return tuple(sorted(taken))
