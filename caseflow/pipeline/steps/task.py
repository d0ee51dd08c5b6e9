"""
The task step kind: who works on a case now (user tasks, worklists).

A case in a state is a task for the actors who may fire an event from it (by role, and
org scope), or only for holders of the state's ``assignee: {role: ...}``. A state with
``assignee: {data: path}`` is given to the person named there when the case enters it.
An actor *claims* an unassigned case (it leaves the others' worklists; supervisors still
see it), the assignee *delegates* it or *releases* it, a supervisor *assigns* it. Leaving
the state ends the assignment. Every one of these is a command on the case, recorded,
with its version check: two clerks claiming at once, one wins.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from caseflow.errors import InvalidEvent
from caseflow.pipeline.commands import Assign, Claim, Delegate, Release
from caseflow.pipeline.steps.base import StepKind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from caseflow.cases import Actor, Case
    from caseflow.pipeline.draft import Draft, Move


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class TaskStep(StepKind):
    name: ClassVar[str] = "task"

    def on_move(self, draft: Draft, move: Move) -> None:
        if move.entered is None or move.entered == move.left:
            return
        case = draft.case
        spec = draft.definition.states[move.entered]
        given = _lookup(case.data, spec.assignee_data) if spec.assignee_data else None
        new = given if isinstance(given, str) and given else None
        if new == case.assignee:
            return
        draft.case = dataclasses.replace(case, assignee=new)
        if new is not None:
            why = f"data.{spec.assignee_data}"
            _note(draft, move.actor, "assigned", to=new, by=why)
        elif case.assignee is not None:
            _note(draft, move.actor, "released", from_=case.assignee, why=f"left {move.left}")

    @property
    def commands(self) -> Mapping[type[Any], Callable[[Draft, Any], Any]]:
        return {Claim: claim, Assign: assign, Delegate: delegate, Release: release}


def _note(draft: Draft, actor: Actor, action: str, **details: Any) -> None:
    fields = {k.rstrip("_"): v for k, v in details.items()}
    draft.note("task", actor, {"action": action, **fields})


def _active(draft: Draft) -> Case:
    case = draft.case
    if case.status != "active":
        raise InvalidEvent(f"case {case.id!r} is {case.status}: it is nobody's task now")
    return case


def claim(draft: Draft, command: Claim) -> Case:
    case = _active(draft)
    me = command.actor.id
    if case.assignee == me:
        return case
    if case.assignee is not None:
        raise InvalidEvent(f"case {case.id!r} is already claimed by {case.assignee!r}")
    draft.case = dataclasses.replace(case, assignee=me)
    _note(draft, command.actor, "claimed", to=me)
    return draft.case


def assign(draft: Draft, command: Assign) -> Case:
    case = _active(draft)
    if case.assignee == command.to:
        return case
    draft.case = dataclasses.replace(case, assignee=command.to)
    _note(draft, command.actor, "assigned", from_=case.assignee, to=command.to)
    return draft.case


def delegate(draft: Draft, command: Delegate) -> Case:
    case = _active(draft)
    if case.assignee is None:
        raise InvalidEvent(f"case {case.id!r} is not claimed: claim it or assign it")
    draft.case = dataclasses.replace(case, assignee=command.to)
    _note(draft, command.actor, "delegated", from_=case.assignee, to=command.to)
    return draft.case


def release(draft: Draft, command: Release) -> Case:
    case = _active(draft)
    if case.assignee is None:
        return case
    draft.case = dataclasses.replace(case, assignee=None)
    _note(draft, command.actor, "released", from_=case.assignee)
    return draft.case
