"""
Stored records other than cases and history, as plain frozen dataclasses.

The store maps rows into these and the pure planner reads them; nothing here does I/O.
Each has a JSON form (``to_dict()``) with the field names the CLI's ``--json`` prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


def _json(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value


class _Jsonable:
    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: _json(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }


@dataclass(frozen=True, slots=True)
class Timer(_Jsonable):
    """A durable timer row: do ``kind`` for ``clock`` of ``case_id`` at ``due_at``."""

    id: int
    case_id: str
    kind: str
    clock: str | None
    step: int
    due_at: dt.datetime
    status: str
    #: Failed attempts of its effect so far (claims are not attempts).
    attempts: int
    provisional: bool
    payload: dict[str, Any] | None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class VoteRound(_Jsonable):
    """One round of a vote, as stored."""

    id: int
    case_id: str
    state: str
    round: int
    electorate_size: int
    rule: dict[str, Any]
    secret: bool
    status: str
    opened_at: dt.datetime
    closes_at: dt.datetime | None
    closed_at: dt.datetime | None
    result: dict[str, Any] | None
    #: A secret round's key, wrapped with the ballot secret (never shown; see caseflow.sealing).
    key_wrapped: bytes | None = field(default=None, repr=False)

    @property
    def sealed(self) -> bool:
        """A secret round whose ballots are sealed until it closes."""
        return self.secret and self.key_wrapped is not None

    def to_dict(self) -> dict[str, Any]:
        out = _Jsonable.to_dict(self)
        out.pop("key_wrapped", None)
        return out


@dataclass(frozen=True, slots=True)
class WorkItem(_Jsonable):
    """One unit's part in parallel handling (a state entered again opens a new round)."""

    case_id: str
    state: str
    round: int
    item: str
    status: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by: str | None
    result: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Incident(_Jsonable):
    """A stuck side effect (or timer) of a case, and what an operator did about it."""

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
