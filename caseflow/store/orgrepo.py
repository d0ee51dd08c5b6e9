"""The org tree and parallel work items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update

from caseflow.orgs import OrgUnit
from caseflow.store.tables import orgs, work_items

if TYPE_CHECKING:
    import datetime as dt
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


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One unit's part in parallel handling (a state entered again opens a new round)."""

    case_id: str
    state: str
    round: int
    item: str
    status: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by: str | None
    result: dict[str, Any] | None


_COLUMNS = (
    work_items.c.case_id,
    work_items.c.state,
    work_items.c.round,
    work_items.c.item,
    work_items.c.status,
    work_items.c.opened_at,
    work_items.c.closed_at,
    work_items.c.closed_by,
    work_items.c.result,
)


def _last_round(conn: Connection, case_id: str, state: str) -> int:
    return int(
        conn.execute(
            select(func.max(work_items.c.round)).where(
                work_items.c.case_id == case_id, work_items.c.state == state
            )
        ).scalar()
        or 0
    )


def open_items(
    conn: Connection, case_id: str, state: str, items: Sequence[str], now: dt.datetime
) -> None:
    number = _last_round(conn, case_id, state) + 1
    conn.execute(
        insert(work_items),
        [
            {
                "case_id": case_id,
                "state": state,
                "round": number,
                "item": i,
                "status": "open",
                "opened_at": now,
            }
            for i in items
        ],
    )


def items_of(conn: Connection, case_id: str, state: str | None = None) -> list[WorkItem]:
    """Every item of the case (all rounds), or the current round's items in ``state``."""
    query = select(*_COLUMNS).where(work_items.c.case_id == case_id)
    if state is not None:
        query = query.where(
            work_items.c.state == state, work_items.c.round == _last_round(conn, case_id, state)
        )
    order = (work_items.c.state, work_items.c.round, work_items.c.item)
    return [WorkItem(*tuple(r)) for r in conn.execute(query.order_by(*order))]


def close_item(
    conn: Connection,
    case_id: str,
    state: str,
    item: str,
    status: str,
    by: str,
    result: dict[str, Any] | None,
    now: dt.datetime,
) -> bool:
    done = conn.execute(
        update(work_items)
        .where(
            work_items.c.case_id == case_id,
            work_items.c.state == state,
            work_items.c.round == _last_round(conn, case_id, state),
            work_items.c.item == item,
            work_items.c.status == "open",
        )
        .values(status=status, closed_at=now, closed_by=by, result=result)
    )
    return done.rowcount == 1
