"""
Working-day calendars: the built-in Monday-Friday calendar, admin overlays, lookup by name.

A :class:`~caseflow.abc.Calendar` says which days are working days. The Chinese
statutory calendar is a plugin (``caseflow-cn-calendar``, registered as ``cn``); it
knows the years the State Council has published. For later years an admin can provide
the schedule in a small YAML or JSON file (an *overlay*) as soon as it is announced::

    years:
      2027:
        holidays: [2027-01-01, "2027-02-06..2027-02-13", "2027-10-01..2027-10-07"]
        workdays: [2027-02-14, 2027-10-09]     # make-up working days (调休)

Until a year is covered (by the plugin or an overlay), deadlines reaching into it are
computed with the calendar's provisional rule and marked provisional; :func:`year_status`
tells which years are which.

Plugins are found by name in the ``caseflow.calendars`` entry-point group, loaded only
when first asked for, and checked against :class:`~caseflow.abc.Calendar`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal

from caseflow.abc import Calendar
from caseflow.errors import DefinitionError

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

__all__ = [
    "CalendarOverlay",
    "OverlayCalendar",
    "WeekdayCalendar",
    "YearStatus",
    "load_calendar",
    "load_overlay",
    "year_status",
]

_ENTRY_POINT_GROUP = "caseflow.calendars"
_RANGE_SEPARATOR = ".."

#: ``official``: the calendar covers every day of the year (published data or an admin
#: overlay); ``provisional``: it does not, and periods reaching into it are provisional.
YearStatus = Literal["official", "provisional"]


class WeekdayCalendar(Calendar):
    """
    Monday to Friday are working days, every week of every year; no holidays.

    It covers every day, so periods computed with it are never provisional. Useful for
    internal service levels and for tests; legal time limits in China use ``cn``.
    """

    name = "weekdays"

    def covers(self, day: dt.date) -> bool:  # noqa: ARG002 - every day is covered
        return True

    def is_workday(self, day: dt.date) -> bool:
        return day.weekday() < 5

    def covers_year(self, year: int) -> bool:  # noqa: ARG002 - every year is covered
        return True


@dataclass(frozen=True, slots=True)
class CalendarOverlay:
    """
    One year of admin-provided calendar data.

    Inside :attr:`year` a day is a working day if it is Monday-Friday and not in
    :attr:`holidays`, or if it is in :attr:`workdays` (a make-up working day, 调休).

    Raises:
        ValueError: if a date lies outside :attr:`year` or is both a holiday and a
            make-up working day.
    """

    year: int
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        outside = sorted(d for d in self.holidays | self.workdays if d.year != self.year)
        if outside:
            msg = f"dates outside {self.year}: {', '.join(d.isoformat() for d in outside)}"
            raise ValueError(msg)
        both = sorted(self.holidays & self.workdays)
        if both:
            msg = (
                "dates listed both as holidays and as make-up workdays: "
                f"{', '.join(d.isoformat() for d in both)}"
            )
            raise ValueError(msg)

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` (in :attr:`year`) is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


class OverlayCalendar(Calendar):
    """
    A base calendar plus admin-provided years it does not cover.

    Where the base calendar covers a day, the base decides: the published statutory
    schedule stays authoritative, and an overlay written before a plugin upgrade cannot
    contradict it. Overlays only fill the years the base knows nothing about.

    Raises:
        ValueError: if two overlays are given for the same year.
    """

    def __init__(self, base: Calendar, overlays: Iterable[CalendarOverlay]) -> None:
        self.base = base
        self.name = base.name
        years: dict[int, CalendarOverlay] = {}
        for overlay in overlays:
            if overlay.year in years:
                msg = f"two calendar overlays for the year {overlay.year}"
                raise ValueError(msg)
            years[overlay.year] = overlay
        self.overlays: Mapping[int, CalendarOverlay] = years

    def covers(self, day: dt.date) -> bool:
        return self.base.covers(day) or day.year in self.overlays

    def is_workday(self, day: dt.date) -> bool:
        if self.base.covers(day):
            return self.base.is_workday(day)
        overlay = self.overlays.get(day.year)
        if overlay is None:
            msg = f"calendar {self.name!r} has no data for {day.isoformat()}"
            raise LookupError(msg)
        return overlay.is_workday(day)

    def covers_year(self, year: int) -> bool:
        return year in self.overlays or self.base.covers_year(year)

    def provisional_is_workday(self, day: dt.date) -> bool:
        """The base calendar's provisional rule, for the years no overlay provides."""
        return self.base.provisional_is_workday(day)

    def __repr__(self) -> str:
        return f"OverlayCalendar({self.base!r}, years={sorted(self.overlays)})"


# --- overlay files ---------------------------------------------------------------------


def load_overlay(path: str | os.PathLike[str]) -> list[CalendarOverlay]:
    """
    Read admin calendar data from a YAML or JSON file (``.json`` is read as JSON).

    The shape is ``{"years": {"2027": {"holidays": [...], "workdays": [...]}}}``; each
    entry is a date ``"2027-01-01"`` or an inclusive range ``"2027-10-01..2027-10-07"``.
    Both lists are optional; a year with neither means "Monday-Friday, no holidays".

    Returns:
        One overlay per year, in year order.

    Raises:
        DefinitionError: naming the file and what is wrong with it.
    """
    from caseflow.definitions import safeyaml  # noqa: PLC0415 - the loader's bounded reading

    where = str(path)
    try:
        text = safeyaml.read_file(path)
        if where.lower().endswith(".json"):
            document: Any = safeyaml.load_json(text, where)
        else:  # unquoted dates become dates; an impossible one (2027-13-01) is a problem
            document = safeyaml.plain(safeyaml.load(text, where, dates=True))
    except DefinitionError as exc:
        lines = []
        for p in exc.problems:  # file:line:col: what, in the words of the other messages
            message = p.message.replace(safeyaml.SYNTAX, "not valid YAML: ", 1)
            if message.startswith("cannot read file: "):
                message = "cannot read calendar data: " + message.removeprefix("cannot read file: ")
                lines.append(f"{where}: {message}")
            elif message.startswith("not valid JSON"):
                lines.append(f"{where}: {message} (line {p.line}, column {p.column})")
            else:
                lines.append(f"{where}:{p.line}:{p.column}: {message}")
        raise DefinitionError("\n".join(lines) or str(exc)) from None
    return _parse_overlay_document(document, where)


def _parse_overlay_document(document: Any, where: str) -> list[CalendarOverlay]:
    if not isinstance(document, dict) or set(document) != {"years"}:
        raise DefinitionError(
            f"{where}: calendar data must be a mapping with one key, 'years' "
            '(e.g. {"years": {"2027": {"holidays": [...], "workdays": [...]}}})'
        )
    years = document["years"]
    if not isinstance(years, dict) or not years:
        raise DefinitionError(f"{where}: 'years' must map each year to its holidays/workdays")
    overlays: dict[int, CalendarOverlay] = {}
    for key, entry in years.items():
        year = _parse_year(key, where)
        if year in overlays:
            raise DefinitionError(f"{where}: years.{key}: the year {year} is given twice")
        element = f"years.{year}"
        if entry is None:  # a year with no keys: Monday-Friday, no holidays
            entry = {}  # noqa: PLW2901
        if not isinstance(entry, dict):
            raise DefinitionError(
                f"{where}: {element}: must be a mapping with 'holidays' and/or 'workdays'"
            )
        unknown = sorted(str(k) for k in entry if k not in {"holidays", "workdays"})
        if unknown:
            raise DefinitionError(
                f"{where}: {element}: unknown key(s) {', '.join(unknown)}; "
                "expected 'holidays' and/or 'workdays'"
            )
        holidays = _parse_days(entry.get("holidays"), f"{element}.holidays", where)
        workdays = _parse_days(entry.get("workdays"), f"{element}.workdays", where)
        try:
            overlays[year] = CalendarOverlay(year, holidays, workdays)
        except ValueError as exc:
            raise DefinitionError(f"{where}: {element}: {exc}") from exc
    return [overlays[year] for year in sorted(overlays)]


def _parse_year(key: object, where: str) -> int:
    text = str(key)
    if isinstance(key, bool) or not (text.isascii() and text.isdigit() and len(text) == 4):
        raise DefinitionError(f"{where}: years.{text}: a year must be four digits, e.g. 2027")
    return int(text)


def _parse_days(value: Any, element: str, where: str) -> frozenset[dt.date]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise DefinitionError(f"{where}: {element}: must be a list of dates or date ranges")
    days: set[dt.date] = set()
    for index, item in enumerate(value):
        try:
            days.update(_parse_day_or_range(item))
        except ValueError as exc:
            raise DefinitionError(f"{where}: {element}[{index}]: {exc}") from exc
    return frozenset(days)


def _parse_day_or_range(item: Any) -> list[dt.date]:
    # The YAML safe loader turns unquoted 2027-01-01 into a date already.
    if isinstance(item, dt.datetime):
        msg = f"{item!s} has a time of day; write a date, e.g. 2027-01-01"
        raise ValueError(msg)  # noqa: TRY004 - reported as a DefinitionError by the caller
    if isinstance(item, dt.date):
        return [item]
    if not isinstance(item, str):
        msg = f"{item!r} is not a date; write 'YYYY-MM-DD' or 'YYYY-MM-DD..YYYY-MM-DD'"
        raise ValueError(msg)  # noqa: TRY004 - reported as a DefinitionError by the caller
    if _RANGE_SEPARATOR in item:
        first_text, _, last_text = item.partition(_RANGE_SEPARATOR)
        first, last = _parse_iso_day(first_text), _parse_iso_day(last_text)
        if last < first:
            msg = f"range {item!r} ends before it starts"
            raise ValueError(msg)
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return [_parse_iso_day(item)]


def _parse_iso_day(text: str) -> dt.date:
    stripped = text.strip()
    msg = f"{stripped!r} is not a date; write 'YYYY-MM-DD' or 'YYYY-MM-DD..YYYY-MM-DD'"
    if len(stripped) != 10:
        raise ValueError(msg)
    try:
        return dt.date.fromisoformat(stripped)
    except ValueError:
        raise ValueError(msg) from None


# --- which years are official ---------------------------------------------------------


def year_status(calendar: Calendar, years: Iterable[int]) -> dict[int, YearStatus]:
    """
    Which of ``years`` the calendar has official data for (``caseflow calendar status``).

    A year is ``official`` when the calendar covers every day of it
    (:meth:`~caseflow.abc.Calendar.covers_year`): the plugin's published data, or an
    admin overlay. Otherwise it is ``provisional``: deadlines reaching into it are
    computed with the calendar's provisional rule, marked provisional, and may move
    once the year's schedule is loaded.

    Returns:
        ``{year: "official" | "provisional"}`` in ascending year order.
    """
    return {
        year: "official" if calendar.covers_year(year) else "provisional"
        for year in sorted(set(years))
    }


# --- lookup by name --------------------------------------------------------------------

_BUILT_IN: dict[str, type[Calendar]] = {"weekdays": WeekdayCalendar}


def load_calendar(
    name_or_instance: str | Calendar, overlays: Iterable[CalendarOverlay] = ()
) -> Calendar:
    """
    Return the calendar registered as ``name_or_instance``, or the instance itself.

    A name is looked up in the ``caseflow.calendars`` entry-point group; only that entry
    point is imported, and what it names must be a :class:`~caseflow.abc.Calendar`
    subclass, which is instantiated without arguments. ``weekdays`` works even when no
    entry points are installed. With ``overlays``, the calendar is wrapped in an
    :class:`OverlayCalendar`.

    Raises:
        LookupError: if no calendar has that name; the message lists the known names.
        TypeError: if the entry point does not name a Calendar subclass.
    """
    calendar = (
        _calendar_by_name(name_or_instance)
        if isinstance(name_or_instance, str)
        else name_or_instance
    )
    if not isinstance(calendar, Calendar):
        msg = f"{calendar!r} is not a caseflow.abc.Calendar"
        raise TypeError(msg)
    overlays = tuple(overlays)
    return OverlayCalendar(calendar, overlays) if overlays else calendar


def _calendar_by_name(name: str) -> Calendar:
    found = entry_points(group=_ENTRY_POINT_GROUP)
    matches = [ep for ep in found if ep.name == name]
    if matches:
        target = matches[0].load()
        if not (isinstance(target, type) and issubclass(target, Calendar)):
            msg = (
                f"calendar entry point {name!r} ({matches[0].value}) does not name a "
                "caseflow.abc.Calendar subclass"
            )
            raise TypeError(msg)
        return target()
    built_in = _BUILT_IN.get(name)
    if built_in is not None:
        return built_in()
    known = sorted({ep.name for ep in found} | set(_BUILT_IN))
    msg = f"unknown calendar {name!r}; known calendars: {', '.join(known)}"
    raise LookupError(msg)
