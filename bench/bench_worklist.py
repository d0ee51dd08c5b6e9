#!/usr/bin/env python
"""
caseflow worklist benchmark (issue #14): ``Engine.worklist``, ``worklist_counts`` and
``task_counts`` at 10k and 1M cases, against the same SQL hand-written with SQLAlchemy
Core on a plain connection (the floor).

Run by hand (this is not a test)::

    .venv/bin/python bench/bench_worklist.py            # SQLite and PostgreSQL, 10k and 1M
    .venv/bin/python bench/bench_worklist.py --quick    # 10k only
    .venv/bin/python bench/bench_worklist.py --db postgres --cases 1000000 --rounds 30

For each database and size, a fresh database (a SQLite file in a temporary directory, or
a fresh PostgreSQL schema reached with ``options=-csearch_path=<schema>``, dropped at the
end) is migrated by the Engine, and a few template cases of the shipped
``administrative_approval`` and ``hotline_request`` workflows are made through the real
Engine (start and events, on the Jiaoling org tree). Their ``cf_cases`` and ``cf_clocks``
rows are then cloned in one ``INSERT ... SELECT`` per table over a number series
(PostgreSQL ``generate_series``, SQLite a recursive CTE), so every row is one the engine
wrote, with per clone: its id, its org unit (one of 201: ``jiaoling/shuiwu`` and 200
``jiaoling/town-NN/office-N``), its assignee (10% of the active cases claimed by others,
1% by the benchmark actor), its urgency (of the cases with a running clock: 5% breached,
7% warned, the rest running) and its due times (shifted by whole days: breached ones into
the past). The mix (``MIX``): 70% finished, 30% active in six states. Then ``ANALYZE``
(PostgreSQL ``VACUUM ANALYZE``).

The actor is a ``department`` + ``reviewer`` of ``jiaoling/shuiwu``: they work on every
approval under review (not org-scoped) and on the hotline requests referred to or handled
by their own unit (about 0.5% of those), so most cases are not theirs.

Measured, alternating caseflow and floor call by call in the same rounds (ABAB), p50 and
p99 in ms over ``--rounds`` rounds after two warm-up rounds:

* ``worklist``: the first page (``limit=50``), a later page (``offset=200``), and the first
  page with ``workflow="hotline_request"``;
* ``worklist_counts`` (per workflow and state) and ``task_counts(["department"])`` (per
  unit, the dashboard);

the floor being the query alone, hand-written once here (same WHERE, ORDER BY, LIMIT or
GROUP BY), checked to return the same rows. The engine's worklist adds the targets (from
the definitions), the page's clocks and incident counts, and each row's events.

The statements the engine sends are captured and explained (``EXPLAIN QUERY PLAN`` on
SQLite; ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL), printed verbatim, with a check for
a full scan of ``cf_cases`` and the sort and aggregate steps (a sort of
at most ``offset + limit`` rows per target, or of the page, is expected).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

# Log calls must be filtered at WARNING *before* the engine is created.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seeding  # noqa: E402
from sqlalchemy import (  # noqa: E402
    case,
    create_engine,
    func,
    or_,
    select,
    text,
    union_all,
)

from caseflow import Actor, Engine  # noqa: E402
from caseflow.store import tables as cf_tables  # noqa: E402
from caseflow.testing import MovableClock  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine as SAEngine
    from sqlalchemy.sql import CompoundSelect, Select
    from sqlalchemy.sql.elements import ColumnElement

ROOT = Path(__file__).resolve().parent.parent
ORG_TREE = ROOT / "workflows" / "orgs" / "jiaoling.yaml"
UNIT = "jiaoling/shuiwu"
#: The org units of the clones: the actor's and 200 others.
UNITS = (UNIT, *(f"jiaoling/town-{t:02d}/office-{o}" for t in range(40) for o in range(5)))
ACTOR = Actor("bench.shuiwu", frozenset({"department", "reviewer"}), UNIT)
APPROVAL, HOTLINE = "administrative_approval", "hotline_request"
ID_PREFIX = "wb"  # clone ids: wb + 27 digits (29 characters, as long as the engine's)

WINDOW = Actor("window.wang", frozenset({"window_clerk"}), "jiaoling/zhengwu")
REVIEWER = Actor("review.chen", frozenset({"reviewer"}), "jiaoling/zhengwu")
APPLICANT = Actor("applicant.zhang", frozenset({"applicant"}))
AGENT = Actor("12345.agent07", frozenset({"hotline_agent"}), "jiaoling")
DEPARTMENT = Actor("shuiwu.huang", frozenset({"department"}), UNIT)
APPROVAL_DATA = {"applicant": "张三", "matter": "食品经营许可证核发", "delivery": "window"}
CALL = {"caller": "刘女士", "phone": "0753-0000000", "content": "三圳镇九岭村停水三天"}

#: template -> per mille of the clones (sums to 1000)
MIX: dict[str, int] = {
    "approval withdrawn (completed)": 400,
    "hotline resolved on the call (completed)": 300,
    "approval submitted": 50,
    "approval under review": 30,
    "hotline received": 40,
    "hotline callback": 20,
    "hotline referred": 60,
    "hotline handling": 100,
}
assert sum(MIX.values()) == 1000

# the states the actor works on (what the engine derives from the definitions; the floor
# is written with them by hand, and checked to find the same rows)
APPROVAL_STATES = ("accepted", "expert_review", "under_review")
HOTLINE_STATES = ("handling", "rectification", "referred")
PAGE, LATER_OFFSET = 50, 200


# --------------------------------------------------------------------------------------
# seeding: template cases through the engine, cloned in SQL
# --------------------------------------------------------------------------------------


def make_templates(engine: Engine) -> dict[str, str]:
    """One case per entry of :data:`MIX`, made by the engine; name -> case id."""
    engine.load_orgs(ORG_TREE)

    def approval(*steps: tuple[str, Actor, dict[str, Any] | None]) -> str:
        made = engine.start(APPROVAL, data=APPROVAL_DATA, actor=WINDOW)
        for name, actor, payload in steps:
            made = engine.fire(made.id, name, actor=actor, payload=payload)
        return made.id

    def hotline(*steps: tuple[str, Actor, dict[str, Any] | None], category: str) -> str:
        made = engine.start(HOTLINE, data={**CALL, "category": category}, actor=AGENT)
        for name, actor, payload in steps:
            made = engine.fire(made.id, name, actor=actor, payload=payload)
        return made.id

    refer = ("refer", AGENT, {"org": UNIT})
    on_call = ("resolve_on_call", AGENT, {"answer": "已告知停水原因和恢复时间"})
    made = {
        "approval withdrawn (completed)": approval(("withdraw", APPLICANT, None)),
        "hotline resolved on the call (completed)": hotline(
            on_call, ("rate", AGENT, {"satisfaction": "满意"}), category="咨询"
        ),
        "approval submitted": approval(),
        "approval under review": approval(
            ("accept", WINDOW, None), ("start_review", REVIEWER, None)
        ),
        "hotline received": hotline(category="求助"),
        "hotline callback": hotline(on_call, category="咨询"),
        "hotline referred": hotline(refer, category="投诉"),
        "hotline handling": hotline(refer, ("sign", DEPARTMENT, None), category="求助"),
    }
    assert list(made) == list(MIX)
    return made


@dataclass
class Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    sqlite: bool

    def series(self, last: int) -> str:
        if self.sqlite:
            return (
                f"s0(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s0 WHERE n < {last}), "
                "s AS (SELECT n, (n * 2654435761) % 1000003 AS h, (n * 11400714819) % 999983"
                " AS g FROM s0)"
            )
        return (
            "s AS (SELECT n, (n * 2654435761) % 1000003 AS h, (n * 11400714819) % 999983"
            f" AS g FROM generate_series(0, {last}) AS n)"
        )

    def clone_id(self, n: str) -> str:
        if self.sqlite:
            return f"printf('{ID_PREFIX}%027d', {n})"
        return f"'{ID_PREFIX}' || lpad(({n})::text, 27, '0')"

    def shift(self, column: str, days: str) -> str:
        """``column`` (a stored UTC datetime, or NULL) plus ``days`` whole days."""
        if self.sqlite:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff': keep the fraction
            return (
                f"(strftime('%Y-%m-%d %H:%M:%S', {column}, ({days}) || ' days')"
                f" || substr({column}, 20))"
            )
        return f"({column} + ({days}) * interval '1 day')"


def _values(rows: list[tuple[Any, ...]]) -> str:
    def lit(v: Any) -> str:
        return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"

    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def clone_sql(d: Dialect, templates: dict[str, str], clones: int) -> tuple[str, str]:
    """The two INSERT ... SELECT statements (cases, clocks) making ``clones`` clones."""
    lo, bands = 0, []
    for name, per_mille in MIX.items():
        bands.append((lo, lo + per_mille, templates[name]))
        lo += per_mille
    recursive = "RECURSIVE " if d.sqlite else ""
    # x: one row per clone: its number, template, unit, urgency, day shift and assignee
    prelude = (
        f"WITH {recursive}{d.series(clones - 1)}, "
        f"p(lo, hi, tid) AS (VALUES {_values(bands)}), "
        f"u(k, org) AS (VALUES {_values(list(enumerate(UNITS)))}), "
        "x AS (SELECT s.n AS n, p.tid AS tid, u.org AS c_org, "
        "CASE WHEN t.urgency = 3 THEN 3 WHEN s.h % 100 < 5 THEN 0 "
        "WHEN s.h % 100 < 12 THEN 1 ELSE 2 END AS c_urgency, "
        "CASE WHEN s.h % 100 < 5 THEN -(30 + (s.h / 100) % 50) "
        "WHEN s.h % 100 < 12 THEN (s.h / 100) % 3 ELSE (s.h / 100) % 30 END AS c_days, "
        "CASE WHEN t.status <> 'active' THEN t.assignee "
        "WHEN (s.n / 10) % 10 = 0 THEN 'staff.' || (s.n % 37) "
        f"WHEN (s.n / 10) % 100 = 1 THEN '{ACTOR.id}' ELSE t.assignee END AS c_assignee "
        "FROM s JOIN p ON s.n % 1000 >= p.lo AND s.n % 1000 < p.hi "
        "JOIN cf_cases t ON t.id = p.tid "
        f"JOIN u ON u.k = s.g % {len(UNITS)}) "
    )
    new_id = d.clone_id("x.n")
    case_values = {
        "id": new_id,
        "org": "x.c_org",
        "assignee": "x.c_assignee",
        "urgency": "x.c_urgency",
        "next_due": d.shift("t.next_due", "x.c_days"),
        "business_key": "NULL",
        "parent_id": "NULL",
    }
    names = [col.name for col in cf_tables.cases.columns]
    cases_sql = (
        prelude
        + f"INSERT INTO cf_cases ({seeding.quoted_names(names)}) SELECT "
        + ", ".join(case_values.get(col, f't."{col}"') for col in names)
        + " FROM x JOIN cf_cases t ON t.id = x.tid ORDER BY x.n"
    )
    running = "k.phase = 'running' AND x.c_urgency < 3"
    clock_values = {
        "case_id": new_id,
        "due_at": f"CASE WHEN {running} THEN {d.shift('k.due_at', 'x.c_days')} ELSE k.due_at END",
        "warn_at": f"CASE WHEN {running} THEN {d.shift('k.warn_at', 'x.c_days')} "
        "ELSE k.warn_at END",
        "warned_at": f"CASE WHEN {running} AND x.c_urgency <= 1 "
        "THEN COALESCE(k.warned_at, t.updated_at) ELSE k.warned_at END",
        "breached_at": f"CASE WHEN {running} AND x.c_urgency = 0 "
        f"THEN {d.shift('k.due_at', 'x.c_days')} ELSE k.breached_at END",
    }
    names = [col.name for col in cf_tables.clocks.columns]
    clocks_sql = (
        prelude
        + f"INSERT INTO cf_clocks ({seeding.quoted_names(names)}) SELECT "
        + ", ".join(clock_values.get(col, f'k."{col}"') for col in names)
        + " FROM x JOIN cf_cases t ON t.id = x.tid JOIN cf_clocks k ON k.case_id = t.id"
        + " ORDER BY x.n"
    )
    return cases_sql, clocks_sql


def seed(engine: Engine, n: int) -> tuple[dict[str, int], float]:
    """``n`` cases in all: the templates and their clones; what was made, and seconds."""
    t0 = time.perf_counter()
    templates = make_templates(engine)
    sqlite = engine.db.dialect.name == "sqlite"
    cases_sql, clocks_sql = clone_sql(Dialect(sqlite), templates, n - len(templates))
    with engine.db.begin() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB for the index builds
        conn.execute(text(cases_sql))
        conn.execute(text(clocks_sql))
    seeding.analyze(engine.db)
    seconds = time.perf_counter() - t0
    t = cf_tables.cases
    with engine.db.connect() as conn:
        made: dict[str, int] = {}
        for status, urgency, count in conn.execute(
            select(t.c.status, t.c.urgency, func.count()).group_by(t.c.status, t.c.urgency)
        ):
            made[f"{status} urgency={urgency}"] = int(count)
        made["clock rows"] = int(
            conn.execute(select(func.count()).select_from(cf_tables.clocks)).scalar_one()
        )
        made["claimed"] = int(
            conn.execute(
                select(func.count()).where(t.c.status == "active", t.c.assignee.is_not(None))
            ).scalar_one()
        )
    return made, seconds


# --------------------------------------------------------------------------------------
# the floor: the same queries, written by hand
# --------------------------------------------------------------------------------------

c = cf_tables.cases.c
FLOOR_COLUMNS = (
    c.id, c.workflow, c.workflow_version, c.state, c.status, c.data, c.org, c.row_version,
    c.created_at, c.updated_at, c.business_key, c.escalation_level, c.assignee, c.parent_id,
)  # fmt: skip


def _in_unit(unit: str) -> ColumnElement[bool]:
    return or_(c.org == unit, c.org.like(unit + "/%", escape="\\"))


def floor_branches(
    versions: dict[str, int], *, workflow: str | None = None, scoped: bool = True
) -> list[list[ColumnElement[bool]]]:
    """One WHERE per (workflow, state): the actor's (``scoped``), or every department task."""
    branches = []
    if scoped and workflow in (None, APPROVAL):
        branches += [
            [c.workflow == APPROVAL, c.state == s, c.workflow_version.in_([versions[APPROVAL]])]
            for s in APPROVAL_STATES
        ]
    if workflow in (None, HOTLINE):
        branches += [
            [
                c.workflow == HOTLINE,
                c.state == s,
                c.workflow_version.in_([versions[HOTLINE]]),
                *([_in_unit(UNIT)] if scoped else []),
            ]
            for s in HOTLINE_STATES
        ]
    claim = [or_(c.assignee.is_(None), c.assignee == ACTOR.id)] if scoped else []
    return [[c.status == "active", *where, *claim] for where in branches]


def floor_page(
    versions: dict[str, int], *, offset: int = 0, workflow: str | None = None
) -> Select[Any]:
    """Per (workflow, state), its first offset + 50 ids in worklist order; merged, paged,
    joined to the rows."""
    order = (c.urgency, c.next_due, c.id)
    walks = []
    for where in floor_branches(versions, workflow=workflow):
        walk = select(*order).where(*where).order_by(*order).limit(PAGE + offset).subquery()
        walks.append(select(walk))
    merged = union_all(*walks).order_by("urgency", "next_due", "id").limit(PAGE).offset(offset)
    page = merged.subquery()
    return (
        select(*FLOOR_COLUMNS)
        .join_from(cf_tables.cases, page, c.id == page.c.id)
        .order_by(page.c.urgency, page.c.next_due, page.c.id)
    )


def floor_counts(versions: dict[str, int], *, by_org: bool = False) -> CompoundSelect[Any]:
    keys = [c.workflow, c.state, *([c.org] if by_org else [])]
    breached = func.sum(case((c.urgency == 0, 1), else_=0))
    return union_all(
        *(
            select(*keys, func.count(), breached).where(*where).group_by(*keys)
            for where in floor_branches(versions, scoped=not by_org)
        )
    )


# --------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------


def plan_verdict(plan: list[str]) -> str:
    """What the plan does with cf_cases: the indexes it uses, full scans, sorts."""
    joined = "\n".join(plan)
    used = sorted(set(re.findall(r"\b(ix_cf_cases_\w+|sqlite_autoindex_cf_cases_\d+)", joined)))
    notes = [f"index {', '.join(used)}" if used else "NO cf_cases index"]
    if re.search(r"Seq Scan on cf_cases|^\s*SCAN cf_cases\s*$", joined, re.MULTILINE):
        notes.append("FULL SCAN of cf_cases")
    if re.search(r"TEMP B-TREE FOR ORDER BY|(^|->\s*)Sort\b|Sort Method", joined, re.MULTILINE):
        notes.append("a sort step")
    if re.search(r"TEMP B-TREE FOR GROUP BY|HashAggregate|GroupAggregate", joined):
        notes.append("an aggregate step")
    return "; ".join(notes)


@dataclass
class Measure:
    label: str
    engine_call: Callable[[], Any]
    floor: Select[Any] | CompoundSelect[Any]
    marker: str  # how the engine's statement for it is recognised
    engine_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    statement: str = ""
    plan: list[str] = field(default_factory=list)
    verdict: str = ""
    rows: int = 0


def pct(ms: list[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0..100)."""
    ordered = sorted(ms)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Result:
    db: str
    n: int
    seed_s: float
    made: dict[str, int]
    measures: list[Measure]
    load: tuple[float, float]


def work_ids(rows: list[Any]) -> list[str]:
    return [r.case.id for r in rows]


def run_floor(plain: SAEngine, query: Select[Any] | CompoundSelect[Any]) -> list[Any]:
    with plain.connect() as conn:
        return list(conn.execute(query).all())


def check_same(m: Measure, got: Any, floor_rows: list[Any]) -> None:
    """The engine's answer and the floor's rows agree (same ids in order, same counts)."""
    if isinstance(got, list):
        assert work_ids(got) == [r[0] for r in floor_rows], (m.label, work_ids(got)[:3])
        m.rows = len(got)
        return
    by_org = len(next(iter(got), ())) == 3
    mine = {
        ((r[2], r[0], r[1]) if by_org else (r[0], r[1])): (int(r[-2]), int(r[-1] or 0))
        for r in floor_rows
    }
    assert got == mine, (m.label, got, mine)
    m.rows = len(got)


def bench(kind: str, n: int, rounds: int) -> Result:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    load0 = os.getloadavg()[0]
    with seeding.database(kind, "worklist", "cfbw") as url:
        engine = Engine(url, clock=MovableClock(now), auto_upgrade=True)
        plain = create_engine(url)  # the floor's: no caseflow events, no pragmas
        try:
            made, seed_s = seed(engine, n)
            print(f"\n=== {kind}, {n:,} cases: seeded in {seed_s:.1f} s ===", flush=True)
            print("    " + ", ".join(f"{k} {v:,}" for k, v in sorted(made.items())))
            versions = {w: seeding.shipped_version(w) for w in (APPROVAL, HOTLINE)}
            measures = [
                Measure(
                    "worklist, first page",
                    lambda: engine.worklist(ACTOR, limit=PAGE),
                    floor_page(versions),
                    "ORDER BY",
                ),
                Measure(
                    f"worklist, page {LATER_OFFSET // PAGE + 1} (offset {LATER_OFFSET})",
                    lambda: engine.worklist(ACTOR, limit=PAGE, offset=LATER_OFFSET),
                    floor_page(versions, offset=LATER_OFFSET),
                    "ORDER BY",
                ),
                Measure(
                    f"worklist, workflow={HOTLINE}",
                    lambda: engine.worklist(ACTOR, workflow=HOTLINE, limit=PAGE),
                    floor_page(versions, workflow=HOTLINE),
                    "ORDER BY",
                ),
                Measure(
                    "worklist_counts",
                    lambda: engine.worklist_counts(ACTOR),
                    floor_counts(versions),
                    "GROUP BY",
                ),
                Measure(
                    "task_counts([department])",
                    lambda: engine.task_counts(["department"]),
                    floor_counts(versions, by_org=True),
                    "GROUP BY",
                ),
            ]
            for m in measures:
                with seeding.capture(engine.db) as seen:
                    got = m.engine_call()
                check_same(m, got, run_floor(plain, m.floor))
                statement, params = next(
                    (s, p) for s, p in seen if "FROM cf_cases" in s and m.marker in s
                )
                m.statement = " ".join(statement.split())
                m.plan = seeding.explain(engine.db, statement, params)
                m.verdict = plan_verdict(m.plan)
            for r in range(rounds + 2):  # ABAB: caseflow, floor, caseflow, floor, ...
                for m in measures:
                    t0 = time.perf_counter()
                    m.engine_call()
                    t1 = time.perf_counter()
                    run_floor(plain, m.floor)
                    t2 = time.perf_counter()
                    if r >= 2:  # two warm-up rounds
                        m.engine_ms.append((t1 - t0) * 1000)
                        m.floor_ms.append((t2 - t1) * 1000)
        finally:
            plain.dispose()
            engine.close()
    return Result(kind, n, seed_s, made, measures, (load0, os.getloadavg()[0]))


def print_result(res: Result) -> None:
    print(f"  load average {res.load[0]:.2f} at start, {res.load[1]:.2f} at end")
    print(
        f"  {'':38} {'rows':>4}  {'caseflow p50':>12} {'p99':>8}  {'floor p50':>9} {'p99':>8}"
        f"  {'ratio':>6}"
    )
    for m in res.measures:
        e50, f50 = statistics.median(m.engine_ms), statistics.median(m.floor_ms)
        print(
            f"  {m.label:38} {m.rows:>4}  {e50:12.2f} {pct(m.engine_ms, 99):8.2f}  "
            f"{f50:9.2f} {pct(m.floor_ms, 99):8.2f}  {e50 / f50:5.2f}x"
        )
    for m in res.measures:
        print(f"\n  -- {m.label}: {m.verdict}")
        print(f"     SQL: {m.statement}")
        for line in m.plan:
            print(f"     | {line}")


def markdown(results: list[Result]) -> list[str]:
    lines = [
        "| db | cases | call | rows | caseflow p50 / p99 ms | floor p50 / p99 ms | ratio | plan |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for res in results:
        for m in res.measures:
            e50, f50 = statistics.median(m.engine_ms), statistics.median(m.floor_ms)
            lines.append(
                f"| {res.db} | {res.n:,} | {m.label} | {m.rows} | {e50:.2f} / "
                f"{pct(m.engine_ms, 99):.2f} | {f50:.2f} / {pct(m.floor_ms, 99):.2f} | "
                f"{e50 / f50:.2f}× | {m.verdict} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--cases",
        default="10000,1000000",
        help="comma-separated case counts, each in a fresh database (default 10000,1000000)",
    )
    parser.add_argument("--quick", action="store_true", help="10,000 cases only")
    parser.add_argument("--rounds", type=int, default=40, help="timed rounds (40)")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [int(s.replace("_", "")) for s in args.cases.split(",")]
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]

    t0 = time.perf_counter()
    for line in seeding.machine_info("postgres" in kinds):
        print(line)
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    results = []
    for kind in kinds:
        for n in sizes:
            t1 = time.perf_counter()
            results.append(bench(kind, n, args.rounds))
            print_result(results[-1])
            print(f"  ({kind} {n:,}: {time.perf_counter() - t1:.0f} s in all)", flush=True)
    print("\n== summary (p50 / p99 over the rounds; ratio = caseflow p50 / floor p50) ==")
    for line in markdown(results):
        print(line)
    print(
        f"\nload average at end: {os.getloadavg()[0]:.2f}; total {time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
