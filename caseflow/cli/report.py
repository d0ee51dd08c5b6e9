"""``caseflow report``: figures for a period (opened in it, closed in it, rated in it), per
unit or workflow."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING, Any, cast

import click

from caseflow.cli.common import db_option, dump, open_engine, workflows_option

if TYPE_CHECKING:
    from rich.table import Table

    from caseflow.reports import Report, ReportRow
    from caseflow.store.reporting import By

TZ = "Asia/Shanghai"
#: ``caseflow.reports.BY_VALUES``, spelled out so ``report --help`` loads no storage code
#: (a test checks they agree).
BY_VALUES = ("org", "workflow", "org_level")
#: ``caseflow.reports.SATISFIED``, spelled out for the same reason.
SATISFIED = ("非常满意", "满意", "基本满意", "satisfied", "basically_satisfied")


def _day(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param=param) from None


def _zone(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise click.BadParameter(f"{value!r} is not a time zone", param=param) from None
    return value


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _unit_title(by: str, depth: int | None) -> str:
    if by == "org_level":
        return "org level"
    return f"org (depth {depth})" if by == "org" and depth else by


@click.command(name="report")
@db_option
@workflows_option
@click.option(
    "--since", required=True, callback=_day, help="First day of the period (cases created on it)."
)
@click.option("--until", callback=_day, help="Day after the period (exclusive); default: tomorrow.")
@click.option("--workflow", help="Only this workflow's cases.")
@click.option("--org", help="Only this org unit; sub-units included unless --exact-org.")
@click.option("--exact-org", is_flag=True)
@click.option("--by", type=click.Choice(BY_VALUES), default="org", show_default=True)
@click.option("--depth", type=click.IntRange(min=1), help="With --by org: roll paths up to N.")
@click.option(
    "--satisfied",
    multiple=True,
    default=SATISFIED,
    show_default=True,
    help="A satisfaction text that counts as satisfied (repeatable; replaces the default).",
)
@click.option("--tz", default=TZ, show_default=True, callback=_zone, help="Time zone of the dates.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="One CSV line per unit, then the total.")
def report_command(
    db: str,
    workflows: tuple[str, ...],
    since: dt.date,
    until: dt.date | None,
    workflow: str | None,
    org: str | None,
    exact_org: bool,
    by: str,
    depth: int | None,
    satisfied: tuple[str, ...],
    tz: str,
    as_json: bool,
    as_csv: bool,
) -> None:
    """
    Figures for the cases created in [--since, --until): opened, closed, still open,
    on time against the legal limits, median days to close vs the limit, escalations,
    closed by final state and success rate, satisfaction. Then what ended in the period,
    whenever opened: the cases closed in it (by final state, success, satisfaction) and
    the clocks that stopped in it (on time). Then 好差评: the ratings of the period, the
    good-rating rate, the unrated rate and the rectification rate of bad ratings.
    Counted as of --until.
    """
    from zoneinfo import ZoneInfo

    from caseflow.reports import report

    if as_json and as_csv:
        raise click.UsageError("--json and --csv exclude each other")
    if until is None:
        until = dt.datetime.now(ZoneInfo(tz)).date() + dt.timedelta(days=1)
    with open_engine(db, workflows, stored_only=True) as engine:
        found = report(
            engine,
            since=since,
            until=until,
            workflow=workflow,
            org=org,
            include_sub_orgs=not exact_org,
            by=cast("By", by),
            depth=depth,
            satisfied=satisfied,
            tz=tz,
        )
    if as_json:
        dump(found.to_dict())
    elif as_csv:
        click.echo(to_csv(found), nl=False)
    else:
        _print(found, since, until)


def _columns(found: Report) -> list[str]:
    """The CSV header: fixed figures, then one column per final state, clock and level."""
    rows = [*found.rows, found.total]
    states = sorted({(s.workflow, s.state) for r in rows for s in r.final_states})
    clocks = sorted({c.clock for r in rows for c in r.clocks})
    levels = sorted({e.level for r in rows for e in r.escalations if e.level is not None})
    ended = sorted({(s.workflow, s.state) for r in rows for s in r.period.final_states})
    stopped = sorted({c.clock for r in rows for c in r.period.clocks})
    return [
        *_FIXED,
        *(f"closed:{w}/{s}" for w, s in states),
        *(f"clock:{c}:{f}" for c in clocks for f in _CLOCK_FIELDS),
        *(f"escalations:level {level}" for level in levels),
        *(f"period_{name}" for name in _PERIOD),
        *(f"period_closed:{w}/{s}" for w, s in ended),
        *(f"period_clock:{c}:{f}" for c in stopped for f in _CLOCK_FIELDS),
        *(f"rating_{name}" for name in _RATING),
        *(f"children_{name}" for name in _CHILDREN),
    ]


_FIXED = (
    "unit",
    "opened",
    "closed",
    "completed",
    "cancelled",
    "still_open",
    "finished_clocks",
    "on_time",
    "on_time_rate",
    "successes",
    "with_outcome",
    "success_rate",
    "escalated",
    "satisfaction_mean",
    "satisfaction_n",
    "satisfied_share",
    "satisfaction_texts",
)
_CLOCK_FIELDS = (
    "finished",
    "on_time",
    "on_time_rate",
    "median_days",
    "median_limit_days",
    "window",
)
_PERIOD = (
    "closed",
    "completed",
    "cancelled",
    "finished_clocks",
    "on_time",
    "on_time_rate",
    "successes",
    "with_outcome",
    "success_rate",
    "satisfaction_mean",
    "satisfaction_n",
    "satisfied_share",
    "satisfaction_texts",
)
_RATING = (
    "offered",
    "rated",
    "unrated",
    "unrated_rate",
    "good",
    "good_rate",
    "bad",
    "rectified",
    "rectified_on_time",
    "rectification_rate",
)
_CHILDREN = ("started", "open", "succeeded", "failed", "cancelled", "success_rate")


def _csv_row(row: ReportRow) -> dict[str, Any]:
    flat = row.to_dict()
    out: dict[str, Any] = {k: flat[k] for k in _FIXED[1:]}
    out["unit"] = row.key
    for s in row.final_states:
        out[f"closed:{s.workflow}/{s.state}"] = s.count
    for c in row.clocks:
        for name in _CLOCK_FIELDS:
            out[f"clock:{c.clock}:{name}"] = getattr(c, name)
    for e in row.escalations:
        if e.level is not None:
            out[f"escalations:level {e.level}"] = e.count
    period, rating = flat["period"], flat["rating"]
    out.update({f"period_{name}": period[name] for name in _PERIOD})
    for s in row.period.final_states:
        out[f"period_closed:{s.workflow}/{s.state}"] = s.count
    for c in row.period.clocks:
        for name in _CLOCK_FIELDS:
            out[f"period_clock:{c.clock}:{name}"] = getattr(c, name)
    out.update({f"rating_{name}": rating[name] for name in _RATING})
    out.update({f"children_{name}": flat["children"][name] for name in _CHILDREN})
    return out


def to_csv(found: Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_columns(found), lineterminator="\n")
    writer.writeheader()
    for row in [*found.rows, found.total]:
        writer.writerow(_csv_row(row))
    return buffer.getvalue()


def _escalations(row: ReportRow) -> str:
    if not row.escalations:
        return "-"
    return " ".join(f"L{e.level}:{e.count}" for e in row.escalations)


def _score(row: ReportRow) -> str:
    if row.satisfaction_mean is None:
        return "-"
    return f"{row.satisfaction_mean:.2f} ({row.satisfaction_n})"


def _print(found: Report, since: dt.date, until: dt.date) -> None:
    from rich.table import Table

    from caseflow.cli.render import console as make_console
    from caseflow.cli.render import esc, text

    console = make_console()
    last = until - dt.timedelta(days=1)
    scope = [f"cases created {since} to {last}, counted as of the end of {last}"]
    if found.workflow:
        scope.append(f"workflow {found.workflow}")
    if found.org:
        scope.append(f"org {found.org}" + ("" if found.include_sub_orgs else " (exact)"))
    note = "on time: of the clocks finished; success: of the cases closed with an outcome"
    main = Table(title=esc("; ".join(scope)), caption=note)
    main.add_column(_unit_title(found.by, found.depth), no_wrap=True)
    columns = ["opened", "closed", "cancelled", "open", "on time", "success", "escalated"]
    for column in [*columns, "score", "satisfied"]:
        main.add_column(column, justify="right", no_wrap=True)
    for row in [*found.rows, found.total]:
        main.add_row(
            text(row.key, "bold" if row is found.total else None),
            str(row.opened),
            str(row.closed),
            str(row.cancelled),
            str(row.still_open),
            _pct(row.on_time_rate),
            _pct(row.success_rate),
            _escalations(row),
            _score(row),
            _pct(row.satisfied_share),
            end_section=row is found.rows[-1] if found.rows else False,
        )
    console.print(main)
    console.print(_clocks_table(found))
    console.print(_states_table(found))
    console.print(_period_table(found, since, last))
    if any(r.period.clocks for r in [*found.rows, found.total]):
        console.print(_clocks_table(found, ended=True))
    if found.total.rating.offered:
        console.print(_rating_table(found))
    if found.total.children.started:
        console.print(_children_table(found))
    moves = [(r.key, m) for r in found.rows for m in r.org_moves]
    if moves:
        table = Table(title="Org moves by escalation")
        for column in ("unit", "from", "to", "cases"):
            table.add_column(column)
        for key, m in moves:
            table.add_row(text(key), text(m.from_org), text(m.to_org), str(m.count))
        console.print(table)


def _period_table(found: Report, since: dt.date, last: dt.date) -> Table:
    """What ended in the period, whenever opened: closed cases and stopped clocks."""
    from rich.table import Table

    from caseflow.cli.render import text

    table = Table(
        title=f"Closed {since} to {last}, whenever opened",
        caption="on time: of the clocks that stopped in the period",
    )
    table.add_column(_unit_title(found.by, found.depth), no_wrap=True)
    for column in ("closed", "cancelled", "on time", "success", "satisfied"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in [*found.rows, found.total]:
        p = row.period
        table.add_row(
            text(row.key, "bold" if row is found.total else None),
            str(p.closed),
            str(p.cancelled),
            _pct(p.on_time_rate),
            _pct(p.success_rate),
            _pct(p.satisfied_share),
            end_section=row is found.rows[-1] if found.rows else False,
        )
    return table


def _rating_table(found: Report) -> Table:
    """好差评: the rating windows that closed in the period and what came of them."""
    from rich.table import Table

    from caseflow.cli.render import text

    table = Table(
        title="好差评: ratings of the period",
        caption="good: 非常满意, 满意, 基本满意 of those rated; rectified: of the bad ratings",
    )
    table.add_column(_unit_title(found.by, found.depth), no_wrap=True)
    columns = ("offered", "rated", "unrated", "good", "bad", "rectified", "in time")
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for row in [*found.rows, found.total]:
        r = row.rating
        if not r.offered and row is not found.total:
            continue
        table.add_row(
            text(row.key, "bold" if row is found.total else None),
            str(r.offered),
            str(r.rated),
            f"{r.unrated} ({_pct(r.unrated_rate)})",
            f"{r.good} ({_pct(r.good_rate)})",
            str(r.bad),
            f"{r.rectified} ({_pct(r.rectification_rate)})",
            str(r.rectified_on_time),
        )
    return table


def _children_table(found: Report) -> Table:
    """The child cases (call activities) the units' cases started, and how they ended."""
    from rich.table import Table

    from caseflow.cli.render import text

    table = Table(
        title="Child cases started (call activities)",
        caption="success: of the children that ended with an outcome",
    )
    table.add_column(_unit_title(found.by, found.depth), no_wrap=True)
    for column in ("started", "open", "succeeded", "failed", "cancelled", "success"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in [*found.rows, found.total]:
        c = row.children
        if not c.started and row is not found.total:
            continue
        table.add_row(
            text(row.key, "bold" if row is found.total else None),
            *(str(n) for n in (c.started, c.open, c.succeeded, c.failed, c.cancelled)),
            _pct(c.success_rate),
        )
    return table


def _clocks_table(found: Report, *, ended: bool = False) -> Table:
    from rich.table import Table

    from caseflow.cli.render import text

    title = "Clocks: on time, and median days to close vs the median limit"
    if ended:
        title = "Clocks that stopped in the period: on time, median days vs the median limit"
    caption = "(window): a period whose running out is a normal end, left out of the on-time totals"
    table = Table(title=title, caption=caption)
    for column in ("unit", "clock", "finished", "on time", "rate", "median days", "median limit"):
        left = column in ("unit", "clock")
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    for row in [*found.rows, found.total]:
        for c in row.period.clocks if ended else row.clocks:
            table.add_row(
                text(row.key),
                text(c.clock + (" (window)" if c.window else "")),
                str(c.finished),
                str(c.on_time),
                _pct(c.on_time_rate),
                _num(c.median_days),
                _num(c.median_limit_days),
            )
    return table


def _states_table(found: Report) -> Table:
    from rich.table import Table

    from caseflow.cli.render import text

    table = Table(title="Closed by final state")
    for column in ("unit", "workflow", "state", "outcome", "cases"):
        table.add_column(column, justify="right" if column == "cases" else "left")
    for row in [*found.rows, found.total]:
        for s in row.final_states:
            table.add_row(
                text(row.key), text(s.workflow), text(s.state), text(s.outcome or "-"), str(s.count)
            )
        if row.cancelled:
            table.add_row(text(row.key), "", "(cancelled)", "-", str(row.cancelled))
    return table
