"""
Durable timers: the due-timer sweep, exactly once, with leases; and its schedulers.

A sweep claims due timers in batches (``FOR UPDATE SKIP LOCKED`` and a lease on
PostgreSQL; SQLite's single writer makes the claim exclusive) and fires each through the
engine as the system actor. A timer is marked done in the same transaction as its
effect, and only if it is still pending, so it fires once even when a worker dies
mid-batch (its lease expires and another worker claims the rest) or two workers race.
Notifications are timers too: delivered after the transaction that asked for them,
retried with backoff, and never able to block or undo the engine call that caused them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from caseflow.cases import Actor, Case, HistoryEntry, note_entry
from caseflow.clocks import runtime
from caseflow.clockwork import clock_entries
from caseflow.errors import CaseflowError, ConcurrencyConflict
from caseflow.store import clockrepo, opsrepo, repo

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.engine import Connection

    from caseflow.definitions.model import ClockDef, WorkflowDef
    from caseflow.engine import Engine
    from caseflow.store.clockrepo import Timer

SYSTEM = Actor.system("timer")
DISPATCHER = Actor("system:dispatcher", {"system"})


@dataclass
class SweepReport:
    """What one sweep did: timers fired per kind, and those skipped or failed."""

    fired: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return sum(self.fired.values())


class Sweeper:
    """Claims and fires due timers for one engine. Stateless between sweeps."""

    def __init__(
        self,
        engine: Engine,
        *,
        worker: str | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        batch: int = 500,
        max_attempts: int = 5,
        backoff: dt.timedelta = dt.timedelta(seconds=30),
    ) -> None:
        self.engine = engine
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff

    def run_once(self, *, max_batches: int | None = None) -> SweepReport:
        """Fire every timer due now, batch by batch, until none is left."""
        report = SweepReport()
        batches = 0
        while max_batches is None or batches < max_batches:
            now = self.engine.clock.now()
            with self.engine._write() as conn:
                claimed = clockrepo.claim_due(conn, self.worker, now, self.lease, self.batch)
            if not claimed:
                break
            batches += 1
            self.fire_batch(claimed, report)
        return report

    def fire_batch(self, claimed: list[Timer], report: SweepReport) -> None:
        warns = [t for t in claimed if t.kind == "warn"]
        if warns:
            self._fire_warnings(warns, report)
        notices = [t for t in claimed if t.kind == "notify"]
        if notices:
            self._deliver(notices, report)
        for timer in claimed:
            if timer.kind in ("warn", "notify"):
                continue
            if timer.kind == "action":
                self._run_action(timer, report)
            else:
                self._fire_one(timer, report)

    # -- warnings: one transaction per batch ---------------------------------------

    def _fire_warnings(self, warns: list[Timer], report: SweepReport) -> None:
        now = self.engine.clock.now()
        with self.engine._write() as conn:
            live = clockrepo.finish_timers(conn, [t.id for t in warns], now)
            mine = [t for t in warns if t.id in live]
            report.skipped += len(warns) - len(mine)
            cases = repo.load_case_heads(conn, [t.case_id for t in mine])
            views = clockrepo.load_warn_views(conn, [(t.case_id, t.clock or "") for t in mine])
            warned: list[tuple[str, str]] = []
            entries: list[HistoryEntry] = []
            notices: list[tuple[str, runtime.TimerSpec]] = []
            for timer in mine:
                name = timer.clock or ""
                case = cases.get(timer.case_id)
                view = views.get((timer.case_id, name))
                if case is None or view is None or view.phase != "running" or view.breached_at:
                    continue  # stopped, paused or already red: a yellow warning is moot
                warned.append((case.id, name))
                note = {
                    "clock": name,
                    "action": "warned",
                    "due_at": view.due_at.isoformat() if view.due_at else None,
                    "provisional": view.provisional,
                }
                entries += clock_entries(case, [note], SYSTEM, now)
                definition = self.engine.workflow(case.workflow, case.workflow_version)
                spec = definition.clocks.get(name.split("@", 1)[0])
                roles = (
                    spec.warn_notify
                    if spec is not None and spec.warn_notify is not None
                    else _holders(definition, case.state)
                )
                due = f"by the end of {view.last_day}" + (
                    " (provisional)" if view.provisional else ""
                )
                message = f"{definition.name} case {case.id}: clock {name!r} is due {due}"
                notices.append((case.id, _notice(name, roles, view.org or case.org, message, now)))
            clockrepo.mark_warned(conn, warned, now)
            repo.insert_history(conn, entries)
            clockrepo.arm_many(conn, notices, now)
        report.fired["warn"] += len(warned)

    # -- breach and escalation: one transaction each ---------------------------------

    def _fire_one(self, timer: Timer, report: SweepReport) -> None:
        for _attempt in range(3):
            now = self.engine.clock.now()
            try:
                with self.engine._write() as conn:
                    if not clockrepo.finish_timer(conn, timer.id, now):
                        report.skipped += 1
                        return
                    fired = self._effect(conn, timer, now)
            except ConcurrencyConflict:
                continue  # a user changed the case meanwhile: reload and try again
            except CaseflowError as exc:
                self._give_up_or_retry(timer, exc, report)
                return
            if fired:
                report.fired[timer.kind] += 1
            else:
                report.skipped += 1
            return
        self._give_up_or_retry(timer, ConcurrencyConflict(timer.case_id, -1), report)

    def _effect(self, conn: Connection, timer: Timer, now: dt.datetime) -> bool:
        case = repo.load_case(conn, timer.case_id)
        if case is None or case.status != "active":
            return False
        if timer.kind == "vote_close":
            return self.engine._close_due_vote(conn, case, now)
        definition = self.engine.workflow(case.workflow, case.workflow_version)
        clock = definition.clocks.get((timer.clock or "").split("@", 1)[0])  # name@item
        states = clockrepo.load_clocks(conn, case.id)
        state = states.get(timer.clock or "")
        if clock is None or state is None or state.phase != "running":
            return False
        if timer.kind == "breach":
            return self._breach(conn, definition, clock, case, state, now, states)
        return self._escalate(conn, definition, clock, case, state, timer.step, now)

    def _breach(
        self,
        conn: Connection,
        definition: WorkflowDef,
        clock: ClockDef,
        case: Case,
        state: runtime.ClockState,
        now: dt.datetime,
        states: Mapping[str, runtime.ClockState],
    ) -> bool:
        calendar = self.engine.calendars.for_workflow(definition)
        breached = dataclasses.replace(state, breached_at=now)
        clockrepo.save_clocks(conn, case.id, [breached], [state.name])
        entries = clock_entries(
            case,
            [
                {
                    "clock": state.name,
                    "action": "breached",
                    "due_at": state.due_at.isoformat() if state.due_at else None,
                    **({"org": state.org} if state.org else {}),
                }
            ],
            SYSTEM,
            now,
        )
        if clock.on_breach_move_up and not clock.per_item:
            repo.insert_history(conn, entries)
            return self._move_up(conn, definition, clock, case, state, now)
        arm: list[runtime.TimerSpec] = []
        if clock.on_breach_notify:
            arm.append(
                _notice(
                    state.name,
                    clock.on_breach_notify,
                    state.org or case.org,
                    f"{definition.name} case {case.id}: clock {clock.name!r} breached "
                    f"({_due_text(state)})",
                    now,
                )
            )
        step = runtime.escalation_timer(clock, breached, 0, calendar, definition.timezone)
        if step is not None:
            arm.append(step)
        clockrepo.arm_timers(conn, case.id, arm, now)
        if clock.on_breach_fire:
            self._fire_event(
                conn,
                definition,
                case,
                clock.on_breach_fire,
                f"clock {clock.name!r} breached",
                now,
                clocks={**states, state.name: breached},
                prior=entries,
            )
        else:
            repo.insert_history(conn, entries)
        return True

    def _move_up(
        self,
        conn: Connection,
        definition: WorkflowDef,
        clock: ClockDef,
        case: Case,
        state: runtime.ClockState,
        now: dt.datetime,
    ) -> bool:
        """Not settled in time at this level: the case goes one unit up and the clock restarts."""
        parent = self.engine.orgs.parent(case.org)
        if parent is None:
            note = {"clock": clock.name, "action": "at top", "org": case.org}
            repo.insert_history(conn, clock_entries(case, [note], SYSTEM, now))
            if clock.on_breach_at_top:
                self._fire_event(
                    conn,
                    definition,
                    case,
                    clock.on_breach_at_top,
                    f"clock {clock.name!r} breached at the top unit",
                    now,
                )
            return True
        moved = _raise_level(conn, case, parent, now)
        level = self.engine.orgs.level(parent)
        calendar = self.engine.calendars.for_workflow(definition)
        fresh, timers = runtime.schedule(
            clock,
            runtime.ClockState(clock.name, "running", now, level=level),
            calendar,
            definition.timezone,
            now,
        )
        clockrepo.save_clocks(conn, case.id, [fresh], [state.name])
        clockrepo.cancel_timers(conn, case.id, [clock.name])
        if clock.on_breach_notify:
            timers.append(
                _notice(
                    clock.name,
                    clock.on_breach_notify,
                    parent,
                    f"{definition.name} case {case.id}: not settled in time at "
                    f"{case.org}; moved up to {parent} (督办)",
                    now,
                )
            )
        clockrepo.arm_timers(conn, case.id, timers, now)
        notes: list[dict[str, Any]] = [
            {
                "clock": clock.name,
                "action": "escalated",
                "level": moved.escalation_level,
                "from_org": case.org,
                "to_org": parent,
                "org_level": level,
            },
            {
                "clock": clock.name,
                "action": "restarted",
                "org_level": level,
                "due_at": fresh.due_at.isoformat() if fresh.due_at else None,
                "last_day": fresh.last_day.isoformat() if fresh.last_day else None,
            },
        ]
        repo.insert_history(conn, clock_entries(moved, notes, SYSTEM, now))
        return True

    def _escalate(
        self,
        conn: Connection,
        definition: WorkflowDef,
        clock: ClockDef,
        case: Case,
        state: runtime.ClockState,
        step_no: int,
        now: dt.datetime,
    ) -> bool:
        if step_no >= len(clock.escalate) or state.escalation_step > step_no:
            return False
        step = clock.escalate[step_no]
        calendar = self.engine.calendars.for_workflow(definition)
        moved = dataclasses.replace(state, escalation_step=step_no + 1)
        clockrepo.save_clocks(conn, case.id, [moved], [state.name])
        up = self.engine.orgs.parent
        if state.org:  # a unit's work item: 督办 goes to that unit (or above it); the case stays
            new_org = case.org
            notify_org = (up(state.org) or state.org) if step.to_org == "parent" else state.org
        else:
            new_org = (up(case.org) or case.org) if step.to_org == "parent" else case.org
            notify_org = new_org
        escalated = _raise_level(conn, case, new_org, now)
        note: dict[str, Any] = {
            "clock": state.name,
            "action": "escalated",
            "step": step_no + 1,
            "level": escalated.escalation_level,
        }
        if new_org != case.org:
            note.update(from_org=case.org, to_org=new_org)
        elif state.org:
            note["notified_org"] = notify_org
        elif step.to_org == "parent":
            note["note"] = "already at the top org unit"
        arm: list[runtime.TimerSpec] = []
        if step.notify:
            arm.append(
                _notice(
                    state.name,
                    step.notify,
                    notify_org,
                    f"{definition.name} case {case.id}: clock {state.name!r} overdue, "
                    f"escalated to level {escalated.escalation_level} (督办)",
                    now,
                )
            )
        following = runtime.escalation_timer(
            clock, moved, step_no + 1, calendar, definition.timezone
        )
        if following is not None:
            arm.append(following)
        clockrepo.arm_timers(conn, case.id, arm, now)
        repo.insert_history(conn, clock_entries(escalated, [note], SYSTEM, now))
        if step.fire:
            self._fire_event(
                conn,
                definition,
                escalated,
                step.fire,
                f"escalation step {step_no + 1} of clock {clock.name!r}",
                now,
            )
        return True

    def _fire_event(
        self,
        conn: Connection,
        definition: WorkflowDef,
        case: Case,
        event: str,
        why: str,
        now: dt.datetime,
        *,
        clocks: Mapping[str, runtime.ClockState] | None = None,
        prior: Sequence[HistoryEntry] = (),
    ) -> None:
        if case.state not in definition.events[event].sources:
            note = {
                "action": "not fired",
                "event": event,
                "reason": f"{why}; not allowed in state {case.state!r}",
            }
            repo.insert_history(conn, [*prior, *clock_entries(case, [note], SYSTEM, now)])
            return
        self.engine._transition(
            conn, case, event, SYSTEM, None, now, why, clocks=clocks, prior=prior
        )

    # -- side effects: outside any transaction, at least once, then an incident -------

    def _run_action(self, timer: Timer, report: SweepReport) -> None:
        payload = timer.payload or {}
        name = str(payload.get("action", timer.clock))
        with self.engine._read() as conn:
            case = repo.load_case(conn, timer.case_id)
        if case is None:
            return
        definition = self.engine.workflow(case.workflow, case.workflow_version)
        config = definition.actions.get(name)
        retries = config.retries if config is not None else 0
        backoff = dt.timedelta(seconds=config.backoff_seconds if config is not None else 30)
        error: str | None = None
        try:
            handler = self.engine.actions.get(name)
            handler.run(
                case_id=case.id,
                data=case.data,
                params=payload.get("params", {}),
                idempotency_key=f"{case.id}:{timer.id}",
            )
        except Exception as exc:  # noqa: BLE001 - a handler may fail in any way: we record it
            error = f"{type(exc).__name__}: {exc}"
        now = self.engine.clock.now()
        note: dict[str, Any] = {"action": name, "attempt": timer.attempts}
        with self.engine._write() as conn:
            if error is None:
                if clockrepo.finish_timer(conn, timer.id, now):
                    report.fired["action"] += 1
                    repo.insert_history(
                        conn, _action_entries(case, {**note, "status": "done"}, now)
                    )
                return
            note.update(status="failed", error=error)
            entries = _action_entries(case, note, now)
            if timer.attempts > retries:
                if clockrepo.finish_timer(conn, timer.id, now, status="failed"):
                    incident = opsrepo.open_incident(
                        conn, case.id, timer.id, name, error, timer.attempts, now
                    )
                    entries += _action_entries(
                        case,
                        {
                            "action": name,
                            "status": "incident",
                            "incident": incident,
                            "error": error,
                        },
                        now,
                    )
                    report.failed += 1
            else:
                clockrepo.retry_timer(conn, timer.id, now + backoff * timer.attempts)
            repo.insert_history(conn, entries)

    # -- notifications: outside any transaction ----------------------------------------

    def _deliver(self, notices: list[Timer], report: SweepReport, chunk: int = 50) -> None:
        """Send notifications, acknowledging them in chunks (at least once, like all effects)."""
        for start in range(0, len(notices), chunk):
            sent: list[int] = []
            for timer in notices[start : start + chunk]:
                payload = timer.payload or {}
                try:
                    self.engine.notifier.notify(
                        case_id=timer.case_id,
                        roles=tuple(payload.get("roles", ())),
                        org=str(payload.get("org", "")),
                        message=str(payload.get("message", "")),
                    )
                except Exception as exc:  # noqa: BLE001 - a notifier may fail in any way
                    self._give_up_or_retry(timer, exc, report)
                else:
                    sent.append(timer.id)
            if sent:
                with self.engine._write() as conn:
                    done = clockrepo.finish_timers(conn, sent, self.engine.clock.now())
                report.fired["notify"] += len(done)

    def _give_up_or_retry(self, timer: Timer, exc: BaseException, report: SweepReport) -> None:
        now = self.engine.clock.now()
        with self.engine._write() as conn:
            if timer.attempts >= self.max_attempts:
                if clockrepo.finish_timer(conn, timer.id, now, status="failed"):
                    case = repo.load_case(conn, timer.case_id)
                    if case is not None:
                        note = {
                            "action": f"{timer.kind} failed",
                            "clock": timer.clock,
                            "attempts": timer.attempts,
                            "error": str(exc),
                        }
                        repo.insert_history(conn, clock_entries(case, [note], SYSTEM, now))
                report.failed += 1
                return
            clockrepo.retry_timer(conn, timer.id, now + self.backoff * timer.attempts)
        self.engine.log.warning(
            "timer retry",
            timer_id=timer.id,
            case_id=timer.case_id,
            kind=timer.kind,
            attempts=timer.attempts,
            error=str(exc),
        )


def _raise_level(conn: Connection, case: Case, org: str, now: dt.datetime) -> Case:
    """One escalation level up (and to ``org``), written with the row-version check."""
    escalated = dataclasses.replace(
        case,
        org=org,
        escalation_level=case.escalation_level + 1,
        version=case.version + 1,
        updated_at=now,
    )
    if not repo.update_case(conn, case.version, escalated):
        raise ConcurrencyConflict(case.id, case.version)
    return escalated


def _action_entries(case: Case, details: dict[str, Any], now: dt.datetime) -> list[HistoryEntry]:
    return [note_entry(case, DISPATCHER, now, "action", details)]


def _holders(definition: WorkflowDef, state: str) -> tuple[str, ...]:
    """Roles that can move the case on from ``state``: who holds the ball."""
    roles = {r for e in definition.events.values() if state in e.sources for r in e.roles}
    return tuple(sorted(roles))


def _due_text(state: runtime.ClockState) -> str:
    day = state.last_day.isoformat() if state.last_day else "?"
    return f"by the end of {day}" + (" (provisional)" if state.provisional else "")


def _notice(
    clock: str, roles: tuple[str, ...], org: str, message: str, now: dt.datetime
) -> runtime.TimerSpec:
    return runtime.TimerSpec(
        "notify", clock, now, payload={"roles": list(roles), "org": org, "message": message}
    )
