"""
Plain domain objects handed to callers: :class:`Actor`, :class:`Case`, :class:`HistoryEntry`.

Each has a JSON form (``to_dict()``) with the field names the CLI's ``--json`` prints;
instants are ISO 8601 strings in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["active", "suspended", "completed", "cancelled"]

SYSTEM_ROLE = "system"


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class Actor:
    """
    Who acts: an id, the roles held, and the org unit path (``hainan/haikou/longhua``).

    Roles are the host's: a role named ``system`` copied from an identity provider is an
    ordinary role. Only the engine's own identity (:meth:`system`) bypasses roles, org
    scope and the automatic-event rule.

    .. versionadded:: 0.1
    """

    id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    org: str = ""

    def __init__(self, id: str, roles: Any = (), org: str = "") -> None:  # noqa: A002
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", frozenset([roles] if isinstance(roles, str) else roles))
        object.__setattr__(self, "org", org)

    @classmethod
    def system(cls, reason: str = "engine") -> Actor:
        """The engine itself: fires automatic events (timers, breaches)."""
        return _SystemActor(f"system:{reason}", {SYSTEM_ROLE})

    @property
    def is_system(self) -> bool:
        """True only for the engine's own identity (never for a host's actor)."""
        return False

    def as_context(self) -> dict[str, Any]:
        return {"id": self.id, "roles": sorted(self.roles), "org": self.org}

    def to_dict(self) -> dict[str, Any]:
        return self.as_context()


class _SystemActor(Actor):
    """The engine's identity; made only by :meth:`Actor.system`."""

    __slots__ = ()

    @property
    def is_system(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Case:
    """One running instance of a workflow version, as stored."""

    id: str
    workflow: str
    workflow_version: int
    state: str
    status: Status
    data: dict[str, Any]
    org: str
    #: The number of commands applied to the case (start is 1).
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    business_key: str | None = None
    escalation_level: int = 0
    assignee: str | None = None
    #: The case that started this one (a call activity), if any.
    parent_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflow": self.workflow,
            "workflow_version": self.workflow_version,
            "state": self.state,
            "status": self.status,
            "data": self.data,
            "org": self.org,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "business_key": self.business_key,
            "escalation_level": self.escalation_level,
            "assignee": self.assignee,
            "parent_id": self.parent_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        return cls(
            id=data["id"],
            workflow=data["workflow"],
            workflow_version=data["workflow_version"],
            state=data["state"],
            status=data["status"],
            data=data["data"],
            org=data["org"],
            version=data["version"],
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            updated_at=dt.datetime.fromisoformat(data["updated_at"]),
            business_key=data.get("business_key"),
            escalation_level=data.get("escalation_level", 0),
            assignee=data.get("assignee"),
            parent_id=data.get("parent_id"),
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """
    One line of a case's append-only history: a transition, a clock change, an operator
    action, a ballot, ...

    ``seq`` numbers a case's lines 1, 2, 3, ... (unique, in the order written);
    ``version`` is the case version the line belongs to (one command writes one version,
    possibly several lines). ``at`` is when it took effect (a timer's effect is dated at
    its due time); ``recorded_at`` is when it was written.
    """

    case_id: str
    seq: int
    at: dt.datetime
    kind: str
    event: str | None
    from_state: str | None
    to_state: str | None
    actor_id: str
    actor_roles: tuple[str, ...]
    actor_org: str
    details: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    recorded_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "seq": self.seq,
            "version": self.version,
            "at": self.at.isoformat(),
            "recorded_at": _iso(self.recorded_at),
            "kind": self.kind,
            "event": self.event,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "actor_id": self.actor_id,
            "actor_roles": list(self.actor_roles),
            "actor_org": self.actor_org,
            "details": self.details,
        }
