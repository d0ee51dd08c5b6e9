"""``caseflow calendar``: legal deadlines from the command line, calendar data and status."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from caseflow.cli.common import db_option, dump, engine_for, group, open_engine, operator_option
from caseflow.errors import DefinitionError

if TYPE_CHECKING:
    from caseflow.clocks.calendars import CalendarOverlay
    from caseflow.clocks.durations import Duration
    from caseflow.views import DeadlineMove

#: ``caseflow.clocks.periods.DEFAULT_TZ`` (a test checks they agree).
DEFAULT_TZ = "Asia/Shanghai"


@group("calendar")
def calendar_group() -> None:
    """Working-day calendars and legal deadlines."""


def _parse_limit(ctx: click.Context, param: click.Parameter, value: str) -> Duration:  # noqa: ARG001
    from caseflow.clocks.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _parse_zone(ctx: click.Context, param: click.Parameter, value: str) -> ZoneInfo:  # noqa: ARG001
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(
            f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai"
        ) from exc


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{text.strip()!r} is not a date (YYYY-MM-DD)") from exc


def _parse_pauses(
    ctx: click.Context,  # noqa: ARG001
    param: click.Parameter,  # noqa: ARG001
    value: tuple[str, ...],
) -> tuple[tuple[dt.date, dt.date], ...]:
    pauses: list[tuple[dt.date, dt.date]] = []
    for text in value:
        first, sep, end = text.partition(":")
        if not sep:
            first, sep, end = text.partition("..")
        if not sep:
            raise click.BadParameter(
                f"{text!r} is not a pause; write FIRST:END, e.g. 2026-10-09:2026-10-13 "
                "(days FIRST up to the day before END are not counted)"
            )
        pause = (_parse_day(first), _parse_day(end))
        if pause[1] < pause[0]:
            raise click.BadParameter(f"pause {text!r} ends before it starts")
        pauses.append(pause)
    return tuple(pauses)


def _parse_start(text: str, zone: ZoneInfo) -> dt.datetime:
    try:
        start = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not a date/time; write e.g. 2026-09-25T10:00 or 2026-09-25T10:00+08:00",
            param_hint="'--from'",
        ) from exc
    return start.replace(tzinfo=zone) if start.tzinfo is None else start


def _load_overlays(paths: tuple[str, ...]) -> list[CalendarOverlay]:
    from caseflow.clocks.calendars import load_overlay

    overlays: list[CalendarOverlay] = []
    for path in paths:
        try:
            overlays.extend(load_overlay(path))
        except DefinitionError as exc:
            raise click.BadParameter(str(exc), param_hint="'--overlay'") from exc
    return overlays


@calendar_group.command(name="due")
@click.option(
    "--from",
    "start_text",
    required=True,
    metavar="DATETIME",
    help="When the period starts (ISO 8601; without an offset it is read in --tz).",
)
@click.option(
    "--limit",
    required=True,
    callback=_parse_limit,
    metavar="DURATION",
    help="The period: '20 workdays', '10 days', '1 month', '8 hours'.",
)
@click.option(
    "--calendar",
    "calendar_name",
    default="cn",
    show_default=True,
    help="Working-day calendar, by registered name.",
)
@click.option(
    "--tz",
    "zone",
    default=DEFAULT_TZ,
    show_default=True,
    callback=_parse_zone,
    help="The procedure's time zone.",
)
@click.option(
    "--pause",
    "pauses",
    multiple=True,
    callback=_parse_pauses,
    metavar="FIRST:END",
    help="Days not counted (hearing, expert review): FIRST up to the day before END. Repeatable.",
)
@click.option(
    "--overlay",
    "overlay_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Admin calendar data (YAML/JSON) for years the calendar does not know. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def due(
    start_text: str,
    limit: Duration,
    calendar_name: str,
    zone: ZoneInfo,
    pauses: tuple[tuple[dt.date, dt.date], ...],
    overlay_paths: tuple[str, ...],
    as_json: bool,
) -> None:
    """
    When a time limit that starts at --from ends.

    The start day is not counted; a period ends at 24:00 of its last day (printed as
    00:00 of the next day); calendar-day and month periods whose last day is a rest
    day end on the next working day.
    """
    from caseflow.clocks.calendars import load_calendar
    from caseflow.clocks.periods import compute_due

    start = _parse_start(start_text, zone)
    overlays = _load_overlays(overlay_paths)
    try:
        calendar = load_calendar(calendar_name, overlays)
    except (LookupError, TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="'--calendar'") from exc
    result = compute_due(start, limit, calendar, zone, pauses)
    due_local = result.due_at.astimezone(zone)
    if as_json:
        payload = {
            "last_day": result.last_day.isoformat(),
            "due_at": due_local.isoformat(),
            "provisional": result.provisional,
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    click.echo(f"last day:    {result.last_day.isoformat()} ({result.last_day:%a})")
    how = "elapsed time" if limit.unit == "hours" else "24:00 of the last day"
    click.echo(f"due at:      {due_local.isoformat()} ({how}, {zone.key})")
    if result.provisional:
        click.echo(
            f"provisional: yes - calendar {calendar_name!r} has no official data for some "
            "days counted; its provisional rule was used for them (for cn: weekends and the "
            "statutory holidays with their in-lieu days; add --overlay or upgrade it)"
        )
    else:
        click.echo("provisional: no")


@calendar_group.command(name="load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option
@operator_option
@click.option("--no-recompute", is_flag=True, help="Only store the data; `timers recompute` later.")
@click.option("--json", "as_json", is_flag=True)
def load(file: str, db: str, operator: str, no_recompute: bool, as_json: bool) -> None:
    """Store holidays and make-up workdays for years the calendar does not know yet, then
    recompute the provisional deadlines with them (audited) and report which moved."""
    from caseflow.cases import Actor
    from caseflow.cli.render import clean

    with engine_for(db, workflows=[]) as engine:
        years = engine.load_calendar_overlay(file)
        moves = (
            []
            if no_recompute
            else engine.recompute_provisional(actor=Actor(operator, {"operator"}))
        )
    if as_json:
        dump({"years": years, "moves": [m.to_dict() for m in moves]})
        return
    click.echo(f"loaded calendar data for {', '.join(map(str, years))} from {clean(file)}")
    if no_recompute:
        click.echo("run `caseflow timers recompute` to fix provisional deadlines")
        return
    print_moves(moves, operator)


def print_moves(moves: list[DeadlineMove], operator: str) -> None:
    """What a recomputation did: each deadline that moved, by how much; the rest unchanged."""
    from caseflow.cli.render import clean

    moved = [m for m in moves if m.shift]
    click.echo(
        f"recomputed {len(moves)} provisional deadline(s) as operator {clean(operator)}: "
        f"{len(moved)} moved, {len(moves) - len(moved)} unchanged"
    )
    for m in moved[:50]:
        sign = "+" if m.shift > 0 else ""
        still = " (still provisional)" if m.provisional else ""
        click.echo(
            f"  case {clean(m.case_id)} {clean(m.clock)}: last day {m.old_last_day} -> "
            f"{m.new_last_day} ({sign}{m.shift} day(s)){still}"
        )
    if len(moved) > 50:
        click.echo(f"  ... and {len(moved) - 50} more (--json lists every one)")


@calendar_group.command(name="status")
@db_option
@click.option("--year", "years", multiple=True, type=int, help="A year to show (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def status(db: str, years: tuple[int, ...], as_json: bool) -> None:
    """Which years the calendars in use know officially and which are provisional, and how
    many running clocks have a provisional deadline (load the notice: `calendar load`)."""
    from caseflow.cli.render import clean

    with open_engine(db, ()) as engine:
        found = engine.calendar_status(years)
    if as_json:
        dump(found.to_dict())
        return
    for name, by_year in found.years.items():
        parts = [f"{y} {s}" for y, s in by_year.items()]
        click.echo(f"calendar {clean(name)}: {', '.join(parts)}")
    if not found.provisional:
        click.echo("no running clock has a provisional deadline")
        return
    click.echo(f"{found.provisional_clocks} running clock(s) have a provisional deadline:")
    for year, (n, cases) in found.provisional.items():
        click.echo(f"  last day in {year}: {n} clock(s) in {cases} case(s)")
    click.echo("load the year's State Council notice with `caseflow calendar load FILE`")
