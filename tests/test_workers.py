"""Several `caseflow worker` processes on PostgreSQL: every timer fires once, even after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from caseflow import Actor, Engine
from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
CLERK = Actor("c", {"window_clerk"}, "hainan/haikou/longhua")
DATA = {"applicant": "a", "matter": "m"}
pytestmark = pytest.mark.slow


def seed(url: str, cases: int) -> None:
    """Accepted cases from March 2026: warn, breach and two escalation steps are all due now."""
    clock = MovableClock("2026-03-02T09:00")
    with Engine(url, workflows=ROOT / "workflows", clock=clock, auto_upgrade=True) as eng:
        for _ in range(cases):
            case = eng.start("administrative_approval", data=DATA, actor=CLERK)
            eng.fire(case.id, "accept", actor=CLERK)


def start_worker(url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "caseflow",
            "worker",
            "--db",
            url,
            "--workflows",
            str(ROOT / "workflows"),
            "--interval",
            "0.2",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def scalar(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def wait_until_done(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (
            scalar(
                url, "select count(*) from cf_timers where status = 'pending' and due_at <= now()"
            )
            == 0
        ):
            return
        time.sleep(0.3)
    pytest.fail("workers did not finish the due timers in time")


def assert_each_fired_once(url: str, cases: int) -> None:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select details->>'action', count(*) from cf_history where kind = 'clock' "
                "and details->>'clock' = 'decision' group by 1"
            )
        )
        per_action = {r[0]: r[1] for r in rows}
    engine.dispose()
    warned = per_action.pop("warned", 0)
    assert {"started": cases, "breached": cases, "escalated": 2 * cases} == per_action
    # Every warning timer was taken exactly once; a warning whose breach another worker
    # fired first is dropped (a yellow after the red is moot), never doubled.
    done = "select count(*) from cf_timers where kind = 'warn' and status = 'done'"
    assert cases == scalar(url, done)
    assert warned <= cases
    dupes = scalar(
        url,
        "select count(*) from (select case_id, details->>'clock', details->>'action', "
        "details->>'step' from cf_history where kind = 'clock' "
        "group by 1, 2, 3, 4 having count(*) > 1) d",
    )
    assert 0 == dupes
    assert 0 == scalar(
        url, "select count(*) from cf_timers where status = 'pending' and due_at <= now()"
    )


class TestWorkers:
    def test_four_workers_fire_every_timer_once(self, pg_url: str):
        """4 worker processes sweep 10,000+ due timers (clock timers and notifications) once each."""
        cases = 1700  # warn, breach, 2 escalations, 2 notices each (the late warnings tell nobody)
        seed(pg_url, cases)
        total = scalar(
            pg_url, "select count(*) from cf_timers where status = 'pending' and due_at <= now()"
        )
        assert 2 * cases == total  # warn + breach now; escalations and notifications follow
        workers = [start_worker(pg_url, "--batch", "100") for _ in range(4)]
        try:
            wait_until_done(pg_url, timeout=240)
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.wait(timeout=30)
        assert_each_fired_once(pg_url, cases)
        assert scalar(pg_url, "select count(*) from cf_timers where status = 'done'") >= 10000

    def test_killed_worker_loses_nothing(self, pg_url: str):
        """kill -9 mid-batch: after the lease expires another worker fires the rest, once."""
        cases = 300
        seed(pg_url, cases)
        first = start_worker(pg_url, "--batch", "400", "--lease", "3")
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = scalar(pg_url, "select count(*) from cf_timers where status = 'done'")
                claimed = scalar(
                    pg_url,
                    "select count(*) from cf_timers where status = 'pending' "
                    "and claimed_by is not null",
                )
                if done > 0 and claimed > 0:
                    break
                time.sleep(0.01)
            os.kill(first.pid, signal.SIGKILL)
        finally:
            first.wait(timeout=10)
        stranded = scalar(
            pg_url,
            "select count(*) from cf_timers where status = 'pending' "
            "and claimed_by is not null and lease_until > now()",
        )
        assert stranded > 0, "the worker was not killed mid-batch"
        second = start_worker(pg_url, "--batch", "400", "--lease", "3")
        try:
            wait_until_done(pg_url, timeout=120)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        assert_each_fired_once(pg_url, cases)
