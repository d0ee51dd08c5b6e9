"""``cf_clocks``: each case's clocks, latest run of each. The only module that writes them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from caseflow.clocks.runtime import ClockState
from caseflow.store.fast import Op, Prepared
from caseflow.store.tables import clocks

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

#: ClockState field -> column (the same names), in the order COLUMNS selects them.
_VALUE_KEYS = (
    "phase",
    "started_at",
    "pauses",
    "extensions",
    "due_at",
    "last_day",
    "provisional",
    "warn_at",
    "warned_at",
    "breached_at",
    "escalation_step",
    "stopped_at",
    "level",
    "org",
    "variant",
)
COLUMNS = (clocks.c.name, *(clocks.c[k] for k in _VALUE_KEYS))


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _mark(value: str | None) -> dt.date | None:
    """A pause boundary: a local date, or an instant (an hour-based clock's exact pause)."""
    if value is None:
        return None
    return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)


def clock_from_row(row: Sequence[Any]) -> ClockState:
    """A :class:`ClockState` from the first ``len(COLUMNS)`` values of a row selecting COLUMNS."""
    values = dict(zip(("name", *_VALUE_KEYS), row, strict=False))
    values["pauses"] = tuple((_mark(a), _mark(b)) for a, b in values["pauses"])
    values["last_day"] = _date(values["last_day"])
    return ClockState(**values)


def _values(state: ClockState) -> dict[str, Any]:
    values = {k: getattr(state, k) for k in _VALUE_KEYS}
    values["pauses"] = [[a.isoformat(), b.isoformat() if b else None] for a, b in state.pauses]
    values["last_day"] = state.last_day.isoformat() if state.last_day else None
    return values


_LOAD = select(*COLUMNS).where(clocks.c.case_id == bindparam("b_case"))


def _upsert(dialect_insert: Any) -> Any:
    """Insert a clock row, or update it where the case already has that clock."""
    values = {c: bindparam(c, type_=clocks.c[c].type) for c in ("case_id", "name", *_VALUE_KEYS)}
    statement = dialect_insert(clocks).values(values)
    return statement.on_conflict_do_update(
        index_elements=[clocks.c.case_id, clocks.c.name],
        set_={c: statement.excluded[c] for c in _VALUE_KEYS},
    )


# one statement for new and changed clocks (ON CONFLICT: SQLite >= 3.24, PostgreSQL)
_SAVE = Prepared(
    insert(clocks),
    {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)},
    key=("case_id", "name"),
)


def load(conn: Connection, case_id: str) -> dict[str, ClockState]:
    return {r[0]: clock_from_row(r) for r in conn.execute(_LOAD, {"b_case": case_id})}


def load_many(conn: Connection, case_ids: Sequence[str]) -> dict[str, dict[str, ClockState]]:
    """Clocks of many cases at once, by case id then clock name."""
    found: dict[str, dict[str, ClockState]] = {}
    if not case_ids:
        return found
    rows = conn.execute(
        select(clocks.c.case_id, *COLUMNS).where(clocks.c.case_id.in_(sorted(set(case_ids))))
    )
    for r in rows:
        found.setdefault(r[0], {})[r[1]] = clock_from_row(r[1:])
    return found


def save(conn: Connection, rows: Sequence[tuple[str, ClockState, bool]]) -> None:
    """Write ``(case_id, state, exists)`` rows, new and changed alike, in one statement."""
    save_op(rows).run(conn)


def save_op(rows: Sequence[tuple[str, ClockState, bool]]) -> Op:
    values = [{"case_id": c, "name": state.name, **_values(state)} for c, state, _ in rows]
    return Op(_SAVE, values)


def overdue(
    conn: Connection, now: dt.datetime, limit: int, offset: int = 0
) -> list[tuple[str, ClockState]]:
    """Running clocks past their due time, most overdue first (an index-only page)."""
    rows = conn.execute(
        select(clocks.c.case_id, *COLUMNS)
        .where(clocks.c.phase == "running", clocks.c.due_at <= now)
        .order_by(clocks.c.due_at, clocks.c.case_id)
        .limit(limit)
        .offset(offset)
    )
    return [(r[0], clock_from_row(r[1:])) for r in rows]


def provisional_case_ids(conn: Connection) -> list[str]:
    """Cases with a running or paused clock whose deadline is provisional."""
    rows = conn.execute(
        select(clocks.c.case_id)
        .where(clocks.c.provisional.is_(True), clocks.c.phase.in_(["running", "paused"]))
        .distinct()
        .order_by(clocks.c.case_id)
    )
    return [r[0] for r in rows]


def provisional_by_year(conn: Connection) -> dict[int, tuple[int, int]]:
    """Running or paused clocks with a provisional deadline, by the year of their last day:
    year -> (clocks, cases)."""
    year = func.substr(clocks.c.last_day, 1, 4)
    rows = conn.execute(
        select(year, func.count(), func.count(func.distinct(clocks.c.case_id)))
        .where(clocks.c.provisional.is_(True), clocks.c.phase.in_(["running", "paused"]))
        .group_by(year)
        .order_by(year)
    )
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows if r[0]}


def latest_last_day(conn: Connection) -> str | None:
    """The latest last day of a running or paused clock (ISO date), if any."""
    found = conn.execute(
        select(func.max(clocks.c.last_day)).where(clocks.c.phase.in_(["running", "paused"]))
    ).scalar()
    return str(found) if found else None
