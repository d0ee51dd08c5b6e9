"""``cf_idempotency``: the first result of each (scope, key), with the request's fingerprint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, insert, select

from caseflow.store.tables import idempotency

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.engine import Connection


class Record(NamedTuple):
    """What the first request with a key did."""

    fingerprint: str
    case_id: str
    result: dict[str, Any]


_LOOKUP = select(idempotency.c.fingerprint, idempotency.c.case_id, idempotency.c.result).where(
    idempotency.c.scope == bindparam("b_scope"), idempotency.c.key == bindparam("b_key")
)
_INSERT = insert(idempotency)


def lookup(conn: Connection, scope: str, key: str) -> Record | None:
    row = conn.execute(_LOOKUP, {"b_scope": scope, "b_key": key}).first()
    return None if row is None else Record(row[0], row[1], dict(row[2]))


def save(
    conn: Connection,
    scope: str,
    key: str,
    fingerprint: str,
    case_id: str,
    operation: str,
    result: dict[str, Any],
    now: dt.datetime,
) -> None:
    conn.execute(
        _INSERT,
        {
            "scope": scope,
            "key": key,
            "fingerprint": fingerprint,
            "case_id": case_id,
            "operation": operation,
            "result": result,
            "created_at": now,
        },
    )
