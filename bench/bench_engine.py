#!/usr/bin/env python
"""
caseflow engine overhead benchmark: caseflow vs. a plain SQLAlchemy Core "floor".

Run by hand (this is not a test), from the repository root::

    .venv/bin/python bench/bench_engine.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/bench_engine.py --db sqlite --steps 8000
    .venv/bin/python bench/bench_engine.py --no-profile --markdown

Per database, side by side in one run (issue #10):

* **caseflow**: the shipped ``administrative_approval``: ``engine.start(...)``, then
  ``accept``, ``start_review`` and ``decide`` (payload ``{"decision": "approve"}``), each
  its own engine call and transaction (the case is reloaded each time). structlog is
  configured *before* the engine is created, so log calls are filtered at WARNING.
* **floor**: plain SQLAlchemy Core through ``caseflow.store.db.connect`` (same SQLite
  pragmas, ``BEGIN IMMEDIATE``), statements built once, into copies of ``cf_cases`` /
  ``cf_history``: start = insert case + insert history; each event = select the case by
  id, ``UPDATE ... WHERE id=? AND row_version=?``, insert one history row; one commit per
  step. The same floor for both variants.

Variants (``--variants``): ``clocks`` is the workflow as shipped, with its clocks
(caseflow also keeps clock and timer rows and "clock" history lines); ``plain`` is the
same file with its ``clocks:`` section removed (caseflow writes the rows the floor
writes). Targets (time per step caseflow / floor, by the per-kind medians): SQLite plain
1.3x, clocks 2.0x; PostgreSQL plain 1.15x, clocks 1.5x.

Method: warm-up, then ``--rounds`` rounds of a block of cases per side, alternating which
side goes first; every step timed alone. Reported: steps/s, median µs per step kind,
"median µs/step" (mean of the four per-kind medians: the headline ratio), throughput and
CPU-time ratios, the load average around each measurement. Then an untimed pass counts,
per step, the statements each side's database runs and the round trips it waits for
(SQLite: its trace callback, where each statement is one call into the in-process
library; PostgreSQL: libpq's protocol trace, a round trip being a run of client messages
answered by the server) and the reads of ``cf_clocks`` per transaction.

SQLite: one file per side in a fresh temporary directory. PostgreSQL: a fresh schema per
variant, dropped afterwards, caseflow migrating it (``auto_upgrade=True``). Unless
``--no-profile``, both sides' SQLite steps then run under cProfile and the difference is
broken down by package and function (profiler-inflated µs: read them as proportions).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib.metadata
import logging
import os
import platform
import pstats
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

# Log calls must be filtered at WARNING *before* the engine is created (its default logger
# is a lazy structlog proxy that picks up the configuration when it is first used).
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

from psycopg import pq  # noqa: E402
from sqlalchemy import (  # noqa: E402
    Column,
    ForeignKey,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import event as sa_event  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seeding  # noqa: E402

from caseflow.cases import Actor  # noqa: E402
from caseflow.definitions.registry import Registry, shipped_workflows_dir  # noqa: E402
from caseflow.engine import Engine  # noqa: E402
from caseflow.store import tables as cf_tables  # noqa: E402
from caseflow.store.db import connect  # noqa: E402

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Callable

    from sqlalchemy.engine import Engine as SAEngine

ROOT = str(Path(__file__).resolve().parents[1])
WORKFLOW = "administrative_approval"
PG_BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KINDS = ("start", "accept", "start_review", "decide")
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
HEAD = Actor("head-1", {"agency_head"}, ORG)
EVENTS: tuple[tuple[str, Actor, dict[str, Any] | None], ...] = (
    ("accept", CLERK, None),
    ("start_review", REVIEWER, None),
    ("decide", HEAD, {"decision": "approve"}),
)


# --------------------------------------------------------------------------------------
# the floor: the same logical writes, plain SQLAlchemy Core
# --------------------------------------------------------------------------------------


def clone_table(src: Table, md: MetaData, name: str, renames: dict[str, str]) -> Table:
    """A copy of ``src`` under another name: columns, types, PK, FKs, uniques, indexes."""
    columns = []
    for c in src.columns:
        fks = []
        for fk in c.foreign_keys:
            table, col = fk.target_fullname.rsplit(".", 1)
            fks.append(ForeignKey(f"{renames.get(table, table)}.{col}", ondelete=fk.ondelete))
        columns.append(
            Column(
                c.name,
                c.type,
                *fks,
                primary_key=c.primary_key,
                nullable=c.nullable,
                autoincrement=c.autoincrement,
                server_default=c.server_default.arg if c.server_default is not None else None,
                default=c.default.arg if c.default is not None else None,
            )
        )
    extras: list[Any] = [
        UniqueConstraint(*[c.name for c in uc.columns])
        for uc in src.constraints
        if isinstance(uc, UniqueConstraint)
    ]
    extras += [Index(None, *[c.name for c in ix.columns], unique=ix.unique) for ix in src.indexes]
    return Table(name, md, *columns, *extras)


FLOOR_MD = MetaData(naming_convention=dict(cf_tables.metadata.naming_convention))
_RENAMES = {cf_tables.cases.name: "bench_cases", cf_tables.history.name: "bench_history"}
B_CASES = clone_table(cf_tables.cases, FLOOR_MD, "bench_cases", _RENAMES)
B_HISTORY = clone_table(cf_tables.history, FLOOR_MD, "bench_history", _RENAMES)
# the case columns the floor reads back (seeding's list: row[8] is row_version)
_CASE_COLS = seeding.CASE_COLUMNS
_SELECT_CASE = select(*[B_CASES.c[n] for n in _CASE_COLS]).where(B_CASES.c.id == bindparam("p_id"))
# no .values(): the SET clause comes from the parameter keys at execution time
_UPDATE_CASE = update(B_CASES).where(
    B_CASES.c.id == bindparam("p_id"), B_CASES.c.row_version == bindparam("p_rv")
)
_INSERT_CASE = insert(B_CASES)
_INSERT_HISTORY = insert(B_HISTORY)
# the transitions the benchmark fires; "decide" is guarded on the payload
_TARGETS = {("submitted", "accept"): "accepted", ("accepted", "start_review"): "under_review"}


class Floor:
    """The minimum: the same rows written in the same transactions, nothing else."""

    def __init__(self, url: str) -> None:
        self.db = connect(url)
        FLOOR_MD.create_all(self.db)

    def close(self) -> None:
        self.db.dispose()

    def start(self, data: dict[str, Any], actor: Actor) -> str:
        now = dt.datetime.now(dt.UTC)
        case_id = f"{time.time_ns() // 1000:013x}{secrets.token_hex(8)}"
        with self.db.begin() as conn:
            conn.execute(
                _INSERT_CASE,
                {
                    "id": case_id,
                    "workflow": WORKFLOW,
                    "workflow_version": 1,
                    "state": "submitted",
                    "status": "active",
                    "data": data,
                    "org": actor.org,
                    "business_key": None,
                    "row_version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "escalation_level": 0,
                },
            )
            conn.execute(
                _INSERT_HISTORY,
                {
                    "case_id": case_id,
                    "seq": 1,
                    "at": now,
                    "kind": "start",
                    "event": None,
                    "from_state": None,
                    "to_state": "submitted",
                    "actor_id": actor.id,
                    "actor_roles": sorted(actor.roles),
                    "actor_org": actor.org,
                    "details": {"data": data},
                },
            )
        return case_id

    def fire(self, case_id: str, event: str, actor: Actor, payload: dict[str, Any] | None) -> str:
        now = dt.datetime.now(dt.UTC)
        with self.db.begin() as conn:
            row = conn.execute(_SELECT_CASE, {"p_id": case_id}).first()
            if row is None:
                raise LookupError(case_id)
            state, status, data, org, version = row[3], row[4], row[5], row[6], row[8]
            if event == "decide":
                target = (
                    "approved" if payload and payload.get("decision") == "approve" else "rejected"
                )
            else:
                target = _TARGETS[(state, event)]
            if payload:
                data = {**data, **payload}
            result = conn.execute(
                _UPDATE_CASE,
                {
                    "p_id": case_id,
                    "p_rv": version,
                    "state": target,
                    "status": status,
                    "data": data,
                    "org": org,
                    "row_version": version + 1,
                    "updated_at": now,
                    "escalation_level": row[11],
                },
            )
            if result.rowcount != 1:
                raise RuntimeError(f"row version conflict on {case_id}")
            conn.execute(
                _INSERT_HISTORY,
                {
                    "case_id": case_id,
                    "seq": version + 1,
                    "at": now,
                    "kind": "transition",
                    "event": event,
                    "from_state": state,
                    "to_state": target,
                    "actor_id": actor.id,
                    "actor_roles": sorted(actor.roles),
                    "actor_org": actor.org,
                    "details": {"payload": payload} if payload else {},
                },
            )
        return target


# --------------------------------------------------------------------------------------
# the two sides behind one interface
# --------------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    start: Callable[[], str]
    fire: Callable[[str, str, Actor, dict[str, Any] | None], Any]
    samples: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    cpu_samples: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    round_ns: list[int] = field(default_factory=list)
    round_steps: list[int] = field(default_factory=list)
    round_cpu_ns: list[int] = field(default_factory=list)


def caseflow_side(engine: Engine) -> Side:
    def start() -> str:
        return engine.start(WORKFLOW, data=START_DATA, actor=APPLICANT).id

    def fire(case_id: str, event: str, actor: Actor, payload: dict[str, Any] | None) -> Any:
        return engine.fire(case_id, event, actor=actor, payload=payload)

    return Side("caseflow", start, fire)


def floor_side(floor: Floor) -> Side:
    return Side("floor", lambda: floor.start(START_DATA, APPLICANT), floor.fire)


def run_cases(side: Side, n_cases: int, *, record: bool) -> int:
    """
    Run ``n_cases`` full cases; returns the total ns spent inside the steps. Each step's
    wall time and this thread's CPU time are recorded: the CPU time is not inflated when
    other processes take the CPU from us mid-step (on SQLite all the work is ours).
    """
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    start, fire = side.start, side.fire
    samples, cpu_samples = side.samples, side.cpu_samples
    s_start, s_ev = samples["start"], [samples[e[0]] for e in EVENTS]
    c_start, c_ev = cpu_samples["start"], [cpu_samples[e[0]] for e in EVENTS]
    total = 0
    for _ in range(n_cases):
        c0, t0 = cpu(), clock()
        case_id = start()
        t1, c1 = clock(), cpu()
        if record:
            s_start.append(t1 - t0)
            c_start.append(c1 - c0)
        total += t1 - t0
        for (event, actor, payload), bucket, c_bucket in zip(EVENTS, s_ev, c_ev, strict=True):
            c0, t0 = cpu(), clock()
            fire(case_id, event, actor, payload)
            t1, c1 = clock(), cpu()
            if record:
                bucket.append(t1 - t0)
                c_bucket.append(c1 - c0)
            total += t1 - t0
    return total


def measure(*sides: Side, cases: int, rounds: int, warmup: int) -> None:
    """Warm up, then ``rounds`` rounds of a block of cases per side, the order rotating."""
    for side in sides:
        run_cases(side, warmup, record=False)
    per_round = max(1, cases // rounds)
    for r in range(rounds):
        order = sides[r % len(sides) :] + sides[: r % len(sides)]
        for side in order:
            gc.collect()  # do not let one side's garbage be collected in the other's time
            cpu0 = time.process_time_ns()
            ns = run_cases(side, per_round, record=True)
            side.round_cpu_ns.append(time.process_time_ns() - cpu0)
            side.round_ns.append(ns)
            side.round_steps.append(per_round * 4)


@dataclass
class Result:
    db: str
    variant: str
    sides: dict[str, Side]
    load: tuple[float, float] = (0.0, 0.0)  # 1-min load average before / after
    traffic: dict[str, Traffic] = field(default_factory=dict)

    def stats(self, name: str) -> dict[str, float]:
        return side_stats(self.sides[name])

    def ratios(self) -> dict[str, float]:
        cf, fl = self.stats("caseflow"), self.stats("floor")
        per_round = [
            (c / cs) / (f / fs)
            for c, cs, f, fs in zip(
                self.sides["caseflow"].round_ns,
                self.sides["caseflow"].round_steps,
                self.sides["floor"].round_ns,
                self.sides["floor"].round_steps,
                strict=True,
            )
        ]
        out = {
            "median": cf["median_us"] / fl["median_us"],
            "throughput": cf["mean_us"] / fl["mean_us"],
            "cpu": cf["cpu_us"] / fl["cpu_us"],
            "cpu_median": cf["cpu_median_us"] / fl["cpu_median_us"],
            "round_min": min(per_round),
            "round_med": statistics.median(per_round),
            "round_max": max(per_round),
        }
        for k in KINDS:
            out[k] = cf[f"med_{k}"] / fl[f"med_{k}"]
        return out


def side_stats(side: Side) -> dict[str, float]:
    """Steps/s, mean, CPU and per-kind median (and p90) µs per step of one side."""
    med = {k: statistics.median(side.samples[k]) / 1000 for k in KINDS}
    p90 = {k: _quantile(side.samples[k], 0.9) / 1000 for k in KINDS}
    cpu_med = {k: statistics.median(side.cpu_samples[k]) / 1000 for k in KINDS}
    steps = sum(side.round_steps)
    total_s = sum(side.round_ns) / 1e9
    return {
        "steps": steps,
        "steps_per_s": steps / total_s,
        "mean_us": total_s * 1e6 / steps,
        "cpu_us": sum(side.round_cpu_ns) / 1000 / steps,
        "median_us": sum(med.values()) / len(KINDS),
        "cpu_median_us": sum(cpu_med.values()) / len(KINDS),
        **{f"med_{k}": v for k, v in med.items()},
        **{f"p90_{k}": v for k, v in p90.items()},
    }


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --------------------------------------------------------------------------------------
# statements and round trips per step (an untimed pass after the timed one)
# --------------------------------------------------------------------------------------


class Tracer:
    """
    What one side's database is asked to do: installed on each pooled connection at
    checkout, removed at checkin. SQLite: ``set_trace_callback`` (every statement run,
    ``BEGIN IMMEDIATE`` and ``COMMIT`` included). PostgreSQL: libpq's protocol trace;
    statements are ``Query`` and ``Execute`` messages, a round trip is a run of client
    messages followed by the server's answer (a pipeline of writes is one).
    """

    def __init__(self, sa_engine: SAEngine) -> None:
        self.sa_engine = sa_engine
        self.postgres = sa_engine.dialect.name == "postgresql"
        self.sql: list[str] = []
        self.fd, self.path = tempfile.mkstemp(prefix="caseflow-trace-")
        self.read_at = 0
        sa_event.listen(sa_engine, "checkout", self._on_checkout)
        sa_event.listen(sa_engine, "checkin", self._on_checkin)

    def _on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if self.postgres:
            pgconn = dbapi_connection.pgconn
            pgconn.trace(os.dup(self.fd))  # libpq owns (and never closes) this FILE
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        else:
            dbapi_connection.set_trace_callback(self.sql.append)

    def _on_checkin(self, dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is None:
            return
        if self.postgres:
            dbapi_connection.pgconn.untrace()  # flushes the trace
        else:
            dbapi_connection.set_trace_callback(None)

    def take(self) -> tuple[int, int, int]:
        """Statements, round trips and reads of ``cf_clocks`` since the last call."""
        if not self.postgres:
            sql, self.sql = self.sql, []
            clock_reads = sum(
                1 for s in sql if s.lstrip().upper().startswith("SELECT") and "cf_clocks" in s
            )
            return len(sql), len(sql), clock_reads
        with Path(self.path).open(encoding="utf-8", errors="replace") as fh:
            fh.seek(self.read_at)
            trace = fh.read()
            self.read_at = fh.tell()
        statements = trips = 0
        sending = False
        for line in trace.splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            if parts[0] == "F":
                statements += parts[2] in ("Query", "Execute")
                sending = True
            elif parts[0] == "B" and sending:
                trips += 1
                sending = False
        # (statement texts are not in the trace once psycopg has prepared them: SQLite
        # counts the reads of cf_clocks for both, the code path being the same)
        clock_reads = 0
        return statements, trips, clock_reads

    def close(self) -> None:
        sa_event.remove(self.sa_engine, "checkout", self._on_checkout)
        sa_event.remove(self.sa_engine, "checkin", self._on_checkin)
        os.close(self.fd)
        Path(self.path).unlink(missing_ok=True)


@dataclass
class Traffic:
    """Per step kind, averaged over the counted cases."""

    statements: dict[str, float]
    trips: dict[str, float]
    clock_reads: dict[str, float]

    @staticmethod
    def per_step(values: dict[str, float]) -> float:
        return sum(values.values()) / len(values)


def count_traffic(side: Side, sa_engine: SAEngine, n_cases: int = 10) -> Traffic:
    """Run ``n_cases`` more cases with the database traced; the counts per step kind."""
    tracer = Tracer(sa_engine)
    sums = {k: [0, 0, 0] for k in KINDS}

    def add(kind: str) -> None:
        sums[kind] = [a + b for a, b in zip(sums[kind], tracer.take(), strict=True)]

    try:
        tracer.take()
        for _ in range(n_cases):
            case_id = side.start()
            add("start")
            for event_, actor, payload in EVENTS:
                side.fire(case_id, event_, actor, payload)
                add(event_)
    finally:
        tracer.close()
    return Traffic(
        *({k: sums[k][i] / n_cases for k in KINDS} for i in range(3)),
    )


# --------------------------------------------------------------------------------------
# databases
# --------------------------------------------------------------------------------------


def check_correctness(engine: Engine, floor: Floor, *, exact: bool) -> None:
    """Both sides must have done the real work: final states and history rows."""
    with engine.db.connect() as conn:
        cf_hist = conn.execute(text("SELECT count(*) FROM cf_history")).scalar_one()
        cf_cases = conn.execute(text("SELECT count(*) FROM cf_cases")).scalar_one()
        cf_approved = conn.execute(
            text("SELECT count(*) FROM cf_cases WHERE state='approved' AND row_version=4")
        ).scalar_one()
    with floor.db.connect() as conn:
        fl_hist = conn.execute(text("SELECT count(*) FROM bench_history")).scalar_one()
        fl_cases = conn.execute(text("SELECT count(*) FROM bench_cases")).scalar_one()
        fl_approved = conn.execute(
            text("SELECT count(*) FROM bench_cases WHERE state='approved' AND row_version=4")
        ).scalar_one()
    # with clocks, caseflow also writes "clock" history lines
    assert cf_hist == 4 * cf_cases if exact else cf_hist >= 4 * cf_cases, (cf_hist, cf_cases)
    assert cf_approved == cf_cases, (cf_approved, cf_cases)
    assert fl_hist == 4 * fl_cases and fl_approved == fl_cases, (fl_hist, fl_cases, fl_approved)
    assert cf_cases == fl_cases, (cf_cases, fl_cases)


def workflow_source(variant: str, tmp: str) -> Path:
    """The workflow file: as shipped ("clocks"), or with its ``clocks:`` removed ("plain")."""
    from ruamel.yaml import YAML  # noqa: PLC0415 - caseflow's own YAML library

    shipped = shipped_workflows_dir() / f"{WORKFLOW}.yaml"
    if variant == "clocks":
        return shipped
    yaml = YAML(typ="rt")
    doc = yaml.load(shipped.read_text(encoding="utf-8"))
    doc.pop("clocks", None)
    target = Path(tmp) / "workflows" / f"{WORKFLOW}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as fh:
        yaml.dump(doc, fh)
    return target


def shipped_has_clocks() -> bool:
    return bool(
        Registry.from_paths([shipped_workflows_dir() / f"{WORKFLOW}.yaml"]).get(WORKFLOW).clocks
    )


DB_LABEL = {
    "SQLite": "SQLite (file, WAL, synchronous=NORMAL)",
    "PostgreSQL": "PostgreSQL (same host, TCP, psycopg 3)",
}
VARIANT_LABEL = {
    "plain": "workflow without clocks: same logical writes as the floor",
    "clocks": "workflow as shipped, with its clocks (caseflow also writes clock/timer rows)",
}


def run_pair(db: str, variant: str, engine: Engine, floor: Floor, steps: int, args: Any) -> Result:
    """The timed run, the correctness check, then the untimed traffic count."""
    a, b = caseflow_side(engine), floor_side(floor)
    load0 = os.getloadavg()[0]
    measure(a, b, cases=steps // 4, rounds=args.rounds, warmup=args.warmup)
    load1 = os.getloadavg()[0]
    check_correctness(engine, floor, exact=variant != "clocks")
    traffic = {"caseflow": count_traffic(a, engine.db), "floor": count_traffic(b, floor.db)}
    return Result(db, variant, {"caseflow": a, "floor": b}, (load0, load1), traffic)


def bench_sqlite(args: argparse.Namespace, variant: str) -> Result:
    tmp = tempfile.mkdtemp(prefix="caseflow-bench-")
    try:
        engine = Engine(f"sqlite:///{tmp}/caseflow.db", workflows=workflow_source(variant, tmp))
        floor = Floor(f"sqlite:///{tmp}/floor.db")
        try:
            return run_pair("SQLite", variant, engine, floor, args.steps, args)
        finally:
            engine.close()
            floor.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pg_admin() -> Any:
    return seeding.pg_admin(PG_BASE_URL)


def pg_schema() -> contextlib.AbstractContextManager[str]:
    """A fresh schema for this run, dropped afterwards; yields the URL that uses it."""
    return seeding.database("postgres", "engine", "cfbench", PG_BASE_URL)


def bench_postgres(args: argparse.Namespace, variant: str) -> Result:
    tmp = tempfile.mkdtemp(prefix="caseflow-bench-")
    try:
        with pg_schema() as url:
            engine = Engine(url, auto_upgrade=True, workflows=workflow_source(variant, tmp))
            floor = Floor(url)
            try:
                return run_pair("PostgreSQL", variant, engine, floor, args.pg_steps, args)
            finally:
                engine.close()
                floor.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def version_of(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _ncpu() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_info(with_pg: bool) -> list[str]:
    cpu = "?"
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        (f"nproc: {_ncpu()} ({cpu}); {platform.platform()}"),
        (
            f"Python {platform.python_version()} ({platform.python_implementation()}); "
            f"SQLite {sqlite3.sqlite_version}"
        ),
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
    libs = ["SQLAlchemy", "psycopg", "structlog", "transitions", "jsonschema", "alembic"]
    lines.append(", ".join(f"{d} {version_of(d)}" for d in libs))
    lines.append(
        "structlog: configured before the engine with "
        "wrapper_class=make_filtering_bound_logger(logging.WARNING) "
        "(engine info logs are filtered out)"
    )
    return lines


def print_result(res: Result) -> None:
    cf, fl, r = res.stats("caseflow"), res.stats("floor"), res.ratios()
    print(
        f"\n== {DB_LABEL[res.db]}; {VARIANT_LABEL[res.variant]}: {cf['steps']} timed steps "
        f"per side, {len(res.sides['floor'].round_ns)} rounds; load average "
        f"{res.load[0]:.2f} -> {res.load[1]:.2f} =="
    )
    head = f"{'':10} {'steps/s':>9} {'med µs/step':>12} {'mean µs':>9} {'cpu µs':>8}" + "".join(
        f" {k + ' med':>17}" for k in KINDS
    )
    print(head)
    for name, s in (("caseflow", cf), ("floor", fl)):
        print(
            f"{name:10} {s['steps_per_s']:9.0f} {s['median_us']:12.1f} {s['mean_us']:9.1f}"
            f" {s['cpu_us']:8.1f}"
            + "".join(f" {s['med_' + k]:8.1f} (p90 {s['p90_' + k]:5.0f})" for k in KINDS)
        )
    print(
        f"{'ratio':10} {1 / r['throughput']:9.2f} {r['median']:12.2f} {r['throughput']:9.2f}"
        f" {r['cpu']:8.2f}" + "".join(f" {r[k]:17.2f}" for k in KINDS)
    )
    print(
        f"ratio caseflow/floor: {r['median']:.2f}x by median µs/step, {r['throughput']:.2f}x by "
        f"throughput (per-round throughput ratio min/median/max "
        f"{r['round_min']:.2f}/{r['round_med']:.2f}/{r['round_max']:.2f}), {r['cpu']:.2f}x by "
        f"this process's CPU time, {r['cpu_median']:.2f}x by median CPU µs/step "
        f"({cf['cpu_median_us']:.0f} vs {fl['cpu_median_us']:.0f}); "
        f"extra {cf['median_us'] - fl['median_us']:.0f} µs/step "
        f"(median), {cf['cpu_us'] - fl['cpu_us']:.0f} CPU µs/step"
    )
    for name, t in res.traffic.items():
        reads = ", ".join(f"{k} {t.clock_reads[k]:.1f}" for k in KINDS)
        print(
            f"{name:10} per step: {t.per_step(t.statements):.2f} statements, "
            f"{t.per_step(t.trips):.2f} round trips (statements/round trips: "
            + ", ".join(f"{k} {t.statements[k]:.1f}/{t.trips[k]:.1f}" for k in KINDS)
            + ")"
            + (f"; reads of cf_clocks per transaction: {reads}" if res.db == "SQLite" else "")
        )
    ncpu = _ncpu()
    if max(res.load) > 0.75 * ncpu:
        print(
            f"WARNING: load average {max(res.load):.1f} on {ncpu} CPUs: other processes competed "
            "for the CPU; the extra CPU work of caseflow is hit harder than the floor. Re-run "
            "on a quiet machine for figures to quote."
        )


#: Issue #10: time per step, caseflow / floor (by the median µs/step).
TARGETS = {
    ("SQLite", "plain"): 1.3,
    ("SQLite", "clocks"): 2.0,
    ("PostgreSQL", "plain"): 1.15,
    ("PostgreSQL", "clocks"): 1.5,
}


def verdicts(results: list[Result]) -> list[tuple[Result, float, float, str]]:
    out = []
    for res in results:
        target = TARGETS[(res.db, res.variant)]
        ratio = res.ratios()["median"]
        out.append((res, ratio, target, "OK" if ratio <= target else "MISSED"))
    return out


def markdown_table(results: list[Result]) -> str:
    rows = [
        (
            "| database | workflow | side | steps/s | median µs/step | start | accept"
            " | start_review | decide | client CPU µs/step | median CPU µs/step"
            " | statements/step | round trips/step | ratio (median) | ratio (throughput)"
            " | ratio (CPU) | ratio (median CPU) | load avg |"
        ),
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for res in results:
        r = res.ratios()
        for name in ("caseflow", "floor"):
            s = res.stats(name)
            t = res.traffic[name]
            ratio = (
                (
                    f"**{r['median']:.2f}×**",
                    f"{r['throughput']:.2f}×",
                    f"{r['cpu']:.2f}×",
                    f"{r['cpu_median']:.2f}×",
                    f"{res.load[0]:.1f}→{res.load[1]:.1f}",
                )
                if name == "caseflow"
                else ("", "", "", "", "")
            )
            rows.append(
                f"| {res.db} | {res.variant} | {name} | {s['steps_per_s']:.0f} | "
                f"{s['median_us']:.0f} | "
                + " | ".join(f"{s['med_' + k]:.0f}" for k in KINDS)
                + f" | {s['cpu_us']:.0f} | {s['cpu_median_us']:.0f}"
                f" | {t.per_step(t.statements):.2f} | "
                f"{t.per_step(t.trips):.2f} | " + " | ".join(ratio) + " |"
            )
    rows += [
        "",
        "| database | workflow | target | measured (median) | verdict | throughput | median CPU |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for res, ratio, target, verdict in verdicts(results):
        r = res.ratios()
        rows.append(
            f"| {res.db} | {res.variant} | ≤ {target}× | {ratio:.2f}× | {verdict} | "
            f"{r['throughput']:.2f}× | {r['cpu_median']:.2f}× |"
        )
    return "\n".join(rows)


# --------------------------------------------------------------------------------------
# profile (SQLite)
# --------------------------------------------------------------------------------------


def _category(key: tuple[str, int, str]) -> str:
    path, _line, func = key
    if path == "~":  # C functions
        for needle, cat in (
            ("sqlite3", "sqlite3 driver (C)"),
            ("_json", "json (stdlib)"),
            ("datetime", "datetime"),
            ("lock", "threading/locks"),
        ):
            if needle in func:
                return cat
        return "other builtins"
    p = path.replace("\\", "/")
    for needle, cat in (
        ("/bench/", "bench driver"),
        ("/caseflow/", "caseflow"),
        ("/sqlalchemy/", "sqlalchemy"),
        ("/transitions/", "transitions"),
        ("/jsonschema/", "jsonschema+referencing"),
        ("/referencing/", "jsonschema+referencing"),
        ("/rpds", "jsonschema+referencing"),
        ("/structlog/", "structlog"),
        ("/json/", "json (stdlib)"),
        ("/dataclasses.py", "dataclasses"),
        ("threading.py", "threading/locks"),
        ("/sqlite3/", "sqlite3 driver (C)"),
    ):
        if needle in p:
            return cat
    return "other stdlib"


def _short(key: tuple[str, int, str]) -> str:
    path, line, func = key
    if path == "~":
        return func
    p = path.replace("\\", "/")
    for marker in ("/site-packages/", f"{ROOT}/", "/lib/python3"):
        if marker in p:
            p = p.split(marker, 1)[1]
            break
    return f"{p}:{line}({func})"


def _profile_side(side: Side, n_cases: int) -> tuple[pstats.Stats, float]:
    gc.collect()
    prof = cProfile.Profile()
    prof.enable()
    run_cases(side, n_cases, record=False)
    prof.disable()
    stats = pstats.Stats(prof)
    steps = n_cases * 4
    return stats, steps


def profile_sqlite(args: argparse.Namespace) -> None:
    n_cases = max(1, args.profile_steps // 4)
    tmp = tempfile.mkdtemp(prefix="caseflow-prof-")
    emit = print

    try:
        engine = Engine(
            f"sqlite:///{tmp}/caseflow.db", workflows=workflow_source(args.profile_variant, tmp)
        )
        floor = Floor(f"sqlite:///{tmp}/floor.db")
        a, b = caseflow_side(engine), floor_side(floor)
        for side in (a, b):
            run_cases(side, args.warmup, record=False)
        cf_stats, steps = _profile_side(a, n_cases)
        fl_stats, _ = _profile_side(b, n_cases)
        cf_raw: dict[Any, Any] = cf_stats.stats  # type: ignore[attr-defined]
        fl_raw: dict[Any, Any] = fl_stats.stats  # type: ignore[attr-defined]
        cf_total = sum(v[2] for v in cf_raw.values()) * 1e6 / steps
        fl_total = sum(v[2] for v in fl_raw.values()) * 1e6 / steps

        emit(
            f"\n== profile: SQLite, cProfile, {steps} steps per side; "
            f"{VARIANT_LABEL[args.profile_variant]} =="
        )
        emit(
            f"total under cProfile: caseflow {cf_total:.0f} µs/step, floor {fl_total:.0f} "
            f"µs/step, extra {cf_total - fl_total:.0f} µs/step (profiler-inflated)"
        )
        emit("\nself time by package (µs/step):")
        emit(f"  {'package':28} {'caseflow':>9} {'floor':>9} {'extra':>9}")
        cats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for i, raw in enumerate((cf_raw, fl_raw)):
            for key, v in raw.items():
                cats[_category(key)][i] += v[2] * 1e6 / steps
        for cat, (c, f) in sorted(cats.items(), key=lambda kv: -(kv[1][0] - kv[1][1])):
            emit(f"  {cat:28} {c:9.1f} {f:9.1f} {c - f:+9.1f}")

        def table(title: str, rows: list[tuple[Any, float, float, float]], n: int) -> None:
            emit(f"\n{title}")
            emit(f"  {'µs/step':>8} {'floor':>7} {'calls/step':>10}  function")
            for key, us, fus, calls in rows[:n]:
                emit(f"  {us:8.1f} {fus:7.1f} {calls:10.2f}  {_short(key)}")

        # inclusive time of caseflow's (and its libraries') own functions
        mine = [
            (k, v[3] * 1e6 / steps, 0.0, v[1] / steps)
            for k, v in cf_raw.items()
            if _category(k) in ("caseflow", "transitions", "jsonschema+referencing", "structlog")
        ]
        mine.sort(key=lambda r: -r[1])
        table("caseflow-side functions by inclusive time (cumtime/step):", mine, args.profile_top)

        # functions whose self time grew most over the floor (the extra, function by function)
        delta = []
        for k, v in cf_raw.items():
            fv = fl_raw.get(k)
            fus = fv[2] * 1e6 / steps if fv else 0.0
            delta.append((k, v[2] * 1e6 / steps, fus, v[1] / steps))
        delta.sort(key=lambda r: -(r[1] - r[2]))
        table("self time, largest excess over the floor (tottime/step):", delta, args.profile_top)

        ex_c = sum(v[2] for k, v in cf_raw.items() if k[0] == "~" and "sqlite3" in k[2])
        ex_f = sum(v[2] for k, v in fl_raw.items() if k[0] == "~" and "sqlite3" in k[2])
        emit(
            f"\nsqlite3 C calls (the database's own work), µs/step: caseflow "
            f"{ex_c * 1e6 / steps:.1f} vs floor {ex_f * 1e6 / steps:.1f}"
        )
        engine.close()
        floor.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n\n")[0])
    parser.add_argument(
        "--steps",
        type=int,
        default=6000,
        help="timed steps per side and workflow variant on SQLite (4 per case; default 6000)",
    )
    parser.add_argument(
        "--pg-steps",
        type=int,
        default=None,
        help="timed steps per side and variant on PostgreSQL (default: --steps / 2)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument(
        "--warmup", type=int, default=50, help="warm-up cases per side (default 50)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--variants",
        default="plain,clocks",
        help="comma-separated: plain (the workflow without its clocks: the comparison the "
        "targets are about), clocks (as shipped; caseflow writes more than the floor). "
        "Default: plain,clocks",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the SQLite profile")
    parser.add_argument(
        "--profile-steps", type=int, default=2000, help="steps per side under cProfile"
    )
    parser.add_argument(
        "--profile-variant",
        choices=("plain", "clocks"),
        default="clocks",
        help="what to profile (see --variants; default clocks)",
    )
    parser.add_argument("--profile-top", type=int, default=15, help="rows per profile table")
    parser.add_argument(
        "--markdown", action="store_true", help="print the results as a Markdown table too"
    )
    args = parser.parse_args(argv)
    if args.pg_steps is None:
        args.pg_steps = args.steps // 2

    t0 = time.perf_counter()
    for line in machine_info(args.db != "sqlite"):
        print(line)
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANT_LABEL]
    if unknown:
        raise SystemExit(f"unknown variant {unknown[0]!r}: use {', '.join(VARIANT_LABEL)}")
    if "clocks" in variants and not shipped_has_clocks():
        print("(the shipped workflow has no clocks: the 'clocks' variant is skipped)")
        variants.remove("clocks")
    results: list[Result] = []
    if args.db in ("sqlite", "both"):
        for variant in variants:
            results.append(bench_sqlite(args, variant))
            print_result(results[-1])
    if args.db in ("postgres", "both"):
        try:
            for variant in variants:
                results.append(bench_postgres(args, variant))
                print_result(results[-1])
        except Exception as exc:
            if args.db == "postgres":
                raise
            print(f"\nPostgreSQL skipped: {exc.__class__.__name__}: {exc}")
    print("\n== targets (issue #10: time per step, caseflow / floor, by the median) ==")
    for res, ratio, target, verdict in verdicts(results):
        r = res.ratios()
        print(
            f"{res.db:10} {res.variant:6}: {ratio:.2f}x (median) / {r['throughput']:.2f}x "
            f"(throughput) / {r['cpu_median']:.2f}x (median CPU); target <= {target}x: {verdict}"
        )
    if args.markdown:
        print()
        print(markdown_table(results))
    print(f"\n(benchmark: {time.perf_counter() - t0:.0f} s)")
    if not args.no_profile:
        profile_sqlite(args)
    print(f"\n(total: {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
