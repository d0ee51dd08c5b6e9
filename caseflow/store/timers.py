"""
``cf_timers``: durable timers (warn, breach, escalate, vote close, action, notify).

The only module that writes them. A timer is armed in the transaction that decided it,
claimed by a sweep with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and finished
in the transaction of its effect, only if still pending. ``attempts`` counts failed
attempts of its effect, never claims: a lease that ran out (its worker died) is not a
failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, or_, select, update

from caseflow.records import Timer
from caseflow.store.fast import Op, Prepared
from caseflow.store.tables import timers

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Sequence

    from sqlalchemy.engine import Connection

    from caseflow.clocks.runtime import TimerSpec


_COLUMNS = (
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
    timers.c.last_error,
)
_ARM_COLUMNS = (
    "case_id",
    "kind",
    "clock",
    "step",
    "due_at",
    "status",
    "attempts",
    "created_at",
    "provisional",
    "payload",
)
_INSERT = Prepared(
    insert(timers).values({c: bindparam(c, type_=timers.c[c].type) for c in _ARM_COLUMNS}).inline()
)
_CANCEL = Prepared(
    update(timers)
    .where(
        timers.c.case_id == bindparam("b_case"),
        timers.c.clock == bindparam("b_clock"),
        timers.c.status == "pending",
        timers.c.kind != "notify",
    )
    .values(status="cancelled")
)


def arm(conn: Connection, specs: Sequence[tuple[str, TimerSpec]], now: dt.datetime) -> None:
    """Timers of any cases in one (multi-row) insert."""
    arm_op(specs, now).run(conn)


def arm_op(specs: Sequence[tuple[str, TimerSpec]], now: dt.datetime) -> Op:
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
    return Op(_INSERT, rows)


def cancel(conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """Cancel the pending timers (not notifications) of these (case id, clock) pairs."""
    cancel_op(pairs).run(conn)


def cancel_op(pairs: Iterable[tuple[str, str]]) -> Op:
    return Op(_CANCEL, [{"b_case": c, "b_clock": n} for c, n in sorted(set(pairs))])


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
        )
        .returning(*_COLUMNS)
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


def finish(conn: Connection, timer_id: int, now: dt.datetime, status: str = "done") -> bool:
    """Mark a still-pending timer done, in the transaction of its effect; False if it is not."""
    result = conn.execute(_FINISH, {"b_id": timer_id, "b_status": status, "b_now": now})
    return result.rowcount == 1


def finish_many(conn: Connection, timer_ids: Sequence[int], now: dt.datetime) -> set[int]:
    """Batch form of :func:`finish` (one UPDATE ... RETURNING); the ids that were pending."""
    if not timer_ids:
        return set()
    return {r[0] for r in conn.execute(_FINISH_MANY, {"b_ids": list(timer_ids), "b_now": now})}


def failed_attempt(
    conn: Connection, timer_id: int, retry_at: dt.datetime, error: str
) -> int | None:
    """
    Count a failed attempt, keep the error, release the lease and make the timer due again
    at ``retry_at``; the attempts so far, None if the timer is no longer pending.
    """
    row = conn.execute(
        update(timers)
        .where(timers.c.id == timer_id, timers.c.status == "pending")
        .values(
            attempts=timers.c.attempts + 1,
            last_error=error,
            due_at=retry_at,
            lease_until=None,
            claimed_by=None,
        )
        .returning(timers.c.attempts)
    ).first()
    return None if row is None else int(row[0])


def release(conn: Connection, timer_id: int) -> None:
    """Give a claimed timer back untouched (its effect was not attempted)."""
    conn.execute(
        update(timers)
        .where(timers.c.id == timer_id, timers.c.status == "pending")
        .values(lease_until=None, claimed_by=None)
    )


def give_up(conn: Connection, timer_id: int, now: dt.datetime, error: str) -> bool:
    """Mark a pending timer failed (its effect failed every attempt)."""
    result = conn.execute(
        update(timers)
        .where(timers.c.id == timer_id, timers.c.status == "pending")
        .values(status="failed", fired_at=now, last_error=error, lease_until=None)
    )
    return result.rowcount == 1


def rearm(conn: Connection, timer_ids: Sequence[int], now: dt.datetime) -> None:
    """Put failed timers back: pending, due now, attempts from zero."""
    if timer_ids:
        conn.execute(
            update(timers)
            .where(timers.c.id.in_(list(timer_ids)))
            .values(status="pending", attempts=0, due_at=now, lease_until=None, claimed_by=None)
        )


def set_status(conn: Connection, timer_ids: Sequence[int], status: str) -> None:
    if timer_ids:
        conn.execute(update(timers).where(timers.c.id.in_(list(timer_ids))).values(status=status))


def pending(
    conn: Connection,
    *,
    due_before: dt.datetime | None = None,
    case_id: str | None = None,
    limit: int = 100,
) -> list[Timer]:
    """Pending timers, soonest first."""
    query = select(*_COLUMNS).where(timers.c.status == "pending")
    if due_before is not None:
        query = query.where(timers.c.due_at <= due_before)
    if case_id is not None:
        query = query.where(timers.c.case_id == case_id)
    rows = conn.execute(query.order_by(timers.c.due_at, timers.c.id).limit(limit))
    return [Timer(*tuple(r)) for r in rows]


def oldest_due(conn: Connection, now: dt.datetime) -> dt.datetime | None:
    """The due time of the oldest pending timer that is due (how late the sweep runs)."""
    value: dt.datetime | None = conn.execute(
        select(func.min(timers.c.due_at)).where(
            timers.c.status == "pending", timers.c.due_at <= now
        )
    ).scalar()
    return value


def pending_actions(conn: Connection, case_id: str) -> list[tuple[int, str, int]]:
    """(timer id, action, failed attempts so far) of the case's side effects not yet done."""
    rows = conn.execute(
        select(timers.c.id, timers.c.clock, timers.c.attempts)
        .where(timers.c.case_id == case_id, timers.c.kind == "action", timers.c.status == "pending")
        .order_by(timers.c.id)
    )
    return [(r[0], r[1] or "", r[2]) for r in rows]
