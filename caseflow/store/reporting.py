"""
The report's SQL: GROUP BY aggregates over cf_cases, cf_clocks and cf_history.

Each scans its table once and returns one row per group, never one per case: a report
over 100,000 cases moves a few hundred rows to Python. Three cohorts:

- the cases *created* in ``[since, until)`` (:meth:`Scope.where`), counted as of
  ``until`` (closed, stopped, breached, escalated before it);
- what *ended* in the period, whenever the case was opened (:meth:`Scope.closed_where`):
  the cases closed in it and the clocks that stopped in it;
- the ratings of the period (好差评): the rating windows that closed in it, by a rating
  or unrated, with the rectification of a bad rating as of ``until``.

Every figure is as of ``until``, so a report on a past period reads the same whenever
it is run.

Cases and escalations group on plain columns (``org`` or ``workflow``) and roll up to
coarser units in Python (:func:`unit_of`). Medians do not add up, so the clock query
groups on the unit itself (:func:`unit_key`: an org path cut to ``depth`` segments, the
org's level in the tree). Expressions with bind parameters (JSON paths, ``until``) are
computed in a subquery and grouped on its columns: PostgreSQL binds parameters
server-side and would not see two copies of one expression as the same.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from sqlalchemy import Float, String, and_, case, cast, extract, func, or_, select, tuple_
from sqlalchemy.exc import OperationalError

from caseflow.errors import StorageError
from caseflow.store.db import READ_ONLY
from caseflow.store.tables import cases, clocks, history, orgs

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine as SAEngine
    from sqlalchemy.sql.elements import ColumnElement
    from sqlalchemy.sql.selectable import Subquery

    from caseflow.orgs import OrgTree

By = Literal["org", "workflow", "org_level"]
Cohort = Literal["created", "ended"]
CLOSED = ("completed", "cancelled")
SATISFACTION = "satisfaction"
#: The five levels of 政务服务"好差评" (GB/T 39735-2020; 国办发 [2019] 51号): the first
#: three are good ratings (好评), the last two bad ones (差评).
GOOD_RATINGS = ("非常满意", "满意", "基本满意")
BAD_RATINGS = ("不满意", "非常不满意")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which cases a report covers: created in ``[since, until)``, by workflow and org."""

    since: dt.datetime
    until: dt.datetime
    workflow: str | None = None
    org: str | None = None
    include_sub_orgs: bool = True

    def where(self) -> list[ColumnElement[bool]]:
        """The cases created in the period (and of the workflow and org)."""
        return [cases.c.created_at >= self.since, cases.c.created_at < self.until, *self.filters()]

    def closed_where(self) -> list[ColumnElement[bool]]:
        """The cases closed (completed or cancelled) in the period, whenever opened."""
        return [
            cases.c.status.in_(CLOSED),
            cases.c.updated_at >= self.since,
            cases.c.updated_at < self.until,
            *self.filters(),
        ]

    def filters(self) -> list[ColumnElement[bool]]:
        """The workflow and org unit (with or without sub-units) the report covers."""
        found: list[ColumnElement[bool]] = []
        if self.workflow is not None:
            found.append(cases.c.workflow == self.workflow)
        if self.org is not None:
            org = self.org.rstrip("/")
            if self.include_sub_orgs:
                prefix = org.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
                found.append(or_(cases.c.org == org, cases.c.org.like(prefix, escape="\\")))
            else:
                found.append(cases.c.org == org)
        return found


class CaseCount(NamedTuple):
    """Cases of one group in one (workflow, version, state, status), closed by ``until`` or not."""

    key: str
    workflow: str
    version: int
    state: str
    status: str
    closed: bool
    cases: int
    satisfaction_sum: float | None
    satisfaction_n: int
    satisfied: int
    satisfaction_texts: int


class ChildCount(NamedTuple):
    """Child cases (call activities) that the group's cases started, by the child's
    workflow version, state and status."""

    key: str
    workflow: str
    version: int
    state: str
    status: str
    cases: int


class ClockRow(NamedTuple):
    """One clock name in one unit (or all): finished, on time, medians of the stopped ones."""

    key: Any
    clock: str
    finished: int
    on_time: int
    stopped: int
    median_days: float | None
    median_limit_days: float | None


class EscalationCount(NamedTuple):
    """Escalations logged in one group at one level, with the org move if there was one."""

    key: str
    level: int | None
    from_org: str | None
    to_org: str | None
    cases: int


@contextlib.contextmanager
def snapshot(db: SAEngine) -> Iterator[Connection]:
    """A read-only transaction whose queries all see one snapshot of the database."""
    try:
        with db.connect() as conn:
            options: dict[str, Any] = {READ_ONLY: True}
            if db.dialect.name == "postgresql":
                options["isolation_level"] = "REPEATABLE READ"
            conn.execution_options(**options)
            with conn.begin():
                if db.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
    except OperationalError as exc:
        raise StorageError(f"database error: {exc.orig}") from exc


def _base(by: By) -> ColumnElement[str]:
    """The column a query groups on; Python rolls its groups up to the report's units."""
    return cases.c.workflow if by == "workflow" else cases.c.org


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _json_kind(conn: Connection, key: str) -> ColumnElement[str]:
    """The JSON type of ``data[key]``: number/string (PostgreSQL), integer/real/text (SQLite)."""
    if _is_postgres(conn):
        return func.jsonb_typeof(cases.c.data[key])
    return func.json_type(cases.c.data, f'$."{key}"')


def case_counts(
    conn: Connection, scope: Scope, by: By, satisfied: Sequence[str], cohort: Cohort = "created"
) -> list[CaseCount]:
    """Cases per group and final state: created in the period, or closed in it (``ended``)."""
    kind = _json_kind(conn, SATISFACTION)
    is_number = kind.in_(["number", "integer", "real"])
    is_text = kind.in_(["string", "text"])
    value = cases.c.data[SATISFACTION]
    inner = (
        select(
            _base(by).label("key"),
            cases.c.workflow,
            cases.c.workflow_version,
            cases.c.state,
            cases.c.status,
            and_(cases.c.status.in_(CLOSED), cases.c.updated_at < scope.until).label("closed"),
            case((is_number, value.as_float())).label("score"),
            case((is_text, 1), else_=0).label("text"),
            case((and_(is_text, value.as_string().in_(list(satisfied))), 1), else_=0).label("yes"),
        )
        .where(*(scope.where() if cohort == "created" else scope.closed_where()))
        .subquery()
    )
    g = inner.c
    names = ("key", "workflow", "workflow_version", "state", "status", "closed")
    totals = (
        func.count(),
        func.sum(g.score),
        func.count(g.score),
        func.sum(g.yes),
        func.sum(g.text),
    )
    # the unit last: grouped by org first, SQLite would walk the org index, row by row
    query = select(*(g[n] for n in names), *totals).group_by(*(g[n] for n in reversed(names)))
    return [
        CaseCount(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9] or 0, r[10] or 0)
        for r in conn.execute(query)
    ]


def child_counts(conn: Connection, scope: Scope, by: By) -> list[ChildCount]:
    """The child cases started by the cases created in the period, per group of the parent."""
    child = cases.alias("child")
    names = (child.c.workflow, child.c.workflow_version, child.c.state, child.c.status)
    query = (
        select(_base(by).label("key"), *names, func.count())
        .select_from(cases.join(child, child.c.parent_id == cases.c.id))
        .where(*scope.where())
        .group_by(_base(by), *names)
    )
    return [ChildCount(r[0], r[1], r[2], r[3], r[4], r[5]) for r in conn.execute(query)]


def _clock_name(conn: Connection) -> ColumnElement[str]:
    """The clock's name without the work item of a per-unit clock (``handling@water``)."""
    name = clocks.c.name
    if _is_postgres(conn):
        return func.split_part(name, "@", 1)
    at = func.instr(name, "@")
    return case((at > 0, func.substr(name, 1, at - 1)), else_=name)


def _days(conn: Connection, end: Any, start: Any) -> ColumnElement[Any]:
    if _is_postgres(conn):
        return cast(extract("epoch", end - start), Float) / 86400.0
    return func.julianday(end) - func.julianday(start)


def _depth(org: ColumnElement[str]) -> ColumnElement[int]:
    """How deep a path is: 1 for a top unit, 0 for no org."""
    slashes = func.length(org) - func.length(func.replace(org, "/", ""))
    return case((org == "", 0), else_=slashes + 1)


def unit_key(conn: Connection, by: By, depth: int | None) -> ColumnElement[Any]:
    """
    The report unit as SQL: the workflow; the org, cut to ``depth`` segments; or the org's
    level, from the org tree (cf_orgs, joined by the caller), else the path's depth.
    """
    if by == "workflow":
        return cases.c.workflow
    org = cases.c.org
    if by == "org_level":
        return func.coalesce(orgs.c.level, cast(_depth(org), String))
    if depth is None:
        return org
    if _is_postgres(conn):
        return func.substring(org, f"^[^/]*(?:/[^/]*){{0,{depth - 1}}}")
    # SQLite has no split function: read the path as a JSON array ["a","b",...] (json_quote
    # escapes quotes and backslashes, never '/') and join its first ``depth`` elements.
    array = "[" + func.replace(func.json_quote(org), "/", '","') + "]"
    joined: ColumnElement[Any] = func.json_extract(array, "$[0]")
    for i in range(1, depth):
        joined = joined + func.coalesce("/" + func.json_extract(array, f"$[{i}]"), "")
    return joined


def org_prefix(org: str, depth: int) -> str:
    """``hubei/yichang/zigui/maoping`` cut to ``depth`` segments (2: ``hubei/yichang``)."""
    return "/".join(org.split("/")[:depth])


def org_depth(org: str) -> int:
    """How deep a path is: 1 for a top unit, 0 for no org."""
    return 0 if org == "" else org.count("/") + 1


def unit_of(by: By, depth: int | None, tree: OrgTree) -> Callable[[str], str]:
    """The Python twin of :func:`unit_key`: a grouped column's value to its report unit."""
    if by == "org_level":
        return lambda org: tree.level(org) or str(org_depth(org))
    if by == "org" and depth is not None:
        return lambda org: org_prefix(org, depth)
    return lambda key: key


def level_order(tree: OrgTree) -> Callable[[str], tuple[int, str]]:
    """Levels top down: a named level where its units sit in the tree, a depth as it is."""
    top: dict[str, int] = {}
    for unit in tree:
        top[unit.level] = min(top.get(unit.level, 99), org_depth(unit.path))
    return lambda key: (int(key), "") if key.isdigit() else (top.get(key, 99), key)


def _middle(rank: Any, n: Any) -> ColumnElement[bool]:
    """The rank of one of the middle one or two values: (n+1)//2 or (n+2)//2."""
    return and_(rank >= (n + 1) // 2, rank <= (n + 2) // 2)


def clock_rows(
    conn: Connection, scope: Scope, by: By, depth: int | None, cohort: Cohort = "created"
) -> tuple[list[ClockRow], list[ClockRow]]:
    """
    Every clock figure in one scan of the cohort's clocks: rows per report unit (grouped
    by the unit itself, since medians do not add up) and per clock name over all units.
    The cohort: the clocks of the cases created in the period, or (``ended``) the clocks
    that stopped in the period, whatever case they belong to.
    """
    until = scope.until
    if cohort == "created":
        where = scope.where()
    else:
        where = [
            clocks.c.phase == "stopped",
            clocks.c.stopped_at >= scope.since,
            clocks.c.stopped_at < until,
            *scope.filters(),
        ]
    tables = clocks.join(cases, clocks.c.case_id == cases.c.id)
    if by == "org_level":
        tables = tables.outerjoin(orgs, orgs.c.path == cases.c.org)
    stopped = and_(clocks.c.phase == "stopped", clocks.c.stopped_at < until)
    in_time = or_(clocks.c.due_at.is_(None), clocks.c.stopped_at <= clocks.c.due_at)
    base = (
        select(
            unit_key(conn, by, depth).label("key"),
            _clock_name(conn).label("clock"),
            case((stopped, 1), else_=0).label("s"),
            case((or_(stopped, clocks.c.breached_at < until), 1), else_=0).label("f"),
            case((and_(stopped, clocks.c.breached_at.is_(None), in_time), 1), else_=0).label("o"),
            case((stopped, _days(conn, clocks.c.stopped_at, clocks.c.started_at))).label("v"),
            case((stopped, _days(conn, clocks.c.due_at, clocks.c.started_at))).label("w"),
        )
        .select_from(tables)
        .where(*where)
        .subquery()
    )
    if _is_postgres(conn):
        return _percentiles(conn, base)
    return _ranked(conn, base)


def _percentiles(conn: Connection, base: Subquery) -> tuple[list[ClockRow], list[ClockRow]]:
    """PostgreSQL: ordered-set aggregates (NULLs, the clocks not stopped, left out)."""
    b = base.c
    query = (
        select(
            func.grouping(b.key),
            b.key,
            b.clock,
            func.sum(b.f),
            func.sum(b.o),
            func.sum(b.s),
            func.percentile_cont(0.5).within_group(b.v),
            func.percentile_cont(0.5).within_group(b.w),
        )
        .group_by(func.grouping_sets(tuple_(b.key, b.clock), tuple_(b.clock)))
        .having(func.sum(b.f) > 0)
    )
    units: list[ClockRow] = []
    overall: list[ClockRow] = []
    for x in conn.execute(query):
        row = ClockRow(x[1], x[2], int(x[3]), int(x[4]), int(x[5]), _float(x[6]), _float(x[7]))
        (overall if x[0] else units).append(row)
    return units, overall


def _ranked(conn: Connection, base: Subquery) -> tuple[list[ClockRow], list[ClockRow]]:
    """
    SQLite, which has no percentile aggregate: rank the durations within each unit and
    clock name and within each clock name, and average the middle one or two. Each unit
    row also sums the values of the overall middle that fall in it; those add up.
    """
    b = base.c
    unit, every = (b.key, b.clock, b.s), (b.clock, b.s)
    w_order = b.w.asc().nulls_last()
    r = select(
        *b,
        func.row_number().over(partition_by=unit, order_by=b.v).label("rv"),
        func.row_number().over(partition_by=unit, order_by=w_order).label("rw"),
        func.count(b.v).over(partition_by=unit).label("nv"),
        func.count(b.w).over(partition_by=unit).label("nw"),
        func.row_number().over(partition_by=every, order_by=b.v).label("tv"),
        func.row_number().over(partition_by=every, order_by=w_order).label("tw"),
        func.count(b.v).over(partition_by=every).label("tnv"),
        func.count(b.w).over(partition_by=every).label("tnw"),
    ).subquery("ranked")
    c = r.c
    all_v = and_(c.s == 1, _middle(c.tv, c.tnv))
    all_w = and_(c.s == 1, c.w.is_not(None), _middle(c.tw, c.tnw))
    query = (
        select(
            c.key,
            c.clock,
            func.sum(c.f),
            func.sum(c.o),
            func.sum(c.s),
            func.avg(case((and_(c.s == 1, _middle(c.rv, c.nv)), c.v))),
            func.avg(case((and_(c.s == 1, c.w.is_not(None), _middle(c.rw, c.nw)), c.w))),
            func.sum(case((all_v, c.v))),
            func.count(case((all_v, 1))),
            func.sum(case((all_w, c.w))),
            func.count(case((all_w, 1))),
        )
        .group_by(c.key, c.clock)
        .having(func.sum(c.f) > 0)
    )
    units: list[ClockRow] = []
    sums: dict[str, list[float]] = {}
    for x in conn.execute(query):
        units.append(ClockRow(x[0], x[1], x[2], x[3], x[4], _float(x[5]), _float(x[6])))
        more = (x[2], x[3], x[4], x[7] or 0.0, x[8], x[9] or 0.0, x[10])
        sums[x[1]] = [a + b for a, b in zip(sums.get(x[1], [0] * 7), more, strict=True)]
    overall = [
        ClockRow(None, name, int(f), int(o), int(s), _ratio(v, nv), _ratio(w, nw))
        for name, (f, o, s, v, nv, w, nw) in sorted(sums.items())
    ]
    return units, overall


def _ratio(total: float, n: float) -> float | None:
    return total / n if n else None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def escalations(conn: Connection, scope: Scope, by: By) -> list[EscalationCount]:
    details = history.c.details
    inner = (
        select(
            _base(by).label("key"),
            details["level"].as_integer().label("level"),
            details["from_org"].as_string().label("from_org"),
            details["to_org"].as_string().label("to_org"),
        )
        .select_from(history.join(cases, history.c.case_id == cases.c.id))
        .where(
            *scope.where(),
            history.c.kind == "clock",
            history.c.at < scope.until,
            details["action"].as_string() == "escalated",
        )
        .subquery()
    )
    groups = (inner.c.key, inner.c.level, inner.c.from_org, inner.c.to_org)
    query = select(*groups, func.count()).group_by(*groups)
    return [EscalationCount(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(query)]


class RatingCount(NamedTuple):
    """The rating windows of one group that closed in the period, and what came of them."""

    key: str
    offered: int
    rated: int
    good: int
    bad: int
    rectified: int
    rectified_on_time: int


def rating_counts(
    conn: Connection, scope: Scope, by: By, rating_clock: str, rectification_clock: str
) -> list[RatingCount]:
    """
    好差评 per group: the ``rating_clock`` windows that stopped in the period (a rating was
    given or the window ran out), their ratings (``data.satisfaction``: rated, good, bad)
    and, of the bad ones, those whose ``rectification_clock`` stopped before ``until`` (the
    rectification answered), and of those the ones answered in time. A clock row is its
    latest run: a case rated again (after 重办) counts with its last rating.
    """
    window = clocks.alias("rating_window")
    fix = clocks.alias("rectification")
    text = _json_kind(conn, SATISFACTION).in_(["string", "text"])
    value = cases.c.data[SATISFACTION].as_string()
    bad = and_(text, value.in_(list(BAD_RATINGS)))
    answered = and_(bad, fix.c.phase == "stopped", fix.c.stopped_at < scope.until)
    in_time = and_(
        answered,
        fix.c.breached_at.is_(None),
        or_(fix.c.due_at.is_(None), fix.c.stopped_at <= fix.c.due_at),
    )
    tables = window.join(cases, window.c.case_id == cases.c.id).outerjoin(
        fix, and_(fix.c.case_id == cases.c.id, fix.c.name == rectification_clock)
    )
    inner = (
        select(
            _base(by).label("key"),
            case((text, 1), else_=0).label("rated"),
            case((and_(text, value.in_(list(GOOD_RATINGS))), 1), else_=0).label("good"),
            case((bad, 1), else_=0).label("bad"),
            case((answered, 1), else_=0).label("fixed"),
            case((in_time, 1), else_=0).label("in_time"),
        )
        .select_from(tables)
        .where(
            window.c.name == rating_clock,
            window.c.phase == "stopped",
            window.c.stopped_at >= scope.since,
            window.c.stopped_at < scope.until,
            *scope.filters(),
        )
        .subquery()
    )
    g = inner.c
    query = select(
        g.key,
        func.count(),
        func.sum(g.rated),
        func.sum(g.good),
        func.sum(g.bad),
        func.sum(g.fixed),
        func.sum(g.in_time),
    ).group_by(g.key)
    return [RatingCount(r[0], r[1], *(int(v or 0) for v in r[2:])) for r in conn.execute(query)]


def workflow_versions(conn: Connection, scope: Scope) -> list[tuple[str, int]]:
    """The (workflow, version) pairs of the cases in the report's workflow and org."""
    pair = (cases.c.workflow, cases.c.workflow_version)
    query = select(*pair).where(*scope.filters()).group_by(*pair)
    return [(r[0], r[1]) for r in conn.execute(query)]
