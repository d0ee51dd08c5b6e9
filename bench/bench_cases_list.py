#!/usr/bin/env python
"""
caseflow operator-listing benchmark: the first page of ``caseflow cases list`` with the
``--overdue``, ``--stuck``, ``--warned`` and ``--provisional`` filters at 10k and 1M cases.

Run by hand (this is not a test)::

    .venv/bin/python bench/bench_cases_list.py                         # SQLite and PostgreSQL
    .venv/bin/python bench/bench_cases_list.py --db sqlite --sizes 10000
    .venv/bin/python bench/bench_cases_list.py --db postgres --no-cli --no-plans

(``bench/bench_overdue.py`` measures ``engine.overdue`` itself; this one measures the CLI
path around it and the new filters of :mod:`caseflow.listing`.)

For each database and size, a fresh database (a SQLite file in a temporary directory, or
a fresh PostgreSQL schema, dropped afterwards) is migrated by the Engine and bulk-seeded
(SQLite ``executemany``; PostgreSQL ``COPY``) with ``administrative_approval`` cases and
their clock rows relative to now: most cases finished (clocks stopped), some with running
clocks due later, ~2% warned (in the warning window), ~3% overdue, ~0.5% provisional
(due in a year without calendar data), 1% paused; and incidents on ~0.2% of the cases,
half of them open (stuck). Then ``ANALYZE``.

``--migrate N`` instead times ``Engine.migrate_cases`` (a dry run, then the real run)
on N bulk-copied cases of a two-version workflow whose clock limits change.

Measured, per filter: the median (min, max) of ``--repeat`` in-process calls that produce
the first page the CLI prints (50 rows: the query and the clock-status decoration), and
unless ``--no-cli`` the wall time of ``caseflow cases list FILTER --json`` in a new
process (interpreter start, imports, Engine setup, query). The SQL each filter sends is
captured and explained (``EXPLAIN QUERY PLAN`` / ``EXPLAIN (ANALYZE, BUFFERS)``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seeding  # noqa: E402

from caseflow import listing  # noqa: E402
from caseflow.engine import Engine  # noqa: E402
from caseflow.testing import MovableClock  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine as SAEngine

#: The shipped version of administrative_approval: the seeded rows must name one the engine knows.
APPROVAL_VERSION = seeding.shipped_version("administrative_approval")
ORGS = ("hainan/lingshui/yingzhou", "hainan/lingshui/benhao", "hainan/haikou/longhua")
INCIDENT_COLUMNS = ["case_id", "timer_id", "action", "error", "attempts", "status", "opened_at"]
FILTERS: dict[str, dict[str, Any]] = {
    "--overdue (per clock)": {"overdue_fast": True},
    "--overdue --status active": {"overdue": True, "status": "active"},
    "--stuck": {"stuck": True},
    "--warned": {"warned": True},
    "--provisional": {"provisional": True},
    "(no filter)": {},
}
CLI_ARGS = {
    "--overdue (per clock)": ["--overdue"],
    "--overdue --status active": ["--overdue", "--status", "active"],
    "--stuck": ["--stuck"],
    "--warned": ["--warned"],
    "--provisional": ["--provisional"],
    "(no filter)": [],
}


class Seeder:
    """Rows of cases, clocks and incidents relative to ``now``, as the driver wants them."""

    def __init__(self, sqlite: bool, now: dt.datetime, rng: random.Random) -> None:
        self.sqlite, self.now, self.rng = sqlite, now, rng
        self.counts: dict[str, int] = {}

    def when(self, value: dt.datetime | None) -> Any:
        if value is None or not self.sqlite:
            return value
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def day_end(self, days: int) -> tuple[dt.datetime, str]:
        """The end of the local day ``days`` from today (Asia/Shanghai is UTC+8)."""
        local = (self.now + seeding.TZ_OFFSET).date() + dt.timedelta(days=days)
        return seeding.day_end(local), str(local)

    def clock(self, case_id: str, name: str, kind: str, started: dt.datetime) -> tuple[Any, ...]:
        phase, pauses, due, last, warn, warned, breached, prov, stopped = (
            "running", [], None, None, None, None, None, False, None
        )  # fmt: skip
        if kind == "stopped":
            phase, stopped = "stopped", started + dt.timedelta(days=3)
            due, last = self.day_end(-self.rng.randint(30, 400))
        elif kind == "paused":
            phase, pauses = "paused", [[str(started.date()), None]]
            due, last = self.day_end(self.rng.randint(5, 30))
        elif kind == "overdue":
            due, last = self.day_end(-self.rng.randint(1, 60))
            breached = due
        elif kind == "warned":
            due, last = self.day_end(self.rng.randint(1, 3))
            warn = warned = self.now - dt.timedelta(hours=self.rng.randint(1, 40))
        else:  # future (provisional: due in a year without calendar data)
            due, last = self.day_end(
                self.rng.randint(5, 40) + (400 if kind == "provisional" else 0)
            )
            warn, prov = due - dt.timedelta(days=4), kind == "provisional"
        self.counts[f"clocks {kind}"] = self.counts.get(f"clocks {kind}", 0) + 1
        return (
            case_id, name, phase, self.when(started),
            json.dumps(pauses),
            0, self.when(due), last, self.flag(prov), self.when(warn), self.when(warned),
            self.when(breached), 1 if breached else 0, self.when(stopped),
        )  # fmt: skip

    def chunk(self, start: int, size: int) -> tuple[list[Any], list[Any], list[Any]]:
        cases, clocks, incidents = [], [], []
        for i in range(start, start + size):
            case_id = f"{i:013x}{self.rng.getrandbits(64):016x}"
            roll = self.rng.random()
            created = self.now - dt.timedelta(minutes=self.rng.randint(60, 60 * 24 * 400))
            if roll < 0.78:
                state, status, kinds = "collected", "completed", ["stopped", "stopped"]
            elif roll < 0.80:
                state, status, kinds = "under_review", "active", ["stopped", "warned"]
            elif roll < 0.83:
                state, status, kinds = "under_review", "active", ["stopped", "overdue"]
            elif roll < 0.835:
                state, status, kinds = "under_review", "active", ["stopped", "provisional"]
            elif roll < 0.845:
                state, status, kinds = "expert_review", "active", ["stopped", "paused"]
            else:
                state, status, kinds = "under_review", "active", ["stopped", "future"]
            self.counts[state] = self.counts.get(state, 0) + 1
            data = json.dumps({"applicant": "张三", "matter": "食品经营许可"}, ensure_ascii=False)
            cases.append(
                (case_id, "administrative_approval", APPROVAL_VERSION, state, status, data,
                 ORGS[i % len(ORGS)], None, 4, self.when(created), self.when(created), 0)
            )  # fmt: skip
            for name, kind in zip(("correction_window", "decision"), kinds, strict=True):
                clocks.append(self.clock(case_id, name, kind, created))
            if self.rng.random() < 0.002:
                open_ = self.rng.random() < 0.5
                self.counts["stuck" if open_ else "resolved incidents"] = (
                    self.counts.get("stuck" if open_ else "resolved incidents", 0) + 1
                )
                incidents.append(
                    (case_id, i, "notify_applicant", "ConnectionError: gateway down", 3,
                     "open" if open_ else "retried", self.when(created))
                )  # fmt: skip
        return cases, clocks, incidents


TABLES = ("cf_cases", "cf_clocks", "cf_incidents")


def seed(db: SAEngine, n: int, now: dt.datetime, chunk: int = 50_000) -> dict[str, int]:
    seeder = Seeder(db.dialect.name == "sqlite", now, random.Random(20261123))

    def chunks() -> Iterator[list[tuple[str, list[str], list[Any]]]]:
        for start in range(0, n, chunk):
            rows = seeder.chunk(start, min(chunk, n - start))
            yield list(
                zip(
                    TABLES,
                    (seeding.CASE_COLUMNS, seeding.CLOCK_COLUMNS, INCIDENT_COLUMNS),
                    rows,
                    strict=True,
                )
            )

    seeding.bulk_load(db, chunks())
    seeding.analyze(db, TABLES)
    return seeder.counts


def first_page(engine: Engine, options: dict[str, Any]) -> list[listing.CaseRow]:
    """What ``caseflow cases list`` computes before printing (see caseflow/cli/cases.py)."""
    if options.get("overdue_fast"):
        found = engine.overdue(limit=50)
        return listing.rows_for(engine, [c for c, _ in found])
    return listing.list_cases(engine, limit=50, **options)


def cli_ms(url: str, args: list[str], repeat: int) -> list[float]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "caseflow", "cases", "list", *args, "--json", "--db", url]
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        ms.append((time.perf_counter() - t0) * 1000)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
    return ms


def fmt(ms: list[float]) -> str:
    return f"{statistics.median(ms):8.1f} ms  (min {min(ms):.1f}, max {max(ms):.1f})"


def bench(kind: str, n: int, args: argparse.Namespace) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with seeding.database(kind, "list", "cfbl") as url:
        engine = Engine(url, clock=MovableClock(now), auto_upgrade=True)
        try:
            t0 = time.perf_counter()
            counts = seed(engine.db, n, now)
            print(f"\n=== {kind}, {n:,} cases (seeded in {time.perf_counter() - t0:.1f} s) ===")
            print("    " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
            for label, options in FILTERS.items():
                with seeding.capture(engine.db) as seen:
                    ms, rows = seeding.timed(lambda o=options: first_page(engine, o), args.repeat)
                line = f"  {label:<28} {len(rows):>3} rows  in-process {fmt(ms)}"
                if not args.no_cli:
                    line += f"   CLI {fmt(cli_ms(url, CLI_ARGS[label], args.cli_repeat))}"
                print(line)
                if not args.no_plans:
                    # the listing query (the first SELECT); the ones after it decorate the page
                    statement, parameters = next(
                        (s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT")
                    )
                    print("      " + statement.replace("\n", " ")[:400])
                    for plan_line in seeding.explain(engine.db, statement, parameters):
                        print(f"      | {plan_line}")
        finally:
            engine.close()


PERMIT = """\
workflow: permit
version: {v}
roles: [clerk]
states:
  received: {{initial: true}}
  checking: {{}}
  decided: {{final: true}}
events:
  check: {{from: received, to: checking, roles: [clerk]}}
  decide: {{from: checking, to: decided, roles: [clerk]}}
clocks:
  intake: {{limit: {intake} workdays, runs_in: [received]}}
  check: {{limit: {check} workdays, runs_in: [checking]}}
"""


def bench_migrate(kind: str, n: int) -> None:
    """``migrate_cases`` (dry run, then for real) on ``n`` cases: limits change in v2."""
    from sqlalchemy import select  # noqa: PLC0415

    from caseflow import Actor  # noqa: PLC0415
    from caseflow.store.tables import cases, clocks, history, timers  # noqa: PLC0415

    folder = tempfile.mkdtemp(prefix="caseflow-bench-migrate-")
    files = []
    for v, intake, check in ((1, 5, 10), (2, 3, 15)):
        files.append(f"{folder}/permit_v{v}.yaml")
        with open(files[-1], "w", encoding="utf-8") as out:  # noqa: PTH123
            out.write(PERMIT.format(v=v, intake=intake, check=check))
    clerk, ops = Actor("clerk", {"clerk"}), Actor("ops", {"operator"})
    with seeding.database(kind, "list", "cfbl") as url:
        engine = Engine(
            url, workflows=files, clock=MovableClock("2026-09-21T09:00"), auto_upgrade=True
        )
        try:
            made = [engine.start("permit", actor=clerk, version=1) for _ in range(2)]
            engine.fire(made[1].id, "check", actor=clerk)
            tables = (cases, clocks, timers, history)
            with engine.db.begin() as conn:
                rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in tables}
                for i in range(n):
                    new_id = f"{i:013x}{'0' * 16}"
                    for t in tables:
                        key = t.c.id if t is cases else t.c.case_id
                        for r in conn.execute(select(t).where(key == made[i % 2].id)):
                            row = {k: v for k, v in r._mapping.items() if k != "id" or t is cases}  # noqa: SLF001
                            rows[t].append({**row, key.name: new_id})
                conn.execute(cases.delete().where(cases.c.id.in_([m.id for m in made])))
                for t, values in rows.items():
                    conn.execute(t.insert(), values)
            for dry_run in (True, False):
                t0 = time.perf_counter()
                report = engine.migrate_cases(
                    "permit", 1, 2, mapping={}, actor=ops, dry_run=dry_run
                )
                took = time.perf_counter() - t0
                print(
                    f"  {kind} migrate {n:,} cases ({'dry run' if dry_run else 'for real'}): "
                    f"{took:.2f} s, {len(report.moved):,} moved, {len(report.batches)} batches,"
                    f" {n / took:,.0f} cases/s"
                )
        finally:
            engine.close()
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cli-repeat", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument("--no-plans", action="store_true")
    parser.add_argument("--migrate", type=int, default=0, help="Time cases migrate on N cases.")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}")
    if args.migrate:
        for kind in kinds:
            bench_migrate(kind, args.migrate)
        return 0
    for n in (int(s) for s in args.sizes.split(",")):
        for kind in kinds:
            bench(kind, n, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
