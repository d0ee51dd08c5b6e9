#!/usr/bin/env python
"""
caseflow (the shipped administrative_approval, with its clocks) vs. SpiffWorkflow 3.2.

Run by hand (this is not a test), from the repository root, after
``pip install -e '.[bench]'``::

    .venv/bin/python bench/bench_spiff.py                 # SQLite
    .venv/bin/python bench/bench_spiff.py --db both --steps 4000

The same four steps on each side, each its own transaction that reloads the case:
start, ``accept`` (window_clerk), ``start_review`` (reviewer), ``decide`` with
``{"decision": "approve"}`` (agency_head).

* **caseflow**: as in ``bench_engine.py``'s ``clocks`` variant (the workflow as shipped:
  JSON Schema checks, three legal clocks, their timers and history lines).
* **SpiffWorkflow**: ``bench/spiff/administrative_approval.bpmn`` (three user tasks in one
  lane per role, an exclusive gateway on ``decision``), parsed once. Start: a
  ``BpmnWorkflow`` with the start data, run to its first user task, serialised with
  ``BpmnWorkflowSerializer`` (the spiff configuration, the workflow's default JSON: spec
  included) into ``spiff_cases`` with one ``spiff_history`` row (a copy of
  ``cf_history``). Each event: select the row, deserialise, check that the ready user
  task is the event and the actor holds its lane's role, add the payload to the task
  data, run it and the engine steps after it, serialise, ``UPDATE ... WHERE id=? AND
  row_version=?``, insert one history row, commit. It has no clocks and validates no
  data: it does less than caseflow.
* **floor**: ``bench_engine.py``'s plain SQLAlchemy Core floor, for scale.

Each side in its own SQLite file in one temporary directory (WAL, ``synchronous=NORMAL``,
``BEGIN IMMEDIATE``, from ``caseflow.store.db.connect``), as in ``bench_engine.py``, or all
in one fresh PostgreSQL schema; interleaved round by round (the order rotating), then an
untimed pass counting statements and round trips.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_engine as be
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    text,
    update,
)

from caseflow.engine import Engine
from caseflow.store import tables as cf_tables
from caseflow.store.db import connect

BPMN = Path(__file__).resolve().parent / "spiff" / "administrative_approval.bpmn"
SPIFF_MD = MetaData()
S_CASES = Table(
    "spiff_cases",
    SPIFF_MD,
    Column("id", String(64), primary_key=True),
    Column("workflow", String(100), nullable=False),
    Column("state", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("org", String(250), nullable=False),
    Column("serialized", Text, nullable=False),
    Column("row_version", Integer, nullable=False),
    Column("created_at", cf_tables.UTCDateTime(), nullable=False),
    Column("updated_at", cf_tables.UTCDateTime(), nullable=False),
)
S_HISTORY = be.clone_table(
    cf_tables.history, SPIFF_MD, "spiff_history", {cf_tables.cases.name: "spiff_cases"}
)
_SELECT = select(S_CASES.c.state, S_CASES.c.serialized, S_CASES.c.row_version, S_CASES.c.org).where(
    S_CASES.c.id == bindparam("p_id")
)
_UPDATE = update(S_CASES).where(
    S_CASES.c.id == bindparam("p_id"), S_CASES.c.row_version == bindparam("p_rv")
)
_INSERT_CASE = insert(S_CASES)
_INSERT_HISTORY = insert(S_HISTORY)


class Spiff:
    """The approval in SpiffWorkflow, serialised to the database at every step."""

    def __init__(self, url: str) -> None:
        self.db = connect(url)
        SPIFF_MD.create_all(self.db)
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec(be.WORKFLOW)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def close(self) -> None:
        self.db.dispose()

    @staticmethod
    def _state(workflow: BpmnWorkflow) -> str:
        if workflow.is_completed():
            return "approved" if workflow.data.get("decision") == "approve" else "rejected"
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        return task.task_spec.name if task is not None else "?"

    def start(self, data: dict[str, Any], actor: be.Actor) -> str:
        now = dt.datetime.now(dt.UTC)
        case_id = f"{time.time_ns() // 1000:013x}{secrets.token_hex(8)}"
        workflow = BpmnWorkflow(self.spec)
        workflow.get_next_task(state=TaskState.READY).data.update(data)
        workflow.do_engine_steps()
        state = self._state(workflow)
        with self.db.begin() as conn:
            conn.execute(
                _INSERT_CASE,
                {
                    "id": case_id,
                    "workflow": be.WORKFLOW,
                    "state": state,
                    "status": "active",
                    "org": actor.org,
                    "serialized": self.serializer.serialize_json(workflow),
                    "row_version": 1,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            conn.execute(_INSERT_HISTORY, self._line(case_id, 1, now, None, None, state, actor))
        return case_id

    @staticmethod
    def _line(
        case_id: str,
        seq: int,
        now: dt.datetime,
        event: str | None,
        from_state: str | None,
        to_state: str,
        actor: be.Actor,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "seq": seq,
            "at": now,
            "kind": "transition" if event else "start",
            "event": event,
            "from_state": from_state,
            "to_state": to_state,
            "actor_id": actor.id,
            "actor_roles": sorted(actor.roles),
            "actor_org": actor.org,
            "details": details or {},
        }

    def fire(
        self, case_id: str, event: str, actor: be.Actor, payload: dict[str, Any] | None
    ) -> str:
        now = dt.datetime.now(dt.UTC)
        with self.db.begin() as conn:
            row = conn.execute(_SELECT, {"p_id": case_id}).first()
            if row is None:
                raise LookupError(case_id)
            workflow = self.serializer.deserialize_json(row[1])
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            if task is None or task.task_spec.name != event:
                raise RuntimeError(f"{event!r} is not ready in {case_id}")
            if task.task_spec.lane not in actor.roles:
                raise PermissionError(f"{actor.id} is not in lane {task.task_spec.lane}")
            if payload:
                task.data.update(payload)
            task.run()
            workflow.do_engine_steps()
            state = self._state(workflow)
            version = row[2]
            result = conn.execute(
                _UPDATE,
                {
                    "p_id": case_id,
                    "p_rv": version,
                    "state": state,
                    "status": "completed" if workflow.is_completed() else "active",
                    "serialized": self.serializer.serialize_json(workflow),
                    "row_version": version + 1,
                    "updated_at": now,
                },
            )
            if result.rowcount != 1:
                raise RuntimeError(f"row version conflict on {case_id}")
            details = {"payload": payload} if payload else {}
            line = self._line(case_id, version + 1, now, event, row[0], state, actor, details)
            conn.execute(_INSERT_HISTORY, line)
        return state


def spiff_side(spiff: Spiff) -> be.Side:
    return be.Side("SpiffWorkflow", lambda: spiff.start(be.START_DATA, be.APPLICANT), spiff.fire)


def check(engine: Engine, spiff: Spiff) -> None:
    with engine.db.connect() as conn:
        cf = conn.execute(text("SELECT count(*) FROM cf_cases WHERE state='approved'")).scalar()
    with spiff.db.connect() as conn:
        sp = conn.execute(
            text("SELECT count(*) FROM spiff_cases WHERE state='approved' AND row_version=4")
        ).scalar()
        lines = conn.execute(text("SELECT count(*) FROM spiff_history")).scalar()
    assert cf == sp and lines == 4 * sp, (cf, sp, lines)


def run(db: str, urls: list[str], tmp: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = Engine(urls[0], auto_upgrade=True, workflows=be.workflow_source("clocks", tmp))
    spiff = Spiff(urls[1])
    floor = be.Floor(urls[2])
    try:
        sides = [be.caseflow_side(engine), spiff_side(spiff), be.floor_side(floor)]
        load0 = os.getloadavg()[0]
        steps = args.steps if db == "SQLite" else args.steps // 2
        be.measure(*sides, cases=steps // 4, rounds=args.rounds, warmup=args.warmup)
        load1 = os.getloadavg()[0]
        check(engine, spiff)
        traffic = [
            be.count_traffic(side, sa)
            for side, sa in zip(sides, (engine.db, spiff.db, floor.db), strict=True)
        ]
        with spiff.db.connect() as conn:
            size = conn.execute(text("SELECT avg(length(serialized)) FROM spiff_cases")).scalar()
    finally:
        engine.close()
        spiff.close()
        floor.close()
    return {"db": db, "sides": sides, "traffic": traffic, "load": (load0, load1), "size": size}


def report(out: dict[str, Any]) -> None:
    sides, traffic = out["sides"], out["traffic"]
    st = [be.side_stats(s) for s in sides]
    cf = st[0]
    print(
        f"\n== {out['db']}: caseflow (with clocks) vs SpiffWorkflow, {cf['steps']} timed steps "
        f"per side; load average {out['load'][0]:.2f} -> {out['load'][1]:.2f}; Spiff's "
        f"serialised workflow: {out['size']:.0f} characters =="
    )
    head = "| side | steps/s | median µs/step | " + " | ".join(be.KINDS)
    head += " | CPU µs/step | median CPU µs/step | statements/step | round trips/step"
    head += " | vs caseflow (median) | vs caseflow (median CPU) | vs floor (median) |"
    print(head)
    print("|---" * 14 + "|")
    for side, s, t in zip(sides, st, traffic, strict=True):
        print(
            f"| {side.name} | {s['steps_per_s']:.0f} | {s['median_us']:.0f} | "
            + " | ".join(f"{s['med_' + k]:.0f}" for k in be.KINDS)
            + f" | {s['cpu_us']:.0f} | {s['cpu_median_us']:.0f} | {t.per_step(t.statements):.2f}"
            f" | {t.per_step(t.trips):.2f} | {s['median_us'] / cf['median_us']:.2f}× | "
            f"{s['cpu_median_us'] / cf['cpu_median_us']:.2f}× | "
            f"{s['median_us'] / st[2]['median_us']:.2f}× |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=4000, help="timed steps per side (SQLite)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    args = parser.parse_args(argv)
    for line in be.machine_info(args.db != "sqlite"):
        print(line)
    print(f"SpiffWorkflow {be.version_of('SpiffWorkflow')}, lxml {be.version_of('lxml')}")
    tmp = tempfile.mkdtemp(prefix="caseflow-spiff-")
    try:
        if args.db in ("sqlite", "both"):
            urls = [f"sqlite:///{tmp}/{name}.db" for name in ("caseflow", "spiff", "floor")]
            report(run("SQLite", urls, tmp, args))
        if args.db in ("postgres", "both"):
            with be.pg_schema() as url:
                report(run("PostgreSQL", [url] * 3, tmp, args))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
