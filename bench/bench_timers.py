#!/usr/bin/env python
"""
caseflow timer-sweep benchmark: warning sweeps vs. a raw SQL floor, breaches vs. steps.

Run by hand (this is not a test)::

    .venv/bin/python bench/bench_timers.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/bench_timers.py --db sqlite --warnings 20000 --breaches 1000
    .venv/bin/python bench/bench_timers.py --db sqlite --profile  # + cProfile, per timer

**a. Warning sweep.** ``--warnings`` N (default 100,000) cases of the shipped
``administrative_approval`` workflow sit in ``under_review`` with their ``decision``
clock running (due in the future) and a pending ``warn`` timer that is due. One such
case is made through the engine (start, accept, start_review, with a
``caseflow.testing.MovableClock``); the other N-1 are cloned from its rows with one
``INSERT ... SELECT`` per table over a number series (PostgreSQL ``generate_series``,
SQLite a recursive CTE), changing only the case id: so every ``cf_cases``, ``cf_clocks``
(the stopped ``correction_window`` and the running ``decision``), ``cf_timers`` (the
cancelled correction breach, the pending ``warn`` and the pending ``decision`` breach)
and ``cf_history`` row is exactly what the engine wrote. The engine's clock is then set
halfway between the warning and the due time, so every warning and no breach is due.

* **caseflow**: ``Sweeper(engine, batch=500).run_once(max_batches=k)`` (what
  ``engine.fire_due(batch=500)`` runs): per batch, a claim transaction (select due ids,
  lease them, reload them) and the warnings transaction (finish the timers, load cases
  and clocks, set ``warned_at``, write one history line and arm one ``notify`` timer per
  warning). The notifier is a no-op (the default one logs every notification at WARNING).
* **floor**: the same claim predicate and order with plain SQLAlchemy Core statements
  built once, in one transaction per batch of 500 (PostgreSQL: ``FOR UPDATE SKIP
  LOCKED``): select the due rows, mark them done, read the cases' state and version,
  insert one history row each, commit. It does not touch ``cf_clocks`` and arms nothing.

The floor runs in its own database (SQLite file / PostgreSQL schema) seeded the same way.
After one warm-up batch each, the sides alternate in ``--rounds`` rounds (ABBA...). The
sweeps run until the N warn timers are done ("warnings only": the claim orders by
``due_at`` and every warn timer is due before the notify timers the sweep arms). The
notifications that the warnings armed are then delivered by further sweeps, timed
separately ("notify delivery": one transaction per notification; by default only the
first ``--notify-limit`` 20,000 of them, to keep PostgreSQL runs short) and added up per
timer in "warnings + notify".

**b. Breaches vs steps.** ``--breaches`` M (default 2,000) cases started through the
engine with a ``MovableClock`` ``--past-days`` ago, so their ``correction_window`` breach
timer is due; M more started through an engine on the system clock ("now"). Then,
alternating round by round: a sweep of one batch (``--breach-batch``, default 100) of
breaches (each fires ``deemed_accepted``: submitted -> accepted, the decision clock
starts), and as many ``engine.fire(case, "accept")`` calls (submitted -> accepted, the
same transition, by a window clerk) on the other cases. Reported: breaches/s (claim
included) vs. steps/s, from the totals (the target), per round (median: robust to bursts
of load from other processes), and by this process's CPU time.

Databases: SQLite files in a fresh temporary directory (WAL, ``synchronous=NORMAL`` from
``caseflow.store.db.connect``); PostgreSQL: fresh schemas (``CREATE SCHEMA``, reached with
``options=-csearch_path=<schema>``, migrated by ``Engine(..., auto_upgrade=True)``),
dropped at the end. ``ANALYZE`` runs after seeding.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import importlib.metadata
import logging
import math
import os
import platform
import pstats
import secrets
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import structlog

# Log calls must be filtered at WARNING *before* the engine is created (its default logger
# is a lazy structlog proxy that picks up the configuration when it is first used).
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

from caseflow.timers import Sweeper  # noqa: E402
from sqlalchemy import (  # noqa: E402
    bindparam,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)

from caseflow.abc import Notifier  # noqa: E402
from caseflow.cases import Actor  # noqa: E402
from caseflow.engine import Engine  # noqa: E402
from caseflow.store import clockrepo  # noqa: E402
from caseflow.store import tables as cf_tables  # noqa: E402
from caseflow.store.db import connect  # noqa: E402
from caseflow.testing import MovableClock  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Engine as SAEngine

WORKFLOW = "administrative_approval"
PG_BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORG = "hainan/lingshui/yingzhou"
START_DATA = {
    "applicant": "李明",
    "matter": "食品经营许可证核发",
    "category": "food_business",
    "delivery": "window",
}
APPLICANT = Actor("applicant-1", {"applicant"}, ORG)
CLERK = Actor("clerk-7", {"window_clerk"}, ORG)
REVIEWER = Actor("reviewer-3", {"reviewer"}, ORG)
SYSTEM_ACTOR = Actor.system("timer")
# a Monday 09:00 in Asia/Shanghai: the template case of the warning sweep starts here
WARN_START = "2026-03-02 09:00"


class NullNotifier(Notifier):
    """Counts notifications and sends nothing (the default notifier logs at WARNING)."""

    def __init__(self) -> None:
        self.sent = 0

    def notify(
        self,
        *,
        case_id: str,
        roles: tuple[str, ...],
        org: str,
        message: str,
        idempotency_key: str = "",  # noqa: ARG002 - no gateway to dedup here
    ) -> None:
        del case_id, roles, org, message
        self.sent += 1


# --------------------------------------------------------------------------------------
# databases
# --------------------------------------------------------------------------------------


def pg_admin() -> SAEngine:
    return create_engine(PG_BASE_URL, isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def databases(kind: str, count: int) -> Iterator[list[str]]:
    """``count`` fresh empty databases of ``kind``; yields their URLs, removes them after."""
    if kind == "sqlite":
        tmp = tempfile.mkdtemp(prefix="caseflow-bench-timers-")
        try:
            yield [f"sqlite:///{tmp}/db{i}.db" for i in range(count)]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    tag = f"cfbt_{os.getpid()}_{secrets.token_hex(3)}"
    schemas = [f"{tag}_{i}" for i in range(count)]
    admin = pg_admin()
    try:
        with admin.connect() as conn:
            for s in schemas:
                conn.exec_driver_sql(f'CREATE SCHEMA "{s}"')
        try:
            yield [f"{PG_BASE_URL}?options=-csearch_path%3D{s}" for s in schemas]
        finally:
            with admin.connect() as conn:
                for s in schemas:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
    finally:
        admin.dispose()


def make_engine(url: str, clock: Any = None) -> Engine:
    return Engine(url, auto_upgrade=True, clock=clock, notifier=NullNotifier())


def analyze(db: SAEngine) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    if db.dialect.name == "sqlite":  # outside a transaction: fold the WAL into the file
        raw = db.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()


def clone_case_rows(db: SAEngine, template_id: str, copies: int) -> dict[str, int]:
    """
    Copy every row of the template case ``copies`` times with new case ids, in bulk.

    One ``INSERT ... SELECT`` per table over a number series; only the case id changes
    (and the generated ids of timers and history lines). Returns rows inserted per table.
    """
    if copies <= 0:
        return {}
    pg = db.dialect.name == "postgresql"
    if pg:
        series = f"generate_series(1, {copies}) AS g(x)"
        new_id = "'s' || lpad(g.x::text, 28, '0')"
        with_clause = ""
    else:
        series = "g"
        new_id = "printf('s%028d', g.x)"
        with_clause = (
            f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {copies}) "
        )
    inserted: dict[str, int] = {}
    plan = (
        (cf_tables.cases, "id", ""),
        (cf_tables.clocks, "case_id", ""),
        (cf_tables.timers, "case_id", " ORDER BY g.x, t.id"),
        (cf_tables.history, "case_id", " ORDER BY g.x, t.id"),
    )
    with db.begin() as conn:
        for table, key, order in plan:
            cols = [c.name for c in table.columns if not (c.name == "id" and key != "id")]
            exprs = [new_id if c == key else f't."{c}"' for c in cols]
            names = ", ".join(f'"{c}"' for c in cols)
            sql = (
                f"INSERT INTO {table.name} ({names}) "
                f"{with_clause}SELECT {', '.join(exprs)} FROM {table.name} t, {series} "
                f"WHERE t.\"{key}\" = '{template_id}'{order}"
            )
            inserted[table.name] = conn.exec_driver_sql(sql).rowcount
    return inserted


# --------------------------------------------------------------------------------------
# a. the warning sweep
# --------------------------------------------------------------------------------------


@dataclass
class WarnSeed:
    template_id: str
    warn_at: dt.datetime
    due_at: dt.datetime
    sweep_at: dt.datetime
    rows: dict[str, int]
    seconds: float


def seed_warnings(url: str, n: int) -> WarnSeed:
    """N cases in under_review with a due warn timer: one via the engine, N-1 cloned."""
    t0 = time.perf_counter()
    clock = MovableClock(WARN_START)
    engine = make_engine(url, clock)
    try:
        case = engine.start(WORKFLOW, data=START_DATA, actor=APPLICANT)
        engine.fire(case.id, "accept", actor=CLERK)
        engine.fire(case.id, "start_review", actor=REVIEWER)
        decision = next(v for v in engine.clocks(case.id) if v.name == "decision")
        state = decision.state
        assert state.phase == "running" and state.warn_at and state.due_at, state
        rows = clone_case_rows(engine.db, case.id, n - 1)
        analyze(engine.db)
    finally:
        engine.close()
    sweep_at = state.warn_at + (state.due_at - state.warn_at) / 2
    return WarnSeed(case.id, state.warn_at, state.due_at, sweep_at, rows, time.perf_counter() - t0)


def check_warn_seed(db: SAEngine, seed: WarnSeed, n: int) -> None:
    """Every case has what the engine wrote; N warn timers and no breach due at sweep time."""
    t = cf_tables.timers
    with db.connect() as conn:
        due = conn.execute(
            select(t.c.kind, t.c.id)
            .where(t.c.status == "pending", t.c.due_at <= seed.sweep_at)
            .order_by(t.c.id)
        ).all()
        per_case = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM cf_cases), (SELECT count(*) FROM cf_clocks),"
                " (SELECT count(*) FROM cf_timers), (SELECT count(*) FROM cf_history),"
                " (SELECT count(*) FROM cf_clocks WHERE phase = 'running' AND name = 'decision'"
                "  AND warned_at IS NULL)"
            )
        ).one()
    kinds = Counter(k for k, _ in due)
    assert kinds == Counter({"warn": n}), kinds
    cases, clocks, timers, history, running = per_case
    assert cases == n and running == n, per_case
    assert clocks == 2 * n and timers == 3 * n and history == 6 * n, per_case


class WarnFloor:
    """The minimum for a warning sweep: claim 500, mark done, one history row each, commit."""

    def __init__(self, url: str, batch: int) -> None:
        self.db = connect(url)  # same SQLite pragmas and BEGIN IMMEDIATE as caseflow
        t, c = cf_tables.timers, cf_tables.cases
        now = bindparam("now")
        claim = (
            select(t.c.id, t.c.case_id, t.c.clock)
            .where(
                t.c.status == "pending",
                t.c.due_at <= now,
                or_(t.c.lease_until.is_(None), t.c.lease_until < now),
            )
            .order_by(t.c.due_at, t.c.id)
            .limit(batch)
        )
        if self.db.dialect.name == "postgresql":
            claim = claim.with_for_update(skip_locked=True)
        self.claim = claim
        self.finish = (
            update(t)
            .where(t.c.id.in_(bindparam("ids", expanding=True)))
            .values(status="done", fired_at=bindparam("fired"))
        )
        self.cases = select(c.c.id, c.c.state, c.c.row_version).where(
            c.c.id.in_(bindparam("ids", expanding=True))
        )
        self.history = insert(cf_tables.history)

    def close(self) -> None:
        self.db.dispose()

    def sweep(self, now: dt.datetime, max_batches: int) -> int:
        fired = 0
        roles = sorted(SYSTEM_ACTOR.roles)
        for _ in range(max_batches):
            with self.db.begin() as conn:
                due = conn.execute(self.claim, {"now": now}).all()
                if not due:
                    break
                conn.execute(self.finish, {"ids": [r[0] for r in due], "fired": now})
                cases = {
                    r[0]: (r[1], r[2])
                    for r in conn.execute(self.cases, {"ids": sorted({r[1] for r in due})})
                }
                conn.execute(
                    self.history,
                    [
                        {
                            "case_id": case_id,
                            "seq": cases[case_id][1],
                            "at": now,
                            "kind": "clock",
                            "event": None,
                            "from_state": cases[case_id][0],
                            "to_state": cases[case_id][0],
                            "actor_id": SYSTEM_ACTOR.id,
                            "actor_roles": roles,
                            "actor_org": "",
                            "details": {"clock": clock, "action": "warned"},
                        }
                        for _id, case_id, clock in due
                    ],
                )
            fired += len(due)
        return fired


class WarnFloorSameWrites(WarnFloor):
    """
    Informational: the floor doing caseflow's logical writes too, set-based.

    Per batch, one transaction: claim, mark done, read case and clock in one join, set
    ``warned_at`` on the clocks (one ``UPDATE ... WHERE (case_id, name) IN``), one history
    row each with caseflow's note, one ``notify`` timer each with caseflow's payload.
    """

    def __init__(self, url: str, batch: int) -> None:
        super().__init__(url, batch)
        c, k = cf_tables.cases, cf_tables.clocks
        self.cases_clocks = (
            select(c.c.id, c.c.state, c.c.row_version, c.c.org, k.c.name, k.c.due_at, k.c.last_day)
            .join(k, k.c.case_id == c.c.id)
            .where(
                c.c.id.in_(bindparam("ids", expanding=True)),
                k.c.name.in_(bindparam("names", expanding=True)),
                k.c.phase == "running",
                k.c.breached_at.is_(None),
            )
        )
        self.warned = (
            update(k)
            .where(tuple_(k.c.case_id, k.c.name).in_(bindparam("pairs", expanding=True)))
            .values(warned_at=bindparam("at"))
        )
        self.timers = insert(cf_tables.timers)

    def sweep(self, now: dt.datetime, max_batches: int) -> int:
        fired = 0
        roles = sorted(SYSTEM_ACTOR.roles)
        notify_roles = ["reviewer", "agency_head"]
        for _ in range(max_batches):
            with self.db.begin() as conn:
                due = conn.execute(self.claim, {"now": now}).all()
                if not due:
                    break
                conn.execute(self.finish, {"ids": [r[0] for r in due], "fired": now})
                rows = {
                    (r[0], r[4]): r
                    for r in conn.execute(
                        self.cases_clocks,
                        {
                            "ids": sorted({r[1] for r in due}),
                            "names": sorted({r[2] for r in due}),
                        },
                    )
                }
                live = [rows[(r[1], r[2])] for r in due if (r[1], r[2]) in rows]
                conn.execute(self.warned, {"pairs": [(r[0], r[4]) for r in live], "at": now})
                conn.execute(
                    self.history,
                    [
                        {
                            "case_id": r[0],
                            "seq": r[2],
                            "at": now,
                            "kind": "clock",
                            "event": None,
                            "from_state": r[1],
                            "to_state": r[1],
                            "actor_id": SYSTEM_ACTOR.id,
                            "actor_roles": roles,
                            "actor_org": "",
                            "details": {
                                "clock": r[4],
                                "action": "warned",
                                "due_at": r[5].isoformat(),
                                "provisional": False,
                            },
                        }
                        for r in live
                    ],
                )
                conn.execute(
                    self.timers,
                    [
                        {
                            "case_id": r[0],
                            "kind": "notify",
                            "clock": r[4],
                            "step": 0,
                            "due_at": now,
                            "status": "pending",
                            "attempts": 0,
                            "created_at": now,
                            "provisional": False,
                            "payload": {
                                "roles": notify_roles,
                                "org": r[3],
                                "message": f"{WORKFLOW} case {r[0]}: clock {r[4]!r} is due by "
                                f"the end of {r[6]}",
                            },
                        }
                        for r in live
                    ],
                )
            fired += len(live)
        return fired


@dataclass
class WarnResult:
    db: str
    n: int
    batch: int
    seed: WarnSeed
    timed: Counter[str] = field(default_factory=Counter)
    ns: dict[str, list[int]] = field(default_factory=dict)
    cpu_ns: Counter[str] = field(default_factory=Counter)
    notify_count: int = 0
    notify_ns: int = 0
    notify_cpu_ns: int = 0
    notify_extrapolated: bool = False
    claim_plan: list[str] = field(default_factory=list)

    def rate(self, side: str) -> float:
        return self.timed[side] / (sum(self.ns[side]) / 1e9)

    def us_per_timer(self, side: str) -> float:
        return sum(self.ns[side]) / 1e3 / self.timed[side]

    def cpu_us(self, side: str) -> float:
        return self.cpu_ns[side] / 1e3 / self.timed[side]

    @property
    def notify_us(self) -> float:
        return self.notify_ns / 1e3 / max(1, self.notify_count)

    @property
    def ratio(self) -> float:
        return self.us_per_timer("caseflow") / self.us_per_timer("floor")

    @property
    def ratio_with_notify(self) -> float:
        return (self.us_per_timer("caseflow") + self.notify_us) / self.us_per_timer("floor")

    def round_ratios(self) -> list[float]:
        return [c / f for c, f in zip(self.ns["caseflow"], self.ns["floor"], strict=True)]


def _timed(fn: Callable[[], int]) -> tuple[int, int, int]:
    gc.collect()  # do not let one side's garbage be collected in the other's time
    cpu0, t0 = time.process_time_ns(), time.perf_counter_ns()
    count = fn()
    return count, time.perf_counter_ns() - t0, time.process_time_ns() - cpu0


def captured_sql(db: SAEngine, fn: Callable[[Any], Any]) -> list[tuple[str, Any]]:
    """The statements and driver parameters ``fn(conn)`` sends, in a rolled-back transaction."""
    seen: list[tuple[str, Any]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db, "before_cursor_execute", on_execute)
    try:
        with db.connect() as conn:
            trans = conn.begin()
            try:
                fn(conn)
            finally:
                trans.rollback()
    finally:
        event.remove(db, "before_cursor_execute", on_execute)
    return seen


def explain(db: SAEngine, statement: str, parameters: Any, before: str = "") -> list[str]:
    """
    EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL), verbatim.

    ``before``: DDL run first in the same transaction, which is rolled back (a what-if).
    """
    pg = db.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
    with db.connect() as conn:
        if before:
            conn.exec_driver_sql(before)
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        conn.rollback()
    if pg:
        return [r[0] for r in rows]
    depth = {0: 0}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append(f"{'  ' * (depth[node] - 1)}{detail}")
    return lines


def claim_plan(db: SAEngine, now: dt.datetime, batch: int) -> list[str]:
    """The SQL and query plan of caseflow's claim (``clockrepo.claim_due``: one UPDATE)."""
    sql = captured_sql(
        db, lambda conn: clockrepo.claim_due(conn, "plan", now, dt.timedelta(minutes=5), batch)
    )
    statement, parameters = next(
        (s, p) for s, p in sql if s.lstrip().upper().startswith(("SELECT", "UPDATE"))
    )
    return [
        "SQL: " + " ".join(statement.split()),
        f"parameters: {parameters!r}",
        *explain(db, statement, parameters),
    ]


def bench_warnings(kind: str, args: argparse.Namespace) -> WarnResult:
    n, batch = args.warnings, args.batch
    extra = 1 if args.floor_same_writes else 0
    with databases(kind, 2 + extra) as urls:
        cf_url, fl_url = urls[:2]
        t0 = time.perf_counter()
        seed = seed_warnings(cf_url, n)
        fl_seed = seed_warnings(fl_url, n)
        if extra:
            assert seed_warnings(urls[2], n).sweep_at == seed.sweep_at
        print(
            f"  seeded {n} due warnings {2 + extra} times in {time.perf_counter() - t0:.1f} s "
            f"(cloned rows per database: {seed.rows}); warn at {seed.warn_at:%Y-%m-%d %H:%M}Z, "
            f"due {seed.due_at:%Y-%m-%d %H:%M}Z, sweep at {seed.sweep_at:%Y-%m-%d %H:%M}Z"
        )
        engine = make_engine(cf_url, MovableClock(seed.sweep_at))
        floor = WarnFloor(fl_url, batch)
        floor_plus = WarnFloorSameWrites(urls[2], batch) if extra else None
        try:
            assert fl_seed.sweep_at == seed.sweep_at
            check_warn_seed(engine.db, seed, n)
            check_warn_seed(floor.db, fl_seed, n)
            res = WarnResult(kind, n, batch, seed)
            res.claim_plan = claim_plan(engine.db, seed.sweep_at, batch)
            sweeper = Sweeper(engine, batch=batch)
            report_total: Counter[str] = Counter()

            def cf_sweep(batches: int) -> int:
                report = sweeper.run_once(max_batches=batches)
                report_total.update(report.fired)
                return report.fired["warn"]

            def fl_sweep(batches: int) -> int:
                return floor.sweep(seed.sweep_at, batches)

            order: list[tuple[str, Callable[[int], int]]] = [
                ("caseflow", cf_sweep),
                ("floor", fl_sweep),
            ]
            if floor_plus is not None:
                order.append(("floor+", lambda b: floor_plus.sweep(seed.sweep_at, b)))
            # warm-up: one batch each, untimed
            warm = cf_sweep(1)
            for _side, fn in order[1:]:
                fn(1)
            left = math.ceil(n / batch) - 1
            rounds = max(1, min(args.rounds, left))
            per_round = [left // rounds + (1 if r < left % rounds else 0) for r in range(rounds)]
            for r, batches in enumerate(per_round):
                for side, fn in order if r % 2 == 0 else order[::-1]:
                    count, ns, cpu = _timed(lambda fn=fn, b=batches: fn(b))
                    res.timed[side] += count
                    res.ns.setdefault(side, []).append(ns)
                    res.cpu_ns[side] += cpu
            assert report_total["warn"] == n, report_total
            assert report_total["notify"] == 0, (
                f"notifications in the warning phase: {report_total}"
            )
            assert res.timed["floor"] + batch >= n, res.timed
            assert warm + res.timed["caseflow"] == n
            # the notifications the warnings armed: delivered one transaction each
            todo = n if args.notify_limit <= 0 else min(n, args.notify_limit)
            res.notify_extrapolated = todo < n
            count, ns, cpu = _timed(
                lambda: sweeper.run_once(max_batches=math.ceil(todo / batch)).fired["notify"]
            )
            res.notify_count, res.notify_ns, res.notify_cpu_ns = count, ns, cpu
            check_warn_result(engine, floor, n, res.notify_count)
            if floor_plus is not None:
                with floor_plus.db.connect() as conn:
                    made = conn.execute(
                        text(
                            "SELECT (SELECT count(*) FROM cf_timers WHERE kind = 'notify'),"
                            " (SELECT count(*) FROM cf_clocks WHERE warned_at IS NOT NULL),"
                            " (SELECT count(*) FROM cf_history WHERE actor_id = 'system:timer')"
                        )
                    ).one()
                assert tuple(made) == (n, n, n), made
            return res
        finally:
            engine.close()
            floor.close()
            if floor_plus is not None:
                floor_plus.close()


def check_warn_result(engine: Engine, floor: WarnFloor, n: int, delivered: int) -> None:
    with engine.db.connect() as conn:
        warned = conn.execute(
            text("SELECT count(*) FROM cf_clocks WHERE name = 'decision' AND warned_at IS NOT NULL")
        ).scalar_one()
        notes = conn.execute(
            text(
                "SELECT count(*) FROM cf_history WHERE kind = 'clock' AND actor_id = 'system:timer'"
            )
        ).scalar_one()
        notify = conn.execute(
            text("SELECT status, count(*) FROM cf_timers WHERE kind = 'notify' GROUP BY status")
        ).all()
    with floor.db.connect() as conn:
        fl_done = conn.execute(
            text("SELECT count(*) FROM cf_timers WHERE kind = 'warn' AND status = 'done'")
        ).scalar_one()
        fl_notes = conn.execute(
            text("SELECT count(*) FROM cf_history WHERE actor_id = 'system:timer'")
        ).scalar_one()
    assert warned == n and notes == n, (warned, notes)
    assert dict(notify).get("done", 0) == delivered, notify
    assert sum(c for _, c in notify) == n, notify
    assert engine.notifier.sent == delivered, engine.notifier.sent  # type: ignore[attr-defined]
    assert fl_done == n and fl_notes == n, (fl_done, fl_notes)


def print_warnings(res: WarnResult) -> None:
    cf, fl = "caseflow", "floor"
    rr = res.round_ratios()
    print(
        f"\n== a. warning sweep, {res.db}: {res.n} due warnings, batch {res.batch}; timed "
        f"{res.timed[cf]} (caseflow) / {res.timed[fl]} (floor) after one warm-up batch each, "
        f"{len(rr)} alternating rounds =="
    )
    print(f"{'':32} {'timers/s':>9} {'µs/timer':>9} {'client CPU µs':>14}")
    print(
        f"{'caseflow: warnings only':32} {res.rate(cf):9.0f} {res.us_per_timer(cf):9.1f} "
        f"{res.cpu_us(cf):14.1f}"
    )
    print(f"{'floor':32} {res.rate(fl):9.0f} {res.us_per_timer(fl):9.1f} {res.cpu_us(fl):14.1f}")
    if "floor+" in res.ns:
        print(
            f"{'floor+ (same logical writes)':32} {res.rate('floor+'):9.0f} "
            f"{res.us_per_timer('floor+'):9.1f} {res.cpu_us('floor+'):14.1f}   (informational)"
        )
    note = f" of {res.n}: a sample, see --notify-limit" if res.notify_extrapolated else ""
    print(
        f"{'caseflow: notify delivery':32} {1e6 / res.notify_us:9.0f} {res.notify_us:9.1f} "
        f"{res.notify_cpu_ns / 1e3 / max(1, res.notify_count):14.1f}"
        f"   ({res.notify_count} notifications delivered{note})"
    )
    both = res.us_per_timer(cf) + res.notify_us
    print(f"{'caseflow: warnings + notify':32} {1e6 / both:9.0f} {both:9.1f}")
    verdict = "OK" if res.ratio <= 2.0 else "MISSED"
    print(
        f"ratio time(caseflow)/time(floor): warnings only {res.ratio:.2f}x "
        f"(per round min/median/max {min(rr):.2f}/{statistics.median(rr):.2f}/{max(rr):.2f}); "
        f"including notification delivery {res.ratio_with_notify:.2f}x. "
        f"Target <= 2x (warnings only): {verdict}"
    )
    if "floor+" in res.ns:
        print(
            f"informational: time(caseflow)/time(floor+) = "
            f"{res.us_per_timer(cf) / res.us_per_timer('floor+'):.2f}x"
        )
    print("caseflow's claim query plan (first claim, before the sweep):")
    for line in res.claim_plan:
        print(f"    {line}")


# --------------------------------------------------------------------------------------
# b. breaches vs. steps
# --------------------------------------------------------------------------------------


@dataclass
class BreachResult:
    db: str
    m: int
    batch: int
    ns: dict[str, list[int]] = field(default_factory=lambda: {"breach": [], "step": []})
    count: dict[str, int] = field(default_factory=lambda: {"breach": 0, "step": 0})
    cpu_ns: dict[str, int] = field(default_factory=lambda: {"breach": 0, "step": 0})
    round_count: dict[str, list[int]] = field(default_factory=lambda: {"breach": [], "step": []})

    def rate(self, side: str) -> float:
        return self.count[side] / (sum(self.ns[side]) / 1e9)

    def cpu_us(self, side: str) -> float:
        return self.cpu_ns[side] / 1e3 / self.count[side]

    @property
    def percent(self) -> float:
        return 100 * self.rate("breach") / self.rate("step")

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu_us("step") / self.cpu_us("breach")

    def round_percents(self) -> list[float]:
        """Per round: breaches/s as % of steps/s (robust to bursts of load elsewhere)."""
        b, s = self.ns["breach"], self.ns["step"]
        bc, sc = self.round_count["breach"], self.round_count["step"]
        return [100 * (s[i] / sc[i]) / (b[i] / bc[i]) for i in range(len(b))]


def start_cases(engine: Engine, count: int) -> list[str]:
    return [engine.start(WORKFLOW, data=START_DATA, actor=APPLICANT).id for _ in range(count)]


def bench_breaches(kind: str, args: argparse.Namespace) -> BreachResult:
    m, batch, warmup = args.breaches, args.breach_batch, args.warmup
    with databases(kind, 1) as (url,):
        t0 = time.perf_counter()
        past = make_engine(
            url, MovableClock(dt.datetime.now(dt.UTC) - dt.timedelta(args.past_days))
        )
        try:
            start_cases(past, warmup + m)  # the warm-up cases' timers come first (lower ids)
        finally:
            past.close()
        engine = make_engine(url)  # the system clock
        try:
            step_cases = start_cases(engine, warmup + m)
            analyze(engine.db)
            print(
                f"  started {2 * (warmup + m)} cases through the engine in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            t = cf_tables.timers
            with engine.db.connect() as conn:
                due = conn.execute(
                    select(t.c.kind, func.count())
                    .where(t.c.status == "pending", t.c.due_at <= dt.datetime.now(dt.UTC))
                    .group_by(t.c.kind)
                ).all()
            assert dict(due) == {"breach": warmup + m}, due
            # warm-up, untimed
            fired = Sweeper(engine, batch=warmup).run_once(max_batches=1).fired
            assert fired == Counter({"breach": warmup}), fired
            for case_id in step_cases[:warmup]:
                engine.fire(case_id, "accept", actor=CLERK)
            todo = iter(step_cases[warmup:])
            sweeper = Sweeper(engine, batch=batch)
            res = BreachResult(kind, m, batch)

            def sweep() -> int:
                report = sweeper.run_once(max_batches=1)
                assert set(report.fired) <= {"breach"} and not report.failed, report
                return report.fired["breach"]

            def steps() -> int:
                done = 0
                for case_id in todo:
                    engine.fire(case_id, "accept", actor=CLERK)
                    done += 1
                    if done == batch:
                        break
                return done

            rounds = math.ceil(m / batch)
            for r in range(rounds):
                order = (("breach", sweep), ("step", steps))
                for side, fn in order if r % 2 == 0 else order[::-1]:
                    count, ns, cpu = _timed(fn)
                    res.count[side] += count
                    res.round_count[side].append(count)
                    res.ns[side].append(ns)
                    res.cpu_ns[side] += cpu
            assert res.count == {"breach": m, "step": m}, res.count
            assert sweeper.run_once().total == 0
            with engine.db.connect() as conn:
                states = conn.execute(
                    text("SELECT state, count(*) FROM cf_cases GROUP BY state")
                ).all()
                breached = conn.execute(
                    text(
                        "SELECT count(*) FROM cf_clocks WHERE name = 'correction_window'"
                        " AND breached_at IS NOT NULL"
                    )
                ).scalar_one()
                deemed = conn.execute(
                    text("SELECT count(*) FROM cf_history WHERE event = 'deemed_accepted'")
                ).scalar_one()
            assert dict(states) == {"accepted": 2 * (warmup + m)}, states
            assert breached == warmup + m and deemed == warmup + m, (breached, deemed)
            return res
        finally:
            engine.close()


def print_breaches(res: BreachResult) -> None:
    print(
        f"\n== b. breach sweep vs. engine steps, {res.db}: {res.m} breaches (sweeps of "
        f"{res.batch}, claim included) vs. {res.m} engine.fire(accept), alternating =="
    )
    print(f"{'':28} {'per s':>8} {'µs each':>9} {'client CPU µs':>14}")
    for side, label in (("breach", "breaches (deemed_accepted)"), ("step", "steps (fire accept)")):
        print(
            f"{label:28} {res.rate(side):8.0f} {1e6 / res.rate(side):9.1f} {res.cpu_us(side):14.1f}"
        )
    verdict = "OK" if res.percent >= 80 else "MISSED"
    rp = res.round_percents()
    print(
        f"breaches/s = {res.percent:.0f}% of steps/s (per round min/median/max "
        f"{min(rp):.0f}/{statistics.median(rp):.0f}/{max(rp):.0f}%, {len(rp)} rounds; by client "
        f"CPU time {res.cpu_percent:.0f}%). Target >= 80%: {verdict}"
    )


# --------------------------------------------------------------------------------------
# profile
# --------------------------------------------------------------------------------------


class StatementCounter:
    """Counts statements sent to the database (executemany counts once)."""

    def __init__(self, db: SAEngine) -> None:
        self.db = db
        self.count: Counter[str] = Counter()

    def __enter__(self) -> Self:
        event.listen(self.db, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.db, "before_cursor_execute", self._on)

    def _on(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        words = statement.split()
        head = " ".join(words[:3]) if words else "?"
        self.count[head[:60]] += 1


def _where(key: tuple[str, int, str]) -> str:
    path, line, func = key
    if path == "~":
        return func
    p = path.replace("\\", "/")
    for marker in ("/caseflow/", "/sqlalchemy/", "/psycopg/", "/bench/"):
        if marker in p:
            return f"{marker.strip('/')}/{p.split(marker, 1)[1]}:{line} {func}"
    return f"{Path(p).name}:{line} {func}"


def _package(key: tuple[str, int, str]) -> str:
    path = key[0].replace("\\", "/")
    if path == "~":
        return "builtins/C (drivers, json, ...)"
    for marker in ("/caseflow/", "/sqlalchemy/", "/psycopg/", "/bench/"):
        if marker in path:
            return marker.strip("/")
    return "other stdlib/3rd party"


def print_profile(title: str, prof: cProfile.Profile, per: int, top: int) -> None:
    stats = pstats.Stats(prof)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    print(f"\n-- cProfile: {title}; {per} timers; {total * 1e6 / per:.0f} µs/timer profiled --")
    by_pkg: Counter[str] = Counter()
    for key, (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_pkg[_package(key)] += tt
    print(
        "  own time by package (µs/timer): "
        + ", ".join(f"{k} {v * 1e6 / per:.0f}" for k, v in by_pkg.most_common())
    )
    print(f"  {'cumulative µs/timer':>20} {'calls/timer':>12}  caseflow function")
    rows = sorted(
        ((ct, nc, key) for key, (_cc, nc, _tt, ct, _c) in raw.items() if "/caseflow/" in key[0]),
        reverse=True,
    )
    for ct, nc, key in rows[:top]:
        print(f"  {ct * 1e6 / per:20.1f} {nc / per:12.2f}  {_where(key)}")
    print(f"  {'own µs/timer':>20} {'calls/timer':>12}  function (any package)")
    rows = sorted(((tt, nc, key) for key, (_cc, nc, tt, _ct, _c) in raw.items()), reverse=True)
    for tt, nc, key in rows[:top]:
        print(f"  {tt * 1e6 / per:20.1f} {nc / per:12.2f}  {_where(key)}")


def profile(kind: str, args: argparse.Namespace) -> None:
    n, batch = args.profile_warnings, args.batch
    print(f"\n== profile ({kind}): cProfile inflates pure-Python code; read as proportions ==")
    with databases(kind, 2) as (cf_url, fl_url):
        seed = seed_warnings(cf_url, n)
        seed_warnings(fl_url, n)
        engine = make_engine(cf_url, MovableClock(seed.sweep_at))
        floor = WarnFloor(fl_url, batch)
        try:
            sweeper = Sweeper(engine, batch=batch)
            sweeper.run_once(max_batches=1)
            floor.sweep(seed.sweep_at, 1)
            left = n - batch
            prof = cProfile.Profile()
            with StatementCounter(engine.db) as sc:
                prof.enable()
                fired = sweeper.run_once(max_batches=math.ceil(left / batch)).fired
                prof.disable()
            assert fired == Counter({"warn": left}), fired
            print_profile("caseflow warning sweep (warnings only)", prof, left, args.profile_top)
            print_statements(sc.count, left)
            prof = cProfile.Profile()
            with StatementCounter(floor.db) as sc:
                prof.enable()
                floor.sweep(seed.sweep_at, math.ceil(left / batch))
                prof.disable()
            print_profile("floor warning sweep", prof, left, args.profile_top)
            print_statements(sc.count, left)
        finally:
            engine.close()
            floor.close()
    m = args.profile_breaches
    with databases(kind, 1) as (url,):
        past = make_engine(
            url, MovableClock(dt.datetime.now(dt.UTC) - dt.timedelta(args.past_days))
        )
        try:
            start_cases(past, m + 20)
        finally:
            past.close()
        engine = make_engine(url)
        try:
            ids = start_cases(engine, m + 20)
            Sweeper(engine, batch=20).run_once(max_batches=1)
            for case_id in ids[:20]:
                engine.fire(case_id, "accept", actor=CLERK)
            prof = cProfile.Profile()
            with StatementCounter(engine.db) as sc:
                prof.enable()
                fired = Sweeper(engine, batch=args.breach_batch).run_once().fired
                prof.disable()
            assert fired == Counter({"breach": m}), fired
            print_profile("caseflow breach sweep (claim included)", prof, m, args.profile_top)
            print_statements(sc.count, m)
            prof = cProfile.Profile()
            with StatementCounter(engine.db) as sc:
                prof.enable()
                for case_id in ids[20:]:
                    engine.fire(case_id, "accept", actor=CLERK)
                prof.disable()
            print_profile("caseflow engine.fire(accept)", prof, m, args.profile_top)
            print_statements(sc.count, m)
        finally:
            engine.close()


def print_statements(count: Counter[str], per: int) -> None:
    total = sum(count.values())
    print(
        f"  statements sent: {total / per:.2f}/timer: "
        + ", ".join(f"{k!r} {v / per:.3g}" for k, v in count.most_common(12))
    )


# --------------------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def machine_info(with_pg: bool) -> list[str]:
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"nproc: {ncpu}; {platform.platform()}",
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        + ", ".join(f"{d} {_version(d)}" for d in ("SQLAlchemy", "psycopg", "caseflow")),
    ]
    if with_pg:
        try:
            admin = pg_admin()
            with admin.connect() as conn:
                v = conn.exec_driver_sql("SHOW server_version").scalar_one()
                sc = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
                fs = conn.exec_driver_sql("SHOW fsync").scalar_one()
            admin.dispose()
            lines.append(f"PostgreSQL {v} (synchronous_commit={sc}, fsync={fs})")
        except Exception as exc:  # noqa: BLE001
            lines.append(f"PostgreSQL: unreachable ({exc.__class__.__name__})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--warnings", type=int, default=100_000, help="due warnings to sweep (default 100000)"
    )
    parser.add_argument(
        "--breaches", type=int, default=2000, help="due breaches and engine steps (default 2000)"
    )
    parser.add_argument(
        "--batch", type=int, default=500, help="warning sweep batch size (default 500)"
    )
    parser.add_argument(
        "--breach-batch",
        type=int,
        default=100,
        help="part b: breaches per sweep, and engine steps per alternating round (default 100)",
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="alternating rounds of the warning sweep"
    )
    parser.add_argument("--warmup", type=int, default=50, help="warm-up cases in part b")
    parser.add_argument(
        "--past-days",
        type=float,
        default=45,
        help="part b: the breach cases start this many days ago (default 45)",
    )
    parser.add_argument(
        "--notify-limit",
        type=int,
        default=20_000,
        help="deliver (and time) only this many of the notifications the warnings armed "
        "(default 20000; 0: all)",
    )
    parser.add_argument(
        "--floor-same-writes",
        action="store_true",
        help="part a: also run 'floor+', a floor doing caseflow's logical writes (clock "
        "warned_at, history with caseflow's note, one notify timer each), set-based",
    )
    parser.add_argument("--skip", choices=("warnings", "breaches"), action="append", default=[])
    parser.add_argument(
        "--profile", action="store_true", help="also run both sweeps under cProfile"
    )
    parser.add_argument(
        "--profile-db", choices=("sqlite", "postgres"), default="sqlite", help="for --profile"
    )
    parser.add_argument("--profile-warnings", type=int, default=10_000)
    parser.add_argument("--profile-breaches", type=int, default=1000)
    parser.add_argument("--profile-top", type=int, default=18)
    args = parser.parse_args(argv)
    if args.warnings < 2 * args.batch:
        parser.error("--warnings must be at least two batches")

    t0 = time.perf_counter()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for line in machine_info("postgres" in kinds):
        print(line)
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    warn_results: list[WarnResult] = []
    breach_results: list[BreachResult] = []
    for kind in kinds:
        label = "SQLite (file, WAL)" if kind == "sqlite" else "PostgreSQL (schema, TCP)"
        if "warnings" not in args.skip:
            print(f"\n{label}: part a ...")
            t1 = time.perf_counter()
            warn_results.append(bench_warnings(kind, args))
            print_warnings(warn_results[-1])
            print(f"  (part a took {time.perf_counter() - t1:.0f} s)")
        if "breaches" not in args.skip:
            print(f"\n{label}: part b ...")
            t1 = time.perf_counter()
            breach_results.append(bench_breaches(kind, args))
            print_breaches(breach_results[-1])
            print(f"  (part b took {time.perf_counter() - t1:.0f} s)")
    print("\n== summary ==")
    for w in warn_results:
        print(
            f"{w.db:8} warnings: caseflow {w.rate('caseflow'):.0f}/s, floor "
            f"{w.rate('floor'):.0f}/s, ratio {w.ratio:.2f}x (target <= 2x: "
            f"{'OK' if w.ratio <= 2 else 'MISSED'}); notify delivery "
            f"{1e6 / w.notify_us:.0f}/s; warnings+notify ratio {w.ratio_with_notify:.2f}x"
        )
    for b in breach_results:
        print(
            f"{b.db:8} breaches {b.rate('breach'):.0f}/s vs steps {b.rate('step'):.0f}/s = "
            f"{b.percent:.0f}% (median round {statistics.median(b.round_percents()):.0f}%, "
            f"client CPU {b.cpu_percent:.0f}%) "
            f"(target >= 80%: {'OK' if b.percent >= 80 else 'MISSED'})"
        )
    if args.profile:
        profile(args.profile_db, args)
    print(
        f"\nload average at end: {os.getloadavg()[0]:.2f}; total {time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
