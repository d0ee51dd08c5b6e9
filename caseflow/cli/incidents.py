"""``caseflow incidents ...``: side effects that failed after their retries."""

from __future__ import annotations

import click

from caseflow.cli.common import db_option, dump, group, open_engine, workflows_option

_STYLE = {"open": "bold red", "retried": "green", "skipped": "yellow"}


@group("incidents")
def incidents_group() -> None:
    """Incidents: failed side effects that make a case stuck (retry or skip with `cases`)."""


@incidents_group.command(name="list")
@db_option
@workflows_option
@click.option("--all", "show_all", is_flag=True, help="Resolved incidents too, not only open.")
@click.option("--case", "case_id", help="Only this case's incidents.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Skip this many first.")
@click.option("--json", "as_json", is_flag=True)
def list_incidents(
    db: str,
    workflows: tuple[str, ...],
    show_all: bool,
    case_id: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Open incidents (every incident with --all), oldest first."""
    from caseflow.listing import incident_json

    with open_engine(db, workflows, stored_only=True) as engine:
        found = engine.incidents(
            status=None if show_all else "open", case_id=case_id, limit=offset + limit + 1
        )[offset:]
    more = len(found) > limit
    found = found[:limit]
    if as_json:
        dump([incident_json(i) for i in found])
        return
    from caseflow.cli.common import local_time
    from caseflow.cli.render import Column, Grid, console, more_rows, text

    grid = Grid(
        [
            Column("id", role="keep"),
            Column("case", role="keep", host=True),
            Column("action", breaks="_"),
            Column("attempts", role="spill", label="attempts", order=2),
            Column("status", role="spill", label="", order=3),
            Column("opened", role="spill", label="opened", order=1),
            Column("error", role="flex", min_width=20),
        ]
    )
    for i in found:
        grid.add_row(
            str(i.id),
            i.case_id,
            i.action,
            str(i.attempts),
            text(i.status, _STYLE.get(i.status)),
            local_time(i.opened_at),
            i.error,
        )
    if found:
        grid.print(console())
    footer = more_rows(len(found), more, offset, "incidents" if show_all else "open incidents")
    if footer:
        click.echo(footer)


@incidents_group.command()
@db_option
@workflows_option
@click.argument("incident_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def show(db: str, workflows: tuple[str, ...], incident_id: int, as_json: bool) -> None:
    """An incident, with every attempt of its action from the case history."""
    from caseflow.listing import history_json, incident_json

    with open_engine(db, workflows, stored_only=True) as engine:
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
        dump(out)
        return
    from caseflow.cli.common import local_time
    from caseflow.cli.render import console, esc, timeline

    style = _STYLE.get(incident.status, "")
    out_console = console()
    out_console.print(
        f"[bold]incident {incident.id}[/]  case {esc(incident.case_id)} ({esc(case.workflow)} "
        f"v{case.workflow_version}, {esc(case.state)})  action [bold]{esc(incident.action)}[/]  "
        f"[{style}]{esc(incident.status)}[/]"
    )
    out_console.print(f"failed {incident.attempts} time(s); last error: {esc(incident.error)}")
    if incident.resolved_at is not None:
        out_console.print(
            f"{esc(incident.status)} by {esc(incident.resolved_by)} at "
            f"{local_time(incident.resolved_at)}: {esc(incident.reason)}"
        )
    out_console.print(timeline(attempts, definition))
