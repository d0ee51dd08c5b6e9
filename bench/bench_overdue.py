#!/usr/bin/env python
"""
caseflow overdue-listing benchmark: ``engine.overdue(limit=50)`` at 10k and 1M cases.

Run by hand (this is not a test)::

    .venv/bin/python bench/bench_overdue.py                        # SQLite and PostgreSQL
    .venv/bin/python bench/bench_overdue.py --db sqlite --sizes 10000,200000
    .venv/bin/python bench/bench_overdue.py --db postgres --no-cli

For each size and database, a fresh database (SQLite file in a temporary directory;
PostgreSQL: a fresh schema reached with ``options=-csearch_path=<schema>``, dropped at the
end) is migrated by ``Engine(..., auto_upgrade=True)`` and seeded in bulk, in chunks, with
``cf_cases`` and ``cf_clocks`` rows of the shipped ``administrative_approval`` workflow
(SQLite: ``executemany`` on the driver connection; PostgreSQL: psycopg ``COPY ... FROM
STDIN``). Values are converted with caseflow's own column types (the SQLite datetime
strings are checked against SQLAlchemy's bind processor). The case mix (``PROFILES``) is
mostly finished cases whose clocks are all stopped, some running clocks due in the
future, some paused, and about 2% of clock rows running and overdue (decision clocks
past their due day, escalated; issuance clocks past theirs). Due times are the ends of
local days (16:00 UTC), as the engine computes them, so many clocks share one due time.
Then ``ANALYZE`` (PostgreSQL: ``VACUUM ANALYZE``).

Measured: the median (and min, p90) latency of ``engine.overdue(limit=50)`` over
``--repeat`` calls after warm-up; the same SQL alone through the driver (to split the
database's time from caseflow's); and (unless ``--no-cli``) the wall time of the CLI,
``caseflow cases list --overdue --json --db URL`` (a new process each time: interpreter
start, imports, Engine setup, query). The overdue query is captured as the engine sends it
(statement and parameters) and explained: ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN
(ANALYZE, BUFFERS)`` on PostgreSQL, printed verbatim, with a check that it uses
``ix_cf_clocks_phase_due_at_case_id``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

# Log calls must be filtered at WARNING *before* the engine is created (its default logger
# is a lazy structlog proxy that picks up the configuration when it is first used).
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seeding  # noqa: E402

from caseflow.engine import Engine  # noqa: E402
from caseflow.store import tables as cf_tables  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine as SAEngine

WORKFLOW = "administrative_approval"
#: The shipped version: the seeded rows must name a version the engine knows.
VERSION = seeding.shipped_version(WORKFLOW)
#: This benchmark's PostgreSQL (CASEFLOW_TEST_PG_URL is not read here).
PG_BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
INDEX = "ix_cf_clocks_phase_due_at_case_id"
ORGS = (
    "hainan/lingshui/yingzhou",
    "hainan/lingshui/benhao",
    "hainan/haikou/longhua",
    "hainan/haikou/meilan",
    "chongqing/jiangjin",
    "hubei/yichang/zigui",
)

# (name, weight, state, status, clocks); a clock is (name, kind) where kind is one of
# stopped | future | overdue | paused.
PROFILES: tuple[tuple[str, float, str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "done (collected)",
        0.700,
        "collected",
        "completed",
        (("correction_window", "stopped"), ("decision", "stopped"), ("issuance", "stopped")),
    ),
    (
        "rejected",
        0.080,
        "rejected",
        "completed",
        (("correction_window", "stopped"), ("decision", "stopped")),
    ),
    ("submitted", 0.040, "submitted", "active", (("correction_window", "future"),)),
    (
        "under review",
        0.080,
        "under_review",
        "active",
        (("correction_window", "stopped"), ("decision", "future")),
    ),
    (
        "under review, overdue",
        0.040,
        "under_review",
        "active",
        (("correction_window", "stopped"), ("decision", "overdue")),
    ),
    (
        "expert review (paused)",
        0.010,
        "expert_review",
        "active",
        (("correction_window", "stopped"), ("decision", "paused")),
    ),
    (
        "approved",
        0.035,
        "approved",
        "active",
        (("correction_window", "stopped"), ("decision", "stopped"), ("issuance", "future")),
    ),
    (
        "approved, issuance overdue",
        0.015,
        "approved",
        "active",
        (("correction_window", "stopped"), ("decision", "stopped"), ("issuance", "overdue")),
    ),
)

# --------------------------------------------------------------------------------------
# seeding
# --------------------------------------------------------------------------------------


class Values:
    """Python values to the form a bulk insert wants, the way caseflow's column types do."""

    def __init__(self, db: SAEngine) -> None:
        self.sqlite = db.dialect.name == "sqlite"
        dialect = db.dialect
        self._json = cf_tables.cases.c.data.type.dialect_impl(dialect).bind_processor(dialect)
        self._dt_check = cf_tables.clocks.c.due_at.type.dialect_impl(dialect).bind_processor(
            dialect
        )
        self._cache: dict[dt.datetime, Any] = {}
        sample = dt.datetime(2026, 3, 2, 16, 0, 0, 123, tzinfo=dt.UTC)
        if self.sqlite:
            assert self.when(sample) == self._dt_check(sample), (self.when(sample), sample)

    def when(self, value: dt.datetime | None) -> Any:
        if value is None:
            return None
        if not self.sqlite:
            return value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def day_end(self, value: dt.datetime) -> Any:
        """A cached :meth:`when` for the few distinct due instants."""
        found = self._cache.get(value)
        if found is None:
            found = self._cache[value] = self.when(value)
        return found

    def json(self, value: Any) -> Any:
        if self.sqlite:
            return self._json(value) if self._json else json.dumps(value)
        return json.dumps(value, ensure_ascii=False)

    def flag(self, *, value: bool) -> Any:
        return int(value) if self.sqlite else value


@dataclass
class Generator:
    """Cases and their clocks, in chunks; deterministic for a seed."""

    values: Values
    now: dt.datetime
    rng: random.Random
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.today = (self.now + seeding.TZ_OFFSET).date()
        self.datas = [
            self.values.json(
                {"applicant": f"申请人{i}", "matter": "食品经营许可证核发", "delivery": "window"}
            )
            for i in range(16)
        ]
        self.empty = self.values.json([])
        self.not_provisional = self.values.flag(value=False)

    def chunk(self, size: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng, v = self.rng, self.values
        profiles = rng.choices(PROFILES, weights=[p[1] for p in PROFILES], k=size)
        cases: list[tuple[Any, ...]] = []
        clocks: list[tuple[Any, ...]] = []
        for name, _w, state, status, clock_plan in profiles:
            self.counts[f"case: {name}"] += 1
            # how long ago the case started, by what its clocks say
            kinds = {k for _c, k in clock_plan}
            if "overdue" in kinds:
                age = rng.randint(30, 90)
            elif "future" in kinds or "paused" in kinds:
                age = rng.randint(0, 6) if state == "submitted" else rng.randint(1, 25)
            else:
                age = rng.randint(40, 730)
            start_day = self.today - dt.timedelta(days=age)
            created = (
                seeding.day_end(start_day)
                - dt.timedelta(hours=14)
                + dt.timedelta(seconds=rng.randint(0, 36000), microseconds=rng.randint(0, 999_999))
            )
            case_id = f"{int(created.timestamp() * 1e6):013x}{rng.getrandbits(64):016x}"
            updated = created + dt.timedelta(days=min(age, 20))
            cases.append(
                (
                    case_id,
                    WORKFLOW,
                    VERSION,
                    state,
                    status,
                    self.datas[rng.randrange(16)],
                    ORGS[rng.randrange(len(ORGS))],
                    None,
                    len(clock_plan) + 2,
                    v.when(created),
                    v.when(updated),
                    1 if "overdue" in kinds else 0,
                )
            )
            for clock, kind in clock_plan:
                clocks.append(self._clock(case_id, clock, kind, created, start_day))
        return cases, clocks

    def _clock(
        self, case_id: str, clock: str, kind: str, created: dt.datetime, start_day: dt.date
    ) -> tuple[Any, ...]:
        rng, v = self.rng, self.values
        self.counts[f"clock: {kind}"] += 1
        limit = {"correction_window": 7, "decision": 28, "issuance": 14}[clock]
        warn_at = breached = warned = stopped = None
        step = 0
        pauses = self.empty
        if kind == "overdue":
            last = self.today - dt.timedelta(days=rng.randint(1, 60))
            started = seeding.day_end(last - dt.timedelta(days=limit)) - dt.timedelta(hours=6)
            due = seeding.day_end(last)
            warn_at = v.day_end(seeding.day_end(last - dt.timedelta(days=4)))
            warned = v.when(due - dt.timedelta(days=4))
            breached = v.when(due + dt.timedelta(minutes=1))
            step = rng.randint(1, 2)
        elif kind == "future":
            last = self.today + dt.timedelta(days=rng.randint(1, 30))
            started = max(created, seeding.day_end(last - dt.timedelta(days=limit)))
            due = seeding.day_end(last)
            if clock == "decision":
                warn_at = v.day_end(seeding.day_end(last - dt.timedelta(days=4)))
        else:  # stopped / paused: due when it was last scheduled
            last = start_day + dt.timedelta(days=limit)
            started = created
            due = seeding.day_end(last)
            if kind == "stopped":
                stopped = v.when(created + dt.timedelta(days=rng.randint(0, limit - 1)))
            else:
                paused_on = self.today - dt.timedelta(days=rng.randint(1, 10))
                pauses = v.json([[paused_on.isoformat(), None]])
        return (
            case_id,
            clock,
            {"future": "running", "overdue": "running"}.get(kind, kind),
            v.when(started),
            pauses,
            0,
            v.day_end(due),
            last.isoformat(),
            self.not_provisional,
            warn_at,
            warned,
            breached,
            step,
            stopped,
        )


def seed(engine: Engine, n: int, chunk: int, rng_seed: int) -> tuple[Counter[str], float]:
    """Bulk-insert ``n`` cases with their clocks; returns what was made and the seconds."""
    t0 = time.perf_counter()
    gen = Generator(Values(engine.db), dt.datetime.now(dt.UTC), random.Random(rng_seed))

    def chunks() -> Iterator[list[tuple[str, list[str], list[tuple[Any, ...]]]]]:
        for done in range(0, n, chunk):
            cases, clocks = gen.chunk(min(chunk, n - done))
            yield [
                ("cf_cases", seeding.CASE_COLUMNS, cases),
                ("cf_clocks", seeding.CLOCK_COLUMNS, clocks),
            ]

    # 256 MiB of SQLite cache: index pages stay cached
    seeding.bulk_load(engine.db, chunks(), pragmas=["cache_size=-262144"])
    seeded = time.perf_counter() - t0
    seeding.analyze(engine.db)
    gen.counts["seconds: bulk insert"] = round(seeded)
    return gen.counts, time.perf_counter() - t0


# --------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------


def summary(ms: list[float]) -> str:
    ordered = sorted(ms)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"median {statistics.median(ms):8.2f} ms (min {ordered[0]:.2f}, p90 {p90:.2f})"


@dataclass
class Result:
    db: str
    n: int
    counts: Counter[str]
    seed_s: float
    sql: str
    params: Any
    plan: list[str]
    engine_ms: list[float]
    query_ms: list[float]
    cli_ms: list[float]
    uses_index: bool
    cli_error: str = ""


def cli_command(url: str) -> list[str]:
    exe = Path(sys.executable).with_name("caseflow")
    return [str(exe), "cases", "list", "--overdue", "--json", "--limit", "50", "--db", url]


def bench(kind: str, n: int, args: argparse.Namespace) -> Result:
    with seeding.database(kind, "overdue", "cfbo", PG_BASE_URL) as url:
        engine = Engine(url, auto_upgrade=True)
        try:
            counts, seed_s = seed(engine, n, args.chunk, args.seed)
            print(f"  [{kind} {n}: seeded in {seed_s:.0f} s]", flush=True)
            with seeding.capture(engine.db) as sent:
                found = engine.overdue(limit=50)
            assert len(found) == 50, len(found)
            dues = [view.due_at for _case, view in found]
            assert dues == sorted(dues) and all(d is not None for d in dues), dues
            assert all(view.status == "breached" for _case, view in found)
            statement, params = next((s, p) for s, p in sent if "cf_clocks" in s)
            plan = seeding.explain(engine.db, statement, params)
            engine_ms, _ = seeding.timed(lambda: engine.overdue(limit=50), args.repeat, warmup=3)

            def query_only() -> None:
                with engine.db.connect() as conn:
                    conn.exec_driver_sql(statement, params).all()
                    conn.rollback()

            query_ms, _ = seeding.timed(query_only, args.repeat, warmup=3)
            cli_ms: list[float] = []
            cli_error = ""
            if not args.no_cli:
                expect = [case.id for case, _view in engine.overdue(limit=50)]
                cmd = cli_command(url)
                for _ in range(args.cli_repeat):
                    t0 = time.perf_counter()
                    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    cli_ms.append((time.perf_counter() - t0) * 1000)
                    if out.returncode != 0:
                        cli_error = f"exit {out.returncode}: {out.stderr.strip()[-2000:]}"
                        break
                    got = [c["id"] for c in json.loads(out.stdout)]
                    assert got == expect, (got[:3], expect[:3])
        finally:
            engine.close()
    return Result(
        kind,
        n,
        counts,
        seed_s,
        " ".join(statement.split()),
        params,
        plan,
        engine_ms,
        query_ms,
        cli_ms,
        any(INDEX in line for line in plan),
        cli_error,
    )


def print_result(res: Result) -> None:
    clocks = sum(v for k, v in res.counts.items() if k.startswith("clock: "))
    overdue = res.counts["clock: overdue"]
    print(
        f"\n== {res.db}, {res.n} cases, {clocks} clocks ({overdue} running and overdue = "
        f"{100 * overdue / clocks:.2f}%), seeded in {res.seed_s:.1f} s =="
    )
    print(
        "  mix: "
        + ", ".join(f"{k} {v}" for k, v in sorted(res.counts.items()) if not k.startswith("sec"))
    )
    print(f"  SQL: {res.sql}")
    print(f"  parameters: {res.params!r}")
    print("  plan:")
    for line in res.plan:
        print(f"    {line}")
    print(f"  uses {INDEX}: {'yes' if res.uses_index else 'NO'}")
    print(
        f"  engine.overdue(limit=50):       {summary(res.engine_ms)}  ({len(res.engine_ms)} calls)"
    )
    print(f"  the SQL alone (driver):         {summary(res.query_ms)}")
    if res.cli_error:
        print(f"  CLI cases list --overdue --json: FAILED ({res.cli_error})")
    elif res.cli_ms:
        print(
            f"  CLI cases list --overdue --json: {summary(res.cli_ms)}  ({len(res.cli_ms)} runs, "
            "new process each)"
        )


# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--sizes",
        default="10000,1000000",
        help="comma-separated case counts, each in a fresh database (default 10000,1000000)",
    )
    parser.add_argument("--repeat", type=int, default=25, help="timed calls per size (25)")
    parser.add_argument("--cli-repeat", type=int, default=5, help="CLI runs per size (5)")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI timing")
    parser.add_argument("--chunk", type=int, default=50_000, help="cases per insert chunk")
    parser.add_argument("--seed", type=int, default=20260302, help="random seed of the mix")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]

    t0 = time.perf_counter()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for line in seeding.machine_info("postgres" in kinds, PG_BASE_URL, pg_may_be_down=True):
        print(line)
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    results = []
    for kind in kinds:
        for n in sizes:
            t1 = time.perf_counter()
            results.append(bench(kind, n, args))
            print_result(results[-1])
            print(f"  ({time.perf_counter() - t1:.0f} s)")
    print("\n== summary: median latency, ms ==")
    print(f"{'db':9} {'cases':>9} {'overdue()':>10} {'SQL alone':>10} {'CLI':>8}  index used")
    for r in results:
        cli = f"{statistics.median(r.cli_ms):8.0f}" if r.cli_ms else f"{'-':>8}"
        cli = f"{'failed':>8}" if r.cli_error else cli
        print(
            f"{r.db:9} {r.n:9} {statistics.median(r.engine_ms):10.2f} "
            f"{statistics.median(r.query_ms):10.2f} {cli}  {'yes' if r.uses_index else 'NO'}"
        )
    print(
        f"\nload average at end: {os.getloadavg()[0]:.2f}; total {time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
