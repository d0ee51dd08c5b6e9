#!/usr/bin/env python
"""
caseflow chaos run: several sweeping workers, repeated kill -9 and killed connections.

Run by hand (bounded: about ``--seconds`` plus the drain, under 3 minutes by default)::

    .venv/bin/python bench/bench_chaos.py                        # PostgreSQL, 4 workers, 60 s
    .venv/bin/python bench/bench_chaos.py --db sqlite --seconds 30
    .venv/bin/python bench/bench_chaos.py --workers 6 --kill-every 1.5 --terminate-every 0.5

**Cases.** Cases of the shipped ``administrative_approval`` workflow are started through
an engine whose ``caseflow.testing.MovableClock`` stands ``--past-days`` (150) days
ago, half of them accepted at once, half left ``submitted``: every timer they arm is
due (the correction window's breach fires ``deemed_accepted``, which starts the decision
clock; its warning, breach and both escalation steps follow, the escalations notify and
the second moves the case up to the parent unit). ``--cases`` (300) are seeded before
the workers start; the main process starts ``--seed-rate`` (5) more per second while
the chaos runs, so due timers keep coming.

**Workers.** ``--workers`` (4) processes (forked from a ``multiprocessing`` fork server
that imported caseflow once, so a restart takes about a second), each an ``Engine`` on
its own connections running the loop of ``caseflow worker``: ``Sweeper.run_once()`` every
``--interval`` (0.2 s) with ``--batch`` (50), ``--lease`` (3 s) and a 1 s retry backoff;
a sweep that raises is counted ("sweeps aborted") and the loop goes on, as the
scheduler's would. Their notifier appends each notification (with its key) to a file
before returning, so a delivery survives the kill -9 that may follow it.

**Chaos.** For ``--seconds`` (60): every ``--kill-every`` (3 s, jittered) a random
worker gets SIGKILL and is restarted under a new worker id (the timers it had claimed
and not finished are counted: "stranded by kills"); on PostgreSQL every
``--terminate-every`` (0.7 s, jittered) a random connection of the workers (found by
its ``application_name``) is killed with ``pg_terminate_backend``. Meanwhile the main
process fires user events (``--event-rate``, 20/s) on the same cases through an engine
on the system clock -- accept, request_correction, resubmit, refuse, start_review,
send_to_experts (pauses the clock), experts_done, decide, reject, issue, collect, rate,
withdraw -- each with an idempotency key, retried with the same key if the database
fails; an event the state no longer allows (a timer got there first) is refused.

**Checks.** Then the workers drain what is due without chaos, stop, the leases run out,
and a final sweep in the main process handles what is left. Verified from the rows:

* every case's version equals its number of commands (history versions are 1..version
  with no gap, ``seq`` is 1..``history_count``), and the user transitions in its history
  are exactly the events the main process saw accepted (each once);
* per case and clock, one ``breached`` / ``escalated`` line per done breach / escalate
  timer, at most one ``warned`` line per done warn timer, one ``deemed_accepted`` per
  correction-window breach: no timer's effect applied twice, none lost;
* no timer is left pending and due, or claimed past its lease;
* every done notification was delivered at least once, every delivery belongs to a
  notification timer and carries its message and roles, a repeated delivery always has
  the same key (``notify:<timer id>``), and the notifications armed are exactly those
  the history calls for (non-late warnings, escalation steps, events with ``notify:``).

Printed: the kills, terminated connections, what was retried (failed attempts,
acknowledgements lost, sweeps aborted, redelivered notifications, user commands retried),
and the throughput. The exit code is 1 if any invariant fails.

Databases: PostgreSQL (``CASEFLOW_BENCH_PG_URL``, default the local server, database
``test``) in a fresh schema dropped at the end; SQLite a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import multiprocessing
import multiprocessing.process
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from caseflow import Actor, CaseflowError, Engine, InvalidEvent
from caseflow.abc import Notifier
from caseflow.errors import StorageError
from caseflow.store.tables import cases as cases_table
from caseflow.store.tables import history as history_table
from caseflow.store.tables import timers as timers_table
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from caseflow.definitions.model import WorkflowDef

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = "administrative_approval"
WORKFLOWS = ROOT / "workflows" / f"{WORKFLOW}.yaml"  # only this one: workers start faster
PG_BASE = os.environ.get(
    "CASEFLOW_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
UNIT = "hainan/haikou/longhua"
USER = Actor(
    "chaos-user",
    {"window_clerk", "reviewer", "agency_head", "issuing_clerk", "postal_courier", "applicant"},
    "hainan",
)
MOVES: dict[str, list[tuple[str, dict[str, Any] | None]]] = {
    "submitted": [
        ("accept", None),
        ("request_correction", {"missing_documents": ["营业执照"]}),
        ("refuse", {"reason": "不属于本机关职权范围", "remedy": "行政复议"}),
    ],
    "correction_requested": [("resubmit", None)],
    "accepted": [("start_review", None), ("start_review", None), ("withdraw", None)],
    "under_review": [
        ("decide", {"decision": "approve"}),
        ("reject", {"decision": "reject", "reason": "材料不实", "remedy": "行政诉讼"}),
        ("send_to_experts", {"excluded": {"procedure": "专家评审", "time_needed": "十日"}}),
    ],
    "expert_review": [("experts_done", None)],
    "approved": [("issue", None)],
    "ready_for_pickup": [("collect", None)],
    "in_post": [("deliver", None)],
    "rating": [("rate", {"satisfaction": "满意"})],
    "rectification": [("rectified", {"rectification": "已整改"})],
}
SILENT = logging.ERROR
# Workers are forked from a server that imported caseflow once (a fresh interpreter takes
# seconds to import it on a busy machine); each builds its own Engine and connections.
FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["caseflow.engine", "caseflow.services.sweeper"])


# -- the worker process ------------------------------------------------------------------


class FileNotifier(Notifier):
    """Appends each notification as a JSON line (one ``write``) before returning."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def notify(
        self,
        *,
        case_id: str,
        roles: tuple[str, ...],
        org: str,
        message: str,
        idempotency_key: str = "",
    ) -> None:
        line = {"key": idempotency_key, "case": case_id, "roles": list(roles), "org": org}
        line["message"] = message
        line["at"] = f"{time.time():.3f}"
        os.write(self.fd, (json.dumps(line, ensure_ascii=False) + "\n").encode())


def worker_process(args: argparse.Namespace) -> None:
    """A forked worker's entry point: its output goes to ``worker-<name>.log``."""
    log = os.open(Path(args.out) / f"worker-{args.worker}.log", os.O_WRONLY | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.exit(worker_main(args))


def worker_main(args: argparse.Namespace) -> int:
    """One worker: the sweep loop of ``caseflow worker``, until SIGTERM (or SIGKILL)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out = Path(args.out)
    notifier = FileNotifier(out / f"deliveries-{args.worker}.jsonl")
    stats = (out / f"sweeps-{args.worker}.jsonl").open("a", buffering=1, encoding="utf-8")
    engine = None
    while engine is None and not stop.is_set():
        try:  # its connection may be killed while it starts, too
            engine = Engine(args.url, workflows=WORKFLOWS, notifier=notifier)
        except CaseflowError as exc:
            stats.write(json.dumps({"startup_failed": str(exc)[:200]}) + "\n")
            stop.wait(0.2)
    if engine is None:
        return 0
    sweeper = engine.sweeper(
        worker=args.worker,
        batch=args.batch,
        lease=dt.timedelta(seconds=args.lease),
        backoff=dt.timedelta(seconds=1),
    )
    try:
        stats.write(json.dumps({"ready": round(time.time(), 3)}) + "\n")
        while not stop.is_set():
            began = round(time.time(), 3)
            try:
                line: dict[str, Any] = {"report": sweeper.run_once().to_dict(), "began": began}
            except Exception as exc:  # noqa: BLE001 - what the scheduler would log
                where = [
                    f"{Path(f.filename).stem}.{f.name}"
                    for f in traceback.extract_tb(exc.__traceback__)
                    if "/caseflow/" in f.filename and "/store/db" not in f.filename
                ]
                line = {"aborted": f"{type(exc).__name__}: {exc}"[:200], "where": where}
            stats.write(json.dumps(line) + "\n")
            stop.wait(args.interval)
    finally:
        engine.close()
    return 0


# -- the main process --------------------------------------------------------------------


@dataclass
class Figures:
    kills: int = 0
    stranded: int = 0
    terminated: int = 0
    restarts: int = 0
    commands: int = 0
    refused: int = 0
    command_retries: int = 0
    seeded: int = 0
    chaos_seconds: float = 0.0
    done_before: int = 0
    done_after_chaos: int = 0
    drain_seconds: float = 0.0
    final_sweep: dict[str, Any] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)


@dataclass
class Ledger:
    """What the main process saw accepted, per case: each command once."""

    commands: Counter[str] = field(default_factory=Counter)
    cases: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'chaos.db'}"
        return
    schema = f"cf_chaos_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_BASE else "?"
    try:
        yield f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def with_app(url: str, app: str) -> str:
    if url.startswith("sqlite"):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={app}"


class Workers:
    """The worker processes, by slot; a killed one is restarted under a new id."""

    def __init__(self, args: argparse.Namespace, url: str, out: Path, app: str) -> None:
        self.args = args
        self.url = url
        self.out = out
        self.app = app
        self.procs: dict[int, tuple[str, multiprocessing.process.BaseProcess]] = {}
        self.generation = 0
        self.lock = threading.Lock()

    def start(self, slot: int) -> None:
        self.generation += 1
        name = f"w{slot}-{self.generation}"
        options = argparse.Namespace(
            worker=name,
            url=with_app(self.url, f"{self.app}-{name}"),
            out=str(self.out),
            batch=self.args.batch,
            lease=self.args.lease,
            interval=self.args.interval,
        )
        proc = FORKS.Process(target=worker_process, args=(options,), name=name, daemon=True)
        proc.start()
        self.procs[slot] = (name, proc)

    def start_all(self) -> None:
        with self.lock:
            for slot in range(self.args.workers):
                self.start(slot)

    def kill(self, slot: int) -> str:
        with self.lock:
            name, proc = self.procs[slot]
            if proc.pid is not None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.join()
            self.start(slot)
            return name

    def revive(self) -> int:
        """Restart workers that exited on their own (none should)."""
        with self.lock:
            dead = [s for s, (_, p) in self.procs.items() if not p.is_alive()]
            for slot in dead:
                self.start(slot)
            return len(dead)

    def stop(self) -> None:
        with self.lock:
            for _, proc in self.procs.values():
                proc.terminate()  # SIGTERM: the loop ends after its sweep
            for _, proc in self.procs.values():
                proc.join(timeout=30)
                if proc.is_alive():
                    proc.kill()
                    proc.join()

    def ready(self, timeout: float) -> None:
        """Wait until every worker has its engine (a forked worker starts in about 1 s)."""
        deadline = time.monotonic() + timeout
        for name, _ in self.procs.values():
            path = self.out / f"sweeps-{name}.jsonl"
            while '"ready"' not in (path.read_text() if path.exists() else ""):
                if time.monotonic() > deadline:
                    msg = f"worker {name} did not start in {timeout:g} s"
                    raise RuntimeError(msg)
                time.sleep(0.05)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def count_timers(conn: sa.Connection, *where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(timers_table).where(*where)
    return int(conn.execute(query).scalar_one())


def killer(
    stop: threading.Event,
    workers: Workers,
    db: sa.Engine,
    every: float,
    figures: Figures,
    rng: random.Random,
) -> None:
    t = timers_table.c
    while not stop.wait(rng.uniform(0.5 * every, 1.5 * every)):
        name = workers.kill(rng.randrange(workers.args.workers))
        figures.kills += 1
        with db.connect() as conn:
            figures.stranded += count_timers(
                conn, t.status == "pending", t.claimed_by == name, t.lease_until > now()
            )


def terminator(
    stop: threading.Event,
    app: str,
    db: sa.Engine,
    every: float,
    figures: Figures,
    rng: random.Random,
) -> None:
    find = sa.text("select pid from pg_stat_activity where application_name like :app")
    kill = sa.text("select pg_terminate_backend(:pid)")
    while not stop.wait(rng.uniform(0.5 * every, 1.5 * every)):
        with db.connect() as conn:
            pids = list(conn.execute(find, {"app": f"{app}-%"}).scalars())
            if pids and conn.execute(kill, {"pid": rng.choice(pids)}).scalar():
                figures.terminated += 1


def seed_one(past: Engine, clock: MovableClock, ledger: Ledger, rng: random.Random) -> None:
    clock.advance(minutes=7)
    data = {
        "applicant": "张三",
        "matter": "食品经营许可",
        "delivery": rng.choice(["window", "post"]),
    }
    case = past.start(WORKFLOW, data=data, actor=USER, org=UNIT)
    with ledger.lock:
        ledger.cases.append(case.id)
        ledger.commands[case.id] += 1
    if rng.random() < 0.5:
        try:
            past.fire(case.id, "accept", actor=USER)
        except InvalidEvent:  # a worker fired its (long due) correction-window breach first
            return
        with ledger.lock:
            ledger.commands[case.id] += 1


def user_event(
    live: Engine, ledger: Ledger, figures: Figures, rng: random.Random, key: str
) -> None:
    with ledger.lock:
        recent = ledger.cases[-60:]
        case_id = rng.choice(recent if rng.random() < 0.7 else ledger.cases)
    state = live.get(case_id).state
    moves = MOVES.get(state)
    if not moves:
        return
    event, payload = rng.choice(moves)
    for attempt in range(5):
        try:
            live.fire(case_id, event, actor=USER, payload=payload, idempotency_key=key)
        except StorageError:
            figures.command_retries += 1
            time.sleep(0.05 * (attempt + 1))
            continue
        except InvalidEvent:  # a timer got there first: the event no longer applies
            figures.refused += 1
            return
        with ledger.lock:
            ledger.commands[case_id] += 1
        figures.commands += 1
        figures.events[event] += 1
        return
    msg = f"user command {key} failed five times"
    raise RuntimeError(msg)


def paced(rate: float, start: float, done: int) -> bool:
    return rate > 0 and done < rate * (time.monotonic() - start)


def run(kind: str, args: argparse.Namespace) -> bool:
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="cf-chaos-"))
    figures = Figures()
    ledger = Ledger()
    app = f"cfchaos{uuid.uuid4().hex[:6]}"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"== {kind}: {args.workers} workers, {args.seconds:g} s of chaos, load {load}")
    try:
        with database(kind, workdir) as url:
            main_url = with_app(url, "cfchaos-main")
            past_clock = MovableClock(now() - dt.timedelta(days=args.past_days))
            past = Engine(main_url, workflows=WORKFLOWS, clock=past_clock, auto_upgrade=True)
            final_notifier = FileNotifier(workdir / "deliveries-final.jsonl")
            live = Engine(main_url, workflows=WORKFLOWS, notifier=final_notifier)
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            try:
                t0 = time.monotonic()
                for _ in range(args.cases):
                    seed_one(past, past_clock, ledger, rng)
                figures.seeded = args.cases
                print(f"   seeded {args.cases} cases in {time.monotonic() - t0:.1f} s")
                workers = Workers(args, url, workdir, app)
                workers.start_all()
                workers.ready(timeout=120)
                with admin.connect() as conn:
                    figures.done_before = count_timers(conn, timers_table.c.status == "done")
                stop = threading.Event()
                threads = [
                    threading.Thread(
                        target=killer,
                        args=(stop, workers, admin, args.kill_every, figures, rng),
                    )
                ]
                if kind == "postgres":
                    threads.append(
                        threading.Thread(
                            target=terminator,
                            args=(stop, app, admin, args.terminate_every, figures, rng),
                        )
                    )
                for t in threads:
                    t.start()
                start = time.monotonic()
                end = start + args.seconds
                events = seeded = 0
                try:
                    while time.monotonic() < end:
                        if paced(args.seed_rate, start, seeded):
                            seed_one(past, past_clock, ledger, rng)
                            seeded += 1
                        elif paced(args.event_rate, start, events):
                            user_event(live, ledger, figures, rng, f"{app}:{events}")
                            events += 1
                        else:
                            time.sleep(0.005)
                        figures.restarts += workers.revive()
                finally:
                    stop.set()
                    for t in threads:
                        t.join()
                figures.chaos_seconds = time.monotonic() - start
                figures.seeded += seeded
                with admin.connect() as conn:
                    figures.done_after_chaos = count_timers(conn, timers_table.c.status == "done")
                drain(admin, workers, args, figures)
                workers.stop()
                wait_for_leases(admin)
                report = live.fire_due()
                figures.final_sweep = report.to_dict()
                return verify(admin, live.compiled(WORKFLOW).definition, workdir, ledger, figures)
            finally:
                past.close()
                live.close()
                admin.dispose()
    finally:
        if args.keep:
            print(f"   kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def drain(db: sa.Engine, workers: Workers, args: argparse.Namespace, figures: Figures) -> None:
    """Let the workers finish what is due (and what was retried with backoff), no chaos."""
    t = timers_table.c
    start = time.monotonic()
    while time.monotonic() - start < args.drain_timeout:
        figures.restarts += workers.revive()
        with db.connect() as conn:
            left = count_timers(
                conn, t.status == "pending", t.due_at <= now() + dt.timedelta(seconds=10)
            )
        if left == 0:
            break
        time.sleep(0.3)
    figures.drain_seconds = time.monotonic() - start


def wait_for_leases(db: sa.Engine) -> None:
    t = timers_table.c
    with db.connect() as conn:
        latest = conn.execute(
            sa.select(sa.func.max(t.lease_until)).where(t.status == "pending")
        ).scalar()
    if isinstance(latest, dt.datetime):
        time.sleep(max(0.0, (latest - now()).total_seconds()) + 0.2)


# -- the checks --------------------------------------------------------------------------


def expected_notices(definition: WorkflowDef) -> tuple[dict[str, int], dict[str, int]]:
    """Notices per event firing, and per (clock, escalation step), of the workflow."""
    per_event = {name: len(event.notify) for name, event in definition.events.items()}
    per_step = {
        f"{name}:{i}": 1 if step.notify else 0
        for name, clock in definition.clocks.items()
        for i, step in enumerate(clock.escalate, start=1)
    }
    return per_event, per_step


class Checks:
    def __init__(self) -> None:
        self.failures: dict[str, list[str]] = defaultdict(list)
        self.names: list[str] = []

    def check(self, name: str, ok: bool, example: str) -> None:
        if name not in self.names:
            self.names.append(name)
        if not ok:
            self.failures[name].append(example)

    def print(self) -> bool:
        for name in self.names:
            bad = self.failures.get(name, [])
            status = "ok  " if not bad else f"FAIL ({len(bad)})"
            print(f"   [{status}] {name}")
            for example in bad[:3]:
                print(f"          e.g. {example}")
        return not self.failures


def load_deliveries(workdir: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for path in sorted(workdir.glob("deliveries-*.jsonl")):
        lines.extend(json.loads(row) for row in path.read_text(encoding="utf-8").splitlines())
    return lines


def worker_stats(workdir: Path) -> tuple[Counter[str], int, Counter[str], int]:
    totals: Counter[str] = Counter()
    aborted: Counter[str] = Counter()
    startup_failed = sweeps = 0
    for path in workdir.glob("sweeps-*.jsonl"):
        for raw in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):  # a line cut by kill -9
                row = json.loads(raw)
                if "report" in row:
                    sweeps += 1
                    totals.update(row["report"]["fired"])
                    totals["errors"] += row["report"]["errors"]
                    totals["skipped"] += row["report"]["skipped"]
                    totals["failed"] += row["report"]["failed"]
                if "aborted" in row:
                    aborted[" > ".join(row["where"][-2:]) or "?"] += 1
                startup_failed += "startup_failed" in row
    return totals, sweeps, aborted, startup_failed


def log_count(workdir: Path, text: str) -> int:
    return sum(
        p.read_text(encoding="utf-8", errors="replace").count(text)
        for p in workdir.glob("worker-*.log")
    )


def verify(
    db: sa.Engine, definition: WorkflowDef, workdir: Path, ledger: Ledger, figures: Figures
) -> bool:
    per_event, per_step = expected_notices(definition)
    automatic = {name for name, event in definition.events.items() if event.automatic}
    h, c, t = history_table.c, cases_table.c, timers_table.c
    with db.connect() as conn:
        case_rows = conn.execute(sa.select(c.id, c.row_version, c.history_count)).all()
        lines = conn.execute(
            sa.select(h.case_id, h.seq, h.version, h.kind, h.event, h.actor_id, h.details)
        ).all()
        timer_rows = conn.execute(
            sa.select(t.id, t.case_id, t.kind, t.clock, t.status, t.attempts, t.due_at).add_columns(
                t.lease_until, t.payload
            )
        ).all()
    checks = Checks()
    by_case: dict[str, list[Any]] = defaultdict(list)
    for line in lines:
        by_case[line.case_id].append(line)
    timers_of: dict[str, list[Any]] = defaultdict(list)
    for timer in timer_rows:
        timers_of[timer.case_id].append(timer)
    for case in case_rows:
        mine = by_case[case.id]
        versions = {line.version for line in mine}
        checks.check(
            "case version == number of its commands (history versions 1..version)",
            versions == set(range(1, case.row_version + 1)),
            f"{case.id}: version {case.row_version}, history versions {sorted(versions)}",
        )
        seqs = sorted(line.seq for line in mine)
        checks.check(
            "history seq 1..history_count",
            seqs == list(range(1, case.history_count + 1)),
            f"{case.id}: history_count {case.history_count}, {len(seqs)} lines",
        )
        user = sum(
            1 for line in mine if line.actor_id == USER.id and line.kind in ("start", "transition")
        )
        checks.check(
            "user commands: each accepted one in the history exactly once",
            user == ledger.commands[case.id],
            f"{case.id}: {user} lines, {ledger.commands[case.id]} accepted",
        )
        notes: Counter[tuple[str, str]] = Counter()
        fired_notices = 0
        for line in mine:
            details = line.details or {}
            if line.kind == "clock" and "clock" in details:
                notes[details["clock"], details["action"]] += 1
                if details["action"] == "warned" and not details.get("late"):
                    fired_notices += 1
                if details["action"] == "escalated":
                    fired_notices += per_step.get(f"{details['clock']}:{details['step']}", 0)
            if line.kind == "transition" and line.event:
                fired_notices += per_event.get(line.event, 0)
                if line.event in automatic:
                    notes["<auto>", line.event] += 1
        done: Counter[tuple[str, str]] = Counter(
            (timer.clock, timer.kind) for timer in timers_of[case.id] if timer.status == "done"
        )
        for clock in {k[0] for k in notes} | {k[0] for k in done}:
            for kind, action in (("breach", "breached"), ("escalate", "escalated")):
                checks.check(
                    f"one '{action}' line per done {kind} timer",
                    notes[clock, action] == done[clock, kind],
                    f"{case.id} {clock}: {notes[clock, action]} lines, {done[clock, kind]} timers",
                )
            checks.check(
                "at most one 'warned' line per done warn timer",
                notes[clock, "warned"] <= done[clock, "warn"],
                f"{case.id} {clock}: {notes[clock, 'warned']} lines, {done[clock, 'warn']} timers",
            )
        checks.check(
            "one deemed_accepted per correction-window breach",
            notes["<auto>", "deemed_accepted"] == notes["correction_window", "breached"],
            f"{case.id}: {notes['<auto>', 'deemed_accepted']} transitions, "
            f"{notes['correction_window', 'breached']} breaches",
        )
        armed = sum(1 for timer in timers_of[case.id] if timer.kind == "notify")
        checks.check(
            "notifications armed == those the history calls for",
            armed == fired_notices,
            f"{case.id}: {armed} notify timers, history calls for {fired_notices}",
        )
    moment = now()
    left = [tm for tm in timer_rows if tm.status == "pending" and tm.due_at <= moment]
    checks.check("no timer left pending and due", not left, f"{len(left)} left, e.g. {left[:1]}")
    leased = [
        tm
        for tm in timer_rows
        if tm.status == "pending" and tm.lease_until is not None and tm.lease_until > moment
    ]
    checks.check("no timer claimed past the run", not leased, f"{len(leased)} still leased")
    deliveries = load_deliveries(workdir)
    notices = {f"notify:{tm.id}": tm for tm in timer_rows if tm.kind == "notify"}
    keys = Counter(d["key"] for d in deliveries)
    for key, tm in notices.items():
        if tm.status == "done":
            checks.check(
                "every done notification delivered at least once",
                keys[key] >= 1,
                f"{key} done, never delivered",
            )
    for d in deliveries:
        owner = notices.get(d["key"])
        payload = (owner.payload or {}) if owner is not None else {}
        checks.check(
            "every delivery is its notification timer's (case, roles, message)",
            owner is not None
            and d["case"] == owner.case_id
            and d["message"] == payload.get("message")
            and d["roles"] == list(payload.get("roles", ())),
            f"{d['key']}: {d['case']} {d['roles']} {d['message'][:40]!r}",
        )
    statuses = Counter(tm.status for tm in timer_rows)
    totals, sweeps, aborted, startup_failed = worker_stats(workdir)
    escaped = "no error escapes the handling of one timer (the rest of its batch goes on)"
    checks.check(escaped, ok=True, example="")
    for where, n in aborted.items():  # a claim may fail; handling a claimed timer may not
        checks.check(escaped, where == "sweeper.run_once", f"{n} sweeps aborted in {where}")
    redelivered = sum(n - 1 for n in keys.values())
    done_in_chaos = figures.done_after_chaos - figures.done_before
    seconds = max(figures.chaos_seconds, 1e-9)
    attempts = sum(tm.attempts for tm in timer_rows)
    retried = sum(1 for tm in timer_rows if tm.attempts)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"   cases {len(case_rows)} (seeded {figures.seeded}), history lines {len(lines)}")
    print(f"   timers {len(timer_rows)}: {dict(sorted(statuses.items()))}")
    print(
        f"   chaos {figures.chaos_seconds:.1f} s: kill -9 x{figures.kills} (timers they had "
        f"claimed: {figures.stranded}), pg_terminate_backend x{figures.terminated}"
    )
    print(
        f"   retried: failed attempts {attempts} (on {retried} timers), acks lost "
        f"{log_count(workdir, 'acknowledgement failed')}, sweeps aborted "
        f"{sum(aborted.values())} of {sweeps} {dict(aborted)}, worker starts failed "
        f"{startup_failed}, workers that died by themselves {figures.restarts}"
    )
    print(
        f"   notifications: {len(deliveries)} deliveries of {len(keys)} keys, "
        f"{redelivered} redelivered (same key)"
    )
    print(
        f"   user commands: {figures.commands} accepted, {figures.refused} refused (the state "
        f"had moved on), {figures.command_retries} retried with their key: "
        f"{dict(figures.events.most_common())}"
    )
    print(
        f"   worker reports {dict(sorted(totals.items()))}; drain {figures.drain_seconds:.1f} s; "
        f"final sweep {figures.final_sweep['fired']}"
    )
    print(
        f"   throughput under chaos: {done_in_chaos / seconds:.0f} timers/s "
        f"({done_in_chaos} done), {figures.commands / seconds:.1f} user commands/s; "
        f"load average now {load}"
    )
    return checks.print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite", "both"), default="postgres")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the chaos runs")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--cases", type=int, default=300, help="cases seeded before")
    parser.add_argument("--seed-rate", type=float, default=5.0, help="more cases per second")
    parser.add_argument("--event-rate", type=float, default=20.0, help="user events per second")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between kill -9")
    parser.add_argument(
        "--terminate-every", type=float, default=0.7, help="seconds between killed connections"
    )
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lease", type=float, default=3.0, help="seconds")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between sweeps")
    parser.add_argument("--past-days", type=int, default=150)
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="keep the logs and delivery files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=SILENT, force=True)  # the main process prints only errors
    os.environ.setdefault("CASEFLOW_BALLOT_SECRET", "caseflow chaos bench ballot secret")
    kinds = ("postgres", "sqlite") if args.db == "both" else (args.db,)
    ok = True
    for kind in kinds:
        ok = run(kind, args) and ok
    print("all invariants hold" if ok else "INVARIANTS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
