"""Plain domain objects handed to callers: :class:`Actor`, :class:`Case`, :class:`HistoryEntry`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import datetime as dt

Status = Literal["active", "suspended", "completed", "cancelled"]

SYSTEM_ROLE = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """
    Who acts: an id, the roles held, and the org unit path (``hainan/haikou/longhua``).

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
        return cls(f"system:{reason}", {SYSTEM_ROLE})

    @property
    def is_system(self) -> bool:
        return SYSTEM_ROLE in self.roles

    def as_context(self) -> dict[str, Any]:
        return {"id": self.id, "roles": sorted(self.roles), "org": self.org}


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
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    business_key: str | None = None
    escalation_level: int = 0
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a case's append-only history: a transition, an operator action, ..."""

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


def note_entry(
    case: Any, actor: Actor, at: dt.datetime, kind: str, details: dict[str, Any]
) -> HistoryEntry:
    """A history line that records something other than a transition (clock, vote, item)."""
    return HistoryEntry(
        case.id,
        case.version,
        at,
        kind,
        None,
        case.state,
        case.state,
        actor.id,
        tuple(sorted(actor.roles)),
        actor.org,
        details,
    )
