"""
Operator listings over an :class:`~caseflow.Engine`: filtered case lists with each case's
clock status and open incidents, the events a case can take next, its pending side
effects, and running cases per workflow version; plus the JSON shapes the CLI prints.

Functions taking an engine rather than Engine methods, so the Engine's API stays small.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from caseflow.store import clockrepo
from caseflow.store import listing as store
from caseflow.store.repo import case_to_json

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from caseflow.cases import Case, HistoryEntry
    from caseflow.clockapi import ClockView
    from caseflow.clocks.runtime import ClockState
    from caseflow.engine import Engine
    from caseflow.store.listing import Sort
    from caseflow.store.opsrepo import Incident

#: Clock statuses from worst to best, as a listing colours a case.
SEVERITY = ("breached", "warned", "running", "paused")


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case as a listing shows it: its worst clock status, next due time, open incidents."""

    case: Case
    clock_status: str | None
    next_due: dt.datetime | None
    open_incidents: int
    #: The last day of the running clock due soonest (its deadline ends at 24:00 of it).
    last_day: dt.date | None = None


@dataclass(frozen=True, slots=True)
class EventChoice:
    """An event the case can take in its current state, and who may fire it."""

    name: str
    title: str
    to: tuple[str, ...]
    roles: tuple[str, ...]
    automatic: bool


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A side effect queued or being retried (not yet done, not yet an incident)."""

    timer_id: int
    action: str
    attempts: int


def clock_status(states: Iterable[ClockState], now: dt.datetime) -> str | None:
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


def list_cases(
    engine: Engine,
    *,
    workflow: str | None = None,
    version: int | None = None,
    state: str | None = None,
    status: str | None = None,
    org: str | None = None,
    include_sub_orgs: bool = True,
    stuck: bool = False,
    warned: bool = False,
    provisional: bool = False,
    overdue: bool = False,
    since: dt.datetime | None = None,
    sort: Sort | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CaseRow]:
    """
    Cases matching every filter given, one page, each with its clock status.

    Args:
        org: an org unit path; sub-units are included unless ``include_sub_orgs=False``.
        stuck: only cases with an open incident (a side effect that failed its retries).
        warned: only cases with a running clock in its warning window, not yet breached.
        provisional: only cases with an active clock whose deadline is provisional.
        overdue: only cases with a running clock past its due time.
        since: only cases created at or after this instant.
        sort: ``created`` (oldest first), ``updated`` (latest first) or ``due`` (soonest
            running clock first, cases without one last); ``due`` when ``overdue``,
            else ``created``, by default.
    """
    now = engine.clock.now()
    with engine._read() as conn:
        found = store.find_cases(
            conn,
            now=now,
            workflow=workflow,
            version=version,
            state=state,
            status=status,
            org=org,
            include_sub_orgs=include_sub_orgs,
            stuck=stuck,
            warned=warned,
            provisional=provisional,
            overdue=overdue,
            since=since,
            sort=sort or ("due" if overdue else "created"),
            limit=limit,
            offset=offset,
        )
    return rows_for(engine, found)


def rows_for(engine: Engine, found: Sequence[Case]) -> list[CaseRow]:
    """Decorate cases with their clock status, next due time and open incidents."""
    now = engine.clock.now()
    ids = [c.id for c in found]
    with engine._read() as conn:
        states = clockrepo.load_clocks_for(conn, ids)
        open_counts = store.open_incident_counts(conn, ids)
    by_case: dict[str, list[ClockState]] = {}
    for (case_id, _), s in states.items():
        by_case.setdefault(case_id, []).append(s)
    rows = []
    for c in found:
        mine = by_case.get(c.id, [])
        running = [s for s in mine if s.phase == "running" and s.due_at is not None]
        soonest = min(running, key=lambda s: s.due_at or now, default=None)
        rows.append(
            CaseRow(
                c,
                clock_status(mine, now),
                soonest.due_at if soonest else None,
                open_counts.get(c.id, 0),
                soonest.last_day if soonest else None,
            )
        )
    return rows


def event_choices(engine: Engine, case: Case) -> list[EventChoice]:
    """Events that can fire in the case's state (none unless active), with their roles."""
    if case.status != "active":
        return []
    definition = engine.workflow(case.workflow, case.workflow_version)
    return [
        EventChoice(e.name, e.title, e.targets, e.roles, e.automatic)
        for e in definition.events.values()
        if case.state in e.sources
    ]


def pending_actions(engine: Engine, case_id: str) -> list[PendingAction]:
    """The case's side effects still queued or being retried."""
    with engine._read() as conn:
        return [PendingAction(*row) for row in store.pending_actions(conn, case_id)]


def running_counts(engine: Engine) -> dict[tuple[str, int], int]:
    """Active and suspended cases per ``(workflow, version)`` (for ``workflows list``)."""
    with engine._read() as conn:
        return store.running_counts(conn)


def day_start(value: str, tz: str = "Asia/Shanghai") -> dt.datetime:
    """``2026-09-21`` (or an ISO date-time) as an aware instant; dates start at local 00:00."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=ZoneInfo(tz)) if parsed.tzinfo is None else parsed


# -- JSON shapes (``--json`` output) ----------------------------------------------------


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def row_json(row: CaseRow) -> dict[str, Any]:
    return {
        **case_to_json(row.case),
        "clock_status": row.clock_status,
        "next_due": _iso(row.next_due),
        "last_day": _iso(row.last_day),
        "open_incidents": row.open_incidents,
    }


def clock_json(view: ClockView) -> dict[str, Any]:
    return {
        "name": view.name,
        "status": view.status,
        "last_day": _iso(view.last_day),
        "due_at": _iso(view.due_at),
        "provisional": view.provisional,
        "days_left": view.days_left,
        "extensions": view.extensions,
        "escalation_step": view.escalation_step,
    }


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "event": entry.event,
        "from": entry.from_state,
        "to": entry.to_state,
        "actor": entry.actor_id,
        "roles": list(entry.actor_roles),
        "org": entry.actor_org,
        "details": entry.details,
    }


def incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "case_id": incident.case_id,
        "timer_id": incident.timer_id,
        "action": incident.action,
        "error": incident.error,
        "attempts": incident.attempts,
        "status": incident.status,
        "opened_at": incident.opened_at.isoformat(),
        "resolved_at": _iso(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "reason": incident.reason,
    }


def event_json(choice: EventChoice) -> dict[str, Any]:
    return {
        "name": choice.name,
        "title": choice.title,
        "to": list(choice.to),
        "roles": list(choice.roles),
        "automatic": choice.automatic,
    }


__all__ = [
    "CaseRow",
    "EventChoice",
    "PendingAction",
    "clock_json",
    "clock_status",
    "day_start",
    "event_choices",
    "event_json",
    "history_json",
    "incident_json",
    "list_cases",
    "pending_actions",
    "row_json",
    "rows_for",
    "running_counts",
]
