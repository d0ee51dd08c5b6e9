"""``caseflow cases ...``: look at cases, and un-stick them (operator commands)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from caseflow.cli.common import (
    db_option,
    dump,
    fail,
    group,
    open_engine,
    operator_option,
    role_option,
    workflows_option,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence

    from caseflow.cases import Actor, Case
    from caseflow.engine import Engine
    from caseflow.services.migration import MigrationReport
    from caseflow.views import CaseRow, ClockView


@group("cases")
def cases_group() -> None:
    """Cases: list and show; retry, skip, move, suspend, resume, reassign, cancel, migrate."""


def _reason(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--reason", required=True, help="Why; recorded in the history.")(fn)


def _yes(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(fn)


def _case_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An operator command on one case: --db, --workflows, CASE_ID, --operator."""
    for option in (operator_option, click.argument("case_id"), workflows_option, db_option):
        fn = option(fn)
    return cases_group.command()(fn)


def _actor(operator: str, roles: set[str] | None = None) -> Actor:
    from caseflow.cases import Actor

    return Actor(operator, roles or {"operator"})


def _id(value: str) -> str:
    from caseflow.cli.render import clean

    return clean(value)


@cases_group.command(name="list")
@db_option
@workflows_option
@click.option("--workflow")
@click.option("--state")
@click.option("--status", type=click.Choice(["active", "suspended", "completed", "cancelled"]))
@click.option("--org", help="Org unit path; sub-units included unless --exact-org.")
@click.option("--exact-org", is_flag=True, help="Only the unit itself, not its sub-units.")
@click.option("--with-children", is_flag=True, help="Include sub-units (the default).")
@click.option("--overdue", is_flag=True, help="Only cases with a clock past its due time.")
@click.option("--stuck", is_flag=True, help="Only cases with an open incident.")
@click.option("--warned", is_flag=True, help="Only cases with a clock in its warning window.")
@click.option("--provisional", is_flag=True, help="Only cases with a provisional deadline.")
@click.option("--since", help="Only cases created on or after DATE (Asia/Shanghai).")
@click.option("--sort", type=click.Choice(["created", "updated", "due"]), help="Default: created.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--offset", default=0, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True)
def list_cases(
    db: str,
    workflows: tuple[str, ...],
    exact_org: bool,
    with_children: bool,
    since: str | None,
    limit: int,
    offset: int,
    as_json: bool,
    **filters: Any,
) -> None:
    """
    List cases, oldest first; rows coloured by clock (red breached, yellow warned, green
    running). --overdue alone lists overdue clocks, most overdue first. Ids are never cut:
    on a narrow terminal other columns wrap or move under the id.
    """
    from caseflow import listing

    if exact_org and with_children:
        raise click.UsageError("--exact-org and --with-children exclude each other")
    try:
        start = listing.day_start(since) if since else None
    except ValueError:
        raise click.BadParameter(f"not a date: {since!r}", param_hint="--since") from None
    narrowing = ("workflow", "state", "status", "org", "stuck", "warned", "provisional")
    per_clock = (
        filters["overdue"] and not any(filters[k] for k in narrowing) and start is None
    ) and filters["sort"] in (None, "due")
    clocks: list[str] = []
    # The per-clock list shows each clock's view, which needs its case's definition.
    with open_engine(db, workflows, stored_only=not per_clock) as engine:
        if per_clock:  # the index-driven overdue list: one row per overdue clock
            found = engine.overdue(limit=limit + 1, offset=offset)
            more = len(found) > limit
            found = found[:limit]
            rows = listing.rows_for(engine, [c for c, _ in found])
            clocks = [v.name for _, v in found]
        else:
            rows = listing.list_cases(
                engine,
                include_sub_orgs=not exact_org,
                since=start,
                limit=limit + 1,
                offset=offset,
                **filters,
            )
            more = len(rows) > limit
            rows = rows[:limit]
    if as_json:
        out = [listing.row_json(r) for r in rows]
        for item, name in zip(out, clocks, strict=False):
            item["overdue_clock"] = name
        dump(out)
        return
    print_rows(rows, clocks)
    from caseflow.cli.render import more_rows

    footer = more_rows(len(rows), more, offset, "cases")
    if footer:
        click.echo(footer)


def print_rows(
    rows: Sequence[CaseRow], clocks: list[str] | None = None, *, assignee: bool = False
) -> None:
    """Case rows as a grid, coloured by clock status (``clocks``: the clock of each row)."""
    from caseflow.cli.common import local_time
    from caseflow.cli.render import ROW_STYLE, Column, Grid, console, status_text

    columns = [
        Column("id", role="keep", host=True),
        Column("workflow", breaks=" _"),
        Column("state", breaks="_"),
        Column("status", role="spill", label="", order=5),
        Column("org", breaks="/"),
        Column("clock", role="spill", label="clock", order=4, breaks=" _"),
        Column("last day", role="spill", label="last day", order=3),
        Column("inc.", role="spill", label="incidents", order=2),
        Column("updated", role="spill", label="updated", order=1),
    ]
    if assignee:
        columns.insert(5, Column("assignee", role="spill", label="assignee", order=6))
    grid = Grid(columns)
    for i, r in enumerate(rows):
        c = r.case
        clock = status_text(r.clock_status, clock=clocks[i] if clocks else None)
        cells = [
            c.id,
            f"{c.workflow} v{c.workflow_version}",
            c.state,
            c.status,
            c.org,
            clock,
            r.last_day.isoformat() if r.last_day else "",
            str(r.open_incidents or ""),
            local_time(c.updated_at)[:10],
        ]
        if assignee:
            cells.insert(5, c.assignee or "")
        grid.add_row(*cells, style=ROW_STYLE.get(r.clock_status or ""))
    if rows:
        grid.print(console())


def _clock_json(view: ClockView, now: dt.datetime) -> dict[str, Any]:
    from caseflow import listing
    from caseflow.cli.render import clock_status

    out = listing.clock_json(view)
    out["status"], out["not_yet_swept"] = clock_status(view.state, now)
    return out


@cases_group.command()
@db_option
@workflows_option
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True)
def show(db: str, workflows: tuple[str, ...], case_id: str, as_json: bool) -> None:
    """
    Show a case: state, data, clocks, open incidents, next events, history.

    A clock past its due time is "breached", as in `cases list`, and "breached (not yet
    swept)" until the worker records the breach and does what the workflow says.
    """
    from caseflow import listing

    with open_engine(db, workflows, stored_only=True) as engine:
        case = engine.get(case_id)
        # first: loads the case's definition from the database when it is not on disk
        definition = engine.workflow(case.workflow, case.workflow_version)
        history = engine.history(case_id)
        clocks = engine.clocks(case_id)
        incidents = engine.incidents(case_id=case_id)
        events = listing.event_choices(engine, case)
        pending = listing.pending_actions(engine, case_id)
        children = engine.children(case_id)
        now = engine.clock.now()
    if as_json:
        out = case.to_dict()
        out["children"] = [
            {"id": c.id, "workflow": c.workflow, "state": c.state, "status": c.status}
            for c in children
        ]
        out["clocks"] = [_clock_json(c, now) for c in clocks]
        out["incidents"] = [listing.incident_json(i) for i in incidents]
        out["events"] = [listing.event_json(e) for e in events]
        out["pending_actions"] = [
            {"timer_id": p.timer_id, "action": p.action, "attempts": p.attempts} for p in pending
        ]
        out["history"] = [listing.history_json(h) for h in history]
        dump(out)
        return
    from caseflow.cli.common import local_time
    from caseflow.cli.render import clocks_table, console, esc, highlighted_json, timeline

    out_console = console()
    out_console.print(
        f"[bold]{esc(case.id)}[/]  {esc(case.workflow)} v{case.workflow_version}  "
        f"state [bold]{esc(case.state)}[/]  {esc(case.status)}  org {esc(case.org or '-')}  "
        f"version {case.version}" + (f"  assignee {esc(case.assignee)}" if case.assignee else "")
    )
    if case.parent_id:
        out_console.print(f"started by case {esc(case.parent_id)} (a call activity)")
    for child in children:
        out_console.print(
            f"child case {esc(child.id)}: {esc(child.workflow)}, {esc(child.state)} "
            f"({esc(child.status)})"
        )
    out_console.print(highlighted_json(case.data))
    if clocks:
        out_console.print(clocks_table(clocks, definition.timezone, now))
    for i in incidents:
        out_console.print(
            f"[bold red]incident {i.id}[/]: action {esc(repr(i.action))} failed {i.attempts} "
            f"time(s): {esc(i.error)} (since {local_time(i.opened_at)}; "
            f"`caseflow cases retry {esc(case.id)}`)"
        )
    for p in pending:
        out_console.print(
            f"[yellow]pending action[/] {esc(repr(p.action))} (attempts so far: {p.attempts})"
        )
    if events:
        out_console.print(
            "next events: "
            + "; ".join(
                esc(
                    f"{e.name} → {'/'.join(e.to)} "
                    + ("(automatic)" if e.automatic else f"({', '.join(e.roles)})")
                )
                for e in events
            )
        )
    out_console.print(timeline(history, definition))


# -- operator commands: each one library call, recorded in the case history -----------


def _outcome(engine: Engine, case_id: str) -> str:
    from caseflow import listing

    if engine.incidents(case_id=case_id):
        return "still stuck (the action failed again)"
    pending = listing.pending_actions(engine, case_id)
    return f"{len(pending)} action(s) pending a later attempt" if pending else "done"


def _retry(engine: Engine, case_id: str, actor: Actor, reason: str | None, run_now: bool) -> None:
    """``engine.retry`` with the operator's reason (the library's default without one)."""
    extra = {} if reason is None else {"reason": reason}
    count = engine.retry(case_id, actor=actor, run_now=run_now, **extra)
    if count == 0 and run_now:
        fail(f"case {case_id!r} has no open incident")


@cases_group.command()
@db_option
@workflows_option
@click.argument("case_id", required=False)
@click.option("--all-stuck", is_flag=True, help="Retry every case with an open incident.")
@click.option("--reason", help="Why; recorded in the history (default: retry).")
@operator_option
def retry(
    db: str,
    workflows: tuple[str, ...],
    case_id: str | None,
    all_stuck: bool,
    reason: str | None,
    operator: str,
) -> None:
    """Run a stuck case's failed actions again (attempts from zero)."""
    if (case_id is None) == (not all_stuck):
        raise click.UsageError("give a case ID or --all-stuck")
    actor = _actor(operator)
    with open_engine(db, workflows) as engine:
        if case_id is not None:
            _retry(engine, case_id, actor, reason, run_now=True)
            ids = [case_id]
        else:
            from rich.console import Console
            from rich.progress import track

            ids = engine.stuck()
            err = Console(stderr=True)
            for stuck_id in track(ids, description="re-arming", console=err, transient=True):
                _retry(engine, stuck_id, actor, reason, run_now=False)
            if ids:
                engine.fire_due()
        outcomes = {i: _outcome(engine, i) for i in ids}
    why = f" (reason: {_id(reason)})" if reason else ""
    for i, what in outcomes.items():
        click.echo(f"case {_id(i)}: retried as operator {_id(operator)}{why}: {what}")
    if not ids:
        click.echo("no stuck cases")
    if any(w.startswith("still stuck") for w in outcomes.values()):
        raise SystemExit(1)


@_case_command
@_reason
@_yes
def skip(
    db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str, yes: bool
) -> None:
    """Give up on a stuck case's failed actions; the case is no longer stuck."""
    if not yes:
        click.confirm(
            f"Skip the failed actions of case {_id(case_id)} as operator {_id(operator)}? "
            "They will not run.",
            abort=True,
        )
    with open_engine(db, workflows) as engine:
        skipped = engine.skip(case_id, actor=_actor(operator), reason=reason)
    if not skipped:
        fail(f"case {case_id!r} has no open incident")
    click.echo(f"case {_id(case_id)}: skipped {skipped} incident(s) as operator {_id(operator)}")


def _operate(
    action: str,
    db: str,
    workflows: tuple[str, ...],
    operator: str,
    call: Callable[[Engine], Case],
) -> None:
    with open_engine(db, workflows) as engine:
        case = call(engine)
    click.echo(
        f"case {_id(case.id)}: {_id(action)} as operator {_id(operator)}; "
        f"now {_id(case.state)} ({case.status})"
    )


@_case_command
@click.option("--to", "to_state", required=True, help="The state to put the case in.")
@_reason
@_yes
def move(
    db: str,
    workflows: tuple[str, ...],
    case_id: str,
    to_state: str,
    reason: str,
    operator: str,
    yes: bool,
) -> None:
    """Put a case into any state, bypassing events and guards (clocks follow)."""
    if not yes:
        click.confirm(
            f"Move case {_id(case_id)} to {_id(repr(to_state))} as operator {_id(operator)}, "
            "bypassing the workflow?",
            abort=True,
        )
    actor = _actor(operator)
    _operate(
        f"moved to {to_state}",
        db,
        workflows,
        operator,
        lambda e: e.move(case_id, to_state, actor=actor, reason=reason),
    )


@_case_command
@_reason
def suspend(db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str) -> None:
    """Suspend a case: events are refused and its clocks pause."""
    actor = _actor(operator)
    _operate(
        "suspended",
        db,
        workflows,
        operator,
        lambda e: e.suspend(case_id, actor=actor, reason=reason),
    )


@_case_command
@_reason
def resume(db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str) -> None:
    """Resume a suspended case; its clocks run again."""
    actor = _actor(operator)
    _operate(
        "resumed", db, workflows, operator, lambda e: e.resume(case_id, actor=actor, reason=reason)
    )


@_case_command
@click.option("--org", help="The org unit to give the case to.")
@click.option("--user", help="The person to assign it to.")
@_reason
def reassign(
    db: str,
    workflows: tuple[str, ...],
    case_id: str,
    org: str | None,
    user: str | None,
    reason: str,
    operator: str,
) -> None:
    """Give a case to another org unit and/or person."""
    if org is None and user is None:
        raise click.UsageError("give --org, --user or both")
    actor = _actor(operator)
    with open_engine(db, workflows) as engine:
        case = engine.reassign(case_id, actor=actor, reason=reason, org=org, assignee=user)
    click.echo(
        f"case {_id(case.id)}: reassigned to org {_id(case.org or '-')}, "
        f"{_id(case.assignee or '-')} as operator {_id(operator)}"
    )


@_case_command
@_reason
@_yes
def cancel(
    db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str, yes: bool
) -> None:
    """Cancel a case: it ends here, its clocks stop and its timers go."""
    if not yes:
        click.confirm(
            f"Cancel case {_id(case_id)} as operator {_id(operator)}? This ends it.", abort=True
        )
    actor = _actor(operator)
    _operate(
        "cancelled",
        db,
        workflows,
        operator,
        lambda e: e.cancel(case_id, actor=actor, reason=reason),
    )


@_case_command
@click.argument("event")
@role_option
@click.option("--payload", help="The event's payload, as a JSON object.")
@click.option("--comment")
def fire(
    db: str,
    workflows: tuple[str, ...],
    case_id: str,
    event: str,
    role: str,
    payload: str | None,
    comment: str | None,
    operator: str,
) -> None:
    """Fire EVENT on a case as the operator acting in ROLE (guards and roles apply)."""
    try:
        data = json.loads(payload) if payload else None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from None
    if data is not None and not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--payload")
    actor = _actor(operator, {role})
    _operate(
        f"{event} fired in role {role}",
        db,
        workflows,
        operator,
        lambda e: e.fire(case_id, event, actor=actor, payload=data, comment=comment),
    )


def _parse_map(items: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{item!r} is not OLD=NEW", param_hint="--map")
        mapping[old.strip()] = new.strip()
    return mapping


def _print_report(report: MigrationReport, operator: str, show: int = 20) -> None:
    verb = "would move" if report.dry_run else "moved"
    head = f"{report.workflow} v{report.from_version} -> v{report.to_version}"
    click.echo(
        f"{_id(head)} as operator {_id(operator)}: {verb} {len(report.moved)} case(s) in "
        f"{len(report.batches)} batch(es)"
    )
    for (old, new), count in sorted(report.moves().items()):
        click.echo(f"  {_id(old)} -> {_id(new)}: {count}")
    if report.refused:
        click.echo(f"refused {len(report.refused)} case(s):")
        for r in report.refused[:show]:
            click.echo(f"  {_id(r.case_id)} ({_id(r.state)}): {_id(r.reason)}")
        if len(report.refused) > show:
            click.echo(f"  ... and {len(report.refused) - show} more (--json lists every case)")
        held = len(report.held_back)
        click.echo(f"held back {held} case(s) that share a batch with a refused one")


@cases_group.command()
@db_option
@workflows_option
@click.option("--workflow", "name", required=True)
@click.option("--from", "from_version", type=int, required=True)
@click.option("--to", "to_version", type=int, required=True)
@click.option("--map", "maps", multiple=True, help="OLD=NEW: where cases in a state go.")
@click.option("--dry-run", is_flag=True, help="Report what would move; write nothing.")
@click.option("--batch", default=500, show_default=True, help="Cases per transaction.")
@click.option("--reason", help="Recorded in each case's history.")
@click.option("--json", "as_json", is_flag=True)
@operator_option
@_yes
def migrate(
    db: str,
    workflows: tuple[str, ...],
    name: str,
    from_version: int,
    to_version: int,
    maps: tuple[str, ...],
    dry_run: bool,
    batch: int,
    reason: str | None,
    as_json: bool,
    operator: str,
    yes: bool,
) -> None:
    """Move running cases of a workflow version to another version (clocks recomputed)."""
    mapping = _parse_map(maps)
    args: dict[str, Any] = {"mapping": mapping, "actor": _actor(operator), "batch": batch}
    with open_engine(db, workflows) as engine:
        if not dry_run and not yes:
            preview = engine.migrate_cases(name, from_version, to_version, dry_run=True, **args)
            _print_report(preview, operator)
            click.confirm(f"Apply this migration as operator {_id(operator)}?", abort=True)
        report = engine.migrate_cases(
            name, from_version, to_version, dry_run=dry_run, reason=reason, **args
        )
    if as_json:
        dump(report.to_json())
    else:
        _print_report(report, operator)
    if report.refused:
        raise SystemExit(1)
