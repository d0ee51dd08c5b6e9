"""
What a clock's timer does when it comes due: warn (yellow), breach (red), escalate. Pure.

Each function reads a clock and the few facts it needs of its case and returns a
:class:`~caseflow.clocks.runtime.ClockPlan`: the clock's new state, the timers to arm
next, the history notes, the notifications, and what the case must do (fire an event,
move up the org tree). Effects are dated at their legal time (``at``): a breach at the
clock's due time, an escalation step at its own time, however late the sweep runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseflow.clocks.runtime import ClockPlan, ClockState, Notice, escalation_timer, schedule

if TYPE_CHECKING:
    import datetime as dt

    from caseflow.abc import Calendar
    from caseflow.definitions.model import ClockDef, WorkflowDef
    from caseflow.orgs import OrgTree


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the clock effects read of a case."""

    id: str
    state: str
    org: str
    escalation_level: int


def due_text(state: ClockState) -> str:
    day = state.last_day.isoformat() if state.last_day else "?"
    return f"by the end of {day}" + (" (provisional)" if state.provisional else "")


def holders(definition: WorkflowDef, state: str) -> tuple[str, ...]:
    """Roles that can move the case on from ``state``: who holds the ball."""
    roles = {r for e in definition.events.values() if state in e.sources for r in e.roles}
    return tuple(sorted(roles))


def effective_at(
    clock: ClockDef, state: ClockState, kind: str, step: int, calendar: Calendar, tz: str
) -> dt.datetime | None:
    """When a clock timer's effect legally happens (None: the timer is stale)."""
    if kind == "warn":
        return None if state.warn_at is None else max(state.warn_at, state.started_at)
    if kind == "breach":
        return state.due_at
    if kind == "escalate":
        timer = escalation_timer(clock, state, step, calendar, tz)
        return None if timer is None else timer.due_at
    return None


def on_warn(
    definition: WorkflowDef,
    clock: ClockDef,
    state: ClockState,
    case: CaseFacts,
    at: dt.datetime,
    recorded_at: dt.datetime,
) -> ClockPlan | None:
    """
    The yellow warning: the clock is marked warned and whoever must act is told. A
    warning whose limit already ran out when the sweep got to it is recorded as late and
    sent to nobody: the breach is the news then.
    """
    if state.phase != "running" or state.breached_at is not None or state.warned_at is not None:
        return None
    warned = dataclasses.replace(state, warned_at=at)
    note: dict[str, Any] = {
        "clock": state.name,
        "action": "warned",
        "due_at": state.due_at.isoformat() if state.due_at else None,
        "provisional": state.provisional,
    }
    plan = ClockPlan(changed={state.name: warned}, notes=[note])
    if state.due_at is not None and recorded_at >= state.due_at:
        note["late"] = True
        return plan
    roles = clock.warn_notify if clock.warn_notify is not None else holders(definition, case.state)
    plan.notices.append(
        Notice(
            state.name,
            roles,
            state.org or case.org,
            f"{definition.name} case {case.id}: clock {state.name!r} is due {due_text(state)}",
        )
    )
    return plan


def on_breach(
    definition: WorkflowDef,
    clock: ClockDef,
    state: ClockState,
    case: CaseFacts,
    at: dt.datetime,
    calendar: Calendar,
    orgs: OrgTree,
) -> ClockPlan:
    """
    The red breach: record it, then what the clock says: move the case up a level (and
    restart the clock there), notify, arm the first escalation step, fire an event.
    """
    breached = dataclasses.replace(state, breached_at=at)
    note: dict[str, Any] = {
        "clock": state.name,
        "action": "breached",
        "due_at": state.due_at.isoformat() if state.due_at else None,
    }
    if state.org:
        note["org"] = state.org
    plan = ClockPlan(changed={state.name: breached}, notes=[note])
    if clock.on_breach_move_up and not clock.per_item:
        plan.merge(_move_up(definition, clock, case, at, calendar, orgs, state.variant))
        return plan
    if clock.on_breach_notify:
        plan.notices.append(
            Notice(
                state.name,
                clock.on_breach_notify,
                state.org or case.org,
                f"{definition.name} case {case.id}: clock {clock.name!r} breached "
                f"({due_text(state)})",
            )
        )
    first = escalation_timer(clock, breached, 0, calendar, definition.timezone)
    if first is not None:
        plan.arm.append(first)
    if clock.on_breach_fire:
        plan.fire = (clock.on_breach_fire, f"clock {clock.name!r} breached")
    return plan


def _move_up(
    definition: WorkflowDef,
    clock: ClockDef,
    case: CaseFacts,
    at: dt.datetime,
    calendar: Calendar,
    orgs: OrgTree,
    variant: str | None,
) -> ClockPlan:
    """Not settled in time at this level: the case goes one unit up and the clock restarts."""
    parent = orgs.parent(case.org)
    if parent is None:
        plan = ClockPlan(notes=[{"clock": clock.name, "action": "at top", "org": case.org}])
        if clock.on_breach_at_top:
            plan.fire = (clock.on_breach_at_top, f"clock {clock.name!r} breached at the top unit")
        return plan
    level = orgs.level(parent)
    fresh, timers = schedule(
        clock,
        ClockState(clock.name, "running", at, level=level, variant=variant),
        calendar,
        definition.timezone,
        at,
    )
    plan = ClockPlan(
        changed={clock.name: fresh}, cancel={clock.name}, arm=timers, org=parent, levels_up=1
    )
    if clock.on_breach_notify:
        plan.notices.append(
            Notice(
                clock.name,
                clock.on_breach_notify,
                parent,
                f"{definition.name} case {case.id}: not settled in time at "
                f"{case.org}; moved up to {parent} (督办)",
            )
        )
    plan.notes += [
        {
            "clock": clock.name,
            "action": "escalated",
            "level": case.escalation_level + 1,
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
    return plan


def on_escalate(
    definition: WorkflowDef,
    clock: ClockDef,
    state: ClockState,
    step_no: int,
    case: CaseFacts,
    calendar: Calendar,
    orgs: OrgTree,
) -> ClockPlan | None:
    """
    Escalation step ``step_no`` (0-based) of a breached clock: one level up (and, with
    ``to_org: parent``, to the unit above), notify, arm the next step, fire an event.
    For a unit's work item the case stays where it is and the unit above that unit is
    told (督办).
    """
    if step_no >= len(clock.escalate) or state.escalation_step > step_no:
        return None
    step = clock.escalate[step_no]
    moved = dataclasses.replace(state, escalation_step=step_no + 1)
    if state.org:
        new_org = case.org
        notify_org = (orgs.parent(state.org) or state.org) if step.to_org == "parent" else state.org
    else:
        new_org = (orgs.parent(case.org) or case.org) if step.to_org == "parent" else case.org
        notify_org = new_org
    level = case.escalation_level + 1
    note: dict[str, Any] = {
        "clock": state.name,
        "action": "escalated",
        "step": step_no + 1,
        "level": level,
    }
    if new_org != case.org:
        note.update(from_org=case.org, to_org=new_org)
    elif state.org:
        note["notified_org"] = notify_org
    elif step.to_org == "parent":
        note["note"] = "already at the top org unit"
    plan = ClockPlan(changed={state.name: moved}, notes=[note], levels_up=1)
    if new_org != case.org:
        plan.org = new_org
    if step.notify:
        plan.notices.append(
            Notice(
                state.name,
                step.notify,
                notify_org,
                f"{definition.name} case {case.id}: clock {state.name!r} overdue, "
                f"escalated to level {level} (督办)",
            )
        )
    following = escalation_timer(clock, moved, step_no + 1, calendar, definition.timezone)
    if following is not None:
        plan.arm.append(following)
    if step.fire:
        plan.fire = (step.fire, f"escalation step {step_no + 1} of clock {clock.name!r}")
    return plan
