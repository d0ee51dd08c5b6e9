"""
The engine's clock plumbing: calendars per workflow, and persisting what a clock plan says.

The arithmetic and the rules are pure (:mod:`caseflow.clocks`); this module only turns
a :class:`~caseflow.clocks.runtime.ClockPlan` into rows inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from caseflow.cases import Actor, Case, HistoryEntry, note_entry
from caseflow.clocks import runtime
from caseflow.clocks.calendars import CalendarOverlay, load_calendar, load_overlay
from caseflow.errors import DefinitionError
from caseflow.store import clockrepo

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from sqlalchemy.engine import Connection

    from caseflow.abc import Calendar
    from caseflow.definitions.model import WorkflowDef
    from caseflow.store.repo import CaseHead


class Calendars:
    """Working-day calendars by name, with admin overlays for years without data."""

    def __init__(
        self, override: str | Calendar | None = None, overlay_files: Sequence[str | Path] = ()
    ) -> None:
        self._override = override
        self._file_overlays = [o for f in overlay_files for o in load_overlay(f)]
        self._db_overlays: list[CalendarOverlay] = []
        self._cache: dict[str, Calendar] = {}

    def set_db_overlays(self, rows: Sequence[tuple[int, list[str], list[str]]]) -> None:
        self._db_overlays = [
            CalendarOverlay(
                year,
                frozenset(map(dt.date.fromisoformat, holidays)),
                frozenset(map(dt.date.fromisoformat, workdays)),
            )
            for year, holidays, workdays in rows
        ]
        self._cache.clear()

    def for_workflow(self, definition: WorkflowDef) -> Calendar:
        name = definition.calendar if self._override is None else self._override
        key = name if isinstance(name, str) else f"instance:{id(name)}"
        found = self._cache.get(key)
        if found is None:
            overlays = {o.year: o for o in [*self._db_overlays, *self._file_overlays]}
            try:
                found = load_calendar(name, overlays.values())
            except LookupError as exc:
                raise DefinitionError(
                    f"workflow {definition.name!r} uses calendar {name!r}: {exc}"
                ) from exc
            self._cache[key] = found
        return found


def clock_entries(
    case: Case | CaseHead, notes: Sequence[dict[str, Any]], actor: Actor, now: dt.datetime
) -> list[HistoryEntry]:
    return [note_entry(case, actor, now, "clock", dict(note)) for note in notes]


def persist_plan(
    conn: Connection, case: Case, plan: runtime.ClockPlan, existing: Sequence[str], now: dt.datetime
) -> None:
    """Write changed clock states, cancel the stopped clocks' timers, arm new ones."""
    if plan.changed:
        clockrepo.save_clocks(conn, case.id, plan.changed.values(), existing)
    clockrepo.cancel_timers(conn, case.id, plan.cancel)
    clockrepo.arm_timers(conn, case.id, plan.arm, now)


def apply_clocks(
    conn: Connection,
    definition: WorkflowDef,
    calendar: Calendar,
    case: Case,
    *,
    event: str | None,
    entered: str | None,
    actor: Actor,
    now: dt.datetime,
    level: str | None = None,
    states: Mapping[str, runtime.ClockState] | None = None,
) -> list[HistoryEntry]:
    """Run a transition through the workflow's clocks (as loaded, or given) and persist."""
    if states is None:
        states = clockrepo.load_clocks(conn, case.id) if case.version > 1 else {}
    plan = runtime.on_transition(
        definition, states, event=event, entered=entered, now=now, calendar=calendar, level=level
    )
    persist_plan(conn, case, plan, list(states), now)
    return clock_entries(case, plan.notes, actor, now)


def outbox(
    conn: Connection,
    definition: WorkflowDef,
    case: Case,
    event: str | None,
    left: str | None,
    entered: str | None,
    now: dt.datetime,
) -> None:
    """Queue the side effects of a transition as action timers, in its transaction."""
    refs = [
        *(definition.states[left].on_exit if left is not None else ()),
        *(definition.events[event].actions if event is not None else ()),
        *(definition.states[entered].on_enter if entered is not None else ()),
    ]
    if refs:
        specs = [
            runtime.TimerSpec(
                "action",
                ref.action,
                now,
                payload={
                    "action": ref.action,
                    "params": dict(ref.params),
                    "event": event,
                    "state": entered or case.state,
                },
            )
            for ref in refs
        ]
        clockrepo.arm_timers(conn, case.id, specs, now)
