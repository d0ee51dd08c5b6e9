"""``caseflow incidents ...``: side effects that failed after their retries."""

from __future__ import annotations

import json

import click
from rich.table import Table

from caseflow.cli.common import db_option, local_time, open_engine, workflows_option
from caseflow.cli.render import console, timeline
from caseflow.listing import history_json, incident_json

_STYLE = {"open": "bold red", "retried": "green", "skipped": "yellow"}


@click.group(name="incidents")
def incidents_group() -> None:
    """Incidents: failed side effects that make a case stuck (retry or skip with `cases`)."""


@incidents_group.command(name="list")
@db_option
@workflows_option
@click.option("--all", "show_all", is_flag=True, help="Resolved incidents too, not only open.")
@click.option("--case", "case_id", help="Only this case's incidents.")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_incidents(
    db: str,
    workflows: tuple[str, ...],
    show_all: bool,
    case_id: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Open incidents (every incident with --all), oldest first."""
    with open_engine(db, workflows) as engine:
        found = engine.incidents(status=None if show_all else "open", case_id=case_id, limit=limit)
    if as_json:
        click.echo(json.dumps([incident_json(i) for i in found], ensure_ascii=False, indent=2))
        return
    table = Table()
    for column in ("id", "case", "action", "attempts", "status", "opened"):
        table.add_column(column)
    table.add_column("error", overflow="fold")
    for i in found:
        table.add_row(
            str(i.id),
            i.case_id,
            i.action,
            str(i.attempts),
            f"[{_STYLE.get(i.status, '')}]{i.status}[/]",
            local_time(i.opened_at),
            i.error,
        )
    console().print(table)


@incidents_group.command()
@db_option
@workflows_option
@click.argument("incident_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def show(db: str, workflows: tuple[str, ...], incident_id: int, as_json: bool) -> None:
    """An incident, with every attempt of its action from the case history."""
    with open_engine(db, workflows) as engine:
        incident = engine.incident(incident_id)
        case = engine.get(incident.case_id)
        definition = engine.workflow(case.workflow, case.workflow_version)
        attempts = [
            h
            for h in engine.history(incident.case_id)
            if (h.kind == "action" and h.details.get("action") == incident.action)
            or (h.kind == "operator" and incident.id in h.details.get("incidents", ()))
        ]
    if as_json:
        out = incident_json(incident)
        out["case"] = {"workflow": case.workflow, "state": case.state, "status": case.status}
        out["attempts"] = [history_json(h) for h in attempts]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    out_console = console()
    out_console.print(
        f"[bold]incident {incident.id}[/]  case {incident.case_id} ({case.workflow} "
        f"v{case.workflow_version}, {case.state})  action [bold]{incident.action}[/]  "
        f"[{_STYLE.get(incident.status, '')}]{incident.status}[/]"
    )
    out_console.print(f"failed {incident.attempts} time(s); last error: {incident.error}")
    if incident.resolved_at is not None:
        out_console.print(
            f"{incident.status} by {incident.resolved_by} at "
            f"{local_time(incident.resolved_at)}: {incident.reason}"
        )
    out_console.print(timeline(attempts, definition))
