"""
Moving a running case to another version of its workflow: the pure rules.

Every case must land in a state the new version has (a vanished state needs a mapping,
else the case is refused), its data must fit the new schema, and its clocks are
recomputed under the new definition: clocks that no longer exist (or no longer cover the
state) stop, running clocks are rescheduled with the new limits, and clocks that now
cover the state start. A migration is not a transition: no event fires, no action runs,
no vote opens; a state holding a vote in either version must be finished first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseflow.clocks import runtime
from caseflow.errors import DataValidationError

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from caseflow.abc import Calendar
    from caseflow.cases import Case
    from caseflow.definitions.model import ClockDef, WorkflowDef
    from caseflow.machine import CompiledWorkflow


@dataclass(frozen=True)
class VersionMove:
    """One migration's fixed inputs: both definitions, the mapping, the new calendar."""

    old: WorkflowDef
    new: CompiledWorkflow
    mapping: Mapping[str, str]
    calendar: Calendar | None

    def target(self, case: Case) -> str:
        return self.mapping.get(case.state, case.state)

    def refusal(self, case: Case) -> str | None:
        """Why the case cannot move, or None."""
        new = self.new.definition
        target = self.target(case)
        v2 = f"v{new.version}"
        if target not in new.states:
            if case.state in self.mapping:
                return f"state {case.state!r} is mapped to {target!r}, which {v2} does not have"
            return f"state {case.state!r} does not exist in {v2}: map it (--map {case.state}=STATE)"
        if new.states[target].final:
            return f"{target!r} is a final state in {v2}: a migration does not end cases"
        had = self.old.states[case.state].vote is not None
        has = new.states[target].vote is not None
        if (had or has) and (target != case.state or had != has):
            return f"state {case.state!r} holds a vote in one version: finish the vote first"
        try:
            self.new.validate_data(case.data)
        except DataValidationError as exc:
            return f"its data does not fit {v2}: {exc}"
        return None

    def clocks(
        self,
        case: Case,
        states: Mapping[str, runtime.ClockState],
        now: dt.datetime,
        level: str | None,
    ) -> runtime.ClockPlan:
        """The case's clocks under the new definition."""
        plan = runtime.ClockPlan()
        if self.calendar is None and not states:
            return plan
        new = self.new.definition
        target = self.target(case)
        suspended = case.status == "suspended"
        tz = new.timezone
        for name, state in states.items():
            if not state.active:
                continue
            spec = new.clocks.get(name.split("@", 1)[0])  # a work item's clock: name@unit
            if spec is None or (
                spec.runs_in and target not in spec.runs_in and target not in spec.paused_in
            ):
                why = "not in the new version" if spec is None else f"does not run in {target!r}"
                _put(plan, dataclasses.replace(state, phase="stopped", stopped_at=now), why=why)
            elif state.phase == "running" and target in spec.paused_in:
                _put(plan, runtime.paused_at(state, runtime.pause_mark(spec, now, tz)), "paused")
            elif state.phase == "running":
                self._schedule(plan, spec, state, now, "rescheduled", old_due_at=state.due_at)
            elif not suspended and target not in spec.paused_in and state.pauses:
                running = runtime.resumed_at(state, runtime.pause_mark(spec, now, tz))
                self._schedule(plan, spec, running, now, "resumed")
        for name, spec in new.clocks.items():
            current = plan.changed.get(name, states.get(name))
            if (current is not None and current.active) or target not in spec.runs_in:
                continue
            if spec.per_item:  # started per work item, not per case
                continue
            fresh = runtime.ClockState(name, "running", now, level=level)
            if suspended or target in spec.paused_in:
                fresh = runtime.paused_at(fresh, runtime.pause_mark(spec, now, tz))
                _put(plan, fresh, "started paused")
            else:
                self._schedule(plan, spec, fresh, now, "started")
        return plan

    def _schedule(
        self,
        plan: runtime.ClockPlan,
        spec: ClockDef,
        state: runtime.ClockState,
        now: dt.datetime,
        action: str,
        **note: Any,
    ) -> None:
        assert self.calendar is not None  # noqa: S101 - the new version has clocks
        new = self.new.definition
        fresh, timers = runtime.schedule(spec, state, self.calendar, new.timezone, now)
        plan.arm.extend(timers)
        _put(plan, fresh, action, due_at=fresh.due_at, last_day=fresh.last_day, **note)


def _put(
    plan: runtime.ClockPlan, state: runtime.ClockState, action: str = "stopped", **note: Any
) -> None:
    plan.changed[state.name] = state
    plan.cancel.add(state.name)
    iso = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in note.items()}
    plan.notes.append({"clock": state.name, "action": action, **iso})
