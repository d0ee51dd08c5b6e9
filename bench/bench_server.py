#!/usr/bin/env python
"""
``caseflow serve`` against the same calls made in-process: requests per second and
latency (p50/p99) for ``fire`` and for the supervision dashboard, at N cases.

    .venv/bin/python bench/bench_server.py [--cases 100000] [--db sqlite|postgres]
        [--fires 1000] [--pages 30]

The database is seeded through the engine (a MovableClock moving over the last 60 days):
the Jiaoling org tree, administrative approvals in its units, 80% closed (refused), 12%
under way, and a few percent warned, breached or just submitted, so the dashboard has
lights to compute. Then, on one database:

* ``fire``: ``POST /api/v1/cases/{id}/events/accept`` (one keep-alive client, one request
  at a time) on fresh submitted cases, against ``engine.fire(id, "accept")`` on others;
* ``dashboard``: ``GET /console/`` (the unit tree with lights and the top overdue cases)
  against the library calls it makes (``lights.unit_lights`` + ``engine.overdue``);
* ``get``: ``GET /api/v1/cases/{id}`` against ``engine.get``.

The server is ``caseflow serve`` in a subprocess (uvicorn, one process) on loopback;
the client is httpx in this process. The in-process engine is a second engine on the
same database. Prints a table and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import structlog

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from caseflow import Actor, Engine  # noqa: E402
from caseflow.server import lights  # noqa: E402
from caseflow.testing import MovableClock  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ORGS = ROOT / "workflows" / "orgs" / "jiaoling.yaml"
PG = os.environ.get("CASEFLOW_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLERK = Actor("window.li", {"window_clerk"}, "jiaoling")
TOKEN = secrets.token_urlsafe(32)  # a fresh bearer token for this run
DATA = {"applicant": "张三", "matter": "食品经营许可", "delivery": "window"}


#: 行政许可法 art. 32: a refusal is written, with reasons and where to apply.
REFUSAL = {"reason": "不属于本机关职权范围", "remedy": "可向县市场监督管理局申请"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(engine: Engine, clock: MovableClock, n: int, now: dt.datetime, rng: random.Random):
    """N cases over the last 60 days; returns (cases to fire over HTTP, in-process)."""
    engine.load_orgs(ORGS)
    units = [u.path for u in engine.orgs if u.level in ("village", "community", "grid")]
    units += [u.path for u in engine.orgs if u.level == "department"]
    started = time.perf_counter()
    for i in range(n):
        roll = rng.random()
        org = rng.choice(units)
        if roll < 0.80:  # closed: refused at the window
            clock.set(now - dt.timedelta(days=rng.uniform(1, 60)))
            case = engine.start("administrative_approval", data=DATA, actor=CLERK, org=org)
            engine.fire(case.id, "refuse", actor=CLERK, payload=REFUSAL)
            engine.fire(case.id, "rate", actor=CLERK, payload={"satisfaction": "满意"})
            continue
        if roll < 0.92:
            back = rng.uniform(0, 18)  # under way
        elif roll < 0.95:
            back = rng.uniform(24, 27)  # around the warning window
        elif roll < 0.98:
            back = rng.uniform(30, 50)  # breached
        else:
            clock.set(now - dt.timedelta(days=rng.uniform(0, 3)))
            engine.start("administrative_approval", data=DATA, actor=CLERK, org=org)
            continue
        clock.set(now - dt.timedelta(days=back))
        case = engine.start("administrative_approval", data=DATA, actor=CLERK, org=org)
        engine.fire(case.id, "accept", actor=CLERK)
        if (i + 1) % 10_000 == 0:
            print(f"  seeded {i + 1:,} cases ({time.perf_counter() - started:.0f} s)", flush=True)
    clock.set(now)


def fresh(engine: Engine, count: int) -> list[str]:
    org = "jiaoling/zhengwu"
    return [
        engine.start("administrative_approval", data=DATA, actor=CLERK, org=org).id
        for _ in range(count)
    ]


def serve(url: str, tokens: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "caseflow", "serve", "--db", url, "--tokens", str(tokens)]
    command += ["--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"caseflow serve did not start: {log.read_text()}")


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t)
    return out


def row(name: str, http: list[float], local: list[float]) -> str:
    def fig(values: list[float]) -> str:
        rate = len(values) / sum(values)
        return (
            f"{rate:8.1f}/s  p50 {percentile(values, 0.5) * 1e3:7.2f} ms  "
            f"p99 {percentile(values, 0.99) * 1e3:7.2f} ms"
        )

    ratio = statistics.median(http) / statistics.median(local)
    return f"{name:<10} HTTP {fig(http)} | in-process {fig(local)} | p50 ratio {ratio:5.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--fires", type=int, default=1000, help="fire calls each way")
    parser.add_argument("--pages", type=int, default=30, help="dashboard loads each way")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="bench-server-"))
    schema = None
    if args.db == "sqlite":
        url = f"sqlite:///{folder / 'caseflow.db'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG}?options=-csearch_path%3D{schema}"
    now = dt.datetime.now(dt.UTC)
    clock = MovableClock(now)
    engine = Engine(url, clock=clock, auto_upgrade=True)
    print(f"seeding {args.cases:,} cases on {args.db} ...", flush=True)
    t0 = time.perf_counter()
    seed(engine, clock, args.cases, now, rng)
    over_http, in_process = fresh(engine, args.fires), fresh(engine, args.fires)
    print(f"seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    engine.close()
    tokens = folder / "tokens.json"
    tokens.write_text(json.dumps({TOKEN: {"id": "bench", "roles": ["window_clerk"]}}))
    port = 18000 + rng.randrange(1000)
    process = serve(url, tokens, port, folder / "serve.log")
    local = Engine(url)  # the system clock, as the server's
    try:
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=120,
        )
        http.get("/console/")  # warm both sides
        lights.unit_lights(local)
        results = []

        def fire_http(case_id: str) -> None:
            http.post(f"/api/v1/cases/{case_id}/events/accept").raise_for_status()

        def fire_local(case_id: str) -> None:
            local.fire(case_id, "accept", actor=CLERK)

        results.append(row("fire", timed(fire_http, over_http), timed(fire_local, in_process)))

        def get_http(case_id: str) -> None:
            http.get(f"/api/v1/cases/{case_id}").raise_for_status()

        results.append(row("get", timed(get_http, over_http), timed(local.get, in_process)))

        def page_http(_: int) -> None:
            http.get("/console/").raise_for_status()

        def page_local(_: int) -> None:
            lights.unit_lights(local)
            local.overdue(limit=10)

        pages = range(args.pages)
        results.append(row("dashboard", timed(page_http, pages), timed(page_local, pages)))
        units = lights.unit_lights(local)
        top = units[0] if units else None
        if top is not None:
            print(
                f"top unit {top.path}: open {top.open:,}, warned {top.warned:,}, "
                f"breached {top.breached:,}"
            )
        http.close()
    finally:
        local.close()
        process.terminate()
        process.wait(20)
        if schema is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    print(f"\n{args.cases:,} cases, {args.db}, load average {os.getloadavg()}")
    for line in results:
        print(line)


if __name__ == "__main__":
    main()
