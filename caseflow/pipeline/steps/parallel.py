"""
The parallel step kind: several units handle the case at once (部门联动处置, ``parallel:``).

Entering the state opens one work item per unit (from ``payload``/``data``), each with
its own clock if the state names one (``clock:`` with ``per_item: true``); leaving it
cancels the items still open and stops their clocks. A unit reports its part
(:class:`~caseflow.pipeline.commands.ReportItem`); when the join is met (all, or N) the
engine fires ``on_complete``. Every report is a command on the case with its version
check, so two units reporting at the same moment cannot both miss the join.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from caseflow.cases import Actor
from caseflow.clocks import runtime
from caseflow.errors import InvalidEvent
from caseflow.pipeline.commands import ReportItem
from caseflow.pipeline.plan import CloseItem, OpenItems
from caseflow.pipeline.snapshot import ITEMS
from caseflow.pipeline.steps.base import StepKind
from caseflow.records import WorkItem

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from caseflow.cases import Case
    from caseflow.definitions.model import ParallelDef, WorkflowDef
    from caseflow.pipeline.draft import Draft, Move

SYSTEM_ORG = Actor.system("org")


class ParallelStep(StepKind):
    name: ClassVar[str] = "parallel"

    def needs(self, definition: WorkflowDef) -> frozenset[str]:
        has = any(s.parallel is not None for s in definition.states.values())
        return frozenset({ITEMS}) if has else frozenset()

    def on_move(self, draft: Draft, move: Move) -> None:
        states = draft.definition.states
        left = states[move.left].parallel if move.left is not None else None
        if move.left is not None and left is not None:
            _close_open(draft, move.left, left, "cancelled")
        entered = states[move.entered].parallel if move.entered is not None else None
        if move.entered is not None and entered is not None:
            _open(draft, move.entered, entered)

    def on_status(self, draft: Draft, change: str) -> None:
        par = draft.definition.states[draft.case.state].parallel
        if change == "cancel" and par is not None:
            _close_open(draft, draft.case.state, par, "cancelled")

    @property
    def commands(self) -> Mapping[type[Any], Callable[[Draft, Any], Any]]:
        return {ReportItem: report_item}


def _stop_item_clocks(draft: Draft, names: list[str], why: str) -> None:
    """Stop work items' clocks (their timers go; no history line, as before)."""
    mine = {n: draft.clocks[n] for n in names if n in draft.clocks}
    plan = runtime.stop_all(mine, draft.at, why)
    for name in plan.cancel:
        draft.cancel_timers(name)
    for state in plan.changed.values():
        draft.put_clock(state)


def _close_open(draft: Draft, state: str, par: ParallelDef, status: str) -> None:
    for item in draft.current_items(state):
        if item.status != "open":
            continue
        draft.item_ops.append(CloseItem(state, item.round, item.item, status, SYSTEM_ORG.id, None))
        _replace_item(draft, dataclasses.replace(item, status=status, closed_by=SYSTEM_ORG.id))
        draft.note("item", SYSTEM_ORG, {"action": status, "item": item.item})
    if par.clock is not None:
        prefix = f"{par.clock}@"
        names = [n for n in draft.clocks if n.startswith(prefix)]
        _stop_item_clocks(draft, names, "stopped (left the joint handling)")


def _replace_item(draft: Draft, new: WorkItem) -> None:
    draft.items = [
        new if (i.state, i.round, i.item) == (new.state, new.round, new.item) else i
        for i in draft.items
    ]


def _open(draft: Draft, state: str, par: ParallelDef) -> None:
    case = draft.case
    items = case.data.get(par.key)
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise InvalidEvent(
            f"entering {state!r} needs {par.source}.{par.key}: a non-empty "
            "list of the units that handle the case in parallel"
        )
    orgs = draft.env.orgs
    if len(orgs) and (unknown := [i for i in items if i not in orgs]):
        raise InvalidEvent(f"unknown org units: {', '.join(unknown)}")
    number = 1 + max((i.round for i in draft.items if i.state == state), default=0)
    draft.item_ops.append(OpenItems(state, number, tuple(items)))
    draft.items += [
        WorkItem(case.id, state, number, i, "open", draft.at, None, None, None) for i in items
    ]
    draft.note("item", SYSTEM_ORG, {"action": "opened", "items": items, "join": par.join})
    if par.clock is None:
        return
    clock = draft.definition.clocks[par.clock]
    for item in items:
        name = f"{clock.name}@{item}"
        fresh = runtime.ClockState(name, "running", draft.at, level=orgs.level(item), org=item)
        fresh, timers = runtime.schedule(
            clock, fresh, draft.calendar, draft.definition.timezone, draft.at
        )
        draft.cancel_timers(name)
        draft.put_clock(fresh)
        draft.arm.extend(timers)
        draft.note(
            "clock",
            SYSTEM_ORG,
            {
                "clock": name,
                "action": "started",
                "org": item,
                "due_at": fresh.due_at.isoformat() if fresh.due_at else None,
                "last_day": fresh.last_day.isoformat() if fresh.last_day else None,
            },
        )


def report_item(draft: Draft, command: ReportItem) -> Case:
    """A unit reports its part done; when the join is met the case moves on."""
    case = draft.case
    par = draft.definition.states[case.state].parallel
    if par is None or case.status != "active":
        raise InvalidEvent(
            f"case {case.id!r} is not being handled in parallel (state {case.state!r})"
        )
    items = draft.current_items(case.state)
    mine = next((i for i in items if i.item == command.item and i.status == "open"), None)
    if mine is None:
        raise InvalidEvent(f"{command.item!r} has no open work item on case {case.id!r}")
    result = dict(command.result) if command.result is not None else None
    draft.item_ops.append(
        CloseItem(case.state, mine.round, mine.item, "done", command.actor.id, result)
    )
    _replace_item(
        draft, dataclasses.replace(mine, status="done", closed_by=command.actor.id, result=result)
    )
    draft.note(
        "item", command.actor, {"action": "reported", "item": command.item, "result": result}
    )
    if par.clock is not None:
        _stop_item_clocks(draft, [f"{par.clock}@{command.item}"], "stopped (reported)")
    items = draft.current_items(case.state)
    done = sum(i.status == "done" for i in items)
    needed = len(items) if par.join == "all" else min(int(par.join), len(items))
    if done >= needed:
        draft.transition(
            par.on_complete, SYSTEM_ORG, None, f"{done} of {len(items)} units reported"
        )
    return draft.case
