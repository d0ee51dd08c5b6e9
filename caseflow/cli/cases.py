"""``caseflow cases ...``: look at cases, and un-stick them (operator commands)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.progress import track
from rich.table import Table

from caseflow import listing
from caseflow.cases import Actor
from caseflow.cli.common import db_option, local_time, open_engine, operator_name, workflows_option
from caseflow.cli.render import clocks_table, timeline
from caseflow.cli.render import console as make_console

if TYPE_CHECKING:
    from collections.abc import Callable

    from caseflow.cases import Case
    from caseflow.engine import Engine
    from caseflow.services.migration import MigrationReport

_ROW_STYLE = {"breached": "red", "warned": "yellow", "running": "green"}


@click.group(name="cases")
def cases_group() -> None:
    """Cases: list and show; retry, skip, move, suspend, resume, reassign, cancel, migrate."""


def _operator(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--operator", help="Who does this (default: the OS user); recorded in the history."
    )(fn)


def _reason(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--reason", required=True, help="Why; recorded in the history.")(fn)


def _yes(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(fn)


def _case_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An operator command on one case: --db, --workflows, CASE_ID, --operator."""
    for option in (_operator, click.argument("case_id"), workflows_option, db_option):
        fn = option(fn)
    return cases_group.command()(fn)


def _actor(operator: str | None) -> Actor:
    return Actor(operator_name(operator), {"operator"})


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def _dump(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


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
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0)
@click.option("--json", "as_json", is_flag=True)
def list_cases(
    db: str,
    workflows: tuple[str, ...],
    exact_org: bool,
    with_children: bool,
    since: str | None,
    as_json: bool,
    **filters: Any,
) -> None:
    """
    List cases, oldest first; rows coloured by clock (red breached, yellow warned, green
    running). --overdue alone lists overdue clocks, most overdue first.
    """
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
    clocks: list[str | None] = []
    with open_engine(db, workflows) as engine:
        if per_clock:  # the index-driven overdue list: one row per overdue clock
            found = engine.overdue(limit=filters["limit"], offset=filters["offset"])
            rows = listing.rows_for(engine, [c for c, _ in found])
            clocks = [v.name for _, v in found]
        else:
            rows = listing.list_cases(
                engine, include_sub_orgs=not exact_org, since=start, **filters
            )
    if as_json:
        out = [listing.row_json(r) for r in rows]
        for item, name in zip(out, clocks, strict=False):
            item["overdue_clock"] = name
        _dump(out)
        return
    table = Table()
    columns = ["id", "workflow", "state", "status", "org", "clock", "last day", "inc.", "updated"]
    for column in columns:
        table.add_column(column, no_wrap=column not in ("workflow", "org"))
    for i, r in enumerate(rows):
        c = r.case
        table.add_row(
            c.id,
            f"{c.workflow} v{c.workflow_version}",
            c.state,
            c.status,
            c.org,
            f"{clocks[i]} {r.clock_status}" if clocks else (r.clock_status or ""),
            r.last_day.isoformat() if r.last_day else "",
            str(r.open_incidents or ""),
            local_time(c.updated_at)[:10],
            style=_ROW_STYLE.get(r.clock_status or ""),
        )
    make_console().print(table)


@cases_group.command()
@db_option
@workflows_option
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True)
def show(db: str, workflows: tuple[str, ...], case_id: str, as_json: bool) -> None:
    """Show a case: state, data, clocks, open incidents, next events, history."""
    with open_engine(db, workflows) as engine:
        case = engine.get(case_id)
        history = engine.history(case_id)
        clocks = engine.clocks(case_id)
        definition = engine.workflow(case.workflow, case.workflow_version)
        incidents = engine.incidents(case_id=case_id)
        events = listing.event_choices(engine, case)
        pending = listing.pending_actions(engine, case_id)
    if as_json:
        out = case.to_dict()
        out["clocks"] = [listing.clock_json(c) for c in clocks]
        out["incidents"] = [listing.incident_json(i) for i in incidents]
        out["events"] = [listing.event_json(e) for e in events]
        out["pending_actions"] = [
            {"timer_id": p.timer_id, "action": p.action, "attempts": p.attempts} for p in pending
        ]
        out["history"] = [listing.history_json(h) for h in history]
        _dump(out)
        return
    console = make_console()
    console.print(
        f"[bold]{case.id}[/]  {case.workflow} v{case.workflow_version}  "
        f"state [bold]{case.state}[/]  {case.status}  org {case.org or '-'}  "
        f"version {case.version}" + (f"  assignee {case.assignee}" if case.assignee else "")
    )
    console.print_json(json.dumps(case.data, ensure_ascii=False))
    if clocks:
        console.print(clocks_table(clocks, definition.timezone))
    for i in incidents:
        console.print(
            f"[bold red]incident {i.id}[/]: action {i.action!r} failed {i.attempts} time(s): "
            f"{i.error} (since {local_time(i.opened_at)}; `caseflow cases retry {case.id}`)"
        )
    for p in pending:
        console.print(f"[yellow]pending action[/] {p.action!r} (attempts so far: {p.attempts})")
    if events:
        console.print(
            "next events: "
            + "; ".join(
                f"{e.name} → {'/'.join(e.to)} "
                + ("(automatic)" if e.automatic else f"({', '.join(e.roles)})")
                for e in events
            )
        )
    console.print(timeline(history, definition))


# -- operator commands: each one library call, recorded in the case history -----------


def _outcome(engine: Engine, case_id: str) -> str:
    if engine.incidents(case_id=case_id):
        return "still stuck (the action failed again)"
    pending = listing.pending_actions(engine, case_id)
    return f"{len(pending)} action(s) pending a later attempt" if pending else "done"


@cases_group.command()
@db_option
@workflows_option
@click.argument("case_id", required=False)
@click.option("--all-stuck", is_flag=True, help="Retry every case with an open incident.")
@_operator
def retry(
    db: str, workflows: tuple[str, ...], case_id: str | None, all_stuck: bool, operator: str | None
) -> None:
    """Run a stuck case's failed actions again (attempts from zero)."""
    if (case_id is None) == (not all_stuck):
        raise click.UsageError("give a case ID or --all-stuck")
    actor = _actor(operator)
    with open_engine(db, workflows) as engine:
        if case_id is not None:
            if engine.retry(case_id, actor=actor) == 0:
                _fail(f"case {case_id!r} has no open incident")
            ids = [case_id]
        else:
            ids = engine.stuck()
            err = Console(stderr=True)
            for stuck_id in track(ids, description="re-arming", console=err, transient=True):
                engine.retry(stuck_id, actor=actor, run_now=False)
            if ids:
                engine.fire_due()
        outcomes = {i: _outcome(engine, i) for i in ids}
    for i, what in outcomes.items():
        click.echo(f"case {i}: retried by {actor.id}: {what}")
    if not ids:
        click.echo("no stuck cases")
    if any(w.startswith("still stuck") for w in outcomes.values()):
        raise SystemExit(1)


@_case_command
@_reason
@_yes
def skip(
    db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str | None, yes: bool
) -> None:
    """Give up on a stuck case's failed actions; the case is no longer stuck."""
    if not yes:
        click.confirm(f"Skip the failed actions of case {case_id}? They will not run.", abort=True)
    with open_engine(db, workflows) as engine:
        skipped = engine.skip(case_id, actor=_actor(operator), reason=reason)
    if not skipped:
        _fail(f"case {case_id!r} has no open incident")
    click.echo(f"case {case_id}: skipped {skipped} incident(s)")


def _operate(
    action: str, db: str, workflows: tuple[str, ...], call: Callable[[Engine], Case]
) -> None:
    with open_engine(db, workflows) as engine:
        case = call(engine)
    click.echo(f"case {case.id}: {action}; now {case.state} ({case.status})")


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
    operator: str | None,
    yes: bool,
) -> None:
    """Put a case into any state, bypassing events and guards (clocks follow)."""
    if not yes:
        click.confirm(f"Move case {case_id} to {to_state!r}, bypassing the workflow?", abort=True)
    actor = _actor(operator)
    _operate(
        f"moved to {to_state}",
        db,
        workflows,
        lambda e: e.move(case_id, to_state, actor=actor, reason=reason),
    )


@_case_command
@_reason
def suspend(
    db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str | None
) -> None:
    """Suspend a case: events are refused and its clocks pause."""
    actor = _actor(operator)
    _operate("suspended", db, workflows, lambda e: e.suspend(case_id, actor=actor, reason=reason))


@_case_command
@_reason
def resume(
    db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str | None
) -> None:
    """Resume a suspended case; its clocks run again."""
    actor = _actor(operator)
    _operate("resumed", db, workflows, lambda e: e.resume(case_id, actor=actor, reason=reason))


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
    operator: str | None,
) -> None:
    """Give a case to another org unit and/or person."""
    if org is None and user is None:
        raise click.UsageError("give --org, --user or both")
    actor = _actor(operator)
    with open_engine(db, workflows) as engine:
        case = engine.reassign(case_id, actor=actor, reason=reason, org=org, assignee=user)
    click.echo(f"case {case.id}: reassigned to org {case.org or '-'}, {case.assignee or '-'}")


@_case_command
@_reason
@_yes
def cancel(
    db: str, workflows: tuple[str, ...], case_id: str, reason: str, operator: str | None, yes: bool
) -> None:
    """Cancel a case: it ends here, its clocks stop and its timers go."""
    if not yes:
        click.confirm(f"Cancel case {case_id}? This ends it.", abort=True)
    actor = _actor(operator)
    _operate("cancelled", db, workflows, lambda e: e.cancel(case_id, actor=actor, reason=reason))


@_case_command
@click.argument("event")
@click.option("--as", "role", required=True, help="The role to act in.")
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
    operator: str | None,
) -> None:
    """Fire EVENT on a case as the operator acting in ROLE (guards and roles apply)."""
    try:
        data = json.loads(payload) if payload else None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from None
    if data is not None and not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--payload")
    actor = Actor(operator_name(operator), {role})
    _operate(
        f"{event} fired by {actor.id} as {role}",
        db,
        workflows,
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


def _print_report(report: MigrationReport, show: int = 20) -> None:
    verb = "would move" if report.dry_run else "moved"
    head = f"{report.workflow} v{report.from_version} -> v{report.to_version}"
    click.echo(f"{head}: {verb} {len(report.moved)} case(s) in {len(report.batches)} batch(es)")
    for (old, new), count in sorted(report.moves().items()):
        click.echo(f"  {old} -> {new}: {count}")
    if report.refused:
        click.echo(f"refused {len(report.refused)} case(s):")
        for r in report.refused[:show]:
            click.echo(f"  {r.case_id} ({r.state}): {r.reason}")
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
@_operator
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
    operator: str | None,
    yes: bool,
) -> None:
    """Move running cases of a workflow version to another version (clocks recomputed)."""
    mapping = _parse_map(maps)
    args: dict[str, Any] = {"mapping": mapping, "actor": _actor(operator), "batch": batch}
    with open_engine(db, workflows) as engine:
        if not dry_run and not yes:
            preview = engine.migrate_cases(name, from_version, to_version, dry_run=True, **args)
            _print_report(preview)
            click.confirm("Apply this migration?", abort=True)
        report = engine.migrate_cases(
            name, from_version, to_version, dry_run=dry_run, reason=reason, **args
        )
    if as_json:
        _dump(report.to_json())
    else:
        _print_report(report)
    if report.refused:
        raise SystemExit(1)
