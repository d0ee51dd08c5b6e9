"""``cf_cases``: the case rows. The only module that writes them."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update

from caseflow.cases import Case
from caseflow.store.fast import Op, Prepared
from caseflow.store.tables import cases

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection


def new_case_id() -> str:
    """Time-ordered, unguessable ids: 13 hex digits of microseconds, 16 random."""
    return f"{time.time_ns() // 1000:013x}{secrets.token_hex(8)}"


#: Case field -> column, in the order :data:`COLUMNS` selects them.
FIELDS: dict[str, str] = {
    "id": "id",
    "workflow": "workflow",
    "workflow_version": "workflow_version",
    "state": "state",
    "status": "status",
    "data": "data",
    "org": "org",
    "version": "row_version",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "business_key": "business_key",
    "escalation_level": "escalation_level",
    "assignee": "assignee",
    "parent_id": "parent_id",
}
COLUMNS = tuple(cases.c[column] for column in FIELDS.values())
_NAMES = tuple(FIELDS)


def case_from_row(row: Sequence[Any]) -> Case:
    """A :class:`Case` from the first ``len(COLUMNS)`` values of a row selecting COLUMNS."""
    return Case(**dict(zip(_NAMES, row, strict=False)))


class Row(NamedTuple):
    """What one command writes of a case row besides the case itself."""

    case: Case
    expected: int | None
    history_count: int
    urgency: int = 3
    next_due: dt.datetime | None = None


class Head(NamedTuple):
    """A case row and the count of its history lines (the next seq is count + 1)."""

    case: Case
    history_count: int


# The hot statements are built once: building and cache-keying a SQLAlchemy statement
# per call cost more than the database's own work (bench/BENCHMARKS.md).
_LOAD = Prepared(select(*COLUMNS, cases.c.history_count).where(cases.c.id == bindparam("b_id")))
_INSERT_COLUMNS = (*FIELDS.values(), "history_count", "urgency", "next_due")
_INSERT = Prepared(
    insert(cases).values({c: bindparam(c, type_=cases.c[c].type) for c in _INSERT_COLUMNS}).inline()
)
_UPDATE = Prepared(
    update(cases)
    .where(cases.c.id == bindparam("b_id"), cases.c.row_version == bindparam("b_expected"))
    .values(
        workflow_version=bindparam("b_workflow_version"),
        state=bindparam("b_state"),
        status=bindparam("b_status"),
        data=bindparam("b_data", type_=cases.c.data.type),
        org=bindparam("b_org"),
        row_version=bindparam("b_version"),
        updated_at=bindparam("b_updated_at", type_=cases.c.updated_at.type),
        escalation_level=bindparam("b_escalation_level"),
        assignee=bindparam("b_assignee"),
        history_count=bindparam("b_history_count"),
        urgency=bindparam("b_urgency"),
        next_due=bindparam("b_next_due", type_=cases.c.next_due.type),
    )
)


def load(conn: Connection, case_id: str) -> Head | None:
    rows = _LOAD.rows(conn, {"b_id": case_id})
    return Head(case_from_row(rows[0]), rows[0][-1]) if rows else None


def load_many(conn: Connection, case_ids: Sequence[str]) -> dict[str, Head]:
    if not case_ids:
        return {}
    rows = conn.execute(
        select(*COLUMNS, cases.c.history_count).where(cases.c.id.in_(sorted(set(case_ids))))
    )
    return {r[0]: Head(case_from_row(r), r[-1]) for r in rows}


def insert_op(row: Row) -> Op:
    values = {column: getattr(row.case, name) for name, column in FIELDS.items()}
    extra = {"history_count": row.history_count, "urgency": row.urgency, "next_due": row.next_due}
    return Op(_INSERT, [{**values, **extra}])


def _update_params(row: Row) -> dict[str, Any]:
    case = row.case
    return {
        "b_id": case.id,
        "b_expected": row.expected,
        "b_workflow_version": case.workflow_version,
        "b_state": case.state,
        "b_status": case.status,
        "b_data": case.data,
        "b_org": case.org,
        "b_version": case.version,
        "b_updated_at": case.updated_at,
        "b_escalation_level": case.escalation_level,
        "b_assignee": case.assignee,
        "b_history_count": row.history_count,
        "b_urgency": row.urgency,
        "b_next_due": row.next_due,
    }


def update_op(rows: Sequence[Row]) -> Op:
    """
    Write case rows where each is still at its expected version (one executemany); the
    row count says how many were written.
    """
    return Op(_UPDATE, [_update_params(r) for r in rows])


def running_counts(conn: Connection) -> dict[tuple[str, int], int]:
    """Active and suspended cases per ``(workflow, version)``."""
    rows = conn.execute(
        select(cases.c.workflow, cases.c.workflow_version, func.count())
        .where(cases.c.status.in_(["active", "suspended"]))
        .group_by(cases.c.workflow, cases.c.workflow_version)
    )
    return {(r[0], r[1]): int(r[2]) for r in rows}


def open_counts_by_org(conn: Connection, org: str | None = None) -> dict[str, int]:
    """Active and suspended cases per org unit (exactly theirs, not their sub-units'), in
    ``org`` and below (every unit when None)."""
    from caseflow.store.listing import org_condition  # noqa: PLC0415 - listing imports us

    query = (
        select(cases.c.org, func.count())
        .where(cases.c.status.in_(["active", "suspended"]))
        .group_by(cases.c.org)
    )
    if org is not None:
        query = query.where(org_condition(org, include_sub_orgs=True))
    return {r[0]: int(r[1]) for r in conn.execute(query)}


def ids_of_version(
    conn: Connection, workflow: str, version: int, after: str, limit: int
) -> list[str]:
    """Ids of the running (active, suspended) cases of a workflow version, in id order."""
    rows = conn.execute(
        select(cases.c.id)
        .where(
            cases.c.workflow == workflow,
            cases.c.workflow_version == version,
            cases.c.status.in_(["active", "suspended"]),
            cases.c.id > after,
        )
        .order_by(cases.c.id)
        .limit(limit)
    )
    return [r[0] for r in rows]


def find_by_key(conn: Connection, workflow: str, business_key: str) -> list[str]:
    """Ids of the cases of ``workflow`` with this business key (at most one)."""
    rows = conn.execute(
        select(cases.c.id).where(cases.c.workflow == workflow, cases.c.business_key == business_key)
    )
    return [r[0] for r in rows]


def with_business_key(conn: Connection, business_key: str) -> list[Case]:
    """The cases of any workflow with this business key (one per workflow at most)."""
    rows = conn.execute(select(*COLUMNS).where(cases.c.business_key == business_key))
    return [case_from_row(r) for r in rows]


def open_children(conn: Connection, parent_id: str) -> list[str]:
    """Ids of the active or suspended cases this case started."""
    rows = conn.execute(
        select(cases.c.id)
        .where(cases.c.parent_id == parent_id, cases.c.status.in_(["active", "suspended"]))
        .order_by(cases.c.id)
    )
    return [r[0] for r in rows]


def children(conn: Connection, parent_id: str) -> list[Case]:
    rows = conn.execute(
        select(*COLUMNS).where(cases.c.parent_id == parent_id).order_by(cases.c.created_at)
    )
    return [case_from_row(r) for r in rows]
