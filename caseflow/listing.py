"""
Operator listings over an :class:`~caseflow.Engine`: filtered case lists with each case's
clock status and open incidents, the events a case can take next, its pending side
effects, running cases per workflow version; and the JSON shapes the CLI prints.

Functions taking an engine, delegating to its queries (:mod:`caseflow.services.queries`).

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from caseflow.views import CaseRow, EventChoice, PendingAction, clock_status

if TYPE_CHECKING:
    from collections.abc import Sequence

    from caseflow.cases import Case, HistoryEntry
    from caseflow.engine import Engine
    from caseflow.records import Incident
    from caseflow.store.listing import Sort
    from caseflow.views import ClockView


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
    return engine.list_cases(
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
        sort=sort,
        limit=limit,
        offset=offset,
    )


def rows_for(engine: Engine, found: Sequence[Case]) -> list[CaseRow]:
    """Decorate cases with their clock status, next due time and open incidents."""
    return engine.case_rows(found)


def event_choices(engine: Engine, case: Case) -> list[EventChoice]:
    """Events that can fire in the case's state (none unless active), with their roles."""
    return engine.event_choices(case)


def pending_actions(engine: Engine, case_id: str) -> list[PendingAction]:
    """The case's side effects still queued or being retried."""
    return engine.pending_actions(case_id)


def running_counts(engine: Engine) -> dict[tuple[str, int], int]:
    """Active and suspended cases per ``(workflow, version)`` (for ``workflows list``)."""
    return engine.running_counts()


def day_start(value: str, tz: str = "Asia/Shanghai") -> dt.datetime:
    """``2026-09-21`` (or an ISO date-time) as an aware instant; dates start at local 00:00."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=ZoneInfo(tz)) if parsed.tzinfo is None else parsed


# -- JSON shapes (``--json`` output) ----------------------------------------------------


def row_json(row: CaseRow) -> dict[str, Any]:
    return row.to_dict()


def clock_json(view: ClockView) -> dict[str, Any]:
    return view.to_dict()


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "version": entry.version,
        "at": entry.at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat() if entry.recorded_at else None,
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
    return incident.to_dict()


def event_json(choice: EventChoice) -> dict[str, Any]:
    return choice.to_dict()


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
