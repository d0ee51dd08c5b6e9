"""
Listing queries for operators: cases by filter and clock status, stuck cases, counts.
Read-only: they join the tables their owner modules write.

Clock filters are time-based (``now`` is passed in), so a list is right even before the
timer sweep has marked a clock warned or breached. Each filter is a semi-join
(``id IN (SELECT case_id ...)``) on the clock or incident rows, so a case appears once
however many of its clocks match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import case, func, or_, select

from caseflow.store.cases import COLUMNS as _CASE_COLUMNS
from caseflow.store.cases import case_from_row
from caseflow.store.tables import cases, clocks, incidents

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import ColumnElement

    from caseflow.cases import Case

Sort = Literal["created", "updated", "due"]


def _with_clock(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    # IN (uncorrelated subquery), not EXISTS: SQLite then drives the query from the clock
    # index on (phase, due_at, ...) instead of probing every case; PostgreSQL plans
    # both as the same semi-join.
    return cases.c.id.in_(select(clocks.c.case_id).where(*conditions).correlate(None))


def _running_clock(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return _with_clock(clocks.c.phase == "running", *conditions)


def overdue_condition(now: dt.datetime) -> ColumnElement[bool]:
    """A running clock whose due time has passed (breached, or about to be swept)."""
    return _running_clock(clocks.c.due_at <= now)


def warned_condition(now: dt.datetime) -> ColumnElement[bool]:
    """A running clock in its warning window: warned (or due to be), not yet breached."""
    return _running_clock(
        clocks.c.breached_at.is_(None),
        clocks.c.due_at > now,
        or_(clocks.c.warned_at.is_not(None), clocks.c.warn_at <= now),
    )


def light_counts(conn: Connection, now: dt.datetime, org: str | None) -> dict[str, tuple[int, int]]:
    """Per org unit, the open cases whose worst running clock is warned, and breached, at
    ``now``: :func:`caseflow.views.clock_status`'s rules in one GROUP BY."""
    breached = or_(clocks.c.breached_at.is_not(None), clocks.c.due_at <= now)
    warned = or_(clocks.c.warned_at.is_not(None), clocks.c.warn_at <= now)
    severity = func.max(case((breached, 2), (warned, 1), else_=0)).label("severity")
    worst = (
        select(clocks.c.case_id, severity)
        .where(clocks.c.phase == "running")
        .group_by(clocks.c.case_id)
        .subquery()
    )
    query = (
        select(
            cases.c.org,
            func.sum(case((worst.c.severity == 1, 1), else_=0)),
            func.sum(case((worst.c.severity == 2, 1), else_=0)),
        )
        .join_from(cases, worst, worst.c.case_id == cases.c.id)
        .where(cases.c.status.in_(["active", "suspended"]))
        .group_by(cases.c.org)
    )
    if org is not None:
        query = query.where(org_condition(org, include_sub_orgs=True))
    return {r[0]: (int(r[1] or 0), int(r[2] or 0)) for r in conn.execute(query)}


def provisional_condition() -> ColumnElement[bool]:
    """A running or paused clock whose deadline rests on a year without calendar data."""
    return _with_clock(clocks.c.phase.in_(["running", "paused"]), clocks.c.provisional.is_(True))


def stuck_condition() -> ColumnElement[bool]:
    """The case has an open incident (uses ix_cf_incidents_status_case_id)."""
    return cases.c.id.in_(select(incidents.c.case_id).where(incidents.c.status == "open"))


def find_cases(
    conn: Connection,
    *,
    now: dt.datetime,
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
    sort: Sort = "created",
    limit: int = 50,
    offset: int = 0,
) -> list[Case]:
    """Cases matching every filter given, in ``sort`` order, one page."""
    where: list[ColumnElement[bool]] = []
    if workflow is not None:
        where.append(cases.c.workflow == workflow)
    if version is not None:
        where.append(cases.c.workflow_version == version)
    if state is not None:
        where.append(cases.c.state == state)
    if status is not None:
        where.append(cases.c.status == status)
    if org is not None:
        where.append(org_condition(org, include_sub_orgs=include_sub_orgs))
    if since is not None:
        where.append(cases.c.created_at >= since)
    if stuck:
        where.append(stuck_condition())
    overdue_by_due = overdue and sort == "due"
    if overdue and not overdue_by_due:
        where.append(overdue_condition(now))
    if warned:
        where.append(warned_condition(now))
    if provisional:
        where.append(provisional_condition())
    if overdue_by_due:
        return _overdue_by_due(conn, where, now, limit, offset)
    query = select(*_CASE_COLUMNS)
    if where:
        query = query.where(*where)
    if sort == "updated":
        query = query.order_by(cases.c.updated_at.desc(), cases.c.id.desc())
    elif sort == "due":
        next_due = (
            select(func.min(clocks.c.due_at))
            .where(clocks.c.case_id == cases.c.id, clocks.c.phase == "running")
            .correlate(cases)
            .scalar_subquery()
        )
        query = query.order_by(next_due.asc().nulls_last(), cases.c.created_at, cases.c.id)
    else:
        query = query.order_by(cases.c.created_at, cases.c.id)
    return [case_from_row(r) for r in conn.execute(query.limit(limit).offset(offset))]


def _overdue_by_due(
    conn: Connection,
    where: list[ColumnElement[bool]],
    now: dt.datetime,
    limit: int,
    offset: int,
) -> list[Case]:
    """
    Overdue cases, most overdue first: walk the overdue clocks in due order (the clock
    index on (phase, due_at, ...)), join their cases, keep each case's first (soonest)
    clock. A window of clock rows is read; it grows when cases repeat.
    """
    need = offset + limit
    window = max(2 * need, 100)
    query = (
        select(*_CASE_COLUMNS)
        .select_from(clocks.join(cases, cases.c.id == clocks.c.case_id))
        .where(clocks.c.phase == "running", clocks.c.due_at <= now, *where)
        .order_by(clocks.c.due_at, clocks.c.case_id)
    )
    while True:
        rows = conn.execute(query.limit(window)).all()
        first: dict[str, Any] = {}
        for row in rows:
            first.setdefault(row[0], row)
        if len(first) >= need or len(rows) < window:
            return [case_from_row(r) for r in list(first.values())[offset:need]]
        window *= 4


def org_condition(org: str, *, include_sub_orgs: bool) -> ColumnElement[bool]:
    org = org.rstrip("/")
    if not include_sub_orgs:
        return cases.c.org == org
    prefix = org.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    return or_(cases.c.org == org, cases.c.org.like(prefix, escape="\\"))


def open_incident_counts(conn: Connection, case_ids: Sequence[str]) -> dict[str, int]:
    """Open incidents per case, for the cases given."""
    if not case_ids:
        return {}
    rows = conn.execute(
        select(incidents.c.case_id, func.count())
        .where(incidents.c.status == "open", incidents.c.case_id.in_(sorted(set(case_ids))))
        .group_by(incidents.c.case_id)
    )
    return {r[0]: int(r[1]) for r in rows}
