"""
The one writer: :func:`apply_plan` writes what the planner decided, in the caller's
transaction, through each table's owner module.

Order: the timer whose effect this is (a timer finished meanwhile by another worker voids
the command: :class:`TimerGone`), the case row with its version check (the one version
bump; :class:`~caseflow.errors.ConcurrencyConflict` if another writer got there first),
incidents (their ids go into history lines), history, clocks, timers (cancel, then arm),
votes, work items, the idempotency record. :func:`apply_plans` writes many plans at once
(a batch of warnings, a migration batch) with one statement per table where it can.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow.errors import ConcurrencyConflict
from caseflow.pipeline.plan import (
    AttendVote,
    Ballot,
    CloseItem,
    FinishRound,
    OpenItems,
    OpenRound,
)
from caseflow.store import cases, clocks, history, idempotency, incidents, timers, votes, workitems
from caseflow.store.fast import send

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

    from caseflow.pipeline.plan import Plan


class TimerGone(Exception):  # noqa: N818 - a signal, not an error users see
    """The timer of this effect is no longer pending: another worker (or operator) took it."""


def _timer(conn: Connection, plan: Plan) -> None:
    update = plan.timer
    assert update is not None  # noqa: S101 - checked by the caller
    now = plan.recorded_at or plan.case.updated_at
    if update.outcome == "done":
        ok = timers.finish(conn, update.id, now)
    elif update.outcome == "retry":
        assert update.retry_at is not None  # noqa: S101 - a retry has a time
        ok = timers.failed_attempt(conn, update.id, update.retry_at, update.error or "") is not None
    else:
        ok = timers.give_up(conn, update.id, now, update.error or "")
    if not ok:
        raise TimerGone(update.id)


def _rest(conn: Connection, plan: Plan) -> None:
    """What only one plan at a time writes: incidents, votes, work items, idempotency."""
    case_id = plan.case.id
    at = plan.at or plan.case.updated_at
    now = plan.recorded_at or at
    for op in plan.incidents:
        incidents.resolve(conn, op.ids, op.status, op.by, op.reason, now)
        if op.status == "retried":
            timers.rearm(conn, op.timer_ids, now)
        else:
            timers.set_status(conn, op.timer_ids, op.status)
    for vote in plan.votes:
        if isinstance(vote, OpenRound):
            votes.open_round(
                conn,
                case_id,
                vote.state,
                vote.number,
                vote.electorate,
                vote.rule,
                secret=vote.secret,
                now=at,
                closes_at=vote.closes_at,
                key_wrapped=vote.key_wrapped,
            )
        elif isinstance(vote, FinishRound):
            votes.finish(conn, vote.vote_id, vote.status, vote.result, at, erase=vote.erase)
        elif isinstance(vote, AttendVote):
            votes.attend(conn, vote.vote_id, vote.voter, vote.how, vote.recorded_by)
        elif isinstance(vote, Ballot):
            votes.cast(
                conn, vote.vote_id, vote.voter, vote.choice, secret=vote.secret, sealed=vote.sealed
            )
    for item in plan.items:
        if isinstance(item, OpenItems):
            workitems.open_items(conn, case_id, item.state, item.number, item.items, at)
        elif isinstance(item, CloseItem):
            workitems.close_item(
                conn,
                case_id,
                item.state,
                item.number,
                item.item,
                item.status,
                item.by,
                item.result,
                at,
            )
    record = plan.idempotency
    if record is not None:
        idempotency.save(
            conn,
            record.scope,
            record.key,
            record.fingerprint,
            case_id,
            record.operation,
            plan.case.to_dict(),
            now,
        )


def _open_incidents(conn: Connection, plan: Plan) -> None:
    now = plan.recorded_at or plan.case.updated_at
    for op in plan.open_incidents:
        number = incidents.open_incident(
            conn, plan.case.id, op.timer_id, op.action, op.error, op.attempts, now
        )
        if op.note is not None:
            op.note["incident"] = number


def _row(plan: Plan) -> cases.Row:
    return cases.Row(plan.case, plan.base_version, plan.history_count, plan.urgency, plan.next_due)


def apply_plan(conn: Connection, plan: Plan) -> None:
    """Write one plan (see the module docstring for the order)."""
    if plan.timer is not None:
        _timer(conn, plan)
    if not plan.writes_case:
        return
    _open_incidents(conn, plan)
    case_id = plan.case.id
    row = _row(plan)
    first = cases.insert_op(row) if plan.base_version is None else cases.update_op([row])
    counts = send(
        conn,
        [
            first,
            history.insert_op(plan.entries),
            clocks.save_op([(case_id, state, exists) for state, exists in plan.clocks]),
            timers.cancel_op([(case_id, name) for name in plan.cancel]),
            timers.arm_op(
                [(case_id, t) for t in plan.arm] + plan.arm_elsewhere,
                plan.recorded_at or plan.case.updated_at,
            ),
        ],
    )
    if plan.base_version is not None and counts[0] != 1:
        raise ConcurrencyConflict(plan.case.id, plan.base_version)
    _rest(conn, plan)


def apply_plans(conn: Connection, plans: Sequence[Plan]) -> None:
    """
    Write many plans of different cases at once: one statement per table (executemany or
    a multi-row insert). Their timers must have been finished by the caller.
    """
    writing = [p for p in plans if p.writes_case]
    if not writing:
        return
    changes = [_row(p) for p in writing if p.base_version is not None]
    if cases.update_op(changes).run(conn) != len(changes):
        first = writing[0]
        raise ConcurrencyConflict(first.case.id, first.base_version or 0)
    for plan in writing:
        _open_incidents(conn, plan)
    history.insert_entries(conn, [e for p in writing for e in p.entries])
    clocks.save(conn, [(p.case.id, s, exists) for p in writing for s, exists in p.clocks])
    timers.cancel(conn, [(p.case.id, name) for p in writing for name in p.cancel])
    now = writing[0].recorded_at or writing[0].case.updated_at
    timers.arm(
        conn, [(p.case.id, t) for p in writing for t in p.arm] + [
            e for p in writing for e in p.arm_elsewhere
        ], now,
    )  # fmt: skip
    for plan in writing:
        _rest(conn, plan)


def give_up_timer(
    conn: Connection,
    case_id: str,
    timer_id: int,
    action: str,
    error: str,
    attempts: int,
    now: dt.datetime,
) -> bool:
    """
    The last resort when a timer's failure cannot even be recorded through the pipeline
    (its case cannot be read): mark the timer failed and open an incident, without a
    history line. False if the timer is no longer pending.
    """
    if not timers.give_up(conn, timer_id, now, error):
        return False
    incidents.open_incident(conn, case_id, timer_id, action, error, attempts, now)
    return True
