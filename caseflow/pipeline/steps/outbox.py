"""
The side-effect step kind: ``on_exit``, event ``actions:`` and ``on_enter`` actions.

A move queues its actions as durable ``action`` timers in its own transaction (the
outbox); :mod:`caseflow.services.dispatch` runs them after the commit, at least once,
with an idempotency key, and records each attempt as a command on the case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from caseflow.clocks.runtime import TimerSpec
from caseflow.pipeline.steps.base import StepKind

if TYPE_CHECKING:
    from caseflow.pipeline.draft import Draft, Move


class OutboxStep(StepKind):
    name: ClassVar[str] = "outbox"

    def on_move(self, draft: Draft, move: Move) -> None:
        states = draft.definition.states
        refs = [
            *(states[move.left].on_exit if move.left is not None else ()),
            *(draft.definition.events[move.event].actions if move.event is not None else ()),
            *(states[move.entered].on_enter if move.entered is not None else ()),
        ]
        for ref in refs:
            draft.arm.append(
                TimerSpec(
                    "action",
                    ref.action,
                    draft.at,
                    payload={
                        "action": ref.action,
                        "params": dict(ref.params),
                        "event": move.event,
                        "state": move.entered or draft.case.state,
                    },
                )
            )
