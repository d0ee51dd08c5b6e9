"""
The planner: ``decide(command, snapshot, env) -> Plan``. Pure: no I/O, no clock reads.

One decider per command. The core ones are here (start, fire, operators' actions, a
timer's effect, a side effect's result, incidents, a version move); step kinds bring
their own (:data:`caseflow.pipeline.steps.STEP_COMMANDS`: extend a clock, recompute,
attend, ballot, close a vote, report a work item). Who may run a command is checked
before, in :mod:`caseflow.pipeline.authz`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from caseflow.cases import Actor, Case
from caseflow.errors import (
    CaseNotFound,
    ConcurrencyConflict,
    DataValidationError,
    InvalidEvent,
)
from caseflow.pipeline import commands as c
from caseflow.pipeline.draft import Draft, Move
from caseflow.pipeline.plan import IncidentOp, OpenIncident, TimerUpdate
from caseflow.pipeline.steps import STEP_COMMANDS, STEP_KINDS, TIMER_OWNERS
from caseflow.pipeline.versions import VersionMove

if TYPE_CHECKING:
    from collections.abc import Callable

    from caseflow.definitions.model import WorkflowDef
    from caseflow.orgs import OrgTree
    from caseflow.pipeline.draft import Env
    from caseflow.pipeline.plan import Plan
    from caseflow.pipeline.snapshot import Snapshot

SYSTEM_TIMER = Actor.system("timer")
SYSTEM_OPERATOR = Actor.system("operator")
DISPATCHER = Actor.system("dispatcher")


def decide(command: c.Command, snapshot: Snapshot, env: Env) -> Plan:
    """What ``command`` does to the case in ``snapshot``, as a plan for the writer."""
    if isinstance(command, c.CaseCommand):
        case = snapshot.case
        if case is None:
            raise CaseNotFound(command.case_id)
        if command.expected_version is not None and case.version != command.expected_version:
            raise ConcurrencyConflict(case.id, command.expected_version)
    decider = _DECIDERS.get(type(command)) or STEP_COMMANDS.get(type(command))
    if decider is None:  # pragma: no cover - every command type has a decider
        raise InvalidEvent(f"no decider for {type(command).__name__}")
    draft = Draft(snapshot, env)
    result = decider(draft, command)
    return draft.finish(result=result, command=command.name)


# -- cases ------------------------------------------------------------------------------


def start(draft: Draft, command: c.Start) -> Case:
    compiled = draft.compiled
    definition = compiled.definition
    data = dict(command.data)
    compiled.validate_data(data)
    org = command.org if command.org is not None else command.actor.org
    orgs = draft.env.orgs
    if len(orgs) and org and org not in orgs:
        raise DataValidationError(
            f"unknown org unit {org!r}: not in the loaded org tree", errors=["org"]
        )
    moved_from = org
    org = _start_level(definition, orgs, org, data)
    case = Case(
        id=draft.env.new_case_id,
        workflow=definition.name,
        workflow_version=definition.version,
        state=definition.initial_state,
        status="active",
        data=data,
        org=org,
        version=1,
        created_at=draft.at,
        updated_at=draft.at,
        business_key=command.business_key,
        parent_id=command.parent_id,
    )
    draft.case = case
    details: dict[str, Any] = {"data": data}
    if command.parent_id is not None:
        details["parent_id"] = command.parent_id
    if org != moved_from:
        details.update(from_org=moved_from, to_org=org, why="start_level")
    draft.line("start", command.actor, details, to_state=case.state)
    draft.moved(Move(None, None, case.state, org, command.actor))
    return draft.case


def _start_level(definition: WorkflowDef, orgs: OrgTree, org: str, data: dict[str, Any]) -> str:
    """小事不出网格、大事不出村镇: by a data value, the case starts at the unit of a level
    above the one it was reported in (or where it is, if that is already as high)."""
    value = data.get(definition.start_level_field or "")
    level = definition.start_levels.get(value) if isinstance(value, str) else None
    if level is None or not org:
        return org
    for unit in orgs.chain(org):
        if orgs.level(unit) == level:
            return unit
    return org


def fire(draft: Draft, command: c.Fire) -> Case:
    draft.transition(command.event, command.actor, command.payload, command.comment)
    return draft.case


# -- operators --------------------------------------------------------------------------


def _operate(
    draft: Draft,
    command: c.Operate | c.Migrate,
    action: str,
    change: Callable[[], None],
    reason: str | None,
    **details: Any,
) -> Case:
    """One ``operator`` line (who, what, why) first; what followed is attributed to them."""
    if isinstance(command, c.Operate) and not command.reason.strip():
        raise InvalidEvent(f"{action} needs a reason: it goes into the case history")
    draft.system = SYSTEM_OPERATOR
    before = draft.case
    change()
    followed = draft.lines
    draft.lines = []
    draft.line(
        "operator",
        command.actor,
        {"reason": reason, **details},
        event=action,
        from_state=before.state,
        to_state=draft.case.state,
    )
    draft.lines += [dataclasses.replace(e, actor_id=command.actor.id) for e in followed]
    return draft.case


def suspend(draft: Draft, command: c.Suspend) -> Case:
    """Events are refused and the clocks pause (the days are not counted)."""

    def change() -> None:
        case = draft.case
        if case.status != "active":
            raise InvalidEvent(
                f"case {case.id!r} is {case.status}: only an active case can be suspended"
            )
        draft.set_status("suspended", "suspend")

    return _operate(draft, command, "suspend", change, command.reason)


def resume(draft: Draft, command: c.Resume) -> Case:
    def change() -> None:
        case = draft.case
        if case.status != "suspended":
            raise InvalidEvent(f"case {case.id!r} is {case.status}, not suspended")
        draft.set_status("active", "resume")

    return _operate(draft, command, "resume", change, command.reason)


def cancel(draft: Draft, command: c.Cancel) -> Case:
    """The case ends here: clocks stop, timers go, an open vote or work item is cancelled."""

    def change() -> None:
        case = draft.case
        if case.status in ("completed", "cancelled"):
            raise InvalidEvent(f"case {case.id!r} is already {case.status}")
        draft.set_status("cancelled", "cancel")

    return _operate(draft, command, "cancel", change, command.reason)


def move(draft: Draft, command: c.Move) -> Case:
    """Put a case into any state, bypassing events and guards; clocks follow the move."""
    definition = draft.definition

    def change() -> None:
        case = draft.case
        if command.to_state not in definition.states:
            raise InvalidEvent(f"workflow {definition.name!r} has no state {command.to_state!r}")
        if case.status == "cancelled":
            raise InvalidEvent(f"case {case.id!r} is cancelled")
        final = definition.states[command.to_state].final
        status = "completed" if final else ("active" if case.status == "completed" else case.status)
        draft.case = dataclasses.replace(case, state=command.to_state, status=status)
        draft.moved(Move(None, case.state, command.to_state, case.org, draft.system))
        if status == "suspended":  # clocks the move started or resumed stay paused
            for kind in STEP_KINDS:
                if kind.name == "clock":
                    kind.on_status(draft, "suspend")

    return _operate(draft, command, "move", change, command.reason, to=command.to_state)


def reassign(draft: Draft, command: c.Reassign) -> Case:
    """Another org unit and/or person (the org tree is checked like a start's)."""
    if command.org is None and command.assignee is None:
        raise InvalidEvent("reassign needs an org unit, a person, or both")
    orgs = draft.env.orgs
    if command.org is not None and len(orgs) and command.org not in orgs:
        raise DataValidationError(
            f"unknown org unit {command.org!r}: not in the loaded org tree", errors=["org"]
        )
    current = draft.case

    def change() -> None:
        draft.case = dataclasses.replace(
            current,
            org=command.org if command.org is not None else current.org,
            assignee=command.assignee if command.assignee is not None else current.assignee,
        )

    return _operate(
        draft,
        command,
        "reassign",
        change,
        command.reason,
        from_org=current.org,
        to_org=command.org or current.org,
        from_assignee=current.assignee,
        to_assignee=command.assignee or current.assignee,
    )


def migrate(draft: Draft, command: c.Migrate) -> Case:
    """The case onto another version of its workflow (see :mod:`caseflow.pipeline.versions`)."""
    old = draft.definition
    other = draft.env.other_version
    if other is None:  # pragma: no cover - the migration service passes it
        raise InvalidEvent("no other workflow versions are available")
    job = VersionMove(
        old,
        other(old.name, command.to_version),
        dict(command.mapping),
        draft.env.calendar,
    )
    case = draft.case
    why = job.refusal(case)
    if why is not None:
        raise InvalidEvent(why)
    plan = job.clocks(case, draft.clocks, draft.at, draft.env.orgs.level(case.org))

    def change() -> None:
        for name in plan.cancel:
            draft.cancel_timers(name)
        for state in plan.changed.values():
            draft.put_clock(state)
        draft.arm.extend(plan.arm)
        draft.case = dataclasses.replace(
            case, workflow_version=command.to_version, state=job.target(case)
        )

    return _operate(
        draft,
        command,
        "migrate",
        change,
        command.reason,
        from_version=old.version,
        to_version=command.to_version,
        clocks=plan.notes,
    )


# -- timers and side effects ----------------------------------------------------------------


def timer_due(draft: Draft, command: c.TimerDue) -> bool:
    """A timer's effect, dated at its legal time; False if it had none (stale)."""
    draft.system = SYSTEM_TIMER
    draft.timer_update = TimerUpdate(command.timer.id, "done")
    owner = TIMER_OWNERS.get(command.timer.kind)
    if owner is None or draft.case.status not in ("active", "suspended"):
        return False
    return owner.on_timer(draft, command.timer)


def action_done(draft: Draft, command: c.ActionDone) -> bool:
    """Record one attempt of a side effect; the last failed attempt opens an incident."""
    draft.system = DISPATCHER
    note: dict[str, Any] = {"action": command.action, "attempt": command.attempt}
    timer = command.timer
    if command.error is None:
        draft.note("action", DISPATCHER, {**note, "status": "done"})
        draft.timer_update = TimerUpdate(timer.id, "done")
        return True
    draft.note("action", DISPATCHER, {**note, "status": "failed", "error": command.error})
    if not command.give_up:
        draft.timer_update = TimerUpdate(
            timer.id, "retry", retry_at=_retry_at(draft, command), error=command.error
        )
        return False
    details: dict[str, Any] = {
        "action": command.action,
        "status": "incident",
        "incident": None,
        "error": command.error,
    }
    draft.note("action", DISPATCHER, details)
    draft.timer_update = TimerUpdate(timer.id, "failed", error=command.error)
    draft.open_incidents = [
        OpenIncident(timer.id, command.action, command.error, command.attempt, details)
    ]
    return False


def _retry_at(draft: Draft, command: c.ActionDone) -> dt.datetime:
    """Backoff: the action's ``backoff_seconds`` times the attempts so far."""
    config = draft.definition.actions.get(command.action)
    seconds = config.backoff_seconds if config is not None else 30.0
    return draft.env.recorded_at + dt.timedelta(seconds=seconds * command.attempt)


def timer_failed(draft: Draft, command: c.TimerFailed) -> bool:
    """A timer whose effect kept failing: the case gets an incident, nothing is dropped."""
    draft.system = SYSTEM_TIMER
    timer = command.timer
    details: dict[str, Any] = {
        "action": f"{timer.kind} failed",
        "clock": timer.clock,
        "attempts": timer.attempts,
        "error": command.error,
        "incident": None,
    }
    draft.note("clock", SYSTEM_TIMER, details)
    draft.timer_update = TimerUpdate(timer.id, "failed", error=command.error)
    draft.open_incidents = [
        OpenIncident(
            timer.id, f"timer:{timer.kind}:{timer.clock}", command.error, timer.attempts, details
        )
    ]
    return True


def resolve_incidents(draft: Draft, command: c.ResolveIncidents) -> list[int]:
    """Retry (re-arm) or skip the case's open incidents; the ids resolved."""
    if not command.retry and not command.reason.strip():
        raise InvalidEvent("skip needs a reason: it goes into the case history")
    found = list(draft.snapshot.incidents)
    if not found:
        return []
    status = "retried" if command.retry else "skipped"
    ids = tuple(i.id for i in found)
    draft.incident_ops = [
        IncidentOp(ids, tuple(i.timer_id for i in found), status, command.actor.id, command.reason)
    ]
    case = draft.case
    draft.line(
        "operator",
        command.actor,
        {"reason": command.reason, "incidents": list(ids), "actions": [i.action for i in found]},
        event="retry" if command.retry else "skip",
        from_state=case.state,
        to_state=case.state,
    )
    return list(ids)


_DECIDERS: dict[type[Any], Callable[[Draft, Any], Any]] = {
    c.Start: start,
    c.Fire: fire,
    c.Suspend: suspend,
    c.Resume: resume,
    c.Cancel: cancel,
    c.Move: move,
    c.Reassign: reassign,
    c.Migrate: migrate,
    c.TimerDue: timer_due,
    c.ActionDone: action_done,
    c.TimerFailed: timer_failed,
    c.ResolveIncidents: resolve_incidents,
}
