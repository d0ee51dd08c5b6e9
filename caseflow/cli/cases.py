"""``caseflow cases ...``: look at cases."""

from __future__ import annotations

import json

import click
from rich.table import Table

from caseflow.cli.common import db_option, local_time, open_engine, workflows_option
from caseflow.cli.render import clocks_table, timeline
from caseflow.cli.render import console as make_console
from caseflow.store.repo import case_to_json


@click.group(name="cases")
def cases_group() -> None:
    """Cases: list and show."""


@cases_group.command(name="list")
@db_option
@workflows_option
@click.option("--workflow")
@click.option("--state")
@click.option("--status", type=click.Choice(["active", "suspended", "completed", "cancelled"]))
@click.option("--org", help="Org unit path; sub-units included unless --exact-org.")
@click.option("--exact-org", is_flag=True)
@click.option(
    "--overdue", is_flag=True, help="Only cases with a breached clock, most overdue first."
)
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0)
@click.option("--json", "as_json", is_flag=True)
def list_cases(
    db: str,
    workflows: tuple[str, ...],
    workflow: str | None,
    state: str | None,
    status: str | None,
    org: str | None,
    exact_org: bool,
    overdue: bool,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List cases, oldest first (most overdue first with --overdue)."""
    with open_engine(db, workflows) as engine:
        if overdue:
            found = [c for c, _ in engine.overdue(limit=limit, offset=offset)]
        else:
            found = engine.cases(
                workflow=workflow,
                state=state,
                status=status,
                org=org,
                include_sub_orgs=not exact_org,
                limit=limit,
                offset=offset,
            )
    if as_json:
        click.echo(json.dumps([case_to_json(c) for c in found], ensure_ascii=False, indent=2))
        return
    table = Table()
    for column in ("id", "workflow", "state", "status", "org", "updated"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c.id,
            f"{c.workflow} v{c.workflow_version}",
            c.state,
            c.status,
            c.org,
            local_time(c.updated_at),
        )
    make_console().print(table)


@cases_group.command()
@db_option
@workflows_option
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True)
def show(db: str, workflows: tuple[str, ...], case_id: str, as_json: bool) -> None:
    """Show a case: state, data and its history as a timeline."""
    with open_engine(db, workflows) as engine:
        case = engine.get(case_id)
        history = engine.history(case_id)
        clocks = engine.clocks(case_id)
        definition = engine.workflow(case.workflow, case.workflow_version)
    if as_json:
        out = case_to_json(case)
        out["clocks"] = [
            {
                "name": c.name,
                "status": c.status,
                "last_day": c.last_day.isoformat() if c.last_day else None,
                "due_at": c.due_at.isoformat() if c.due_at else None,
                "provisional": c.provisional,
                "days_left": c.days_left,
                "extensions": c.extensions,
                "escalation_step": c.escalation_step,
            }
            for c in clocks
        ]
        out["history"] = [
            {
                "seq": h.seq,
                "at": h.at.isoformat(),
                "kind": h.kind,
                "event": h.event,
                "from": h.from_state,
                "to": h.to_state,
                "actor": h.actor_id,
                "roles": list(h.actor_roles),
                "org": h.actor_org,
                "details": h.details,
            }
            for h in history
        ]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    console = make_console()
    console.print(
        f"[bold]{case.id}[/]  {case.workflow} v{case.workflow_version}  "
        f"state [bold]{case.state}[/]  {case.status}  org {case.org or '-'}  "
        f"version {case.version}"
    )
    console.print_json(json.dumps(case.data, ensure_ascii=False))
    if clocks:
        console.print(clocks_table(clocks, definition.timezone))
    console.print(timeline(history, definition))
