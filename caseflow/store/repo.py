"""Repository functions: rows in, domain objects out. Each takes an open Connection."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, bindparam, insert, select, update

from caseflow.cases import Case, HistoryEntry
from caseflow.store.tables import cases, definitions, history, idempotency

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

    from caseflow.definitions.model import WorkflowDef


def new_case_id() -> str:
    """Time-ordered, unguessable ids: 13 hex digits of microseconds, 16 random."""
    return f"{time.time_ns() // 1000:013x}{secrets.token_hex(8)}"


_CASE_COLUMNS = (
    cases.c.id,
    cases.c.workflow,
    cases.c.workflow_version,
    cases.c.state,
    cases.c.status,
    cases.c.data,
    cases.c.org,
    cases.c.row_version,
    cases.c.created_at,
    cases.c.updated_at,
    cases.c.business_key,
    cases.c.escalation_level,
    cases.c.assignee,
)


# The hot statements are built once: building and cache-keying a SQLAlchemy statement
# per call cost more than the database's own work (bench/BENCHMARKS.md).
_LOAD_CASE = select(*_CASE_COLUMNS).where(cases.c.id == bindparam("b_id"))
_INSERT_CASE = insert(cases)
_UPDATE_CASE = (
    update(cases)
    .where(cases.c.id == bindparam("b_id"), cases.c.row_version == bindparam("b_expected"))
    .values(
        state=bindparam("b_state"),
        status=bindparam("b_status"),
        data=bindparam("b_data", type_=cases.c.data.type),
        org=bindparam("b_org"),
        row_version=bindparam("b_version"),
        updated_at=bindparam("b_updated_at", type_=cases.c.updated_at.type),
        escalation_level=bindparam("b_escalation_level"),
        assignee=bindparam("b_assignee"),
    )
)
_INSERT_HISTORY = insert(history)


def case_from_row(row: Sequence[Any]) -> Case:
    return Case(*tuple(row))


def load_case(conn: Connection, case_id: str) -> Case | None:
    row = conn.execute(_LOAD_CASE, {"b_id": case_id}).first()
    return None if row is None else case_from_row(row)


def insert_case(conn: Connection, case: Case) -> None:
    conn.execute(
        _INSERT_CASE,
        {
            "id": case.id,
            "workflow": case.workflow,
            "workflow_version": case.workflow_version,
            "state": case.state,
            "status": case.status,
            "data": case.data,
            "org": case.org,
            "business_key": case.business_key,
            "row_version": case.version,
            "created_at": case.created_at,
            "updated_at": case.updated_at,
            "escalation_level": case.escalation_level,
            "assignee": case.assignee,
        },
    )


def update_case(conn: Connection, expected_version: int, case: Case) -> bool:
    """Write the case if its row is still at ``expected_version``; False if it moved on."""
    result = conn.execute(
        _UPDATE_CASE,
        {
            "b_id": case.id,
            "b_expected": expected_version,
            "b_state": case.state,
            "b_status": case.status,
            "b_data": case.data,
            "b_org": case.org,
            "b_version": case.version,
            "b_updated_at": case.updated_at,
            "b_escalation_level": case.escalation_level,
            "b_assignee": case.assignee,
        },
    )
    return result.rowcount == 1


def insert_history(conn: Connection, entries: Sequence[HistoryEntry]) -> None:
    rows = [
        {
            "case_id": e.case_id,
            "seq": e.seq,
            "at": e.at,
            "kind": e.kind,
            "event": e.event,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "actor_id": e.actor_id,
            "actor_roles": list(e.actor_roles),
            "actor_org": e.actor_org,
            "details": e.details,
        }
        for e in entries
    ]
    if rows:
        conn.execute(_INSERT_HISTORY, rows[0] if len(rows) == 1 else rows)


def load_history(conn: Connection, case_id: str) -> list[HistoryEntry]:
    rows = conn.execute(
        select(
            history.c.case_id,
            history.c.seq,
            history.c.at,
            history.c.kind,
            history.c.event,
            history.c.from_state,
            history.c.to_state,
            history.c.actor_id,
            history.c.actor_roles,
            history.c.actor_org,
            history.c.details,
        )
        .where(history.c.case_id == case_id)
        .order_by(history.c.id)
    )
    return [
        HistoryEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], tuple(r[8]), r[9], r[10])
        for r in rows
    ]


def load_idempotent(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(select(idempotency.c.result).where(idempotency.c.key == key)).first()
    return None if row is None else dict(row[0])


def save_idempotent(
    conn: Connection, key: str, case: Case, operation: str, now: dt.datetime
) -> None:
    conn.execute(
        insert(idempotency),
        {
            "key": key,
            "case_id": case.id,
            "operation": operation,
            "result": case_to_json(case),
            "created_at": now,
        },
    )


def case_to_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "workflow": case.workflow,
        "workflow_version": case.workflow_version,
        "state": case.state,
        "status": case.status,
        "data": case.data,
        "org": case.org,
        "version": case.version,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "business_key": case.business_key,
        "escalation_level": case.escalation_level,
        "assignee": case.assignee,
    }


def case_from_json(data: dict[str, Any]) -> Case:
    import datetime as dt  # noqa: PLC0415

    return Case(
        id=data["id"],
        workflow=data["workflow"],
        workflow_version=data["workflow_version"],
        state=data["state"],
        status=data["status"],
        data=data["data"],
        org=data["org"],
        version=data["version"],
        created_at=dt.datetime.fromisoformat(data["created_at"]),
        updated_at=dt.datetime.fromisoformat(data["updated_at"]),
        business_key=data["business_key"],
        escalation_level=data.get("escalation_level", 0),
        assignee=data.get("assignee"),
    )


def stored_definition(conn: Connection, name: str, version: int) -> tuple[str, str, str] | None:
    """(content_hash, source, source_file) of a stored definition version."""
    row = conn.execute(
        select(definitions.c.content_hash, definitions.c.source, definitions.c.source_file).where(
            and_(definitions.c.name == name, definitions.c.version == version)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def store_definition(conn: Connection, definition: WorkflowDef, now: dt.datetime) -> None:
    conn.execute(
        insert(definitions),
        {
            "name": definition.name,
            "version": definition.version,
            "content_hash": definition.content_hash,
            "source": definition.source,
            "source_file": definition.source_file,
            "loaded_at": now,
        },
    )


def stored_versions(conn: Connection) -> list[tuple[str, int, str]]:
    rows = conn.execute(
        select(definitions.c.name, definitions.c.version, definitions.c.content_hash).order_by(
            definitions.c.name, definitions.c.version
        )
    )
    return [(r[0], r[1], r[2]) for r in rows]


def load_cases(conn: Connection, case_ids: Sequence[str]) -> dict[str, Case]:
    if not case_ids:
        return {}
    rows = conn.execute(select(*_CASE_COLUMNS).where(cases.c.id.in_(sorted(set(case_ids)))))
    return {r[0]: case_from_row(r) for r in rows}


class CaseHead(NamedTuple):
    """The columns of a case that clock bookkeeping needs (no data to decode)."""

    id: str
    workflow: str
    workflow_version: int
    state: str
    org: str
    version: int


def load_case_heads(conn: Connection, case_ids: Sequence[str]) -> dict[str, CaseHead]:
    if not case_ids:
        return {}
    rows = conn.execute(
        select(
            cases.c.id,
            cases.c.workflow,
            cases.c.workflow_version,
            cases.c.state,
            cases.c.org,
            cases.c.row_version,
        ).where(cases.c.id.in_(sorted(set(case_ids))))
    )
    return {r[0]: CaseHead(*tuple(r)) for r in rows}
