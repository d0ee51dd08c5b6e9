#!/usr/bin/env python
"""
``caseflow.reports.report()`` on a year of 12345 hotline calls, SQLite and PostgreSQL.

    .venv/bin/python bench/bench_report.py [--db sqlite|postgres|both] [--cases 100000]

Seed 004 (Zigui): calls resolved on the call (9,752 in 14,074) or referred to a department
under a 5-workday clock that escalates to the township, handled, closed after a return
visit; over Dec 2025 - Nov 2026 at 120 villages of 12 townships (org tree loaded). Rows
(cf_cases, cf_history, cf_clocks; not cf_timers, unread by reports) come from Sim, a
replay of the engine's writes, checked first: six cases run through a real Engine must
give the same rows, column for column, as Sim for the same steps at the same instants.
Timed in interleaved rounds: report() by org, township, workflow, org level; and the
floor, ONE hand-written statement with the by-org groupings (its figures must equal the
report's).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import math
import os
import random
import secrets
import shutil
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import structlog

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

import sqlalchemy as sa  # noqa: E402

from caseflow import Actor, Engine  # noqa: E402
from caseflow.clocks import runtime  # noqa: E402
from caseflow.orgs import OrgUnit  # noqa: E402
from caseflow.reports import report  # noqa: E402
from caseflow.store.tables import UTCDateTime, cases, clocks, history  # noqa: E402
from caseflow.testing import MovableClock  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
PG = os.environ.get("CASEFLOW_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORKFLOW = """\
workflow: bench_hotline
version: 1
title: 12345 政务服务便民热线
roles: [operator, department, supervisor]
data: {type: object}
states:
  received: {initial: true, title: 来电受理}
  resolved_on_call: {final: true, outcome: success, title: 当场解决}
  referred: {title: 转职能部门办理}
  handled: {title: 部门已办理，待回访}
  closed: {final: true, outcome: success, title: 办结}
events:
  resolve_on_call: {from: received, to: resolved_on_call, roles: [operator]}
  refer: {from: received, to: referred, roles: [operator]}
  handle: {from: referred, to: handled, roles: [department]}
  close: {from: handled, to: closed, roles: [operator]}
clocks:
  handling:
    limit: 5 workdays
    runs_in: [referred]
    escalate:
      - {after: 0 days, to_org: parent, notify: [supervisor]}
      - {after: 2 workdays, notify: [supervisor]}
"""
TOWNS = "maoping guizhou quyuan shazhenxi lianghekou guojiaba yanglinqiao shuitianba"
TOWNS += " xietan meijiahe moping jiuwanxi"
COUNTY = "hubei/yichang/zigui"
VILLAGES = [f"{COUNTY}/{t}/v{i:02d}" for t in TOWNS.split() for i in range(10)]
TREE = [
    OrgUnit("hubei", "湖北省", "province", None),
    OrgUnit("hubei/yichang", "宜昌市", "city", "hubei"),
    OrgUnit(COUNTY, "秭归县", "county", "hubei/yichang"),
    *(OrgUnit(f"{COUNTY}/{t}", t, "township", COUNTY) for t in TOWNS.split()),
    *(OrgUnit(v, v, "village", v.rsplit("/", 1)[0]) for v in VILLAGES),
]
QUIET = SimpleNamespace(notify=lambda **_: None)  # escalation notices go nowhere
OPERATOR = Actor("12345-op", {"operator"}, f"{COUNTY}/12345")
DEPARTMENT = Actor("dept-water", {"department"}, f"{COUNTY}/water")
TIMER = ("system:timer", ["system"], "")
CLOCK = {"clock": "handling", "action": "breached"}  # a history note's first keys
START, END = dt.datetime(2025, 12, 1, tzinfo=SH), dt.datetime(2026, 12, 1, tzinfo=SH)
BY: dict[str, dict[str, Any]] = {"by org (132 units)": {}, "by township (depth=4)": {"depth": 4}}
BY.update({"by workflow": {"by": "workflow"}, "by org level": {"by": "org_level"}})
ON_CALL = 9752 / 14074  # seed 004: resolved on the call, of all calls
Step = tuple[dt.datetime, str, dict[str, Any]]  # (when, event or "cancel", payload)
Rows = tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]
H = "case_id seq at kind event from_state to_state actor_id actor_roles actor_org details"
NEW_CASE = {"workflow": "bench_hotline", "workflow_version": 1, "state": "received"}
NEW_CASE.update(status="active", data={}, business_key=None, row_version=1)
NEW_CASE.update(escalation_level=0, assignee=None)
NEW_CLOCK = {"name": "handling", "phase": "running", "pauses": [], "extensions": 0}
NEW_CLOCK.update(warn_at=None, warned_at=None, breached_at=None, escalation_step=0)
NEW_CLOCK.update(stopped_at=None, org=None)


def who(actor: Actor) -> tuple[str, list[str], str]:
    return (actor.id, sorted(actor.roles), actor.org)


class Sim:
    """What the engine writes for bench_hotline, step by step, as row dicts."""

    def __init__(self, engine: Engine) -> None:
        self.wf = engine.workflow("bench_hotline")
        self.calendar = engine.calendars.for_workflow(self.wf)
        self._plans: dict[dt.date, tuple[runtime.ClockState, list[dt.datetime]]] = {}

    def clock(self, started: dt.datetime) -> tuple[runtime.ClockState, list[dt.datetime]]:
        """The clock as the engine schedules it, and its timers: breach, escalation steps."""
        day = runtime.local_day(started, self.wf.timezone)  # 5 workdays: only the day counts
        if day not in self._plans:
            spec, tz = self.wf.clocks["handling"], self.wf.timezone
            fresh = runtime.ClockState("handling", "running", started, level="village")
            state = runtime.schedule(spec, fresh, self.calendar, tz, started)[0]
            steps = [runtime.escalation_timer(spec, state, i, self.calendar, tz) for i in (0, 1)]
            self._plans[day] = (state, [state.due_at, *(s.due_at for s in steps if s)])
        return self._plans[day]

    def case(
        self, case_id: str, org: str, t0: dt.datetime, steps: list[Step], now: dt.datetime
    ) -> Rows:
        c = {"id": case_id, **NEW_CASE, "org": org, "created_at": t0, "updated_at": t0}
        rows: list[dict[str, Any]] = []
        k: dict[str, Any] = {}
        timers: list[tuple[int, dt.datetime]] = []  # step 0: breach; 1, 2: escalation steps

        def add(at: Any, kind: str, event: Any, frm: Any, actor: Any, details: Any) -> None:
            values = (case_id, c["row_version"], at, kind, event, frm, c["state"], *actor, details)
            rows.append(dict(zip(H.split(), values, strict=True)))

        add(t0, "start", None, None, who(OPERATOR), {"data": {}})
        for at, what, payload in [*steps, (now, "", {})]:
            while timers and timers[0][1] <= min(at, now - dt.timedelta(microseconds=1)):
                step, when = timers.pop(0)
                if step == 0:
                    k["breached_at"], due = when, k["due_at"].isoformat()
                    add(when, "clock", None, c["state"], TIMER, {**CLOCK, "due_at": due})
                    continue
                c.update(row_version=c["row_version"] + 1, escalation_level=step, updated_at=when)
                k["escalation_step"] = step
                note = {"clock": "handling", "action": "escalated", "step": step, "level": step}
                if step == 1:
                    note.update(from_org=c["org"], to_org=c["org"].rsplit("/", 1)[0])
                    c["org"] = note["to_org"]
                add(when, "clock", None, c["state"], TIMER, note)
            if at >= now:
                break
            c.update(row_version=c["row_version"] + 1, updated_at=at)
            running = k.get("phase") == "running"
            if what == "cancel":
                c["status"] = "cancelled"
                add(at, "operator", "cancel", c["state"], who(OPERATOR), {"reason": "withdrawn"})
                stop = {"clock": "handling", "action": "stopped (case cancelled)"}
                actor, action = (OPERATOR.id, ["system"], ""), stop
            else:
                frm, c["state"] = c["state"], self.wf.events[what].branches[0].to
                actor = who(DEPARTMENT if what == "handle" else OPERATOR)
                c["data"] = {**c["data"], **payload}
                c["status"] = "completed" if self.wf.states[c["state"]].final else "active"
                add(at, "transition", what, frm, actor, {"payload": payload} if payload else {})
                action = {"clock": "handling", "action": "stopped"}
            if c["state"] == "referred" and not running and what != "cancel":
                state, times = self.clock(at)
                day = state.last_day.isoformat() if state.last_day else None
                k = {"case_id": case_id, **NEW_CLOCK, "started_at": at, "due_at": state.due_at}
                k.update(last_day=day, provisional=state.provisional, level=state.level)
                note = {"action": "started", "due_at": k["due_at"].isoformat(), "last_day": day}
                add(
                    at,
                    "clock",
                    None,
                    c["state"],
                    actor,
                    {**CLOCK, **note, "provisional": k["provisional"]},
                )
                timers = list(enumerate(times))
            elif running:
                k.update(phase="stopped", stopped_at=at)
                add(at, "clock", None, c["state"], actor, action)
                timers = []
        return c, rows, k or None


def plan(rng: random.Random, t0: dt.datetime) -> list[Step]:
    """One call: resolved on the call, or referred, handled (10% late), closed; 2% withdrawn."""
    answered = t0 + dt.timedelta(minutes=rng.uniform(2, 15))
    if rng.random() < ON_CALL:
        said = "satisfied" if rng.random() < 0.9 else "dissatisfied"
        return [(answered, "resolve_on_call", {"satisfaction": said})]
    refer: Step = (answered, "refer", {})
    if rng.random() < 0.02:
        return [refer, (answered + dt.timedelta(days=rng.uniform(0.1, 3)), "cancel", {})]
    late = rng.random() >= 0.9
    handled = answered + dt.timedelta(days=rng.uniform(5, 16) if late else rng.uniform(0.1, 5))
    closed = handled + dt.timedelta(days=rng.uniform(0.05, 3))
    return [refer, (handled, "handle", {}), (closed, "close", {"satisfaction": rng.randint(1, 5)})]


def shape_check(engine: Engine, clock: MovableClock, sim: Sim) -> None:
    """Rows the engine writes and rows the generator makes for the same steps must be equal."""
    t0, day = dt.datetime(2026, 3, 2, 9, tzinfo=SH), dt.timedelta(days=1)
    refer: Step = (t0 + day / 100, "refer", {})
    plans: list[list[Step]] = [
        [(t0 + day / 100, "resolve_on_call", {"satisfaction": "satisfied"})],
        [refer, (t0 + day * 2, "handle", {}), (t0 + day * 3, "close", {"satisfaction": 4})],
        [refer, (t0 + day * 13, "handle", {}), (t0 + day * 14, "close", {"satisfaction": 1})],
        [refer, (t0 + day, "cancel", {})],
        [refer, (t0 + day * 9, "cancel", {})],  # after a breach and both escalation steps
        [refer, (t0 + day * 40, "handle", {})],  # still referred "now"
    ]
    now, pairs = t0 + day * 30, []
    for n, steps in enumerate(plans):
        made = sim.case(f"sim{n:029d}", VILLAGES[n], t0, steps, now)
        timer_times = sorted({r["at"] for r in made[1] if r["actor_id"] == TIMER[0]})
        clock.set(t0)
        case_id = engine.start("bench_hotline", actor=OPERATOR, org=VILLAGES[n], data={}).id
        for at, what, payload in [*steps, (now, "", {})]:
            for when in [t for t in timer_times if t <= min(at, now)]:
                clock.set(when)
                engine.fire_due()
            timer_times = [t for t in timer_times if t > at]
            if at >= now:
                break
            clock.set(at)
            if what == "cancel":
                engine.cancel(case_id, actor=OPERATOR, reason="withdrawn")
            else:
                actor = DEPARTMENT if what == "handle" else OPERATOR
                engine.fire(case_id, what, actor=actor, payload=payload or None)
        pairs.append((case_id, made))
    insert(engine.db, [m for _id, m in pairs])
    with engine.db.begin() as conn:
        for case_id, made in pairs:
            theirs, ours = read_case(conn, case_id), read_case(conn, made[0]["id"])
            assert theirs == ours, f"generated rows differ from the engine's:\n{theirs}\n{ours}"
        gone = [x for case_id, made in pairs for x in (case_id, made[0]["id"])]
        conn.execute(cases.delete().where(cases.c.id.in_(gone)))
    print(f"  shape check: {len(plans)} cases through the engine == generated rows")


def read_case(conn: sa.Connection, case_id: str) -> list[Any]:
    out = []
    for table, key in ((cases, "id"), (history, "case_id"), (clocks, "case_id")):
        found = conn.execute(sa.select(table).where(table.c[key] == case_id).order_by(*table.c))
        out.append([{k: v for k, v in r.items() if k not in ("id", key)} for r in found.mappings()])
    return out


def insert(db: sa.Engine, made: list[Rows]) -> None:
    """Bulk INSERTs (executemany) through caseflow's own column types, as the engine stores."""
    with db.begin() as conn:
        conn.execute(cases.insert(), [m[0] for m in made])
        conn.execute(history.insert(), [r for m in made for r in m[1]])
        if any(m[2] for m in made):
            conn.execute(clocks.insert(), [m[2] for m in made if m[2]])


def seed(engine: Engine, sim: Sim, n: int, rng: random.Random) -> dict[str, int]:
    counts = {"cases": n, "history": 0, "clocks": 0}
    for first in range(0, n, 10_000):
        made = []
        for i in range(first, min(n, first + 10_000)):
            day = (START + dt.timedelta(days=rng.randrange((END - START).days))).replace(hour=8)
            t0 = day + dt.timedelta(seconds=rng.uniform(0, 12 * 3600))
            case_id = f"{int(t0.timestamp() * 1e6):013x}{i:019x}"
            made.append(sim.case(case_id, rng.choice(VILLAGES), t0, plan(rng, t0), END))
        for c, h, k in made:
            if c["status"] == "completed":
                counts[c["state"]] = counts.get(c["state"], 0) + 1
            counts["history"] += len(h)
            counts["clocks"] += k is not None
        insert(engine.db, made)
    with engine.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = "" if engine.db.dialect.name == "sqlite" else " cf_cases, cf_history, cf_clocks"
        conn.exec_driver_sql(("ANALYZE" if tables == "" else "VACUUM ANALYZE") + tables)
    return counts


FLOOR = """
WITH c AS NOT MATERIALIZED (SELECT id, org, workflow, state, status, {kind} AS sk,
    {value} AS sv, status IN ('completed', 'cancelled') AND updated_at < :until AS closed
  FROM cf_cases WHERE created_at >= :since AND created_at < :until),
k AS NOT MATERIALIZED (SELECT c.org, {clock} AS clock, k.breached_at < :until AS breached,
    k.phase = 'stopped' AND k.stopped_at < :until AS stopped, {days_v} AS v, {days_w} AS w,
    k.breached_at IS NULL AND k.stopped_at <= k.due_at AS in_time
  FROM cf_clocks k JOIN c ON c.id = k.case_id),
a AS (SELECT org, workflow, state, status, closed, count(*) AS n,
    sum({number}) FILTER (WHERE sk IN ('number', 'integer', 'real')) AS score,
    count(*) FILTER (WHERE sk IN ('number', 'integer', 'real')) AS scores,
    count(*) FILTER (WHERE sk IN ('string', 'text') AND sv = 'satisfied') AS yes,
    count(*) FILTER (WHERE sk IN ('string', 'text')) AS texts
  FROM c GROUP BY org, workflow, state, status, closed),
b AS (SELECT org, clock, count(*) FILTER (WHERE stopped OR breached) AS finished,
    count(*) FILTER (WHERE stopped AND in_time) AS on_time FROM k GROUP BY org, clock),
{medians},
e AS (SELECT c.org, {level} AS level, {from_org} AS from_org, {to_org} AS to_org, count(*) AS n
  FROM cf_history h JOIN c ON c.id = h.case_id
  WHERE h.kind = 'clock' AND h.at < :until AND {action} = 'escalated'
  GROUP BY c.org, {level}, {from_org}, {to_org})
SELECT (SELECT {agg}({row}(org, state, status, closed, n, score, scores, yes, texts)) FROM a),
  (SELECT {agg}({row}(org, clock, finished, on_time)) FROM b),
  (SELECT {agg}({row}(org, clock, med, med_limit)) FROM m),
  (SELECT {agg}({row}(clock, med, med_limit)) FROM t),
  (SELECT {agg}({row}(org, level, from_org, to_org, n)) FROM e)
"""
PG_MEDIANS = """m AS (SELECT org, clock, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS med,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY w) AS med_limit
  FROM k WHERE stopped GROUP BY org, clock),
t AS (SELECT clock, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS med,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY w) AS med_limit
  FROM k WHERE stopped GROUP BY clock)"""
SQLITE_MEDIANS = """r AS (SELECT org, clock, v, w, count(*) OVER (PARTITION BY org, clock) AS n,
    row_number() OVER (PARTITION BY org, clock ORDER BY v) AS rv,
    row_number() OVER (PARTITION BY org, clock ORDER BY w) AS rw,
    count(*) OVER (PARTITION BY clock) AS tn,
    row_number() OVER (PARTITION BY clock ORDER BY v) AS tv,
    row_number() OVER (PARTITION BY clock ORDER BY w) AS tw
  FROM k WHERE stopped),
m AS (SELECT org, clock, avg(v) FILTER (WHERE rv BETWEEN (n + 1) / 2 AND (n + 2) / 2) AS med,
    avg(w) FILTER (WHERE rw BETWEEN (n + 1) / 2 AND (n + 2) / 2) AS med_limit
  FROM r GROUP BY org, clock),
t AS (SELECT clock, avg(v) FILTER (WHERE tv BETWEEN (tn + 1) / 2 AND (tn + 2) / 2) AS med,
    avg(w) FILTER (WHERE tw BETWEEN (tn + 1) / 2 AND (tn + 2) / 2) AS med_limit
  FROM r GROUP BY clock)"""
# what differs between the dialects (SQLite >= 3.38 reads data ->> 'key' as PostgreSQL does)
PG_PARTS = {"kind": "jsonb_typeof(data -> 'satisfaction')", "number": "sv::float"}
PG_PARTS.update(clock="split_part(k.name, '@', 1)", level="(h.details ->> 'level')::int")
PG_PARTS.update(days_v="extract(epoch FROM k.stopped_at - k.started_at) / 86400")
PG_PARTS.update(days_w="extract(epoch FROM k.due_at - k.started_at) / 86400")
PG_PARTS.update(medians=PG_MEDIANS, agg="json_agg", row="json_build_array")
SQLITE_PARTS = {"kind": "json_type(data, '$.satisfaction')", "number": "sv"}
SQLITE_PARTS["clock"] = "iif(instr(k.name, '@'), substr(k.name, 1, instr(k.name, '@') - 1), k.name)"
SQLITE_PARTS.update(days_v="julianday(k.stopped_at) - julianday(k.started_at)")
SQLITE_PARTS.update(days_w="julianday(k.due_at) - julianday(k.started_at)")
SQLITE_PARTS.update(medians=SQLITE_MEDIANS, agg="json_group_array", row="json_array")
SQLITE_PARTS.update(level="h.details ->> 'level'")
COMMON = {"value": "data ->> 'satisfaction'", "action": "h.details ->> 'action'"}
COMMON.update(from_org="h.details ->> 'from_org'", to_org="h.details ->> 'to_org'")
SQL = {
    "postgres": FLOOR.format(**PG_PARTS, **COMMON),
    "sqlite": FLOOR.format(**SQLITE_PARTS, **COMMON),
}


def run_floor(db: sa.Engine, sql: str) -> list[Any]:
    """The floor: one statement; five JSON arrays of aggregated rows."""
    when = [sa.bindparam(k, v, type_=UTCDateTime) for k, v in (("since", START), ("until", END))]
    with db.connect() as conn:
        row = conn.execute(sa.text(sql).bindparams(*when)).one()
    return [json.loads(x) if isinstance(x, str) else (x or []) for x in row]


def check(found: Any, parts: list[Any], counts: dict[str, int]) -> None:
    """The report's by-org figures equal the floor's, and the generator's counts."""
    assert found.total.closed_in("resolved_on_call") == counts["resolved_on_call"]
    assert found.total.closed_in("closed") == counts["closed"]
    units: dict[str, dict[str, Any]] = defaultdict(lambda: {"opened": 0, "closed": Counter()})
    scores: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    for org, state, status, closed, n, score, numbers, yes, texts in parts[0]:
        units[org]["opened"] += n
        if closed:
            units[org]["closed"][state if status == "completed" else "(cancelled)"] += n
            more = (score or 0, numbers, yes, texts)
            scores[org] = [a + b for a, b in zip(scores[org], more, strict=True)]
    for org, _clock, finished, on_time in parts[1]:
        units[org]["clocks"] = (finished, on_time)
    for org, level, from_org, to_org, n in parts[4]:
        units[org].setdefault("levels", Counter())[level] += n
        units[org].setdefault("moves", Counter())[from_org, to_org] += n if from_org else 0
    medians = {org: (med, limit) for org, _clock, med, limit in parts[2]}
    assert {r.key for r in found.rows} == set(units), "units differ"
    for row in found.rows:
        closed = Counter({s.state: s.count for s in row.final_states})
        mine = {"opened": row.opened, "closed": closed + Counter({"(cancelled)": row.cancelled})}
        if row.clocks:
            mine["clocks"] = (row.finished_clocks, row.on_time)
        if row.escalations:
            mine["levels"] = Counter({e.level: e.count for e in row.escalations})
            mine["moves"] = Counter({(m.from_org, m.to_org): m.count for m in row.org_moves})
        assert mine == units[row.key], f"{row.key}: report {mine} != floor {units[row.key]}"
        total, numbers, yes, texts = scores[row.key]
        share = round((row.satisfied_share or 0) * row.satisfaction_texts)
        assert (row.satisfaction_n, share, row.satisfaction_texts) == (numbers, yes, texts)
        assert close((row.satisfaction_mean,), (total / numbers if numbers else None,))
        figures = row.clock("handling")
        median = (figures.median_days, figures.median_limit_days) if figures else (None, None)
        assert close(median, medians.get(row.key, (None, None))), (row.key, median)
    total_figures = found.total.clock("handling")
    both = (total_figures.median_days, total_figures.median_limit_days)
    assert close(both, tuple(parts[3][0][1:]))
    print(f"  check: report == floor in all {len(found.rows)} units and the total medians")


def close(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    pairs = zip(a, b, strict=True)
    return all(x is y is None or math.isclose(x, y, abs_tol=1e-6) for x, y in pairs)


def timed(variants: dict[str, Any], repeat: int) -> dict[str, tuple[float, float, Any]]:
    """Median and best seconds of each variant, in interleaved rounds after a warm-up one."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    results = {}
    for _ in range(repeat + 1):
        for name, fn in variants.items():
            t = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - t)
    return {k: (statistics.median(v[1:]), min(v[1:]), results[k]) for k, v in times.items()}


@contextlib.contextmanager
def database(kind: str) -> Any:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="caseflow-bench-report-")
        yield f"sqlite:///{folder}/cases.db"
        shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"cfbr_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def run(kind: str, n: int, repeat: int) -> None:
    print(f"\n== {kind}: {n:,} cases")
    with database(kind) as url, tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bench_hotline.yaml").write_text(WORKFLOW, encoding="utf-8")
        clock = MovableClock(START)
        engine = Engine(url, workflows=folder, clock=clock, notifier=QUIET, auto_upgrade=True)
        engine.load_orgs(TREE)
        sim = Sim(engine)
        shape_check(engine, clock, sim)
        t = time.perf_counter()
        counts = seed(engine, sim, n, random.Random(20260601))
        print(f"  generated and inserted in {time.perf_counter() - t:.1f} s: {counts}")
        floor_title = "floor: one hand-written statement"
        variants: dict[str, Any] = {floor_title: lambda: run_floor(engine.db, SQL[kind])}
        for title, options in BY.items():
            run_report = lambda o=options: report(engine, since=START, until=END, **o)  # noqa: E731
            variants[f"report() {title}"] = run_report
        timings = timed(variants, repeat)
        found = timings["report() by org (132 units)"][2]
        check(found, timings[floor_title][2], counts)
        t, floor = found.total, timings[floor_title][0]
        on_call, departments = t.closed_in("resolved_on_call"), t.closed_in("closed")
        print(
            f"  total: {t.opened:,} opened, {t.closed:,} closed, of which {on_call:,} on the call,"
        )
        print(f"    {departments:,} by departments; {t.finished_clocks:,} clocks finished,")
        print(f"    {t.on_time_rate:.1%} on time; {t.escalated:,} escalations")
        print(f"  {'':44s} median      best   median/floor")
        for title, (median, best, _found) in timings.items():
            ms = f"{median * 1000:6.0f} ms {best * 1000:6.0f} ms"
            print(f"  {title:44s} {ms}   {median / floor:5.2f}")
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs")
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        run(kind, args.cases, args.repeat)


if __name__ == "__main__":
    main()
