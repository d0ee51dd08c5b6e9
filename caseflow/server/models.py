"""
The API's request and response bodies, as pydantic models (the OpenAPI document is
generated from them). Responses carry the fields of the library's ``to_dict()`` forms,
the same names ``caseflow ... --json`` prints; instants are ISO 8601 in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["active", "suspended", "completed", "cancelled"]
#: The largest whole number a database column holds (a signed 64-bit integer).
INT64 = 2**63 - 1
#: A version, round or id: 1 up to what a column holds.
Positive = Annotated[int, Field(ge=1, le=INT64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests -----------------------------------------------------------------------------


class StartRequest(_In):
    """Start a case of ``workflow`` (its newest version unless ``version`` is given)."""

    workflow: str
    data: dict[str, Any] = Field(default_factory=dict)
    org: str | None = None
    business_key: str | None = None
    version: Positive | None = None


class FireRequest(_In):
    """Fire an event; ``expected_version`` (or ``If-Match``) guards a stale screen."""

    payload: dict[str, Any] | None = None
    comment: str | None = None
    expected_version: Positive | None = None


class ExtendRequest(_In):
    reason: str


class BallotRequest(_In):
    """``yes``, ``no`` or ``abstain``; ``voter`` when a clerk records an in-person ballot."""

    choice: str
    voter: str | None = None


class AttendRequest(_In):
    """Register a voter as present (``voter`` omitted: the caller)."""

    voter: str | None = None


class CloseVoteRequest(_In):
    reason: str = "closed by the clerk"


class OperatorRequest(_In):
    """An operator's action on a case; ``reason`` is recorded in its history."""

    reason: str
    expected_version: Positive | None = None


class MoveRequest(OperatorRequest):
    to_state: str


class ReassignRequest(OperatorRequest):
    org: str | None = None
    assignee: str | None = None


class RetryRequest(_In):
    reason: str = "retry"
    expected_version: Positive | None = None
    run_now: bool = True


class TaskRequest(_In):
    """Claim or release a case; ``expected_version`` (or ``If-Match``) guards a stale list."""

    expected_version: Positive | None = None


class HandOverRequest(TaskRequest):
    """Assign or delegate a case to the person ``to`` (an actor id)."""

    to: str


class FireByKeyRequest(_In):
    """Fire an event on the case found by its workflow and business key."""

    payload: dict[str, Any] | None = None


class MessageRequest(_In):
    """
    A message from outside, correlated by its name and a business key; ``message_id``
    (or ``Idempotency-Key``) makes a redelivery one effect.
    """

    message: str
    business_key: str
    message_id: str | None = None
    payload: dict[str, Any] | None = None


# -- responses ----------------------------------------------------------------------------


class ActorOut(BaseModel):
    id: str
    roles: list[str]
    org: str


class CaseOut(BaseModel):
    id: str
    workflow: str
    workflow_version: int
    state: str
    status: Status
    data: dict[str, Any]
    org: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    business_key: str | None
    escalation_level: int
    assignee: str | None
    parent_id: str | None


class CaseRowOut(CaseOut):
    """A case in a listing, with its worst clock status, next due time, open incidents."""

    clock_status: str | None
    next_due: dt.datetime | None
    last_day: dt.date | None
    open_incidents: int


class HistoryOut(BaseModel):
    case_id: str
    seq: int
    version: int
    at: dt.datetime
    recorded_at: dt.datetime | None
    kind: str
    event: str | None
    from_state: str | None
    to_state: str | None
    actor_id: str
    actor_roles: list[str]
    actor_org: str
    details: dict[str, Any]


class ClockOut(BaseModel):
    """A clock; ``status`` as every listing judges it now (breached past its due time)."""

    name: str
    status: str
    last_day: dt.date | None
    due_at: dt.datetime | None
    provisional: bool
    days_left: int | None
    extensions: int
    escalation_step: int
    not_yet_swept: bool


class WorkClockOut(BaseModel):
    """
    The running clock due soonest, as a worklist shows it: ``left`` in its own unit
    (``left_unit``: ``workdays``, ``days`` or ``hours``), ``days_left`` in calendar days.
    """

    name: str
    status: str
    last_day: dt.date | None
    due_at: dt.datetime | None
    provisional: bool
    days_left: int | None
    left: int | None
    left_unit: str | None
    extensions: int
    escalation_step: int


class WorkRowOut(CaseRowOut):
    """A case on a worklist: its state's title, the events the caller may fire, its clock."""

    state_title: str
    events: list[str]
    clock: WorkClockOut | None


class WorkCountOut(BaseModel):
    """Cases on the caller's worklist in one state, and of them breached."""

    workflow: str
    state: str
    cases: int
    breached: int


class TaskCountOut(BaseModel):
    """Open tasks in one state of one org unit, claimed or not, and of them breached."""

    org: str
    workflow: str
    state: str
    tasks: int
    breached: int


class EventsOut(BaseModel):
    """The events the caller may fire on the case now (by state and role)."""

    case_id: str
    events: list[str]


class VoteOut(BaseModel):
    case_id: str
    state: str
    round: int
    status: str
    secret: bool
    electorate: int
    present: int
    yes: int
    no: int
    abstain: int
    min_present: int
    min_yes: int | None
    result: dict[str, Any] | None
    ballots: list[list[str | None]]
    attendance: list[list[str]]


class OverdueOut(BaseModel):
    case: CaseOut
    clock: ClockOut


class IncidentOut(BaseModel):
    id: int
    case_id: str
    timer_id: int
    action: str
    error: str
    attempts: int
    status: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str | None
    reason: str | None


class ResolvedOut(BaseModel):
    """What ``retry``/``skip`` did: incidents resolved, and the case afterwards."""

    resolved: int
    case: CaseOut
