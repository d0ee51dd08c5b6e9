"""
Where a clock's period starts (``anchors:``) and which limit it has (``by_data:``). Pure.

A clock normally counts from the moment it starts running. An anchor makes it count from
an earlier, legally relevant moment: when another clock of the case started (行政许可法
art. 32: an application deemed accepted is accepted *from its receipt*), or a date given
in the payload or the case data (人民调解法 art. 33: 30 days from when the agreement took
effect). A date anchor must not lie in the future nor before the case began.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from caseflow.errors import DataValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from caseflow.clocks.runtime import ClockState
    from caseflow.definitions.model import ClockAnchor, ClockDef


@dataclass(frozen=True, slots=True)
class StartContext:
    """What anchors and data-chosen limits read when a clock starts."""

    payload: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    #: When the case began: no anchor may lie before it.
    earliest: dt.datetime | None = None


def variant(clock: ClockDef, context: StartContext | None) -> str | None:
    """The ``by_data`` value this start picks (None: the field is unset or not listed)."""
    if clock.by_data_field is None or context is None:
        return None
    value = context.data.get(clock.by_data_field)
    return value if isinstance(value, str) and value in clock.by_data else None


def _lookup(source: Mapping[str, Any], path: str) -> Any:
    value: Any = source
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _instant(value: Any, where: str, tz: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                return dt.datetime.combine(day, dt.time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(
                    dt.UTC
                )
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.astimezone(dt.UTC)
    raise DataValidationError(
        f"{where}: the clock counts from here, so it must be a date (YYYY-MM-DD) or an "
        f"instant with its time zone, not {value!r}",
        errors=[where],
    )


def start_of(
    clock: ClockDef,
    event: str | None,
    clocks: Mapping[str, ClockState],
    context: StartContext | None,
    now: dt.datetime,
    tz: str,
) -> tuple[dt.datetime, dict[str, Any]]:
    """The instant the clock's period starts from, and what the history line says of it."""
    for anchor in clock.anchors:
        if anchor.event is not None and anchor.event != event:
            continue
        return _anchored(anchor, clocks, context, now, tz)
    return now, {}


def _anchored(
    anchor: ClockAnchor,
    clocks: Mapping[str, ClockState],
    context: StartContext | None,
    now: dt.datetime,
    tz: str,
) -> tuple[dt.datetime, dict[str, Any]]:
    if anchor.source == "clock":
        other = clocks.get(anchor.path)
        if other is None:
            return now, {}
        return other.started_at, {"since": f"clock {anchor.path} started"}
    source = (context.payload if anchor.source == "payload" else context.data) if context else {}
    where = f"{anchor.source}.{anchor.path}"
    value = _lookup(source, anchor.path)
    if value is None:
        raise DataValidationError(
            f"{where} is needed: the clock counts from it (a date, YYYY-MM-DD)", errors=[where]
        )
    start = _instant(value, where, tz)
    if start > now:
        raise DataValidationError(f"{where} {value} lies in the future", errors=[where])
    earliest = context.earliest if context else None
    if (
        earliest is not None
        and start.astimezone(ZoneInfo(tz)).date() < earliest.astimezone(ZoneInfo(tz)).date()
    ):
        raise DataValidationError(
            f"{where} {value} lies before the case began ({earliest.date().isoformat()})",
            errors=[where],
        )
    return start, {"since": where}
