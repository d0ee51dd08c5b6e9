"""
Legal period arithmetic: when a time limit ends, when to warn, how much is left.

Pure functions, no I/O. Every rule names the article it comes from:

- 民法典 art. 201: the day on which a period starts is not counted; counting begins
  the next day.
- 民法典 art. 202: a period in months ends on the same-numbered day of the last month,
  or on that month's last day if it has no such day.
- 民法典 art. 203: if the last day of a period is a statutory holiday (法定休假日,
  which includes rest days), the period ends on the first day after it; a period ends
  at 24:00 of its last day.
- 行政许可法 art. 82: administrative licensing limits are counted in working days,
  statutory holidays excluded; China's make-up working days (调休) are working days.
- 行政许可法 art. 45: hearings, testing, expert review and the like are not counted
  (``pauses``).

Working days are counted the way the law reads: ``N workdays`` end on the Nth working
day *after* the start date, even when the start date is itself a rest day.

Every classification of a day as working or not goes through :class:`_DayClassifier`.
For days the calendar does not cover it uses the calendar's provisional rule
(:meth:`~caseflow.abc.Calendar.provisional_is_workday`: Monday-Friday by default; for
``cn``, weekends, the statutory holidays of 全国年节及纪念日放假办法 art. 2 and their
in-lieu days under art. 6) and records that the result is then provisional: the
published schedule's make-up working days (调休) cannot be known before it is published,
so a provisional due date may move once the year's data is loaded. Nothing here raises
for years without calendar data.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from caseflow.abc import Calendar
    from caseflow.clocks.durations import Duration, Unit

__all__ = ["DEFAULT_TZ", "Due", "Remaining", "after", "compute_due", "remaining", "warn_at"]

#: The procedures' time zone unless a workflow says otherwise.
DEFAULT_TZ = "Asia/Shanghai"

_ONE_DAY = dt.timedelta(days=1)
_MIDNIGHT = dt.time(0, 0)


@dataclass(frozen=True, slots=True)
class Due:
    """
    When a period ends.

    Attributes:
        last_day: the last day of the period, in the procedure's time zone.
        due_at: the instant it ends, in UTC: 24:00 of :attr:`last_day` local time, i.e.
            00:00 of the next day (民法典 art. 203); for ``hours`` periods, the elapsed
            instant itself.
        provisional: the calendar lacked data for a day the computation had to
            classify, so the calendar's provisional rule was used for it
            (:meth:`~caseflow.abc.Calendar.provisional_is_workday`); recompute when the
            data is published.
    """

    last_day: dt.date
    due_at: dt.datetime
    provisional: bool


@dataclass(frozen=True, slots=True)
class Remaining:
    """
    How much of a period is left: see :func:`remaining`.

    Attributes:
        amount: whole units left (negative once overdue).
        unit: ``workdays``, ``days`` or ``hours``.
        overdue: the due instant has passed (``amount`` may still be 0 on the rest days
            right after the last day).
        provisional: a day was classified with the calendar's provisional rule.
    """

    amount: int
    unit: Unit
    overdue: bool
    provisional: bool


class _DayClassifier:
    """
    The one place days are classified; remembers whether the provisional rule was needed.

    A covered day is the calendar's to decide. Any other day (or a covered one the
    calendar cannot answer for) is decided by the calendar's provisional rule, and the
    result becomes provisional. A provisional rule that raises ``LookupError`` falls back
    to Monday-Friday, so period arithmetic never fails for lack of data.
    """

    __slots__ = ("_memo", "calendar", "provisional")

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.provisional = False
        try:
            memo = _MEMO.get(calendar)
            if memo is None:
                memo = _MEMO[calendar] = {}
        except TypeError:  # a calendar that cannot be weakly referenced: no memo
            memo = {}
        self._memo: dict[dt.date, tuple[bool, bool]] = memo

    def is_workday(self, day: dt.date) -> bool:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self._classify(day)
        if known[1]:
            self.provisional = True
        return known[0]

    def _classify(self, day: dt.date) -> tuple[bool, bool]:
        """(working day, provisional): the calendar's answer, or its provisional rule."""
        if self.calendar.covers(day):
            try:
                return self.calendar.is_workday(day), False
            except LookupError:
                pass  # a calendar that covers() but cannot answer: treat as uncovered
        try:
            return self.calendar.provisional_is_workday(day), True
        except LookupError:
            return day.weekday() < 5, True


#: Classified days per calendar object (a calendar's answers never change; a reloaded
#: calendar is a new object). Period arithmetic asks about the same days again and again.
_MEMO: weakref.WeakKeyDictionary[Calendar, dict[dt.date, tuple[bool, bool]]] = (
    weakref.WeakKeyDictionary()
)


# --- helpers ---------------------------------------------------------------------------


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{name} must be timezone-aware, got {value.isoformat()}"
        raise ValueError(msg)


def _require_non_negative(duration: Duration) -> None:
    if duration.amount < 0:
        msg = f"a period cannot be negative: {duration}"
        raise ValueError(msg)


def _end_of_day(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """24:00 of ``day`` in ``zone`` (= 00:00 of the next day), as a UTC instant."""
    return dt.datetime.combine(day + _ONE_DAY, _MIDNIGHT, tzinfo=zone).astimezone(dt.UTC)


def _paused_days(pauses: Iterable[tuple[dt.date, dt.date]]) -> frozenset[dt.date]:
    """Expand ``(a, b)`` pairs of dates into the set of days a..b-1 (exact pauses, pairs of
    datetimes, are not days: see :func:`_add_elapsed_hours`)."""
    days: set[dt.date] = set()
    for first, end in pauses:
        if isinstance(first, dt.datetime) or isinstance(end, dt.datetime):
            continue
        if end < first:
            msg = f"pause ends before it starts: {first.isoformat()}..{end.isoformat()}"
            raise ValueError(msg)
        days.update(first + dt.timedelta(days=n) for n in range((end - first).days))
    return frozenset(days)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same-numbered day ``months`` later, or that month's last day (art. 202)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    last_of_month = (first_of_next - _ONE_DAY).day
    return dt.date(year, month, min(day.day, last_of_month))


def _count_workdays(
    start_day: dt.date, amount: int, days: _DayClassifier, paused: frozenset[dt.date]
) -> dt.date:
    """The ``amount``-th working day after ``start_day``, skipping paused days (art. 82, 45)."""
    day, counted = start_day, 0
    while counted < amount:
        day += _ONE_DAY
        if day not in paused and days.is_workday(day):
            counted += 1
    return day


def _extend_and_roll(
    start_day: dt.date, last_day: dt.date, days: _DayClassifier, paused: frozenset[dt.date]
) -> dt.date:
    """
    Extend a calendar-day or month period by its paused days, then roll forward.

    The period grows by the number of paused days after ``start_day`` and on or before
    the (growing) last day (行政许可法 art. 45). If the last day is then not a working day
    it moves to the next working day that is not paused (民法典 art. 203); a make-up
    working day is a working day and does not move.
    """
    base, extended = last_day, last_day
    while True:
        grown = base + dt.timedelta(days=sum(1 for p in paused if start_day < p <= extended))
        if grown == extended:
            break
        extended = grown
    while extended in paused or not days.is_workday(extended):
        extended += _ONE_DAY
    return extended


def _last_day(
    start_day: dt.date, duration: Duration, days: _DayClassifier, paused: frozenset[dt.date]
) -> dt.date:
    """The last day of a day-based period that starts (uncounted) on ``start_day``."""
    if duration.unit == "workdays":
        return _count_workdays(start_day, duration.amount, days, paused)
    if duration.unit == "days":
        base = start_day + dt.timedelta(days=duration.amount)
    elif duration.unit == "months":
        base = _add_months(start_day, duration.amount)
    else:  # pragma: no cover - hours are handled by the callers
        msg = f"not a day-based period: {duration}"
        raise ValueError(msg)
    if duration.amount == 0:
        return start_day
    return _extend_and_roll(start_day, base, days, paused)


def _exact_pauses(
    pauses: Iterable[tuple[dt.date, dt.date]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The pauses given as instants (an hour-based clock's), in order, checked."""
    exact = []
    for first, end in pauses:
        if isinstance(first, dt.datetime) and isinstance(end, dt.datetime):
            _require_aware(first, "pause start")
            _require_aware(end, "pause end")
            if end < first:
                msg = f"pause ends before it starts: {first.isoformat()}..{end.isoformat()}"
                raise ValueError(msg)
            exact.append((first.astimezone(dt.UTC), end.astimezone(dt.UTC)))
    return sorted(exact)


def _add_elapsed_hours(
    start: dt.datetime,
    hours: int,
    zone: ZoneInfo,
    paused: frozenset[dt.date],
    exact: Sequence[tuple[dt.datetime, dt.datetime]] = (),
) -> dt.datetime:
    """``start`` plus ``hours`` of elapsed time, not counting paused local days or the
    exact paused spans."""
    left = dt.timedelta(hours=hours)
    now = start.astimezone(dt.UTC)
    spans = [
        (
            dt.datetime.combine(day, _MIDNIGHT, tzinfo=zone).astimezone(dt.UTC),
            _end_of_day(day, zone),
        )
        for day in sorted(paused)
    ]
    for begin, end in sorted([*spans, *exact]):
        if end <= now:
            continue
        if begin >= now + left:
            break
        left -= max(begin - now, dt.timedelta(0))
        now = end
    return now + left


# --- public API ------------------------------------------------------------------------


def compute_due(
    start: dt.datetime,
    duration: Duration,
    calendar: Calendar,
    tz: ZoneInfo | str = DEFAULT_TZ,
    pauses: Sequence[tuple[dt.date, dt.date]] = (),
) -> Due:
    """
    When a period of ``duration`` that starts at ``start`` ends.

    The start date is ``start`` converted to ``tz``; it is not counted (民法典 art. 201).

    - ``N workdays``: the Nth working day after the start date, even if the start date
      is a rest day (行政许可法 art. 82); paused days are skipped while counting.
    - ``N days``: the start date plus N calendar days.
    - ``N months``: the same-numbered day N months later, or that month's last day if
      there is none (民法典 art. 202): 31 January + 1 month = 28 February 2026.
    - For days and months, paused days after the start date and on or before the
      growing last day extend the period; then if the last day is not a working day
      (a rest day or statutory holiday) the period ends on the next working day
      (民法典 art. 203). A make-up working day (调休) is a working day: no roll.
    - ``due_at`` is 24:00 of the last day in ``tz``, i.e. 00:00 of the next day, in UTC
      (民法典 art. 203).
    - ``N hours`` (internal service levels, no legal rule): ``start`` plus N hours of
      elapsed time not counting paused days; ``last_day`` is the local date of
      ``due_at``; no roll forward.

    Args:
        start: when the period starts; must be timezone-aware.
        duration: the period.
        calendar: which days are working days.
        tz: the procedure's time zone.
        pauses: ``(a, b)`` pairs of local dates: days a through b-1 are not counted
            (行政许可法 art. 45: hearings, testing, expert review); for ``hours``, also
            pairs of aware datetimes: exactly that time is not counted.

    Returns:
        The last day, the due instant in UTC, and whether a day had to be classified
        without calendar data (by the calendar's provisional rule).

    Raises:
        ValueError: if ``start`` is naive, the duration is negative, or a pause ends
            before it starts. Never for years the calendar has no data for.
    """
    _require_aware(start, "start")
    _require_non_negative(duration)
    zone = _zone(tz)
    paused = _paused_days(pauses)
    if duration.unit == "hours":
        due_at = _add_elapsed_hours(start, duration.amount, zone, paused, _exact_pauses(pauses))
        return Due(due_at.astimezone(zone).date(), due_at, provisional=False)
    days = _DayClassifier(calendar)
    last_day = _last_day(start.astimezone(zone).date(), duration, days, paused)
    return Due(last_day, _end_of_day(last_day, zone), days.provisional)


def warn_at(
    due: Due, before: Duration, calendar: Calendar, tz: ZoneInfo | str = DEFAULT_TZ
) -> dt.datetime:
    """
    The instant (UTC) at which ``before`` of the period remains: the yellow warning.

    - ``N workdays``: 24:00 of the Nth working day before ``last_day``, so exactly N
      working days remain: the working days after it, up to and including ``last_day``.
      (It mirrors :func:`compute_due`: ``last_day`` is N working days after that day.)
    - ``N days``: 24:00 of ``last_day`` minus N days.
    - ``N months``: 24:00 of ``last_day`` minus N months, the same-day clamp of
      民法典 art. 202 (31 March - 1 month = 28 February).
    - ``N hours``: ``due_at`` minus N hours.

    ``0`` of any unit is ``due_at``. The result may lie in the past (a period shorter
    than its warning); callers decide what to do then.

    Raises:
        ValueError: if ``before`` is negative.
    """
    _require_non_negative(before)
    zone = _zone(tz)
    if before.amount == 0:
        return due.due_at
    if before.unit == "hours":
        return due.due_at - dt.timedelta(hours=before.amount)
    if before.unit == "workdays":
        days = _DayClassifier(calendar)
        day, counted = due.last_day, 0
        while counted < before.amount:
            day -= _ONE_DAY
            if days.is_workday(day):
                counted += 1
    elif before.unit == "days":
        day = due.last_day - dt.timedelta(days=before.amount)
    else:
        day = _add_months(due.last_day, -before.amount)
    return _end_of_day(day, zone)


def after(due: Due, delay: Duration, calendar: Calendar, tz: ZoneInfo | str = DEFAULT_TZ) -> Due:
    """
    When an escalation step ``after: <delay>`` happens, counted from a due period.

    The period's last day is the (uncounted) start day of ``delay``, and the rules of
    :func:`compute_due` apply: ``after: 2 workdays`` ends at 24:00 of the second working
    day after ``last_day``. ``hours`` count from ``due_at``. A zero delay of any unit is
    ``due`` itself. The result is provisional if ``due`` was or if a day of the delay
    had to be classified without calendar data.

    Raises:
        ValueError: if ``delay`` is negative.
    """
    _require_non_negative(delay)
    if delay.amount == 0:
        return due
    zone = _zone(tz)
    if delay.unit == "hours":
        due_at = due.due_at + dt.timedelta(hours=delay.amount)
        return Due(due_at.astimezone(zone).date(), due_at, due.provisional)
    days = _DayClassifier(calendar)
    last_day = _last_day(due.last_day, delay, days, frozenset())
    return Due(last_day, _end_of_day(last_day, zone), due.provisional or days.provisional)


def remaining(
    due: Due,
    now: dt.datetime,
    calendar: Calendar,
    tz: ZoneInfo | str = DEFAULT_TZ,
    unit: Unit = "workdays",
) -> Remaining:
    """
    How much of a period is left at ``now``, for display ("3 working days left").

    Let *today* be the local date of ``now``; ``unit`` is the period's unit.

    - Before ``due_at``: the counted days from today up to and including ``last_day``:
      working days for ``workdays``, calendar days for ``days`` and ``months``. Today
      counts (if it is a working day) because it is still ahead: on the last day of a
      working-day period 1 is left, and at :func:`warn_at` for ``N workdays``, N are.
    - From ``due_at`` on: minus the counted days after ``last_day`` up to and including
      today, with ``overdue`` True. On rest days right after the last day the amount
      can be 0 while already overdue: look at ``overdue``, not the sign.
    - ``hours``: whole hours to ``due_at``, rounded down (negative once overdue).

    Raises:
        ValueError: if ``now`` is naive.
    """
    _require_aware(now, "now")
    zone = _zone(tz)
    overdue = now >= due.due_at
    if unit == "hours":
        hours = math.floor((due.due_at - now) / dt.timedelta(hours=1))
        return Remaining(hours, "hours", overdue, due.provisional)
    today = now.astimezone(zone).date()
    if overdue:
        first, last, sign = due.last_day + _ONE_DAY, today, -1
    else:
        first, last, sign = today, due.last_day, 1
    span = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    if unit != "workdays":
        return Remaining(sign * len(span), "days", overdue, due.provisional)
    days = _DayClassifier(calendar)
    count = sum(1 for day in span if days.is_workday(day))
    return Remaining(sign * count, "workdays", overdue, due.provisional or days.provisional)
