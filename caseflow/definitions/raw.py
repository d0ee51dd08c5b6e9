"""
The shape of a workflow file, element by element, as admins write it.

Each element (the header, one state, one event, one clock) is validated on its own, so
a mistake in one element does not hide the mistakes in the others.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid", populate_by_name=True)


class RawActionConfig(BaseModel):
    model_config = _STRICT

    title: str = ""
    retries: int = Field(default=3, ge=0)
    backoff_seconds: float = Field(default=30.0, ge=0)


class RawActionRef(BaseModel):
    model_config = _STRICT

    action: str
    params: dict[str, Any] = Field(default_factory=dict)


ActionRefs = list[str | RawActionRef]


class RawHeader(BaseModel):
    model_config = _STRICT

    workflow: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    title: str = ""
    timezone: str = "Asia/Shanghai"
    calendar: str = "cn"
    roles: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    actions: dict[str, RawActionConfig] = Field(default_factory=dict)
    org_scope: bool = False
    public_roles: list[str] = Field(default_factory=list)


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

    items: str = Field(pattern=r"^(payload|data)\.[A-Za-z_][A-Za-z0-9_]*$")
    join: Literal["all"] | int = "all"
    report_roles: list[str]
    on_complete: str
    clock: str | None = None


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


class RawBranch(BaseModel):
    model_config = _STRICT

    to: str
    when: str | None = None


class RawEvent(BaseModel):
    model_config = _STRICT

    from_: str | list[str] = Field(alias="from")
    to: str | list[RawBranch]
    title: str = ""
    roles: list[str] = Field(default_factory=list)
    automatic: bool = False
    payload: dict[str, Any] | None = None
    actions: ActionRefs = Field(default_factory=list)
    org: Literal["parent", "payload"] | None = None


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
    times: int = Field(default=1, ge=1)
    roles: list[str]
    reason: Literal["required", "optional"] = "required"


class RawEscalation(BaseModel):
    model_config = _STRICT

    after: str
    notify: list[str] = Field(default_factory=list)
    to_org: Literal["parent"] | None = None
    fire: str | None = None


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
    by_level: dict[str, RawLevelLimit] = Field(default_factory=dict)
    per_item: bool = False
    escalate: list[RawEscalation] = Field(default_factory=list)


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
