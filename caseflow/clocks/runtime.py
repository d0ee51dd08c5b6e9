"""
Clocks on a case, pure: what a transition does to each clock, and which timers follow.

A clock starts when the case enters one of its ``runs_in`` states (or a ``starts_on``
state, or on a ``starts_on`` event); pauses in ``paused_in`` states (行政许可法 art. 45:
hearing, testing and expert time is not counted); stops on ``stops_on``, on leaving its
``runs_in`` states, and when the case ends. Paused days are local days ``[A, B)``: from
the day the pause began up to, not including, the day it ended. The due time is always
recomputed from the start instant, the closed pauses and the extensions, so it never
drifts. The engine stores :class:`ClockState` rows and the :class:`TimerSpec` timers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from caseflow.clocks import anchors
from caseflow.clocks.durations import Duration
from caseflow.clocks.periods import Due, after, compute_due, warn_at

if TYPE_CHECKING:
    from collections.abc import Mapping

    from caseflow.abc import Calendar
    from caseflow.clocks.anchors import StartContext
    from caseflow.definitions.model import ClockDef, WorkflowDef

Phase = Literal["running", "paused", "stopped"]
TimerKind = Literal[
    "warn",
    "breach",
    "escalate",
    "notify",
    "vote_close",
    "action",
    "child_start",
    "child_done",
    "child_cancel",
]


@dataclass(frozen=True, slots=True)
class ClockState:
    """One clock of one case, as stored."""

    name: str
    phase: Phase
    started_at: dt.datetime
    pauses: tuple[tuple[dt.date, dt.date | None], ...] = ()
    extensions: int = 0
    due_at: dt.datetime | None = None
    last_day: dt.date | None = None
    provisional: bool = False
    warn_at: dt.datetime | None = None
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    escalation_step: int = 0
    stopped_at: dt.datetime | None = None
    #: The org level the limit was taken for (``by_level``), and for a per-item clock its unit.
    level: str | None = None
    org: str | None = None
    #: The data value the limit was taken for (``by_data``: a request's type).
    variant: str | None = None

    @property
    def status(self) -> str:
        """``stopped``, ``paused``, ``breached`` (red), ``warned`` (yellow) or ``running``."""
        if self.phase != "running":
            return self.phase
        if self.breached_at is not None:
            return "breached"
        if self.warned_at is not None:
            return "warned"
        return "running"

    @property
    def active(self) -> bool:
        return self.phase in ("running", "paused")


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """A timer to arm: do ``kind`` for ``clock`` at ``due_at``."""

    kind: TimerKind
    clock: str
    due_at: dt.datetime
    step: int = 0
    provisional: bool = False
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to send (after commit): ``message`` to ``roles`` at ``org``."""

    clock: str
    roles: tuple[str, ...]
    org: str
    message: str


@dataclass
class ClockPlan:
    """
    What a transition or a timer did to the clocks: new states, timers to cancel and arm,
    history notes, notifications, and what the case must do next (fire an event, move up
    the org tree by ``levels_up`` escalation levels to ``org``).
    """

    changed: dict[str, ClockState] = field(default_factory=dict)
    cancel: set[str] = field(default_factory=set)
    arm: list[TimerSpec] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    fire: tuple[str, str] | None = None
    org: str | None = None
    levels_up: int = 0

    def merge(self, other: ClockPlan) -> None:
        self.changed.update(other.changed)
        self.cancel |= other.cancel
        self.arm.extend(other.arm)
        self.notes.extend(other.notes)
        self.notices.extend(other.notices)
        self.fire = other.fire or self.fire
        self.org = other.org or self.org
        self.levels_up += other.levels_up


def local_day(instant: dt.datetime, tz: str) -> dt.date:
    return instant.astimezone(ZoneInfo(tz)).date()


def effective_limit(
    clock: ClockDef, extensions: int, level: str | None = None, variant: str | None = None
) -> list[Duration]:
    """The limit (for the data value, at the org level) and any extensions; same units add
    up (20 + 10 workdays)."""
    limit = clock.limit_for(level, variant)
    if extensions == 0 or clock.extension is None:
        return [limit]
    by = clock.extension.by
    if by.unit == limit.unit:
        return [Duration(limit.amount + by.amount * extensions, by.unit)]
    return [limit] + [by] * extensions


def schedule(
    clock: ClockDef, state: ClockState, calendar: Calendar, tz: str, now: dt.datetime
) -> tuple[ClockState, list[TimerSpec]]:
    """Recompute due and warning instants of a running clock and the timers to arm."""
    pauses = [(a, b) for a, b in state.pauses if b is not None]
    limits = effective_limit(clock, state.extensions, state.level, state.variant)
    due: Due = compute_due(state.started_at, limits[0], calendar, tz, pauses=pauses)
    for extra in limits[1:]:
        more = after(due, extra, calendar, tz)
        due = Due(more.last_day, more.due_at, due.provisional or more.provisional)
    warn = warn_at(due, clock.warn_before, calendar, tz) if clock.warn_before else None
    state = dataclasses.replace(
        state, due_at=due.due_at, last_day=due.last_day, provisional=due.provisional, warn_at=warn
    )
    timers: list[TimerSpec] = []
    if warn is not None and state.warned_at is None and state.breached_at is None:
        timers.append(TimerSpec("warn", state.name, max(warn, now), provisional=due.provisional))
    if state.breached_at is None:
        timers.append(TimerSpec("breach", state.name, due.due_at, provisional=due.provisional))
    else:  # breached, then paused and resumed: the ladder goes on where it stopped
        following = escalation_timer(clock, state, state.escalation_step, calendar, tz)
        timers.extend([following] if following is not None else [])
    return state, timers


def escalation_timer(
    clock: ClockDef, state: ClockState, step: int, calendar: Calendar, tz: str
) -> TimerSpec | None:
    """The timer for escalation step ``step`` (0-based), counted from the due time."""
    if step >= len(clock.escalate) or state.due_at is None or state.last_day is None:
        return None
    due = Due(state.last_day, state.due_at, state.provisional)
    at = after(due, clock.escalate[step].after, calendar, tz)
    return TimerSpec("escalate", state.name, at.due_at, step=step, provisional=at.provisional)


def _note(action: str, state: ClockState, **extra: Any) -> dict[str, Any]:
    note: dict[str, Any] = {"clock": state.name, "action": action}
    if state.due_at is not None and action in (
        "started",
        "resumed",
        "extended",
        "recomputed",
        "restarted",
    ):
        note["due_at"] = state.due_at.isoformat()
        note["last_day"] = state.last_day.isoformat() if state.last_day else None
        note["provisional"] = state.provisional
    note.update(extra)
    return note


def _starts(clock: ClockDef, event: str | None, entered: str | None) -> bool:
    if entered is not None and (entered in clock.runs_in):
        return True
    trig = clock.starts_on
    if trig is None:
        return False
    return (entered is not None and entered in trig.enter) or (event in trig.events)


def _stops(clock: ClockDef, event: str | None, entered: str | None, final: bool) -> bool:
    if final:
        return True
    trig = clock.stops_on
    if trig is not None and (
        (entered is not None and entered in trig.enter) or event in trig.events
    ):
        return True
    return (
        bool(clock.runs_in)
        and entered is not None
        and entered not in clock.runs_in
        and entered not in clock.paused_in
    )


def on_transition(
    definition: WorkflowDef,
    clocks: Mapping[str, ClockState],
    *,
    event: str | None,
    entered: str | None,
    now: dt.datetime,
    calendar: Calendar,
    level: str | None = None,
    context: StartContext | None = None,
) -> ClockPlan:
    """
    Apply one transition (or the case's start, with ``event=None``) to every clock. A
    clock that starts counts from its anchor, if it has one (:mod:`caseflow.clocks.anchors`).
    """
    plan = ClockPlan()
    tz = definition.timezone
    final = entered is not None and definition.states[entered].final
    for clock in definition.clocks.values():
        state = clocks.get(clock.name)
        active = state is not None and state.active
        if active and state is not None and _stops(clock, event, entered, final):
            stopped = dataclasses.replace(state, phase="stopped", stopped_at=now)
            plan.changed[clock.name] = stopped
            plan.cancel.add(clock.name)
            plan.notes.append(_note("stopped", stopped))
            continue
        if not active and not final and _starts(clock, event, entered):
            since, told = anchors.start_of(clock, event, clocks, context, now, tz)
            fresh = ClockState(
                clock.name, "running", since, level=level, variant=anchors.variant(clock, context)
            )
            if fresh.variant is not None:
                told = {**told, "limit_for": fresh.variant}
            if entered is not None and entered in clock.paused_in:
                fresh = paused_at(fresh, pause_mark(clock, now, tz))
                plan.changed[clock.name] = fresh
                plan.notes.append(_note("started paused", fresh, **told))
                continue
            fresh, timers = schedule(clock, fresh, calendar, tz, now)
            plan.changed[clock.name] = fresh
            plan.cancel.add(clock.name)
            plan.arm.extend(timers)
            plan.notes.append(_note("started", fresh, **told))
            continue
        if not active or state is None or entered is None:
            continue
        if state.phase == "running" and entered in clock.paused_in:
            plan.merge(_pause(state, pause_mark(clock, now, tz)))
        elif state.phase == "paused" and entered not in clock.paused_in:
            plan.merge(_resume(clock, state, calendar, tz, now))
    return plan


def pause_mark(clock: ClockDef | None, now: dt.datetime, tz: str) -> dt.date:
    """Where a pause begins or ends: the local day for day-based limits (whole days are
    not counted, 行政许可法 art. 45), the exact instant for an hour-based one."""
    if clock is not None and clock.limit.unit == "hours":
        return now.astimezone(dt.UTC)
    return local_day(now, tz)


def paused_at(state: ClockState, mark: dt.date) -> ClockState:
    """The clock paused from ``mark`` (see :func:`pause_mark`)."""
    return dataclasses.replace(state, phase="paused", pauses=(*state.pauses, (mark, None)))


def resumed_at(state: ClockState, mark: dt.date) -> ClockState:
    """The clock running again, its open pause closed at ``mark`` (not yet rescheduled)."""
    pauses = state.pauses
    closed = (*pauses[:-1], (pauses[-1][0], mark)) if pauses else ()
    return dataclasses.replace(state, phase="running", pauses=closed)


def _pause(state: ClockState, mark: dt.date, why: str = "paused") -> ClockPlan:
    paused = paused_at(state, mark)
    return ClockPlan(changed={state.name: paused}, cancel={state.name}, notes=[_note(why, paused)])


def _resume(
    clock: ClockDef,
    state: ClockState,
    calendar: Calendar,
    tz: str,
    now: dt.datetime,
    why: str = "resumed",
) -> ClockPlan:
    resumed = resumed_at(state, pause_mark(clock, now, tz))
    resumed, timers = schedule(clock, resumed, calendar, tz, now)
    return ClockPlan(
        changed={state.name: resumed}, cancel={state.name}, arm=timers, notes=[_note(why, resumed)]
    )


def restart_at_level(
    definition: WorkflowDef,
    clocks: Mapping[str, ClockState],
    level: str | None,
    now: dt.datetime,
    calendar: Calendar,
    why: str,
) -> ClockPlan:
    """The case moved to another unit: level-dependent clocks start again there."""
    plan = ClockPlan()
    for state in clocks.values():
        clock = definition.clocks.get(state.name)
        if clock is None or state.phase != "running":
            continue
        if not (clock.by_level or clock.on_breach_move_up):
            continue
        fresh, timers = schedule(
            clock,
            ClockState(clock.name, "running", now, level=level, variant=state.variant),
            calendar,
            definition.timezone,
            now,
        )
        plan.changed[clock.name] = fresh
        plan.cancel.add(clock.name)
        plan.arm.extend(timers)
        plan.notes.append(_note("restarted", fresh, why=why, org_level=level))
    return plan


def suspend_all(
    definition: WorkflowDef, clocks: Mapping[str, ClockState], now: dt.datetime
) -> ClockPlan:
    """A suspended case: every running clock pauses (the days, or for an hour-based
    clock the time, are not counted)."""
    plan = ClockPlan()
    for state in clocks.values():
        if state.phase == "running":
            clock = definition.clocks.get(state.name.partition("@")[0])
            mark = pause_mark(clock, now, definition.timezone)
            plan.merge(_pause(state, mark, "paused (case suspended)"))
    return plan


def resume_all(
    definition: WorkflowDef,
    clocks: Mapping[str, ClockState],
    case_state: str,
    now: dt.datetime,
    calendar: Calendar,
) -> ClockPlan:
    """A resumed case: paused clocks run again, except those paused by the state itself."""
    plan = ClockPlan()
    for state in clocks.values():
        clock = definition.clocks.get(state.name)
        if clock is not None and state.phase == "paused" and case_state not in clock.paused_in:
            plan.merge(
                _resume(clock, state, calendar, definition.timezone, now, "resumed (case resumed)")
            )
    return plan


def stop_all(clocks: Mapping[str, ClockState], now: dt.datetime, why: str) -> ClockPlan:
    """A cancelled case: every clock stops and its timers go."""
    plan = ClockPlan()
    for state in clocks.values():
        if state.active:
            stopped = dataclasses.replace(state, phase="stopped", stopped_at=now)
            plan.changed[state.name] = stopped
            plan.cancel.add(state.name)
            plan.notes.append(_note(why, stopped))
    return plan


def extend(
    clock: ClockDef, state: ClockState, calendar: Calendar, tz: str, now: dt.datetime
) -> tuple[ClockState, list[TimerSpec]]:
    """
    One more extension of a running or paused clock (the caller checks the rules). A
    paused clock shows its new last day at once: the one it has if it resumes now (later
    if the pause goes on); it arms no timer until it resumes.
    """
    extended = dataclasses.replace(state, extensions=state.extensions + 1)
    if extended.phase == "paused":
        shown, _ = schedule(
            clock, resumed_at(extended, pause_mark(clock, now, tz)), calendar, tz, now
        )
        return dataclasses.replace(
            extended,
            due_at=shown.due_at,
            last_day=shown.last_day,
            provisional=shown.provisional,
            warn_at=shown.warn_at,
        ), []
    return schedule(clock, extended, calendar, tz, now)


def remaining_days(state: ClockState, now: dt.datetime, tz: str) -> int | None:
    """Calendar days from today to the last day (negative when overdue), for listings."""
    if state.last_day is None or state.phase != "running":
        return None
    return (state.last_day - local_day(now, tz)).days
