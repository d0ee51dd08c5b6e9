"""Clock and timer rows: load and save clock states, arm, cancel, claim and finish timers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, insert, or_, select, update

from caseflow.clocks.runtime import ClockState, TimerSpec
from caseflow.store.tables import calendar_overlays, clocks, timers

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlalchemy.engine import Connection

_CLOCK_COLUMNS = (
    clocks.c.name,
    clocks.c.phase,
    clocks.c.started_at,
    clocks.c.pauses,
    clocks.c.extensions,
    clocks.c.due_at,
    clocks.c.last_day,
    clocks.c.provisional,
    clocks.c.warn_at,
    clocks.c.warned_at,
    clocks.c.breached_at,
    clocks.c.escalation_step,
    clocks.c.stopped_at,
    clocks.c.level,
    clocks.c.org,
)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def clock_from_row(row: Sequence[Any]) -> ClockState:
    pauses = tuple((dt.date.fromisoformat(a), _date(b)) for a, b in row[3])
    return ClockState(
        name=row[0],
        phase=row[1],
        started_at=row[2],
        pauses=pauses,
        extensions=row[4],
        due_at=row[5],
        last_day=_date(row[6]),
        provisional=row[7],
        warn_at=row[8],
        warned_at=row[9],
        breached_at=row[10],
        escalation_step=row[11],
        stopped_at=row[12],
        level=row[13],
        org=row[14],
    )


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
)


def _values(state: ClockState) -> dict[str, Any]:
    return {
        "phase": state.phase,
        "started_at": state.started_at,
        "pauses": [[a.isoformat(), b.isoformat() if b else None] for a, b in state.pauses],
        "extensions": state.extensions,
        "due_at": state.due_at,
        "last_day": state.last_day.isoformat() if state.last_day else None,
        "provisional": state.provisional,
        "warn_at": state.warn_at,
        "warned_at": state.warned_at,
        "breached_at": state.breached_at,
        "escalation_step": state.escalation_step,
        "stopped_at": state.stopped_at,
        "level": state.level,
        "org": state.org,
    }


_LOAD_CLOCKS = select(*_CLOCK_COLUMNS).where(clocks.c.case_id == bindparam("b_case"))
_INSERT_CLOCK = insert(clocks)
_UPDATE_CLOCK = (
    update(clocks)
    .where(clocks.c.case_id == bindparam("b_case"), clocks.c.name == bindparam("b_name"))
    .values({c: bindparam(f"v_{c}", type_=clocks.c[c].type) for c in _VALUE_KEYS})
)
_CANCEL_TIMERS = (
    update(timers)
    .where(
        timers.c.case_id == bindparam("b_case"),
        timers.c.clock.in_(bindparam("b_names", expanding=True)),
        timers.c.status == "pending",
        timers.c.kind != "notify",
    )
    .values(status="cancelled")
)
_INSERT_TIMER = insert(timers)


def load_clocks(conn: Connection, case_id: str) -> dict[str, ClockState]:
    rows = conn.execute(_LOAD_CLOCKS, {"b_case": case_id})
    return {r[0]: clock_from_row(r) for r in rows}


def save_clocks(
    conn: Connection, case_id: str, states: Iterable[ClockState], existing: Iterable[str]
) -> None:
    known = set(existing)
    updates, inserts = [], []
    for state in states:
        values = _values(state)
        if state.name in known:
            updates.append(
                {
                    "b_case": case_id,
                    "b_name": state.name,
                    **{f"v_{k}": v for k, v in values.items()},
                }
            )
        else:
            inserts.append({"case_id": case_id, "name": state.name, **values})
    if updates:
        conn.execute(_UPDATE_CLOCK, updates[0] if len(updates) == 1 else updates)
    if inserts:
        conn.execute(_INSERT_CLOCK, inserts[0] if len(inserts) == 1 else inserts)


def cancel_timers(conn: Connection, case_id: str, clock_names: Iterable[str]) -> None:
    names = sorted(clock_names)
    if names:
        conn.execute(_CANCEL_TIMERS, {"b_case": case_id, "b_names": names})


def arm_timers(
    conn: Connection, case_id: str, specs: Sequence[TimerSpec], now: dt.datetime
) -> None:
    arm_many(conn, [(case_id, s) for s in specs], now)


def arm_many(conn: Connection, specs: Sequence[tuple[str, TimerSpec]], now: dt.datetime) -> None:
    """Timers of any cases in one (multi-row) insert."""
    rows = [
        {
            "case_id": case_id,
            "kind": s.kind,
            "clock": s.clock,
            "step": s.step,
            "due_at": s.due_at,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "provisional": s.provisional,
            "payload": s.payload,
        }
        for case_id, s in specs
    ]
    if rows:
        conn.execute(_INSERT_TIMER, rows[0] if len(rows) == 1 else rows)


@dataclass(frozen=True, slots=True)
class Timer:
    """A durable timer row."""

    id: int
    case_id: str
    kind: str
    clock: str | None
    step: int
    due_at: dt.datetime
    status: str
    attempts: int
    provisional: bool
    payload: dict[str, Any] | None


_TIMER_COLUMNS = (
    timers.c.id,
    timers.c.case_id,
    timers.c.kind,
    timers.c.clock,
    timers.c.step,
    timers.c.due_at,
    timers.c.status,
    timers.c.attempts,
    timers.c.provisional,
    timers.c.payload,
)


def _claim_statement(skip_locked: bool) -> Any:
    due = (
        select(timers.c.id)
        .where(
            timers.c.status == "pending",
            timers.c.due_at <= bindparam("b_now", type_=timers.c.due_at.type),
            or_(
                timers.c.lease_until.is_(None),
                timers.c.lease_until < bindparam("b_now", type_=timers.c.due_at.type),
            ),
        )
        .order_by(timers.c.due_at, timers.c.id)
        .limit(bindparam("b_batch"))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(timers)
        .where(timers.c.id.in_(due.scalar_subquery()))
        .values(
            claimed_by=bindparam("b_worker"),
            lease_until=bindparam("b_lease", type_=timers.c.lease_until.type),
            attempts=timers.c.attempts + 1,
        )
        .returning(*_TIMER_COLUMNS)
    )


_CLAIM = {False: _claim_statement(skip_locked=False), True: _claim_statement(skip_locked=True)}


def claim_due(
    conn: Connection, worker: str, now: dt.datetime, lease: dt.timedelta, batch: int
) -> list[Timer]:
    """
    Claim up to ``batch`` due timers for ``worker`` until ``now + lease``, in one statement.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so workers never wait on each other. SQLite:
    the write transaction (``BEGIN IMMEDIATE``) already makes the claim exclusive.
    A timer whose lease expired (its worker died) is claimable again.
    """
    statement = _CLAIM[conn.dialect.name == "postgresql"]
    rows = conn.execute(
        statement, {"b_now": now, "b_batch": batch, "b_worker": worker, "b_lease": now + lease}
    )
    return sorted((Timer(*tuple(r)) for r in rows), key=lambda t: (t.due_at, t.id))


_FINISH = (
    update(timers)
    .where(timers.c.id == bindparam("b_id"), timers.c.status == "pending")
    .values(status=bindparam("b_status"), fired_at=bindparam("b_now", type_=timers.c.fired_at.type))
)
_FINISH_MANY = (
    update(timers)
    .where(timers.c.id.in_(bindparam("b_ids", expanding=True)), timers.c.status == "pending")
    .values(status="done", fired_at=bindparam("b_now", type_=timers.c.fired_at.type))
    .returning(timers.c.id)
)


def finish_timer(conn: Connection, timer_id: int, now: dt.datetime, status: str = "done") -> bool:
    """Mark a still-pending timer done, in the transaction of its effect; False if it is not."""
    result = conn.execute(_FINISH, {"b_id": timer_id, "b_status": status, "b_now": now})
    return result.rowcount == 1


def finish_timers(conn: Connection, timer_ids: Sequence[int], now: dt.datetime) -> set[int]:
    """Batch form of :func:`finish_timer` (one UPDATE ... RETURNING); the ids still pending."""
    if not timer_ids:
        return set()
    return {r[0] for r in conn.execute(_FINISH_MANY, {"b_ids": list(timer_ids), "b_now": now})}


def retry_timer(conn: Connection, timer_id: int, due_at: dt.datetime) -> None:
    """Put a claimed timer back for a later attempt (a failed notification)."""
    conn.execute(
        update(timers)
        .where(timers.c.id == timer_id, timers.c.status == "pending")
        .values(due_at=due_at, lease_until=None, claimed_by=None)
    )


def list_timers(
    conn: Connection, *, due_before: dt.datetime | None = None, limit: int = 100
) -> list[Timer]:
    query = select(*_TIMER_COLUMNS).where(timers.c.status == "pending")
    if due_before is not None:
        query = query.where(timers.c.due_at <= due_before)
    return [Timer(*tuple(r)) for r in conn.execute(query.order_by(timers.c.due_at).limit(limit))]


def overdue_clocks(
    conn: Connection, now: dt.datetime, limit: int, offset: int = 0
) -> list[tuple[str, ClockState]]:
    """Running clocks past their due time, most overdue first (an index-only page)."""
    rows = conn.execute(
        select(clocks.c.case_id, *_CLOCK_COLUMNS)
        .where(clocks.c.phase == "running", clocks.c.due_at <= now)
        .order_by(clocks.c.due_at, clocks.c.case_id)
        .limit(limit)
        .offset(offset)
    )
    return [(r[0], clock_from_row(r[1:])) for r in rows]


def provisional_clocks(conn: Connection) -> list[tuple[str, ClockState]]:
    rows = conn.execute(
        select(clocks.c.case_id, *_CLOCK_COLUMNS).where(
            clocks.c.provisional.is_(True), clocks.c.phase.in_(["running", "paused"])
        )
    )
    return [(r[0], clock_from_row(r[1:])) for r in rows]


def load_overlays(conn: Connection) -> list[tuple[int, list[str], list[str]]]:
    rows = conn.execute(
        select(calendar_overlays.c.year, calendar_overlays.c.holidays, calendar_overlays.c.workdays)
    )
    return [(r[0], list(r[1]), list(r[2])) for r in rows]


def store_overlay(
    conn: Connection,
    year: int,
    holidays: list[str],
    workdays: list[str],
    source: str,
    now: dt.datetime,
) -> None:
    conn.execute(calendar_overlays.delete().where(calendar_overlays.c.year == year))
    conn.execute(
        insert(calendar_overlays),
        {
            "year": year,
            "holidays": holidays,
            "workdays": workdays,
            "source": source,
            "loaded_at": now,
        },
    )


def load_clocks_for(conn: Connection, case_ids: Sequence[str]) -> dict[tuple[str, str], ClockState]:
    """Clock states of many cases at once, keyed by ``(case_id, clock name)``."""
    if not case_ids:
        return {}
    rows = conn.execute(
        select(clocks.c.case_id, *_CLOCK_COLUMNS).where(clocks.c.case_id.in_(sorted(set(case_ids))))
    )
    return {(r[0], r[1]): clock_from_row(r[1:]) for r in rows}


class WarnView(NamedTuple):
    """What a warning needs of a clock."""

    phase: str
    due_at: dt.datetime | None
    last_day: str | None
    provisional: bool
    breached_at: dt.datetime | None
    org: str | None


def load_warn_views(
    conn: Connection, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], WarnView]:
    """The given (case_id, clock name) clocks, only the columns a warning reads."""
    if not pairs:
        return {}
    # case_id IN (...) walks the primary key; a row-value IN makes SQLite scan the table
    wanted = set(pairs)
    rows = conn.execute(
        select(
            clocks.c.case_id,
            clocks.c.name,
            clocks.c.phase,
            clocks.c.due_at,
            clocks.c.last_day,
            clocks.c.provisional,
            clocks.c.breached_at,
            clocks.c.org,
        ).where(clocks.c.case_id.in_(sorted({c for c, _ in wanted})))
    )
    return {(r[0], r[1]): WarnView(*tuple(r[2:])) for r in rows if (r[0], r[1]) in wanted}


def mark_warned(conn: Connection, pairs: Sequence[tuple[str, str]], now: dt.datetime) -> None:
    """Set ``warned_at`` on many (case_id, clock) pairs in one executemany."""
    if pairs:
        conn.execute(
            update(clocks)
            .where(clocks.c.case_id == bindparam("b_case"), clocks.c.name == bindparam("b_name"))
            .values(warned_at=now),
            [{"b_case": c, "b_name": n} for c, n in pairs],
        )
