"""
The workflow definition: immutable, pure data.

A :class:`WorkflowDef` is built by the loader from YAML after every check passed, so
code that receives one may rely on it: states exist, branches end in a default, roles
are declared, guards are parsed. Identified by ``(name, version)`` and a content hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from caseflow.clocks.durations import Duration
from caseflow.definitions.expr import Guard

_FROZEN = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")


class ActionRef(BaseModel):
    """A side effect to run after a transition commits: a registered action and its params."""

    model_config = _FROZEN

    action: str
    params: Mapping[str, Any] = {}


class ActionConfig(BaseModel):
    """How an action is retried before the case gets an incident."""

    model_config = _FROZEN

    retries: int = 3
    backoff_seconds: float = 30.0


class VoteDef(BaseModel):
    """A vote held while the case is in a state (村民代表会议票决, 云票决)."""

    model_config = _FROZEN

    electorate_data: str | None = None
    electorate_provider: str | None = None
    electorate_group: str | None = None
    rule: Mapping[str, Any]
    secret: bool = True
    closes_after: Duration | None = None
    close_when_all_voted: bool = True
    clerk_roles: tuple[str, ...] = ()
    on_pass: str
    on_fail: str
    on_no_quorum: str


class ParallelDef(BaseModel):
    """Work items handled in parallel by several units (部门联动处置), joined in one state."""

    model_config = _FROZEN

    source: Literal["payload", "data"]
    key: str
    join: Literal["all"] | int = "all"
    report_roles: tuple[str, ...]
    on_complete: str
    clock: str | None = None


class CallDef(BaseModel):
    """A call activity: a child case of ``workflow`` started on entering the state."""

    model_config = _FROZEN

    workflow: str
    data: Mapping[str, Any] = {}
    on_success: str | None = None
    on_failure: str | None = None
    cancel_with_parent: bool = True

    @property
    def waits(self) -> bool:
        return self.on_success is not None or self.on_failure is not None


class StateDef(BaseModel):
    """A state a case can be in."""

    model_config = _FROZEN

    name: str
    title: str = ""
    initial: bool = False
    final: bool = False
    #: For reports: a final state that counts as a success (调解成功) or a failure.
    outcome: Literal["success", "failure"] | None = None
    vote: VoteDef | None = None
    parallel: ParallelDef | None = None
    on_enter: tuple[ActionRef, ...] = ()
    on_exit: tuple[ActionRef, ...] = ()
    #: Who works on it: the person named at this path of the case data, or one role.
    assignee_data: str | None = None
    assignee_role: str | None = None
    assignee_unit: str | None = None
    call: CallDef | None = None


class Branch(BaseModel):
    """One possible target of an event; the first branch whose guard holds wins."""

    model_config = _FROZEN

    to: str
    when: Guard | None = None


class NoticeDef(BaseModel):
    """A notification an event sends: to ``roles`` in the case's unit, ``message`` filled in."""

    model_config = _FROZEN

    roles: tuple[str, ...]
    message: str


class EventDef(BaseModel):
    """An event (a BPMN sequence flow with a trigger): from states, branches, who may fire it."""

    model_config = _FROZEN

    name: str
    title: str = ""
    sources: tuple[str, ...]
    branches: tuple[Branch, ...]
    roles: tuple[str, ...] = ()
    automatic: bool = False
    payload_schema: Mapping[str, Any] | None = None
    actions: tuple[ActionRef, ...] = ()
    #: Moves the case's org unit: ``parent`` (escalate one level), ``payload`` (refer to
    #: the unit named by ``payload.org``).
    org: Literal["parent", "payload"] | None = None
    #: Told when the event fires (written reasons, the right to appeal, an excluded period).
    notify: tuple[NoticeDef, ...] = ()
    #: A message from outside that fires this event, correlated by the business key.
    message: str | None = None

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(b.to for b in self.branches)


class ClockTrigger(BaseModel):
    """Entering one of ``enter`` states, or firing one of ``events``."""

    model_config = _FROZEN

    enter: tuple[str, ...] = ()
    events: tuple[str, ...] = ()


class Extension(BaseModel):
    """An audited extension of a clock (行政许可法 art. 42: once, by 10 workdays)."""

    model_config = _FROZEN

    by: Duration
    times: int = 1
    roles: tuple[str, ...]
    reason_required: bool = True
    notify: tuple[str, ...] = ()


class EscalationStep(BaseModel):
    """What happens ``after`` a clock breached: notify roles, move up the org tree, fire."""

    model_config = _FROZEN

    after: Duration
    notify: tuple[str, ...] = ()
    to_org: Literal["parent"] | None = None
    fire: str | None = None


class ClockAnchor(BaseModel):
    """Where a clock's period starts: another clock's start, or a date in payload or data."""

    model_config = _FROZEN

    event: str | None = None
    source: Literal["clock", "payload", "data"]
    path: str


class ClockDef(BaseModel):
    """A legal time limit attached to part of the workflow."""

    def limit_for(self, level: str | None, variant: str | None = None) -> Duration:
        """The limit for a data value (``by_data``), else at an org level (``by_level``),
        else the default ``limit``."""
        if variant is not None and variant in self.by_data:
            return self.by_data[variant]
        return self.by_level.get(level or "", self.limit)

    model_config = _FROZEN

    name: str
    limit: Duration
    runs_in: tuple[str, ...] = ()
    starts_on: ClockTrigger | None = None
    paused_in: tuple[str, ...] = ()
    stops_on: ClockTrigger | None = None
    on_breach_fire: str | None = None
    on_breach_notify: tuple[str, ...] = ()
    #: On breach, move the case one org level up and restart this clock there.
    on_breach_move_up: bool = False
    #: The event fired when a move-up clock breaches at the top of the org tree.
    on_breach_at_top: str | None = None
    #: Limits per org level of the case's unit (grid, village, township, ...).
    by_level: Mapping[str, Duration] = {}
    #: Runs once per parallel work item instead of per case.
    per_item: bool = False
    extension: Extension | None = None
    warn_before: Duration | None = None
    #: Roles told of the yellow warning; None: whoever can move the case on from its state.
    warn_notify: tuple[str, ...] | None = None
    escalate: tuple[EscalationStep, ...] = ()
    anchors: tuple[ClockAnchor, ...] = ()
    #: The data field whose value picks a limit from ``by_data``.
    by_data_field: str | None = None
    by_data: Mapping[str, Duration] = {}


class WorkflowDef(BaseModel):
    """A complete, checked workflow definition version."""

    model_config = _FROZEN

    name: str
    version: int
    title: str = ""
    timezone: str = "Asia/Shanghai"
    calendar: str = "cn"
    roles: tuple[str, ...]
    data_schema: Mapping[str, Any]
    states: Mapping[str, StateDef]
    events: Mapping[str, EventDef]
    clocks: Mapping[str, ClockDef]
    actions: Mapping[str, ActionConfig] = {}
    org_scope: bool = False
    public_roles: tuple[str, ...] = ()
    #: A case starts at the unit of this level above its own, by a data field's value.
    start_level_field: str | None = None
    start_levels: Mapping[str, str] = {}
    content_hash: str
    source: str = ""
    source_file: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    @property
    def initial_state(self) -> str:
        return next(s.name for s in self.states.values() if s.initial)

    def is_final(self, state: str) -> bool:
        return self.states[state].final
