"""The operator half of the :class:`~caseflow.Engine` API: un-sticking cases (a mixin)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from caseflow.cases import Actor, Case, HistoryEntry
from caseflow.clocks import runtime
from caseflow.clockwork import clock_entries, persist_plan
from caseflow.errors import CaseNotFound, ConcurrencyConflict, IncidentNotFound, InvalidEvent
from caseflow.store import clockrepo, opsrepo, repo

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection

    from caseflow.clocks.time import Clock
    from caseflow.clockwork import Calendars
    from caseflow.definitions.model import WorkflowDef
    from caseflow.store.opsrepo import Incident

    Change = Callable[[Connection, Case, WorkflowDef, dt.datetime], tuple[Case, list[HistoryEntry]]]


class OpsAPI:
    """Suspend, resume, move, reassign, cancel; incidents and their retry or skip."""

    clock: Clock
    calendars: Calendars

    if TYPE_CHECKING:  # provided by Engine
        _write: Callable[[], AbstractContextManager[Connection]]
        _read: Callable[[], AbstractContextManager[Connection]]
        workflow: Callable[..., WorkflowDef]
        _follow_up: Callable[..., list[HistoryEntry]]
        fire_due: Callable[..., Any]

    def _operate(
        self, case_id: str, actor: Actor, action: str, reason: str, change: Change, **details: Any
    ) -> Case:
        if not reason.strip():
            raise InvalidEvent(f"{action} needs a reason: it goes into the case history")
        now = self.clock.now()
        with self._write() as conn:
            case = repo.load_case(conn, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            definition = self.workflow(case.workflow, case.workflow_version)
            new, entries = change(conn, case, definition, now)
            new = dataclasses.replace(new, version=case.version + 1, updated_at=now)
            if not repo.update_case(conn, case.version, new):
                raise ConcurrencyConflict(case.id, case.version)
            note = HistoryEntry(
                case.id,
                new.version,
                now,
                "operator",
                action,
                case.state,
                new.state,
                actor.id,
                tuple(sorted(actor.roles)),
                actor.org,
                {"reason": reason, **details},
            )
            repo.insert_history(
                conn,
                [
                    note,
                    *(dataclasses.replace(e, seq=new.version, actor_id=actor.id) for e in entries),
                ],
            )
        return new

    def suspend(self, case_id: str, *, actor: Actor, reason: str) -> Case:
        """Suspend an active case: events are refused and its clocks pause."""

        def change(
            conn: Connection, case: Case, definition: WorkflowDef, now: dt.datetime
        ) -> tuple[Case, list[HistoryEntry]]:
            if case.status != "active":
                raise InvalidEvent(
                    f"case {case.id!r} is {case.status}: only an active case can be suspended"
                )
            states = clockrepo.load_clocks(conn, case.id)
            plan = runtime.suspend_all(states, now, definition.timezone)
            persist_plan(conn, case, plan, list(states), now)
            return (
                dataclasses.replace(case, status="suspended"),
                clock_entries(case, plan.notes, _system(), now),
            )

        return self._operate(case_id, actor, "suspend", reason, change)

    def resume(self, case_id: str, *, actor: Actor, reason: str) -> Case:
        """Resume a suspended case; its clocks run again (the suspended days not counted)."""

        def change(
            conn: Connection, case: Case, definition: WorkflowDef, now: dt.datetime
        ) -> tuple[Case, list[HistoryEntry]]:
            if case.status != "suspended":
                raise InvalidEvent(f"case {case.id!r} is {case.status}, not suspended")
            states = clockrepo.load_clocks(conn, case.id)
            plan = runtime.resume_all(
                definition, states, case.state, now, self.calendars.for_workflow(definition)
            )
            persist_plan(conn, case, plan, list(states), now)
            return (
                dataclasses.replace(case, status="active"),
                clock_entries(case, plan.notes, _system(), now),
            )

        return self._operate(case_id, actor, "resume", reason, change)

    def move(self, case_id: str, to_state: str, *, actor: Actor, reason: str) -> Case:
        """Put a case into any state, bypassing events and guards; clocks follow the move."""

        def change(
            conn: Connection, case: Case, definition: WorkflowDef, now: dt.datetime
        ) -> tuple[Case, list[HistoryEntry]]:
            if to_state not in definition.states:
                raise InvalidEvent(f"workflow {definition.name!r} has no state {to_state!r}")
            if case.status == "cancelled":
                raise InvalidEvent(f"case {case.id!r} is cancelled")
            final = definition.states[to_state].final
            status = (
                "completed" if final else ("active" if case.status == "completed" else case.status)
            )
            # version + 1: the clock plumbing reads a version-1 case as just started (no clocks)
            moved = dataclasses.replace(
                case, state=to_state, status=status, version=case.version + 1
            )
            follow = self._follow_up(
                conn, definition, moved, None, case.state, to_state, _system(), now
            )
            if status == "suspended":  # clocks the move started or resumed stay paused
                states = clockrepo.load_clocks(conn, case.id)
                plan = runtime.suspend_all(states, now, definition.timezone)
                persist_plan(conn, case, plan, list(states), now)
                follow += clock_entries(case, plan.notes, _system(), now)
            return moved, follow

        return self._operate(case_id, actor, "move", reason, change, to=to_state)

    def reassign(
        self,
        case_id: str,
        *,
        actor: Actor,
        reason: str,
        org: str | None = None,
        assignee: str | None = None,
    ) -> Case:
        """Move a case to another org unit and/or person."""
        if org is None and assignee is None:
            raise InvalidEvent("reassign needs an org unit, a person, or both")

        def change(
            _conn: Connection, case: Case, _definition: WorkflowDef, _now: dt.datetime
        ) -> tuple[Case, list[HistoryEntry]]:
            return dataclasses.replace(
                case,
                org=org if org is not None else case.org,
                assignee=assignee if assignee is not None else case.assignee,
            ), []

        current = self.get(case_id)  # type: ignore[attr-defined]
        return self._operate(
            case_id,
            actor,
            "reassign",
            reason,
            change,
            from_org=current.org,
            to_org=org or current.org,
            from_assignee=current.assignee,
            to_assignee=assignee or current.assignee,
        )

    def cancel(self, case_id: str, *, actor: Actor, reason: str) -> Case:
        """Cancel a case: it ends here, its clocks stop and its pending timers go."""

        def change(
            conn: Connection,
            case: Case,
            definition: WorkflowDef,  # noqa: ARG001
            now: dt.datetime,
        ) -> tuple[Case, list[HistoryEntry]]:
            if case.status in ("completed", "cancelled"):
                raise InvalidEvent(f"case {case.id!r} is already {case.status}")
            states = clockrepo.load_clocks(conn, case.id)
            plan = runtime.stop_all(states, now, "stopped (case cancelled)")
            persist_plan(conn, case, plan, list(states), now)
            return (
                dataclasses.replace(case, status="cancelled"),
                clock_entries(case, plan.notes, _system(), now),
            )

        return self._operate(case_id, actor, "cancel", reason, change)

    # -- incidents -----------------------------------------------------------------

    def incidents(
        self, *, status: str | None = "open", case_id: str | None = None, limit: int = 100
    ) -> list[Incident]:
        """Incidents (open by default), oldest first."""
        with self._read() as conn:
            return opsrepo.find(conn, status=status, case_id=case_id, limit=limit)

    def incident(self, incident_id: int) -> Incident:
        with self._read() as conn:
            found = opsrepo.find(conn, status=None, incident_id=incident_id, limit=1)
        if not found:
            raise IncidentNotFound(incident_id)
        return found[0]

    def stuck(self) -> list[str]:
        """Ids of cases with an open incident."""
        with self._read() as conn:
            return opsrepo.stuck_case_ids(conn)

    def retry(self, case_id: str, *, actor: Actor, run_now: bool = True) -> int:
        """Re-arm the case's failed actions (attempts from zero) and, by default, run them now."""
        ids = self._resolve(case_id, actor, "retried", "retry")
        if ids and run_now:
            self.fire_due()
        return len(ids)

    def skip(self, case_id: str, *, actor: Actor, reason: str) -> int:
        """Give up on the case's failed actions; the case is no longer stuck."""
        if not reason.strip():
            raise InvalidEvent("skip needs a reason: it goes into the case history")
        return len(self._resolve(case_id, actor, "skipped", reason))

    def _resolve(self, case_id: str, actor: Actor, status: str, reason: str) -> list[int]:
        now = self.clock.now()
        with self._write() as conn:
            case = repo.load_case(conn, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            found = opsrepo.find(conn, case_id=case_id)
            ids = [i.id for i in found]
            timers = [i.timer_id for i in found]
            opsrepo.resolve(conn, ids, status, actor.id, reason, now)
            if status == "retried":
                opsrepo.rearm(conn, timers, now)
            else:
                opsrepo.set_timer_status(conn, timers, "skipped")
            if found:
                repo.insert_history(
                    conn,
                    [
                        HistoryEntry(
                            case.id,
                            case.version,
                            now,
                            "operator",
                            "retry" if status == "retried" else "skip",
                            case.state,
                            case.state,
                            actor.id,
                            tuple(sorted(actor.roles)),
                            actor.org,
                            {
                                "reason": reason,
                                "incidents": ids,
                                "actions": [i.action for i in found],
                            },
                        )
                    ],
                )
        return ids


def _system() -> Actor:
    return Actor.system("operator")
