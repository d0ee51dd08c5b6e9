"""``caseflow worklist``: the cases a person works on now, most urgent first."""

from __future__ import annotations

from typing import Any

import click

from caseflow.cli.common import (
    check_actor_text,
    db_option,
    dump,
    open_engine,
    operator_option,
    workflows_option,
)


def _roles(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> set[str]:
    return {check_actor_text(v, "role") for v in value}


@click.command(name="worklist")
@db_option
@workflows_option
@operator_option
@click.option(
    "--as", "roles", multiple=True, required=True, callback=_roles, help="A role (repeatable)."
)
@click.option(
    "--unit",
    "unit",
    default="",
    help="The person's org unit (org-scoped workflows); defaults to --org.",
)
@click.option("--workflow")
@click.option("--state")
@click.option(
    "--org", help="Only cases of this unit and its sub-units (and the person's unit if no --unit)."
)
@click.option("--counts", is_flag=True, help="Cases (and breached) per workflow and state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1, max=10_000))
@click.option("--offset", default=0, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True)
def worklist(
    db: str,
    workflows: tuple[str, ...],
    operator: str,
    roles: set[str],
    unit: str,
    counts: bool,
    limit: int,
    offset: int,
    as_json: bool,
    **filters: Any,
) -> None:
    """
    The active cases OPERATOR works on in these roles: states with an event of theirs,
    in their unit (org-scoped workflows), not claimed by someone else (supervisors see
    every task). Breached first, then warned, then by the soonest due time.
    ``--as clerk --org UNIT`` is the worklist of a clerk of UNIT.
    """
    from caseflow import listing
    from caseflow.cases import Actor
    from caseflow.cli.cases import print_rows
    from caseflow.cli.render import clean, more_rows

    actor = Actor(operator, roles, unit or filters["org"] or "")
    with open_engine(db, workflows, stored_only=True) as engine:
        if counts:
            found = engine.worklist_counts(actor, workflow=filters["workflow"], org=filters["org"])
            if as_json:
                dump([{"workflow": w, "state": s, "cases": n, "breached": b}
                      for (w, s), (n, b) in found.items()])  # fmt: skip
                return
            for (w, s), (n, b) in found.items():
                late = f" ({b} breached)" if b else ""
                click.echo(f"{clean(w)} {clean(s)}: {n}{late}")
            return
        rows = engine.worklist(actor, limit=limit + 1, offset=offset, **filters)
    more = len(rows) > limit
    rows = rows[:limit]
    if as_json:
        dump([listing.row_json(r) for r in rows])
        return
    print_rows(rows, assignee=True)
    footer = more_rows(len(rows), more, offset, "cases")
    if footer:
        click.echo(footer)
    elif not rows:
        click.echo("nothing on this worklist")
