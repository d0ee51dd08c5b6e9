"""``cf_work_items``: parallel work items of cases (部门联动处置). The only writer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update

from caseflow.records import WorkItem
from caseflow.store.tables import work_items

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

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
_LOAD = (
    select(*_COLUMNS)
    .where(work_items.c.case_id == bindparam("b_case"))
    .order_by(work_items.c.state, work_items.c.round, work_items.c.item)
)


def load(conn: Connection, case_id: str) -> list[WorkItem]:
    """Every item the case has had (every state and round)."""
    return [WorkItem(*tuple(r)) for r in conn.execute(_LOAD, {"b_case": case_id})]


def open_items(
    conn: Connection,
    case_id: str,
    state: str,
    number: int,
    items: Sequence[str],
    now: dt.datetime,
) -> None:
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


def close_item(
    conn: Connection,
    case_id: str,
    state: str,
    number: int,
    item: str,
    status: str,
    by: str,
    result: dict[str, Any] | None,
    now: dt.datetime,
) -> bool:
    """Close an open item of round ``number``; False if it is not open."""
    done = conn.execute(
        update(work_items)
        .where(
            work_items.c.case_id == case_id,
            work_items.c.state == state,
            work_items.c.round == number,
            work_items.c.item == item,
            work_items.c.status == "open",
        )
        .values(status=status, closed_at=now, closed_by=by, result=result)
    )
    return done.rowcount == 1
