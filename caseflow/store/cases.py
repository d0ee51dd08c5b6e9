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
}
COLUMNS = tuple(cases.c[column] for column in FIELDS.values())
_NAMES = tuple(FIELDS)


def case_from_row(row: Sequence[Any]) -> Case:
    """A :class:`Case` from the first ``len(COLUMNS)`` values of a row selecting COLUMNS."""
    return Case(**dict(zip(_NAMES, row, strict=False)))


class Head(NamedTuple):
    """A case row and the count of its history lines (the next seq is count + 1)."""

    case: Case
    history_count: int


# The hot statements are built once: building and cache-keying a SQLAlchemy statement
# per call cost more than the database's own work (bench/BENCHMARKS.md).
_LOAD = Prepared(select(*COLUMNS, cases.c.history_count).where(cases.c.id == bindparam("b_id")))
_INSERT_COLUMNS = (*FIELDS.values(), "history_count")
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


def insert_op(case: Case, history_count: int) -> Op:
    values = {column: getattr(case, name) for name, column in FIELDS.items()}
    return Op(_INSERT, [{**values, "history_count": history_count}])


def insert_case(conn: Connection, case: Case, history_count: int) -> None:
    insert_op(case, history_count).run(conn)


def _update_params(case: Case, expected: int, history_count: int) -> dict[str, Any]:
    return {
        "b_id": case.id,
        "b_expected": expected,
        "b_workflow_version": case.workflow_version,
        "b_state": case.state,
        "b_status": case.status,
        "b_data": case.data,
        "b_org": case.org,
        "b_version": case.version,
        "b_updated_at": case.updated_at,
        "b_escalation_level": case.escalation_level,
        "b_assignee": case.assignee,
        "b_history_count": history_count,
    }


def update_op(changes: Sequence[tuple[Case, int, int]]) -> Op:
    """
    Write ``(case, expected version, history count)`` rows where each row is still at its
    expected version (one executemany); the row count says how many were written.
    """
    return Op(_UPDATE, [_update_params(c, e, n) for c, e, n in changes])


def update_cases(conn: Connection, changes: Sequence[tuple[Case, int, int]]) -> int:
    return update_op(changes).run(conn)


def running_counts(conn: Connection) -> dict[tuple[str, int], int]:
    """Active and suspended cases per ``(workflow, version)``."""
    rows = conn.execute(
        select(cases.c.workflow, cases.c.workflow_version, func.count())
        .where(cases.c.status.in_(["active", "suspended"]))
        .group_by(cases.c.workflow, cases.c.workflow_version)
    )
    return {(r[0], r[1]): int(r[2]) for r in rows}


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
