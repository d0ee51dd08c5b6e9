"""``cf_history``: the append-only case history. The only module that writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select

from caseflow.cases import HistoryEntry
from caseflow.store.fast import Op, Prepared
from caseflow.store.tables import history

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

_INSERT_COLUMNS = (
    "case_id",
    "seq",
    "at",
    "kind",
    "event",
    "from_state",
    "to_state",
    "actor_id",
    "actor_roles",
    "actor_org",
    "details",
    "version",
    "recorded_at",
)
_INSERT = Prepared(
    insert(history)
    .values({c: bindparam(c, type_=history.c[c].type) for c in _INSERT_COLUMNS})
    .inline()
)
_COLUMNS = (
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
    history.c.version,
    history.c.recorded_at,
)
_LOAD = select(*_COLUMNS).where(history.c.case_id == bindparam("b_case")).order_by(history.c.seq)


def insert_entries(conn: Connection, entries: Sequence[HistoryEntry]) -> None:
    """Append lines (one multi-row insert); (case_id, seq) is unique."""
    insert_op(entries).run(conn)


def insert_op(entries: Sequence[HistoryEntry]) -> Op:
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
            "version": e.version,
            "recorded_at": e.recorded_at,
        }
        for e in entries
    ]
    return Op(_INSERT, rows)


def load(conn: Connection, case_id: str) -> list[HistoryEntry]:
    """The case's lines in seq order."""
    return [
        HistoryEntry(
            r.case_id,
            r.seq,
            r.at,
            r.kind,
            r.event,
            r.from_state,
            r.to_state,
            r.actor_id,
            tuple(r.actor_roles),
            r.actor_org,
            r.details,
            r.version,
            r.recorded_at,
        )
        for r in conn.execute(_LOAD, {"b_case": case_id})
    ]
