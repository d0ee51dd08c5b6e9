"""
The call step kind: a state that starts a case of another workflow (a call activity).

Entering a state with ``call:`` queues a ``child_start`` timer on the parent, with the
child's data taken from the parent's (``data.x``, ``payload.x`` or a literal). The sweep
starts the child with an idempotency key made from that timer, so a retried parent step
never starts two children, then records the child on the parent (:class:`ChildStarted`).
The child carries ``parent_id``; when it reaches a final state it queues a ``child_done``
timer on the parent, and a waiting parent fires ``on_success`` or ``on_failure`` by the
final state's outcome. Cancelling the parent queues ``child_cancel`` timers that cancel
the children still running (``cancel_with_parent``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from caseflow.cases import Actor
from caseflow.clocks.runtime import TimerSpec
from caseflow.pipeline.commands import ChildStarted
from caseflow.pipeline.snapshot import CHILDREN
from caseflow.pipeline.steps.base import StepKind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from caseflow.cases import Case
    from caseflow.definitions.model import CallDef, WorkflowDef
    from caseflow.pipeline.draft import Draft, Move
    from caseflow.records import Timer

SYSTEM_CALL = Actor.system("call")


def _value(
    spec: Any, data: Mapping[str, Any], payload: Mapping[str, Any], case: Case | None = None
) -> Any:
    if isinstance(spec, str) and spec in ("case.id", "case.business_key", "case.org"):
        return None if case is None else getattr(case, spec.partition(".")[2])
    if isinstance(spec, str) and spec.startswith(("data.", "payload.")):
        source, _, path = spec.partition(".")
        value: Any = data if source == "data" else payload
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value
    return spec


def child_data(
    call: CallDef, data: Mapping[str, Any], payload: Mapping[str, Any], case: Case | None = None
) -> dict[str, Any]:
    """The child's data from the parent's (unset values left out)."""
    found = {k: _value(v, data, payload, case) for k, v in call.data.items()}
    return {k: v for k, v in found.items() if v is not None}


class CallStep(StepKind):
    name: ClassVar[str] = "call"
    timer_kinds: ClassVar[frozenset[str]] = frozenset({"child_done", "child_cancel"})

    def needs(self, definition: WorkflowDef) -> frozenset[str]:
        has = any(s.call is not None for s in definition.states.values())
        return frozenset({CHILDREN}) if has else frozenset()

    def on_move(self, draft: Draft, move: Move) -> None:
        case = draft.case
        entered = draft.definition.states[move.entered] if move.entered is not None else None
        left = draft.definition.states.get(move.left) if move.left is not None else None
        if left is not None and left.call is not None and move.entered is not None:
            draft.cancel.add(f"call:{left.name}")  # left before the sweep started the child
        if entered is not None and entered.call is not None:
            call = entered.call
            draft.arm.append(
                TimerSpec(
                    "child_start",
                    f"call:{entered.name}",
                    draft.at,
                    payload={
                        "workflow": call.workflow,
                        "state": entered.name,
                        "data": child_data(call, case.data, move.payload or {}, case),
                        "org": case.org,
                    },
                )
            )
        if entered is not None and entered.final and case.parent_id is not None:
            draft.arm_elsewhere.append(
                (
                    case.parent_id,
                    TimerSpec(
                        "child_done",
                        f"child:{case.id}",
                        draft.at,
                        payload={
                            "child_id": case.id,
                            "workflow": case.workflow,
                            "state": entered.name,
                            "outcome": entered.outcome,
                        },
                    ),
                )
            )

    def on_status(self, draft: Draft, change: str) -> None:
        if change != "cancel":
            return
        calls = [s.call for s in draft.definition.states.values() if s.call is not None]
        if not any(c.cancel_with_parent for c in calls):
            return
        for child in draft.snapshot.children:
            draft.arm_elsewhere.append(
                (
                    child,
                    TimerSpec(
                        "child_cancel",
                        f"parent:{draft.case.id}",
                        draft.at,
                        payload={"parent_id": draft.case.id},
                    ),
                )
            )
        if draft.snapshot.children:
            draft.note(
                "call",
                SYSTEM_CALL,
                {"action": "cancelling", "children": list(draft.snapshot.children)},
            )

    def on_timer(self, draft: Draft, timer: Timer) -> bool:
        payload = timer.payload or {}
        if timer.kind == "child_cancel":
            if draft.case.status not in ("active", "suspended"):
                return False
            draft.set_status("cancelled", "cancel")
            draft.line(
                "operator",
                SYSTEM_CALL,
                {"reason": "its parent case was cancelled", "parent_id": payload.get("parent_id")},
                event="cancel",
                from_state=draft.case.state,
                to_state=draft.case.state,
            )
            return True
        child = str(payload.get("child_id"))
        outcome = payload.get("outcome")
        state = draft.definition.states[draft.case.state]
        call = state.call
        draft.note(
            "call",
            SYSTEM_CALL,
            {"action": "child ended", "child": child, "state": payload.get("state"),
             "outcome": outcome},
        )  # fmt: skip
        if call is None or not call.waits or draft.case.status != "active":
            return True
        event = call.on_success if outcome == "success" else (
            call.on_failure if outcome == "failure" else None
        )  # fmt: skip
        if event is not None:
            draft.fire_automatic(event, f"child case {child} ended {outcome}", SYSTEM_CALL)
        return True

    @property
    def commands(self) -> Mapping[type[Any], Callable[[Draft, Any], Any]]:
        return {ChildStarted: child_started}


def child_started(draft: Draft, command: ChildStarted) -> bool:
    """The parent's history names its child (and the timer that started it is done)."""
    from caseflow.pipeline.plan import TimerUpdate  # noqa: PLC0415 - plan imports steps' types

    payload = command.timer.payload or {}
    draft.timer_update = TimerUpdate(command.timer.id, "done")
    draft.note(
        "call",
        SYSTEM_CALL,
        {"action": "started", "child": command.child_id, "workflow": payload.get("workflow"),
         "state": payload.get("state")},
    )  # fmt: skip
    return True
