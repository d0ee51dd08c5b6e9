"""The clock and timer half of the :class:`~caseflow.Engine` API (a mixin, for module size)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseflow._parts import EngineParts
from caseflow.clocks import runtime
from caseflow.clocks.calendars import load_overlay
from caseflow.clockwork import clock_entries, persist_plan
from caseflow.errors import CaseNotFound, Forbidden, InvalidEvent
from caseflow.machine import authorise_org
from caseflow.store import clockrepo, repo
from caseflow.timers import Sweeper, SweepReport

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from caseflow.cases import Actor, Case
    from caseflow.definitions.model import ClockDef
    from caseflow.store.clockrepo import Timer


@dataclass(frozen=True, slots=True)
class ClockView:
    """A clock of a case as a listing shows it: status, due time, days left."""

    name: str
    status: str
    due_at: dt.datetime | None
    last_day: dt.date | None
    provisional: bool
    days_left: int | None
    extensions: int
    escalation_step: int
    state: runtime.ClockState


class ClockAPI(EngineParts):
    """Clocks, extensions, overdue lists, calendar overlays and the timer sweep."""

    def clocks(self, case_id: str) -> list[ClockView]:
        """Every clock the case has had, with its status (running/warned/breached/...)."""
        with self._read() as conn:
            case = repo.load_case(conn, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            states = clockrepo.load_clocks(conn, case_id)
        tz = self.workflow(case.workflow, case.workflow_version).timezone
        return [self._view(s, tz) for s in states.values()]

    def _view(self, state: runtime.ClockState, tz: str) -> ClockView:
        return ClockView(
            state.name,
            state.status,
            state.due_at,
            state.last_day,
            state.provisional,
            runtime.remaining_days(state, self.clock.now(), tz),
            state.extensions,
            state.escalation_step,
            state,
        )

    def extend_clock(self, case_id: str, clock: str, *, actor: Actor, reason: str) -> ClockView:
        """
        Extend a running clock once by its configured ``extension`` (行政许可法 art. 42).

        Raises:
            Forbidden: the actor lacks the extension's roles.
            InvalidEvent: no such clock or extension, no reason, the clock is stopped or
                breached, or the extensions allowed are used up.
        """
        now = self.clock.now()
        with self._write() as conn:
            case = repo.load_case(conn, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            definition = self.workflow(case.workflow, case.workflow_version)
            spec = definition.clocks.get(clock)
            states = clockrepo.load_clocks(conn, case_id)
            state = states.get(clock)
            authorise_org(definition, case, actor)
            spec, state = _check_extension(spec, state, clock, actor, reason)
            calendar = self.calendars.for_workflow(definition)
            extended, timers = runtime.extend(spec, state, calendar, definition.timezone, now)
            plan = runtime.ClockPlan(changed={clock: extended}, cancel={clock}, arm=timers)
            persist_plan(conn, case, plan, list(states), now)
            note = {
                "clock": clock,
                "action": "extended",
                "reason": reason,
                "by": str(spec.extension.by) if spec.extension else None,
                "due_at": extended.due_at.isoformat() if extended.due_at else None,
                "last_day": extended.last_day.isoformat() if extended.last_day else None,
            }
            repo.insert_history(conn, clock_entries(case, [note], actor, now))
        return self._view(extended, definition.timezone)

    def overdue(self, *, limit: int = 100, offset: int = 0) -> list[tuple[Case, ClockView]]:
        """Cases with a running clock past its due time, most overdue first."""
        with self._read() as conn:
            found = clockrepo.overdue_clocks(conn, self.clock.now(), limit, offset)
            cases = repo.load_cases(conn, [c for c, _ in found])
        return [
            (
                cases[c],
                self._view(s, self.workflow(cases[c].workflow, cases[c].workflow_version).timezone),
            )
            for c, s in found
            if c in cases
        ]

    def timers(self, *, due_only: bool = False, limit: int = 100) -> list[Timer]:
        """Pending timers, soonest first (``due_only``: only those due now)."""
        with self._read() as conn:
            return clockrepo.list_timers(
                conn, due_before=self.clock.now() if due_only else None, limit=limit
            )

    def fire_due(self, **options: Any) -> SweepReport:
        """Fire every due timer now (one sweep); see :class:`~caseflow.timers.Sweeper`."""
        return Sweeper(self, **options).run_once()  # type: ignore[arg-type]

    def start_scheduler(self, *, interval: float = 30.0, **options: Any) -> Any:
        """Sweep every ``interval`` seconds on an APScheduler 3.x BackgroundScheduler."""
        from apscheduler.schedulers.background import BackgroundScheduler  # noqa: PLC0415

        sweeper = Sweeper(self, **options)  # type: ignore[arg-type]
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            sweeper.run_once,
            "interval",
            seconds=interval,
            id="caseflow-sweep",
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        return scheduler

    def load_calendar_overlay(self, path: str | Path) -> list[int]:
        """Store an admin calendar file (holidays, make-up workdays per year) in the database."""
        overlays = load_overlay(path)
        now = self.clock.now()
        with self._write() as conn:
            for o in overlays:
                clockrepo.store_overlay(
                    conn,
                    o.year,
                    sorted(d.isoformat() for d in o.holidays),
                    sorted(d.isoformat() for d in o.workdays),
                    str(path),
                    now,
                )
        self.reload_calendars()
        return [o.year for o in overlays]

    def recompute_provisional(
        self, *, actor: Actor, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """
        Recompute every provisional deadline with the calendars as they are now (audited).

        ``progress(done, total)`` is called after each case (for a progress bar).
        """
        changed = 0
        with self._read() as conn:
            todo = list(dict.fromkeys(case_id for case_id, _ in clockrepo.provisional_clocks(conn)))
        for done, case_id in enumerate(todo, start=1):
            changed += self._recompute_case(case_id, actor)
            if progress is not None:
                progress(done, len(todo))
        return changed

    def _recompute_case(self, case_id: str, actor: Actor) -> int:
        now = self.clock.now()
        with self._write() as conn:
            case = repo.load_case(conn, case_id)
            if case is None:
                return 0
            definition = self.workflow(case.workflow, case.workflow_version)
            calendar = self.calendars.for_workflow(definition)
            states = clockrepo.load_clocks(conn, case_id)
            plan = runtime.ClockPlan()
            notes = []
            for state in _provisional(states):
                spec = definition.clocks.get(state.name)
                if spec is None or state.phase != "running":
                    continue
                fresh, timers = runtime.schedule(spec, state, calendar, definition.timezone, now)
                plan.changed[state.name] = fresh
                plan.cancel.add(state.name)
                plan.arm.extend(timers)
                notes.append(
                    {
                        "clock": state.name,
                        "action": "recomputed",
                        "old_due_at": state.due_at.isoformat() if state.due_at else None,
                        "due_at": fresh.due_at.isoformat() if fresh.due_at else None,
                        "provisional": fresh.provisional,
                    }
                )
            persist_plan(conn, case, plan, list(states), now)
            repo.insert_history(conn, clock_entries(case, notes, actor, now))
        return len(notes)


def _provisional(states: dict[str, runtime.ClockState]) -> Iterator[runtime.ClockState]:
    return (s for s in states.values() if s.provisional)


def _check_extension(
    spec: ClockDef | None, state: runtime.ClockState | None, clock: str, actor: Actor, reason: str
) -> tuple[ClockDef, runtime.ClockState]:
    if spec is None or state is None:
        raise InvalidEvent(f"the case has no clock {clock!r}")
    ext = spec.extension
    if ext is None:
        raise InvalidEvent(f"clock {clock!r} cannot be extended")
    if not actor.is_system and not actor.roles.intersection(ext.roles):
        raise Forbidden(
            f"extending clock {clock!r} requires one of the roles: {', '.join(ext.roles)}",
            required_roles=ext.roles,
        )
    if ext.reason_required and not reason.strip():
        raise InvalidEvent(
            f"extending clock {clock!r} needs a reason (it is told to the applicant)"
        )
    if not state.active:
        raise InvalidEvent(f"clock {clock!r} is {state.phase}: it cannot be extended")
    if state.breached_at is not None:
        raise InvalidEvent(f"clock {clock!r} already breached: extend before it runs out")
    if state.extensions >= ext.times:
        raise InvalidEvent(
            f"clock {clock!r} was already extended {state.extensions} time(s); {ext.times} allowed"
        )
    return spec, state


__all__ = ["ClockAPI", "ClockView"]
