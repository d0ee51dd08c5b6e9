"""
Commands: everything that changes a case, as plain data.

Every command goes through the one pipeline (:mod:`caseflow.pipeline.runner`): load a
snapshot of its case, let the pure planner decide, write the plan, run what follows the
commit. ``actor`` is who asks; ``idempotency_key`` makes a retried request return the
first result. A command takes effect now, except a timer's, which takes effect at its
legal due time however late the sweep runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from caseflow.cases import Actor
    from caseflow.records import Timer


@dataclass(frozen=True, kw_only=True)
class Command:
    """What every command carries."""

    actor: Actor
    idempotency_key: str | None = None

    #: The scope a key is looked up in, and the command's name in history and logs.
    name = "command"

    def case_ref(self) -> str | None:
        """The id of the case the command acts on (None: it creates one)."""
        return getattr(self, "case_id", None)

    def fingerprint_parts(self) -> dict[str, Any]:
        """What makes two requests with one key the same request."""
        return {"actor": self.actor.id}


@dataclass(frozen=True, kw_only=True)
class Start(Command):
    workflow: str
    version: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    org: str | None = None
    business_key: str | None = None
    #: The case that starts this one (a call activity).
    parent_id: str | None = None
    name = "start"

    def fingerprint_parts(self) -> dict[str, Any]:
        return {
            "actor": self.actor.id,
            "version": self.version,
            "data": dict(self.data),
            "org": self.org,
            "business_key": self.business_key,
            "parent_id": self.parent_id,
        }


@dataclass(frozen=True, kw_only=True)
class CaseCommand(Command):
    """A command on an existing case; ``expected_version`` guards a stale screen."""

    case_id: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class Fire(CaseCommand):
    event: str
    payload: Mapping[str, Any] | None = None
    comment: str | None = None
    name = "fire"

    def fingerprint_parts(self) -> dict[str, Any]:
        return {
            "actor": self.actor.id,
            "event": self.event,
            "payload": dict(self.payload or {}),
            "comment": self.comment,
        }


@dataclass(frozen=True, kw_only=True)
class ExtendClock(CaseCommand):
    clock: str
    reason: str
    name = "extend"


@dataclass(frozen=True, kw_only=True)
class Operate(CaseCommand):
    """An operator's action on a case; always with a reason (it goes into the history)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class Suspend(Operate):
    name = "suspend"


@dataclass(frozen=True, kw_only=True)
class Resume(Operate):
    name = "resume"


@dataclass(frozen=True, kw_only=True)
class Cancel(Operate):
    name = "cancel"


@dataclass(frozen=True, kw_only=True)
class Move(Operate):
    to_state: str
    name = "move"


@dataclass(frozen=True, kw_only=True)
class Reassign(Operate):
    org: str | None = None
    assignee: str | None = None
    name = "reassign"


@dataclass(frozen=True, kw_only=True)
class Attend(CaseCommand):
    voter: str | None = None
    name = "attend"


@dataclass(frozen=True, kw_only=True)
class CastBallot(CaseCommand):
    choice: str
    voter: str | None = None
    name = "ballot"


@dataclass(frozen=True, kw_only=True)
class CloseVote(CaseCommand):
    reason: str = "closed by the clerk"
    name = "close_vote"


@dataclass(frozen=True, kw_only=True)
class ReportItem(CaseCommand):
    item: str
    result: Mapping[str, Any] | None = None
    name = "report_item"


@dataclass(frozen=True, kw_only=True)
class TimerDue(CaseCommand):
    """A durable timer came due: its effect, dated at its legal time."""

    timer: Timer
    name = "timer"


@dataclass(frozen=True, kw_only=True)
class ActionDone(CaseCommand):
    """A side effect ran (after commit): record the attempt, open an incident at the end."""

    timer: Timer
    action: str
    error: str | None
    attempt: int
    give_up: bool
    name = "action"


@dataclass(frozen=True, kw_only=True)
class TimerFailed(CaseCommand):
    """A timer's effect failed every attempt: the case gets an incident an operator sees."""

    timer: Timer
    error: str
    name = "timer_failed"


@dataclass(frozen=True, kw_only=True)
class Recompute(CaseCommand):
    """Provisional deadlines recomputed with the calendars as they are now."""

    name = "recompute"


@dataclass(frozen=True, kw_only=True)
class ResolveIncidents(CaseCommand):
    """An operator retries (re-arms) or skips the case's failed side effects."""

    retry: bool
    reason: str
    name = "incidents"


@dataclass(frozen=True, kw_only=True)
class Migrate(CaseCommand):
    """Move a running case to another version of its workflow (an operator's action)."""

    to_version: int
    mapping: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None
    name = "migrate"


@dataclass(frozen=True, kw_only=True)
class Claim(CaseCommand):
    """Take an unassigned case: it leaves other actors' worklists."""

    name = "claim"


@dataclass(frozen=True, kw_only=True)
class Assign(CaseCommand):
    """A supervisor (or operator) gives the case to a person."""

    to: str
    name = "assign"


@dataclass(frozen=True, kw_only=True)
class Delegate(CaseCommand):
    """The case's assignee hands it to another person."""

    to: str
    name = "delegate"


@dataclass(frozen=True, kw_only=True)
class Release(CaseCommand):
    """The assignee gives the case back to the pool (or a supervisor takes it back)."""

    name = "release"


@dataclass(frozen=True, kw_only=True)
class FireByKey(Command):
    """Fire an event on the case of ``workflow`` with this business key."""

    workflow: str
    business_key: str
    event: str
    payload: Mapping[str, Any] | None = None
    name = "fire"

    def fingerprint_parts(self) -> dict[str, Any]:
        return {"actor": self.actor.id, "event": self.event, "payload": dict(self.payload or {})}


@dataclass(frozen=True, kw_only=True)
class Message(Command):
    """
    A message from outside, correlated by its name and a business key: it fires the event
    that declares ``message: <name>`` on the one case with that key that can take it now.
    ``idempotency_key`` is the message id: the same message twice is one effect.
    """

    message: str
    business_key: str
    payload: Mapping[str, Any] | None = None
    name = "message"

    def case_ref(self) -> str | None:
        return None

    def fingerprint_parts(self) -> dict[str, Any]:
        return {"business_key": self.business_key, "payload": dict(self.payload or {})}


@dataclass(frozen=True, kw_only=True)
class ChildStarted(CaseCommand):
    """The parent records the child a call activity started (its ``child_start`` timer)."""

    timer: Timer
    child_id: str
    name = "child_started"
