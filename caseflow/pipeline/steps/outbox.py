"""
The side-effect step kind: ``on_exit``, event ``actions:`` and ``on_enter`` actions, and
an event's ``notify:`` notices.

A move queues its actions as durable ``action`` timers in its own transaction (the
outbox); :mod:`caseflow.services.dispatch` runs them after the commit, at least once,
with an idempotency key, and records each attempt as a command on the case. An event's
notices (written reasons and the right to appeal, 行政许可法 art. 38; an excluded period,
art. 45) are recorded in the history and queued for the notifier the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from caseflow.clocks.runtime import Notice, TimerSpec
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
        if move.event is not None:
            _notices(draft, move)
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


_TOKEN = re.compile(r"\{(data|payload|case)\.([A-Za-z_][A-Za-z0-9_.]*)\}")


def render(template: str, values: Mapping[str, Mapping[str, Any]]) -> str:
    """``{data.x}``, ``{payload.a.b}``, ``{case.id}`` filled in; anything else as written."""

    def fill(match: re.Match[str]) -> str:
        value: Any = values.get(match.group(1), {})
        for part in match.group(2).split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return "" if value is None else str(value)

    return _TOKEN.sub(fill, template)


def _notices(draft: Draft, move: Move) -> None:
    event = draft.definition.events[move.event or ""]
    case = draft.case
    values = {"data": case.data, "payload": dict(move.payload or {}),
              "case": {"id": case.id, "state": case.state, "org": case.org}}  # fmt: skip
    for notice in event.notify:
        message = render(notice.message, values)
        draft.notify(Notice(f"event:{event.name}", notice.roles, case.org, message))
        draft.note(
            "notice", move.actor, {"event": event.name, "roles": list(notice.roles),
                                   "message": message},
        )  # fmt: skip
