"""
What the engine's queries return besides cases and history: clocks, votes, listing rows.

Plain frozen dataclasses with a JSON form (``to_dict()``, the field names the CLI's
``--json`` prints).

.. versionadded:: 0.1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from caseflow.clocks.periods import Due, remaining
from caseflow.clocks.runtime import local_day

if TYPE_CHECKING:
    import datetime as dt

    from caseflow.abc import Calendar
    from caseflow.cases import Case
    from caseflow.clocks.durations import Unit
    from caseflow.clocks.runtime import ClockState
    from caseflow.definitions.model import WorkflowDef


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class ClockView:
    """
    A clock of a case as a listing shows it: status, due time, and what is left.

    ``days_left`` is calendar days from today to the last day; ``left`` is what is left
    in the clock's own unit (``left_unit``: working days for a ``workdays`` limit, counting
    today if it is one; hours for an ``hours`` limit), negative once overdue
    (:func:`caseflow.clocks.periods.remaining`). Both None unless the clock runs.
    """

    name: str
    status: str
    due_at: dt.datetime | None
    last_day: dt.date | None
    provisional: bool
    days_left: int | None
    extensions: int
    escalation_step: int
    state: ClockState
    left: int | None = None
    left_unit: str | None = None

    @classmethod
    def of(
        cls,
        state: ClockState,
        now: dt.datetime,
        tz: str,
        calendar: Calendar | None = None,
        unit: str | None = None,
    ) -> ClockView:
        days_left = left = None
        last_day, due_at = state.last_day, state.due_at
        if state.phase == "running" and last_day is not None:
            days_left = (last_day - local_day(now, tz)).days
            if calendar is not None and unit is not None and due_at is not None:
                due = Due(last_day, due_at, state.provisional)
                found = remaining(due, now, calendar, tz, cast("Unit", unit))
                left, unit = found.amount, found.unit
        return cls(
            state.name,
            state.status,
            state.due_at,
            state.last_day,
            state.provisional,
            days_left,
            state.extensions,
            state.escalation_step,
            state,
            left,
            unit if left is not None else None,
        )

    @classmethod
    def of_case(
        cls, state: ClockState, now: dt.datetime, definition: WorkflowDef, calendar: Calendar | None
    ) -> ClockView:
        """The view with ``left`` in the unit of the limit the clock runs under."""
        spec = definition.clocks.get(state.name.partition("@")[0])
        unit = spec.limit_for(state.level, state.variant).unit if spec is not None else None
        return cls.of(state, now, definition.timezone, calendar, unit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "last_day": _iso(self.last_day),
            "due_at": _iso(self.due_at),
            "provisional": self.provisional,
            "days_left": self.days_left,
            "left": self.left,
            "left_unit": self.left_unit,
            "extensions": self.extensions,
            "escalation_step": self.escalation_step,
        }


@dataclass(frozen=True, slots=True)
class VoteView:
    """A vote round as ``caseflow votes show`` prints it."""

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
    ballots: list[tuple[str, str | None]]
    attendance: list[tuple[str, str, str]]
    #: Ballots cast so far (who voted is public; what they chose is not, in a secret vote).
    cast: int = 0
    #: A secret round still open: its ballots are sealed, the counts are 0 until it closes.
    sealed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "state": self.state,
            "round": self.round,
            "status": self.status,
            "secret": self.secret,
            "electorate": self.electorate,
            "present": self.present,
            "yes": self.yes,
            "no": self.no,
            "abstain": self.abstain,
            "min_present": self.min_present,
            "min_yes": self.min_yes,
            "result": self.result,
            "ballots": [list(b) for b in self.ballots],
            "attendance": [list(a) for a in self.attendance],
            "cast": self.cast,
            "sealed": self.sealed,
        }


class UnitCounts(NamedTuple):
    """A unit's open cases (active and suspended; its own, not its sub-units') and, of
    those, the ones whose worst clock is warned or breached now, as ``cases list``
    colours them (:func:`clock_status`)."""

    open: int = 0
    warned: int = 0
    breached: int = 0


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case as a listing shows it: its worst clock status, next due time, open incidents."""

    case: Case
    clock_status: str | None
    next_due: dt.datetime | None
    open_incidents: int
    #: The last day of the running clock due soonest (its deadline ends at 24:00 of it).
    last_day: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.case.to_dict(),
            "clock_status": self.clock_status,
            "next_due": _iso(self.next_due),
            "last_day": _iso(self.last_day),
            "open_incidents": self.open_incidents,
        }


@dataclass(frozen=True, slots=True)
class WorkRow(CaseRow):
    """
    A case on a worklist: the listing row, the state's title, the events the actor may
    fire now (guards are checked when they fire), and the running clock due soonest with
    what is left of it in its own unit (``clock.left``, ``clock.left_unit``) and in
    calendar days (``clock.days_left``).
    """

    state_title: str = ""
    events: tuple[str, ...] = ()
    clock: ClockView | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **CaseRow.to_dict(self),
            "state_title": self.state_title,
            "events": list(self.events),
            "clock": None if self.clock is None else self.clock.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CalendarStatus:
    """
    Which years each calendar in use has official data for (``official``) and which it
    computes by its provisional rule (``provisional``: for ``cn`` the statutory holidays
    and their in-lieu days, without the make-up working days a State Council notice adds),
    and the running or paused clocks whose deadline is provisional, by year of their last
    day: year -> (clocks, cases).
    """

    years: dict[str, dict[int, str]]
    provisional: dict[int, tuple[int, int]]

    @property
    def provisional_clocks(self) -> int:
        return sum(n for n, _ in self.provisional.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "calendars": {
                name: {str(y): s for y, s in ys.items()} for name, ys in self.years.items()
            },
            "provisional_clocks": self.provisional_clocks,
            "provisional_by_year": {
                str(y): {"clocks": n, "cases": c} for y, (n, c) in self.provisional.items()
            },
        }


@dataclass(frozen=True, slots=True)
class DeadlineMove:
    """A provisional deadline recomputed once a calendar was loaded: where it was, where it
    is now (``shift``: calendar days later, negative if earlier), still provisional or not."""

    case_id: str
    clock: str
    old_last_day: dt.date | None
    new_last_day: dt.date | None
    provisional: bool

    @property
    def shift(self) -> int:
        if self.old_last_day is None or self.new_last_day is None:
            return 0
        return (self.new_last_day - self.old_last_day).days

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "clock": self.clock,
            "old_last_day": _iso(self.old_last_day),
            "new_last_day": _iso(self.new_last_day),
            "shift_days": self.shift,
            "provisional": self.provisional,
        }


@dataclass(frozen=True, slots=True)
class EventChoice:
    """An event the case can take in its current state, and who may fire it."""

    name: str
    title: str
    to: tuple[str, ...]
    roles: tuple[str, ...]
    automatic: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "to": list(self.to),
            "roles": list(self.roles),
            "automatic": self.automatic,
        }


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A side effect queued or being retried (not yet done, not yet an incident)."""

    timer_id: int
    action: str
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return {"timer_id": self.timer_id, "action": self.action, "attempts": self.attempts}


#: Clock statuses from worst to best, as a listing colours a case.
SEVERITY = ("breached", "warned", "running", "paused")


def clock_status(states: Any, now: dt.datetime) -> str | None:
    """
    The worst status among a case's clocks, judged at ``now``.

    ``breached``: a running clock past its due time (swept or not yet); ``warned``: one in
    its warning window; ``running``; ``paused``; None when no clock is running or paused.
    """
    found: set[str] = set()
    for s in states:
        if s.phase == "paused":
            found.add("paused")
        elif s.phase == "running":
            if s.breached_at is not None or (s.due_at is not None and s.due_at <= now):
                found.add("breached")
            elif s.warned_at is not None or (s.warn_at is not None and s.warn_at <= now):
                found.add("warned")
            else:
                found.add("running")
    return next((s for s in SEVERITY if s in found), None)
