"""``caseflow orgs ...``: the org tree (grid, village, community, township, county, department)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import click

from caseflow.cli.common import db_option, dump, engine_for, group

if TYPE_CHECKING:
    from collections.abc import Iterator

    from caseflow.engine import Engine
    from caseflow.orgs import OrgTree, OrgUnit

#: The order levels are summed up in; any other level follows, alphabetically.
LEVELS = ("county", "township", "community", "village", "grid", "department")


def _engine(db: str) -> Engine:
    # No workflows: the org tree needs none, and none are registered in the database.
    return engine_for(db, workflows=[])


def walk(tree: OrgTree) -> Iterator[tuple[int, OrgUnit]]:
    """Every unit with its depth, parents before children, siblings by path."""
    children: dict[str | None, list[OrgUnit]] = {}
    for unit in tree:  # sorted by path
        parent = unit.parent if unit.parent in tree else None
        children.setdefault(parent, []).append(unit)

    def below(parent: str | None, depth: int) -> Iterator[tuple[int, OrgUnit]]:
        for unit in children.get(parent, []):
            yield depth, unit
            yield from below(unit.path, depth + 1)

    return below(None, 0)


def level_counts(units: list[OrgUnit]) -> str:
    """``1 county, 2 township, 7 grid``: units per level, top level first."""
    counts = Counter(u.level for u in units)
    order = [lv for lv in LEVELS if lv in counts] + sorted(set(counts) - set(LEVELS))
    return ", ".join(f"{counts[lv]} {lv}" for lv in order)


@group("orgs")
def orgs_group() -> None:
    """The org tree: units with their levels, for org scope, escalation and referral."""


@orgs_group.command(name="load")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def load(db: str, file: str) -> None:
    """Replace the org tree with FILE's (nested units, each with a name and a level)."""
    from caseflow.cli.render import clean

    with _engine(db) as engine:
        count = engine.load_orgs(file)
        units = list(engine.orgs)
    click.echo(f"loaded {count} org units from {clean(file)}: {clean(level_counts(units))}")


@orgs_group.command(name="list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="One object per unit, in tree order.")
def list_units(db: str, as_json: bool) -> None:
    """The org tree, indented, each unit with its level and path."""
    from caseflow.cli.render import clean

    with _engine(db) as engine:
        rows = list(walk(engine.orgs))
    if as_json:
        out: list[dict[str, Any]] = [
            {
                "path": u.path,
                "name": u.name,
                "level": u.level,
                "parent": u.parent,
                "depth": depth,
            }
            for depth, u in rows
        ]
        dump(out)
        return
    if not rows:
        click.echo("no org units loaded: run `caseflow orgs load FILE`")
        return
    for depth, u in rows:
        click.echo(f"{'  ' * depth}{clean(u.name)}  [{clean(u.level)}]  {clean(u.path)}")
    click.echo(f"{len(rows)} units: {clean(level_counts([u for _, u in rows]))}")


__all__ = ["orgs_group"]
