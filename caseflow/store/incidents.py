"""``cf_incidents``: side effects (and timers) that failed after their retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from caseflow.records import Incident
from caseflow.store.tables import incidents

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

_COLUMNS = (
    incidents.c.id,
    incidents.c.case_id,
    incidents.c.timer_id,
    incidents.c.action,
    incidents.c.error,
    incidents.c.attempts,
    incidents.c.status,
    incidents.c.opened_at,
    incidents.c.resolved_at,
    incidents.c.resolved_by,
    incidents.c.reason,
)


def open_incident(
    conn: Connection,
    case_id: str,
    timer_id: int,
    action: str,
    error: str,
    attempts: int,
    now: dt.datetime,
) -> int:
    return int(
        conn.execute(
            insert(incidents).returning(incidents.c.id),
            {
                "case_id": case_id,
                "timer_id": timer_id,
                "action": action,
                "error": error,
                "attempts": attempts,
                "status": "open",
                "opened_at": now,
            },
        ).scalar_one()
    )


def find(
    conn: Connection,
    *,
    status: str | None = "open",
    case_id: str | None = None,
    incident_id: int | None = None,
    limit: int = 100,
) -> list[Incident]:
    query = select(*_COLUMNS)
    if status is not None:
        query = query.where(incidents.c.status == status)
    if case_id is not None:
        query = query.where(incidents.c.case_id == case_id)
    if incident_id is not None:
        query = query.where(incidents.c.id == incident_id)
    rows = conn.execute(query.order_by(incidents.c.id).limit(limit))
    return [Incident(*tuple(r)) for r in rows]


def resolve(
    conn: Connection, ids: Sequence[int], status: str, actor: str, reason: str, now: dt.datetime
) -> None:
    if ids:
        conn.execute(
            update(incidents)
            .where(incidents.c.id.in_(list(ids)), incidents.c.status == "open")
            .values(status=status, resolved_at=now, resolved_by=actor, reason=reason)
        )


def stuck_case_ids(conn: Connection) -> list[str]:
    rows = conn.execute(
        select(incidents.c.case_id)
        .where(incidents.c.status == "open")
        .distinct()
        .order_by(incidents.c.case_id)
    )
    return [r[0] for r in rows]
