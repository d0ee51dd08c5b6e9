"""``cf_orgs``: the org tree (county, township, village, grid, departments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from caseflow.orgs import OrgUnit
from caseflow.store.tables import orgs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection


def load_units(conn: Connection) -> list[OrgUnit]:
    rows = conn.execute(select(orgs.c.path, orgs.c.name, orgs.c.level, orgs.c.parent))
    return [OrgUnit(r[0], r[1], r[2], r[3]) for r in rows]


def replace_units(conn: Connection, units: Sequence[OrgUnit]) -> None:
    conn.execute(delete(orgs))
    if units:
        conn.execute(
            insert(orgs),
            [{"path": u.path, "name": u.name, "level": u.level, "parent": u.parent} for u in units],
        )
