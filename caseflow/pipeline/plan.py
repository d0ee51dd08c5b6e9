"""
A plan: everything one command writes, decided by the pure planner, applied by the one
writer (:func:`caseflow.store.writer.apply_plan`) in one transaction.

The case row is written once, with the version check, and its version goes up by one:
``version`` counts the commands applied to the case. History lines are numbered by the
plan (``seq``), so two writers can never both write line ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt

    from caseflow.cases import Case, HistoryEntry
    from caseflow.clocks.runtime import ClockState, TimerSpec


@dataclass(frozen=True, slots=True)
class OpenRound:
    state: str
    number: int
    electorate: tuple[str, ...]
    rule: dict[str, Any]
    secret: bool
    closes_at: dt.datetime | None
    key_wrapped: bytes | None = None


@dataclass(frozen=True, slots=True)
class FinishRound:
    vote_id: int
    status: str
    result: dict[str, Any] | None
    #: Erase the round's sealed ballots and wrapped key (a sealed round that ends).
    erase: bool = False


@dataclass(frozen=True, slots=True)
class AttendVote:
    vote_id: int
    voter: str
    how: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class Ballot:
    vote_id: int
    voter: str
    choice: str
    secret: bool
    sealed: bytes | None = None


VoteOp = OpenRound | FinishRound | AttendVote | Ballot


@dataclass(frozen=True, slots=True)
class OpenItems:
    state: str
    number: int
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CloseItem:
    state: str
    number: int
    item: str
    status: str
    by: str
    result: dict[str, Any] | None


ItemOp = OpenItems | CloseItem


@dataclass(frozen=True, slots=True)
class IncidentOp:
    """Resolve open incidents (retried: their timers are re-armed; skipped: dropped)."""

    ids: tuple[int, ...]
    timer_ids: tuple[int, ...]
    status: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """An incident to open; its id is written into ``note`` (a history line's details)."""

    timer_id: int
    action: str
    error: str
    attempts: int
    note: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TimerUpdate:
    """
    What happens to the timer whose effect this command is: ``done`` (only if still
    pending: else the command is void), ``retry`` (a failed attempt, due again at
    ``retry_at``), or ``failed`` (given up; an incident goes with it).
    """

    id: int
    outcome: str
    retry_at: dt.datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    scope: str
    key: str
    fingerprint: str
    operation: str


@dataclass
class Plan:
    """What one command writes. ``base_version`` None: a new case (an insert)."""

    case: Case
    base_version: int | None
    history_count: int
    entries: list[HistoryEntry] = field(default_factory=list)
    clocks: list[tuple[ClockState, bool]] = field(default_factory=list)
    cancel: set[str] = field(default_factory=set)
    arm: list[TimerSpec] = field(default_factory=list)
    #: Timers for other cases (a child tells its parent it ended; a parent cancels a child).
    arm_elsewhere: list[tuple[str, TimerSpec]] = field(default_factory=list)
    votes: list[VoteOp] = field(default_factory=list)
    items: list[ItemOp] = field(default_factory=list)
    incidents: list[IncidentOp] = field(default_factory=list)
    open_incidents: list[OpenIncident] = field(default_factory=list)
    #: The timer whose effect this is: updated in the same transaction.
    timer: TimerUpdate | None = None
    idempotency: IdempotencyRecord | None = None
    #: What the command returns to its caller.
    result: Any = None
    #: Key/values of the one log line written after the commit.
    log: dict[str, Any] = field(default_factory=dict)
    #: When the command took effect, and when it was written.
    at: dt.datetime | None = None
    recorded_at: dt.datetime | None = None
    #: For worklists: 0 breached, 1 warned, 2 a clock runs, 3 none; the soonest due time.
    urgency: int = 3
    next_due: dt.datetime | None = None

    @property
    def writes_case(self) -> bool:
        """Whether the case row is written (a command that changed nothing writes nothing)."""
        return bool(self.entries)
