"""
The clock step kind: legal time limits on a case (``clocks:``).

On every move the clocks start, pause, resume and stop (:func:`runtime.on_transition`);
a case that changes unit restarts its level-dependent clocks there; operators' suspend,
resume and cancel pause, resume and stop them. Its timers (warn, breach, escalate) are
decided by :mod:`caseflow.clocks.effects`, dated at their legal time. Its own commands:
an extension (行政许可法 art. 42) and the recomputation of provisional deadlines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from caseflow.cases import Actor
from caseflow.clocks import effects, runtime
from caseflow.clocks.anchors import StartContext
from caseflow.clocks.runtime import Notice
from caseflow.errors import InvalidEvent
from caseflow.pipeline.commands import ExtendClock, Recompute
from caseflow.pipeline.snapshot import CLOCKS
from caseflow.pipeline.steps.base import StepKind
from caseflow.views import DeadlineMove

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from caseflow.clocks.runtime import ClockState
    from caseflow.definitions.model import ClockDef, WorkflowDef
    from caseflow.pipeline.draft import Draft, Move
    from caseflow.records import Timer

SYSTEM_ORG = Actor.system("org")


def clock_def(definition: WorkflowDef, name: str) -> ClockDef | None:
    """The definition of a clock by its stored name (``name`` or ``name@unit``)."""
    return definition.clocks.get(name.split("@", 1)[0])


class ClockStep(StepKind):
    name: ClassVar[str] = "clock"
    timer_kinds: ClassVar[frozenset[str]] = frozenset({"warn", "breach", "escalate"})

    def needs(self, definition: WorkflowDef) -> frozenset[str]:
        return frozenset({CLOCKS}) if definition.clocks else frozenset()

    def on_move(self, draft: Draft, move: Move) -> None:
        definition = draft.definition
        if not definition.clocks:
            return
        case = draft.case
        level = draft.env.orgs.level(case.org)
        plan = runtime.on_transition(
            definition,
            draft.clocks,
            event=move.event,
            entered=move.entered,
            now=draft.at,
            calendar=draft.calendar,
            level=level,
            context=StartContext(move.payload or {}, case.data, case.created_at),
        )
        draft.apply_clocks(plan, move.actor)
        if case.org != move.old_org:
            draft.apply_clocks(
                runtime.restart_at_level(
                    definition,
                    draft.clocks,
                    level,
                    draft.at,
                    draft.calendar,
                    f"moved from {move.old_org} to {case.org}",
                ),
                SYSTEM_ORG,
            )

    def on_status(self, draft: Draft, change: str) -> None:
        definition = draft.definition
        if not draft.clocks:
            return
        if change == "suspend":
            plan = runtime.suspend_all(definition, draft.clocks, draft.at)
        elif change == "resume":
            plan = runtime.resume_all(
                definition, draft.clocks, draft.case.state, draft.at, draft.calendar
            )
        else:
            plan = runtime.stop_all(draft.clocks, draft.at, "stopped (case cancelled)")
        draft.apply_clocks(plan)

    def on_timer(self, draft: Draft, timer: Timer) -> bool:
        definition = draft.definition
        name = timer.clock or ""
        clock = clock_def(definition, name)
        state = draft.clocks.get(name)
        if clock is None or state is None or state.phase != "running":
            return False
        tz = definition.timezone
        calendar = draft.calendar
        at = effects.effective_at(clock, state, timer.kind, timer.step, calendar, tz)
        draft.at = min(at or timer.due_at, draft.env.recorded_at)
        case = draft.case
        facts = effects.CaseFacts(case.id, case.state, case.org, case.escalation_level)
        if timer.kind == "warn":
            plan = effects.on_warn(definition, clock, state, facts, draft.at, draft.env.recorded_at)
        elif timer.kind == "breach":
            if state.breached_at is not None:
                return False
            if state.provisional and _later_by_now(draft, clock, state):
                return True
            plan = effects.on_breach(
                definition, clock, state, facts, draft.at, calendar, draft.env.orgs
            )
        else:
            plan = effects.on_escalate(
                definition, clock, state, timer.step, facts, calendar, draft.env.orgs
            )
        if plan is None:
            return False
        draft.apply_clocks(plan)
        draft.move_org(plan.org, plan.levels_up)
        if plan.fire is not None:
            draft.fire_automatic(*plan.fire)
        return True

    @property
    def commands(self) -> Mapping[type[Any], Callable[[Draft, Any], Any]]:
        return {ExtendClock: extend, Recompute: recompute}


def _later_by_now(draft: Draft, clock: ClockDef, state: ClockState) -> bool:
    """
    A provisional deadline came due: recompute it with the calendars as they are now. If
    the calendar now known puts it later, the clock is rescheduled instead of breaching:
    an automatic transition never fires on a deadline an official calendar would not
    have reached.
    """
    fresh, timers = runtime.schedule(
        clock, state, draft.calendar, draft.definition.timezone, draft.at
    )
    if fresh.due_at is None or state.due_at is None or fresh.due_at <= state.due_at:
        return False
    _reschedule(draft, state, fresh, timers, draft.system)
    return True


def _reschedule(
    draft: Draft,
    old: ClockState,
    fresh: ClockState,
    timers: list[runtime.TimerSpec],
    actor: Any,
) -> None:
    draft.cancel_timers(fresh.name)
    draft.put_clock(fresh)
    draft.arm.extend(timers)
    draft.note(
        "clock",
        actor,
        {
            "clock": fresh.name,
            "action": "recomputed",
            "old_due_at": old.due_at.isoformat() if old.due_at else None,
            "due_at": fresh.due_at.isoformat() if fresh.due_at else None,
            "old_last_day": old.last_day.isoformat() if old.last_day else None,
            "last_day": fresh.last_day.isoformat() if fresh.last_day else None,
            "provisional": fresh.provisional,
        },
    )


def extend(draft: Draft, command: ExtendClock) -> ClockState:
    """One more extension of a running or paused clock (行政许可法 art. 42)."""
    definition = draft.definition
    spec = definition.clocks.get(command.clock)
    state = draft.clocks.get(command.clock)
    if spec is None or state is None:
        raise InvalidEvent(f"the case has no clock {command.clock!r}")
    ext = spec.extension
    if ext is None:
        raise InvalidEvent(f"clock {command.clock!r} cannot be extended")
    if ext.reason_required and not command.reason.strip():
        raise InvalidEvent(
            f"extending clock {command.clock!r} needs a reason (it is told to the applicant)"
        )
    if not state.active:
        raise InvalidEvent(f"clock {command.clock!r} is {state.phase}: it cannot be extended")
    if state.breached_at is not None:
        raise InvalidEvent(f"clock {command.clock!r} already breached: extend before it runs out")
    if state.extensions >= ext.times:
        raise InvalidEvent(
            f"clock {command.clock!r} was already extended {state.extensions} time(s); "
            f"{ext.times} allowed"
        )
    extended, timers = runtime.extend(spec, state, draft.calendar, definition.timezone, draft.at)
    draft.cancel_timers(command.clock)
    draft.put_clock(extended)
    draft.arm.extend(timers)
    draft.note(
        "clock",
        command.actor,
        {
            "clock": command.clock,
            "action": "extended",
            "reason": command.reason,
            "by": str(ext.by),
            "due_at": extended.due_at.isoformat() if extended.due_at else None,
            "last_day": extended.last_day.isoformat() if extended.last_day else None,
        },
    )
    if ext.notify:  # 行政许可法 art. 42: the extension and its reason are told
        last = extended.last_day.isoformat() if extended.last_day else "?"
        message = (
            f"{definition.name} case {draft.case.id}: the time limit {command.clock!r} is "
            f"extended by {ext.by} to the end of {last}: {command.reason}"
        )
        draft.notify(Notice(command.clock, ext.notify, draft.case.org, message))
        draft.note(
            "notice", command.actor, {"clock": command.clock, "roles": list(ext.notify),
                                      "message": message},
        )  # fmt: skip
    return extended


def recompute(draft: Draft, command: Recompute) -> list[DeadlineMove]:
    """Provisional deadlines of running clocks, recomputed (audited): where each went."""
    definition = draft.definition
    moves = []
    for state in list(draft.clocks.values()):
        spec = definition.clocks.get(state.name)
        if not state.provisional or spec is None or state.phase != "running":
            continue
        fresh, timers = runtime.schedule(spec, state, draft.calendar, definition.timezone, draft.at)
        _reschedule(draft, state, fresh, timers, command.actor)
        moves.append(
            DeadlineMove(
                draft.case.id, state.name, state.last_day, fresh.last_day, fresh.provisional
            )
        )
    return moves
