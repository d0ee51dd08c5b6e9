"""
The planner's working copy of one case while it decides a command. Pure.

A :class:`Draft` starts from a :class:`~caseflow.pipeline.snapshot.Snapshot` and
collects what the command does: the case as it becomes, history lines, clock states,
timers to cancel and arm, vote and work-item operations. Transitions run through
:func:`caseflow.machine.apply` and then through every step kind (clocks, votes, parallel
work items, side effects); a step kind may fire a further event (a vote that closed, a
join that is met), which is one more transition of the same draft. :meth:`Draft.finish`
turns it into the :class:`~caseflow.pipeline.plan.Plan` the writer applies.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseflow import machine
from caseflow.cases import Actor, Case, HistoryEntry
from caseflow.clocks.runtime import ClockPlan, ClockState, Notice, TimerSpec
from caseflow.errors import InvalidEvent
from caseflow.pipeline.plan import (
    IncidentOp,
    ItemOp,
    OpenIncident,
    Plan,
    TimerUpdate,
    VoteOp,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Mapping, Sequence

    from caseflow.abc import Calendar, RosterProvider
    from caseflow.definitions.model import WorkflowDef
    from caseflow.orgs import OrgTree
    from caseflow.pipeline.snapshot import Snapshot
    from caseflow.records import VoteRound, WorkItem

#: How many transitions one command may chain (an event that fires an event ...).
MAX_CHAIN = 16

SYSTEM = Actor.system("engine")


@dataclass(frozen=True, slots=True)
class Env:
    """
    What the planner may use besides the snapshot: the compiled workflow, its calendar,
    the org tree, roster plugins, the operator roles, and the real time of the call
    (``recorded_at``; a timer's effect is dated earlier, at its legal time).
    """

    compiled: machine.CompiledWorkflow
    calendar: Calendar | None
    orgs: OrgTree
    rosters: Mapping[str, RosterProvider]
    operator_roles: frozenset[str]
    recorded_at: dt.datetime
    new_case_id: str = ""
    #: Another version of a workflow, for a version move: (name, version) -> compiled.
    other_version: Callable[[str, int], machine.CompiledWorkflow] | None = None
    #: The deployment's ballot secret (a key, see caseflow.sealing), if it has one.
    ballot_secret: bytes | None = None
    #: Fresh random bytes for this command (keys and nonces of sealed ballots).
    entropy: bytes = b""
    #: Roles that see every task and may assign them (worklists, claims).
    supervisor_roles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Move:
    """One change of state: the event (None: a start or an operator's move), the state left
    and entered (None when the event kept the state), the org unit before it, and who
    moved the case (clock lines are theirs)."""

    event: str | None
    left: str | None
    entered: str | None
    old_org: str
    actor: Actor
    #: The event's payload (clock anchors may read a date from it).
    payload: Mapping[str, Any] | None = None


def urgency_of(clocks: Mapping[str, ClockState]) -> tuple[int, dt.datetime | None]:
    """How urgent a case is by its running clocks (0 breached, 1 warned, 2 running, 3 none),
    and their soonest due time: what a worklist orders by."""
    running = [s for s in clocks.values() if s.phase == "running"]
    dues = [s.due_at for s in running if s.due_at is not None]
    if any(s.breached_at is not None for s in running):
        level = 0
    elif any(s.warned_at is not None for s in running):
        level = 1
    else:
        level = 2 if running else 3
    return level, min(dues) if dues else None


class Draft:
    """The working copy; see the module docstring."""

    def __init__(self, snapshot: Snapshot, env: Env) -> None:
        self.snapshot = snapshot
        self.env = env
        self.compiled = env.compiled
        self.definition: WorkflowDef = env.compiled.definition
        self.at = env.recorded_at
        self._case = snapshot.case
        self.clocks: dict[str, ClockState] = dict(snapshot.clocks)
        self._changed: dict[str, ClockState] = {}
        self.cancel: set[str] = set()
        self.arm: list[TimerSpec] = []
        self.arm_elsewhere: list[tuple[str, TimerSpec]] = []
        self.lines: list[HistoryEntry] = []
        self.votes: list[VoteRound] = list(snapshot.votes)
        self.vote_ops: list[VoteOp] = []
        self.items: list[WorkItem] = list(snapshot.items)
        self.item_ops: list[ItemOp] = []
        self._chain = 0
        #: The version the case gets if the command records anything.
        self._version = 1 if snapshot.case is None else snapshot.case.version + 1
        #: Who the engine is in this command's automatic steps (``system:timer``, ...).
        self.system: Actor = SYSTEM
        #: What happens to the timer whose effect this command is; incidents to open/resolve.
        self.timer_update: TimerUpdate | None = None
        self.open_incidents: list[OpenIncident] = []
        self.incident_ops: list[IncidentOp] = []

    # -- the case -------------------------------------------------------------------

    @property
    def case(self) -> Case:
        if self._case is None:
            raise InvalidEvent("no case")  # pragma: no cover - a start sets it first
        return self._case

    @case.setter
    def case(self, value: Case) -> None:
        self._case = value

    @property
    def calendar(self) -> Calendar:
        if self.env.calendar is None:  # pragma: no cover - workflows with clocks have one
            raise InvalidEvent(f"workflow {self.definition.name!r} has no calendar")
        return self.env.calendar

    # -- history --------------------------------------------------------------------

    def line(
        self,
        kind: str,
        actor: Actor,
        details: dict[str, Any],
        *,
        event: str | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
    ) -> HistoryEntry:
        entry = HistoryEntry(
            self.case.id,
            self.snapshot.history_count + len(self.lines) + 1,
            self.at,
            kind,
            event,
            from_state,
            to_state,
            actor.id,
            tuple(sorted(actor.roles)),
            actor.org,
            details,
            self._version,
            self.env.recorded_at,
        )
        self.lines.append(entry)
        return entry

    def note(self, kind: str, actor: Actor, details: dict[str, Any]) -> None:
        """A line that records something other than a transition (clock, vote, item)."""
        state = self.case.state
        self.line(kind, actor, details, from_state=state, to_state=state)

    # -- clocks and timers ----------------------------------------------------------

    def put_clock(self, state: ClockState) -> None:
        self.clocks[state.name] = state
        self._changed[state.name] = state

    def cancel_timers(self, name: str) -> None:
        """Cancel the clock's pending timers, stored ones and ones armed earlier in this draft."""
        self.cancel.add(name)
        self.arm = [t for t in self.arm if t.clock != name or t.kind == "notify"]

    def notify(self, notice: Notice) -> None:
        self.arm.append(
            TimerSpec(
                "notify",
                notice.clock,
                self.at,
                payload={"roles": list(notice.roles), "org": notice.org, "message": notice.message},
            )
        )

    def apply_clocks(self, plan: ClockPlan, actor: Actor | None = None) -> None:
        """Take a clock plan's states, timers, notes and notices (not its case moves)."""
        actor = actor or self.system
        for name in sorted(plan.cancel):
            self.cancel_timers(name)
        for state in plan.changed.values():
            self.put_clock(state)
        self.arm.extend(plan.arm)
        for note in plan.notes:
            self.note("clock", actor, dict(note))
        for notice in plan.notices:
            self.notify(notice)

    # -- transitions ----------------------------------------------------------------

    def transition(
        self,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        comment: str | None = None,
    ) -> None:
        """Apply ``event`` and everything that follows from it."""
        self._chain += 1
        if self._chain > MAX_CHAIN:
            raise InvalidEvent(
                f"case {self.case.id!r}: more than {MAX_CHAIN} events fired one another "
                f"(last {event!r}); the workflow loops"
            )
        before = self.case
        outcome = machine.apply(
            self.compiled,
            before,
            event,
            actor=actor,
            payload=payload,
            now=self.at,
            comment=comment,
            orgs=self.env.orgs,
        )
        self.case = outcome.case
        self.lines.append(
            dataclasses.replace(
                outcome.entry,
                seq=self.snapshot.history_count + len(self.lines) + 1,
                version=self._version,
                recorded_at=self.env.recorded_at,
            )
        )
        self.moved(Move(event, outcome.left, outcome.entered, before.org, actor, payload))

    def fire_automatic(self, event: str, why: str, actor: Actor | None = None) -> None:
        """An event the engine fires (a breach, a vote result, a join): noted if not allowed."""
        actor = actor or self.system
        if (
            self.case.status != "active"
            or self.case.state not in self.definition.events[event].sources
        ):
            self.note(
                "clock",
                actor,
                {
                    "action": "not fired",
                    "event": event,
                    "reason": f"{why}; not allowed in state {self.case.state!r}",
                },
            )
            return
        self.transition(event, actor, None, why)

    def moved(self, move: Move) -> None:
        """Run a change of state (or of org unit) through every step kind."""
        from caseflow.pipeline.steps import STEP_KINDS  # noqa: PLC0415 - steps import drafts

        for kind in STEP_KINDS:
            kind.on_move(self, move)

    def set_status(self, status: str, change: str) -> None:
        """Suspend, resume or cancel: the status, then every step kind's part in it."""
        from caseflow.pipeline.steps import STEP_KINDS  # noqa: PLC0415 - steps import drafts

        self.case = dataclasses.replace(self.case, status=status)  # type: ignore[arg-type]
        for kind in STEP_KINDS:
            kind.on_status(self, change)

    def move_org(self, org: str | None, levels_up: int) -> None:
        """The case goes to another unit and/or up escalation levels (a clock's effect)."""
        if org is None and levels_up == 0:
            return
        self.case = dataclasses.replace(
            self.case,
            org=org if org is not None else self.case.org,
            escalation_level=self.case.escalation_level + levels_up,
        )

    # -- the result -----------------------------------------------------------------

    def finish(self, *, result: Any = None, **log: Any) -> Plan:
        """The plan: version + 1 and numbered history lines when anything was recorded."""
        base = self.snapshot.case
        count = self.snapshot.history_count
        case = self.case
        entries = self.lines
        if entries:
            case = dataclasses.replace(case, version=self._version, updated_at=self.at)
            if any(e.seq != count + n for n, e in enumerate(entries, start=1)):  # reordered
                entries = [
                    dataclasses.replace(e, seq=count + n) for n, e in enumerate(entries, start=1)
                ]
        existing = set(self.snapshot.clocks)
        urgency, next_due = urgency_of(self.clocks)
        return Plan(
            case=case,
            base_version=None if base is None else base.version,
            history_count=count + len(entries),
            entries=entries,
            clocks=[(s, s.name in existing) for s in self._changed.values()],
            cancel={n for n in self.cancel if n in existing or n.startswith(("vote:", "call:"))},
            arm=list(self.arm),
            arm_elsewhere=list(self.arm_elsewhere),
            votes=list(self.vote_ops),
            items=list(self.item_ops),
            incidents=list(self.incident_ops),
            open_incidents=list(self.open_incidents),
            timer=self.timer_update,
            result=case if result is None or result is self._case else result,
            log=log,
            at=self.at,
            recorded_at=self.env.recorded_at,
            urgency=urgency,
            next_due=next_due,
        )

    # -- helpers for step kinds -------------------------------------------------------

    def current_items(self, state: str) -> list[WorkItem]:
        """The latest round's work items of ``state``."""
        mine = [i for i in self.items if i.state == state]
        last = max((i.round for i in mine), default=0)
        return [i for i in mine if i.round == last]

    def rounds_of(self, state: str) -> Sequence[VoteRound]:
        return [r for r in self.votes if r.state == state]
