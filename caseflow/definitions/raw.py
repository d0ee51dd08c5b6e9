"""
The shape of a workflow file, element by element, as admins write it.

Each element (the header, one state, one event, one clock) is validated on its own, so
a mistake in one element does not hide the mistakes in the others.

Validation is strict, as JSON Schema is: ``'1'`` and ``true`` are not the integer 1,
``5`` is not the string ``'5'``. JSON has one number type, so ``2.0`` is the integer 2
(as for every JSON Schema validator). The shipped JSON Schema is generated from these
models (:mod:`caseflow.export.schema`), and a test runs edge documents through both.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from caseflow.definitions.limits import (
    MAX_BACKOFF_SECONDS,
    MAX_LEVEL,
    MAX_NAME,
    MAX_RETRIES,
    MAX_TIMES,
    MAX_VERSION,
)

# `$(?!\n)`: the end of the text for pydantic (Python re), jsonschema and editors alike.
_STRICT = ConfigDict(extra="forbid", populate_by_name=True, strict=True, regex_engine="python-re")


def _integral(value: Any) -> Any:
    """``2.0`` is the integer 2 in JSON (and in the schema); ``true`` and ``'2'`` are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


_INTEGRAL = BeforeValidator(_integral)
#: A name of a role (or a state, event, clock, action): it goes into String(100) columns.
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
#: A dotted path into data or a payload: ``agreement.effective_on``.
_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$(?!\n)"


class RawActionConfig(BaseModel):
    model_config = _STRICT

    title: str = ""
    retries: Annotated[int, Field(ge=0, le=MAX_RETRIES), _INTEGRAL] = 3
    backoff_seconds: float = Field(default=30.0, ge=0, le=MAX_BACKOFF_SECONDS)


class RawActionRef(BaseModel):
    model_config = _STRICT

    action: str
    params: dict[str, Any] = Field(default_factory=dict)


ActionRefs = list[str | RawActionRef]


class RawHeader(BaseModel):
    model_config = _STRICT

    workflow: str = Field(pattern=r"^[a-z][a-z0-9_]*$(?!\n)", max_length=MAX_NAME)
    version: Annotated[int, Field(ge=1, le=MAX_VERSION), _INTEGRAL]
    title: str = ""
    timezone: str = "Asia/Shanghai"
    calendar: str = "cn"
    roles: list[Name] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    actions: dict[Name, RawActionConfig] = Field(default_factory=dict)
    org_scope: bool = False
    public_roles: list[str] = Field(default_factory=list)
    start_level: RawStartLevel | None = None


class RawStartLevel(BaseModel):
    """Where a case starts by a data field (大事不出村镇: a major dispute starts higher up)."""

    model_config = _STRICT

    data: Name
    levels: dict[Name, Annotated[str, Field(min_length=1, max_length=MAX_LEVEL)]]


class RawNotice(BaseModel):
    """Tell people in roles, in the case's unit: ``{data.x}`` and ``{payload.x}`` fill in."""

    model_config = _STRICT

    roles: Annotated[list[Name], Field(min_length=1)]
    message: Annotated[str, Field(min_length=1, max_length=2000)]


class RawElectorate(BaseModel):
    model_config = _STRICT

    data: str | None = None
    provider: str | None = None
    group: str | None = None


class RawVote(BaseModel):
    model_config = _STRICT

    electorate: RawElectorate
    rule: dict[str, Any] = Field(default_factory=lambda: {"preset": "representative_meeting"})
    ballot: Literal["open", "secret"] = "secret"
    closes_after: str | None = None
    close_when_all_voted: bool = True
    clerk_roles: list[str] = Field(default_factory=list)
    on_pass: str
    on_fail: str
    on_no_quorum: str | None = None


class RawParallel(BaseModel):
    model_config = _STRICT

    items: str = Field(pattern=r"^(payload|data)\.[A-Za-z_][A-Za-z0-9_]*$(?!\n)")
    join: Literal["all"] | Annotated[int, Field(ge=1), _INTEGRAL] = "all"
    report_roles: list[str]
    on_complete: str
    clock: str | None = None


class RawAssignee(BaseModel):
    """Who works on a state: the person named in the case data, or holders of one role."""

    model_config = _STRICT

    data: Annotated[str, Field(pattern=_PATH, max_length=200)] | None = None
    role: Name | None = None
    #: Only actors of this org unit (or below it) work on the state, e.g. a county bureau.
    unit: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")] | None = (
        None
    )


class RawCall(BaseModel):
    """A call activity: entering the state starts a case of another workflow, linked."""

    model_config = _STRICT

    workflow: Name
    #: Child data from the parent's: child field -> ``data.x`` / ``payload.x`` / a literal.
    data: dict[Name, Any] = Field(default_factory=dict)
    #: The parent waits: the child's outcome fires these events on the parent.
    on_success: Name | None = None
    on_failure: Name | None = None
    #: Cancelling the parent cancels the child while it runs.
    cancel_with_parent: bool = True


class RawState(BaseModel):
    model_config = _STRICT

    title: str = ""
    initial: bool = False
    final: bool = False
    outcome: Literal["success", "failure"] | None = None
    vote: RawVote | None = None
    parallel: RawParallel | None = None
    on_enter: ActionRefs = Field(default_factory=list)
    on_exit: ActionRefs = Field(default_factory=list)
    assignee: RawAssignee | None = None
    call: RawCall | None = None


class RawBranch(BaseModel):
    model_config = _STRICT

    to: str
    when: str | None = None


class RawEvent(BaseModel):
    model_config = _STRICT

    from_: str | Annotated[list[str], Field(min_length=1)] = Field(alias="from")
    to: str | Annotated[list[RawBranch], Field(min_length=1)]
    title: str = ""
    roles: list[str] = Field(default_factory=list)
    automatic: bool = False
    payload: dict[str, Any] | None = None
    actions: ActionRefs = Field(default_factory=list)
    org: Literal["parent", "payload"] | None = None
    notify: list[RawNotice] = Field(default_factory=list)
    #: The name of a message from outside that fires this event (see Engine.message).
    message: Name | None = None


class RawTrigger(BaseModel):
    model_config = _STRICT

    enter: str | list[str] = Field(default_factory=list)
    event: str | list[str] = Field(default_factory=list)


class RawBreach(BaseModel):
    model_config = _STRICT

    fire: str | None = None
    notify: list[str] = Field(default_factory=list)
    move_up: bool = False
    at_top: str | None = None


class RawLevelLimit(BaseModel):
    model_config = _STRICT

    limit: str


class RawExtension(BaseModel):
    model_config = _STRICT

    by: str
    times: Annotated[int, Field(ge=1, le=MAX_TIMES), _INTEGRAL] = 1
    roles: list[str]
    reason: Literal["required", "optional"] = "required"
    #: Roles told of the extension and its reason (行政许可法 art. 42: the applicant).
    notify: list[Name] = Field(default_factory=list)


class RawEscalation(BaseModel):
    model_config = _STRICT

    after: str
    notify: list[str] = Field(default_factory=list)
    to_org: Literal["parent"] | None = None
    fire: str | None = None


class RawAnchor(BaseModel):
    """Where a clock's period starts, instead of the moment it starts running."""

    model_config = _STRICT

    #: Only when the clock starts on this event (any start when absent).
    event: Name | None = None
    #: The moment another clock of the case started (行政许可法 art. 32: deemed acceptance
    #: counts from the receipt of the application).
    clock: Name | None = None
    #: A date (``YYYY-MM-DD``) or instant in the payload or the case data (``a.b``).
    payload: Annotated[str, Field(pattern=_PATH, max_length=200)] | None = None
    data: Annotated[str, Field(pattern=_PATH, max_length=200)] | None = None


class RawByData(BaseModel):
    """Limits chosen by a data field (a 12345 request's type)."""

    model_config = _STRICT

    field: Name
    limits: dict[Name, str]


class RawClock(BaseModel):
    model_config = _STRICT

    limit: str
    runs_in: list[str] = Field(default_factory=list)
    starts_on: RawTrigger | None = None
    paused_in: list[str] = Field(default_factory=list)
    stops_on: RawTrigger | None = None
    on_breach: RawBreach | None = None
    extension: RawExtension | None = None
    warn_before: str | None = None
    warn_notify: list[str] | None = None
    by_level: dict[Annotated[str, Field(min_length=1, max_length=MAX_LEVEL)], RawLevelLimit] = (
        Field(default_factory=dict)
    )
    per_item: bool = False
    escalate: list[RawEscalation] = Field(default_factory=list)
    anchors: list[RawAnchor] = Field(default_factory=list)
    by_data: RawByData | None = None


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
