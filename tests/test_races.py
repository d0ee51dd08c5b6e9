"""
Races and faults on PostgreSQL (and SQLite where it applies): decisions made from other
rows see them under the case's version, the sweep isolates each timer, retries with one
key get the first result.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from caseflow import Actor, ConcurrencyConflict, Engine
from caseflow.abc import ActionHandler
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
ORGS = ROOT / "workflows" / "orgs" / "jiaoling.yaml"
CLERK = Actor("clerk-7", {"window_clerk"}, "hainan/haikou/longhua")
J_CLERK = Actor("clerk-9", {"window_clerk"}, "jiaoling/sanzhen")  # on the loaded org tree
DATA = {"applicant": "张三", "matter": "食品经营许可"}
GRID = "jiaoling/sanzhen/jiuling/grid-1"
ZHUJIAN = "jiaoling/zhujian"
ZHIFA = "jiaoling/sanzhen/zhifa"
EVENT = {"category": "市政设施", "description": "路面塌陷", "location": "九岭村"}


def together(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at the same moment, one thread each; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def engines(pg_url: str):
    clock = MovableClock("2026-04-28T09:00")
    made = [
        Engine(pg_url, workflows=ROOT / "workflows", clock=clock, auto_upgrade=True)
        for _ in range(2)
    ]
    made[0].load_orgs(ORGS)
    for e in made[1:]:
        e.reload_orgs()
    yield made
    for e in made:
        e.close()


class TestJoins:
    def test_last_two_reports_at_once_still_meet_the_join(self, engines):
        """grid_event, join all: both departments report at the same moment, 40 times:
        every case moves on to the visit (none stays in handling with both items done)."""
        one, two = engines
        grid = Actor("g", {"grid_worker"}, GRID)
        centre = Actor("c", {"dispatcher"}, "jiaoling/sanzhen")
        a = Actor("zj", {"department"}, ZHUJIAN)
        b = Actor("zf", {"department"}, ZHIFA)
        for _ in range(40):
            case = one.start("grid_event", data=EVENT, actor=grid)
            one.fire(case.id, "dispatch", actor=centre, payload={"departments": [ZHUJIAN, ZHIFA]})
            results = together(
                lambda case=case: one.report_item(case.id, ZHUJIAN, actor=a),
                lambda case=case: two.report_item(case.id, ZHIFA, actor=b),
            )
            assert not [r for r in results if isinstance(r, Exception)], results
            assert "visiting" == one.get(case.id).state


VOTE = textwrap.dedent("""\
    workflow: race_vote
    version: 1
    calendar: cn
    roles: [proposer, clerk]
    data:
      type: object
      properties:
        representatives: {type: array, items: {type: string}}
    states:
      draft: {initial: true}
      voting:
        vote:
          electorate: {data: representatives}
          rule: {preset: representative_meeting}
          ballot: secret
          clerk_roles: [clerk]
          on_pass: adopt
          on_fail: reject
          on_no_quorum: reject
      adopted: {final: true}
      rejected: {final: true}
    events:
      submit: {from: draft, to: voting, roles: [proposer]}
      adopt: {from: voting, to: adopted, automatic: true}
      reject: {from: voting, to: rejected, automatic: true}
    """)


class TestVotes:
    def test_last_two_ballots_at_once_close_the_vote(self, pg_url: str, tmp_path: Path):
        """close_when_all_voted: the last two of three voters cast at once, 40 times: the
        vote closes every time with all three ballots counted."""
        (tmp_path / "v.yaml").write_text(VOTE, encoding="utf-8")
        proposer = Actor("p", {"proposer"}, "v")
        reps = ["r1", "r2", "r3"]
        with (
            Engine(pg_url, workflows=tmp_path, auto_upgrade=True) as one,
            Engine(pg_url, workflows=tmp_path) as two,
        ):
            for _ in range(40):
                case = one.start("race_vote", data={"representatives": reps}, actor=proposer)
                one.fire(case.id, "submit", actor=proposer)
                one.cast_ballot(case.id, "yes", actor=Actor("r1", {"rep"}))
                results = together(
                    lambda case=case: one.cast_ballot(case.id, "yes", actor=Actor("r2", {"rep"})),
                    lambda case=case: two.cast_ballot(case.id, "no", actor=Actor("r3", {"rep"})),
                )
                assert not [r for r in results if isinstance(r, Exception)], results
                view = one.vote(case.id)
                assert ("closed", 3) == (view.status, view.yes + view.no)
                assert "adopted" == one.get(case.id).state


class TestIdempotentRetries:
    def test_concurrent_retries_get_the_first_result(self, engines):
        """The same fire with the same key, twice at once, 100 times: both calls return the
        first result; one transition is recorded; no ConcurrencyConflict."""
        one, two = engines
        for n in range(100):
            case = one.start("administrative_approval", data=DATA, actor=J_CLERK)
            results = together(
                lambda case=case, n=n: one.fire(
                    case.id, "accept", actor=J_CLERK, idempotency_key=f"k{n}"
                ),
                lambda case=case, n=n: two.fire(
                    case.id, "accept", actor=J_CLERK, idempotency_key=f"k{n}"
                ),
            )
            assert not [r for r in results if isinstance(r, Exception)], results
            assert results[0] == results[1]
            assert 2 == one.get(case.id).version

    def test_concurrent_starts_with_one_key_start_one_case(self, engines):
        """Two starts with one key at once: one case, both get it."""
        one, two = engines
        for n in range(30):
            results = together(
                lambda n=n: one.start("administrative_approval", data=DATA, actor=J_CLERK,
                                      idempotency_key=f"s{n}"),
                lambda n=n: two.start("administrative_approval", data=DATA, actor=J_CLERK,
                                      idempotency_key=f"s{n}"),
            )  # fmt: skip
            assert not [r for r in results if isinstance(r, Exception)], results
            assert results[0] == results[1]
        with one.db.connect() as conn:
            assert 30 == conn.execute(sa.text("select count(*) from cf_cases")).scalar_one()


class Poisoned(ActionHandler):
    """An action that fails with a NUL byte in its error text (PostgreSQL rejects NUL)."""

    def __init__(self) -> None:
        self.calls = 0

    def run(self, *, case_id, data, params, idempotency_key):
        self.calls += 1
        raise RuntimeError("bad\x00byte from the gateway")


NOTICE = textwrap.dedent("""\
    workflow: notice_test
    version: 1
    roles: [clerk]
    actions:
      notify_applicant: {retries: 0, backoff_seconds: 0}
    states:
      open: {initial: true}
      notified:
        on_enter: [notify_applicant]
      closed: {final: true}
    events:
      notify: {from: open, to: notified, roles: [clerk]}
      close: {from: notified, to: closed, roles: [clerk]}
    """)


class TestPoisonedTimers:
    def test_one_poisoned_effect_does_not_stop_the_others(self, db_url: str, tmp_path: Path):
        """An action failing with a NUL byte in its error, in the same sweep as 20 overdue
        approvals: every approval is deemed accepted, the action becomes an incident."""
        (tmp_path / "n.yaml").write_text(NOTICE, encoding="utf-8")
        poisoned = Poisoned()
        clock = MovableClock("2026-09-21T09:00")
        with Engine(
            db_url,
            workflows=[tmp_path / "n.yaml", ROOT / "workflows" / "administrative_approval.yaml"],
            clock=clock,
            actions={"notify_applicant": poisoned},
            auto_upgrade=True,
        ) as engine:
            clerk = Actor("c", {"clerk"})
            bad = engine.start("notice_test", actor=clerk)
            engine.fire(bad.id, "notify", actor=clerk)
            approvals = [
                engine.start("administrative_approval", data=DATA, actor=CLERK) for _ in range(20)
            ]
            clock.set("2026-10-15T09:00")
            report = engine.fire_due(batch=5)
            assert {"accepted"} == {engine.get(c.id).state for c in approvals}
            assert 20 == report.fired["breach"]
            [incident] = engine.incidents(case_id=bad.id)
            assert "\x00" not in incident.error
            assert "bad\\x00byte" in incident.error
            assert [bad.id] == engine.stuck()

    def test_a_breach_that_keeps_failing_becomes_an_incident(self, db_url: str):
        """A breach whose event cannot be applied fails five times, with backoff; then the
        case is stuck with an incident, nothing is dropped silently, the rest goes on."""
        clock = MovableClock("2026-09-21T09:00")
        with Engine(db_url, clock=clock, auto_upgrade=True) as engine:
            case = engine.start("administrative_approval", data=DATA, actor=CLERK)
            other = engine.start("administrative_approval", data=DATA, actor=CLERK)
            with engine.db.begin() as conn:  # a bad upgrade: the event's target is gone
                conn.execute(
                    sa.text("update cf_clocks set pauses = '\"xx\"' where case_id = :id"),
                    {"id": case.id},
                )
            clock.set("2026-10-15T09:00")
            failed = 0
            for _ in range(6):
                report = engine.fire_due(backoff=dt.timedelta(0))
                failed += report.failed
                clock.advance(minutes=1)
            assert "accepted" == engine.get(other.id).state
            assert "submitted" == engine.get(case.id).state
            assert 1 == failed
            [incident] = engine.incidents(case_id=case.id)
            assert ("timer:breach:correction_window", 5) == (incident.action, incident.attempts)
            assert [case.id] == engine.stuck()


class TestLeases:
    def test_an_expired_lease_is_not_a_failed_attempt(self, db_url: str):
        """A worker claims the breach and dies: after its lease the timer fires, attempts 0."""
        clock = MovableClock("2026-09-21T09:00")
        with Engine(db_url, clock=clock, auto_upgrade=True) as engine:
            case = engine.start("administrative_approval", data=DATA, actor=CLERK)
            clock.set("2026-10-15T09:00")
            for _ in range(7):  # seven workers claim it and die before doing anything
                dead = engine.sweeper(lease=dt.timedelta(seconds=30))
                with engine.db.begin() as conn:
                    from caseflow.store import timers

                    claimed = timers.claim_due(conn, dead.worker, clock.now(), dead.lease, 10)
                assert [("breach", 0)] == [(t.kind, t.attempts) for t in claimed]
                clock.advance(seconds=31)
            assert 1 == engine.fire_due().fired["breach"]
            assert "accepted" == engine.get(case.id).state
            assert [] == engine.incidents(case_id=case.id)


class Saboteur:
    """
    A notifier that sends (records the key), and on its first call makes the database
    refuse the acknowledgement that follows, for real: ``sabotage(timer id)`` runs on a
    connection of its own.
    """

    def __init__(self, sabotage: Callable[[int], None]) -> None:
        self.sabotage = sabotage
        self.keys: list[str] = []

    def notify(
        self,
        *,
        case_id: str,
        roles: tuple[str, ...],
        org: str,
        message: str,
        idempotency_key: str = "",
    ) -> None:
        if not self.keys:
            self.sabotage(int(idempotency_key.removeprefix("notify:")))
        self.keys.append(idempotency_key)


def refuse_ack_trigger(url: str) -> Callable[[int], None]:
    """A trigger that makes the UPDATE finishing this one timer fail."""

    def sabotage(timer_id: int) -> None:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(
                    "CREATE TRIGGER refuse_ack BEFORE UPDATE ON cf_timers "
                    f"WHEN OLD.id = {timer_id} AND NEW.status = 'done' "
                    "BEGIN SELECT RAISE(ABORT, 'ack refused'); END"
                )
            else:
                conn.exec_driver_sql(
                    "CREATE FUNCTION refuse_ack() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'ack refused'; END $$"
                )
                conn.exec_driver_sql(
                    "CREATE TRIGGER refuse_ack BEFORE UPDATE ON cf_timers FOR EACH ROW "
                    f"WHEN (OLD.id = {timer_id} AND NEW.status = 'done') "
                    "EXECUTE FUNCTION refuse_ack()"
                )
        engine.dispose()

    return sabotage


def terminate_backends(url: str, application_name: str) -> Callable[[int], None]:
    """pg_terminate_backend on every connection of the sweeping engine, from another one."""

    def sabotage(_timer_id: int) -> None:
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        mine = "select pid from pg_stat_activity where application_name = :app"
        with engine.connect() as conn:
            pids = conn.execute(sa.text(mine), {"app": application_name}).scalars().all()
            assert pids, "the sweeping engine has no connection to kill"
            for pid in pids:
                conn.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + 10
            while conn.execute(sa.text(mine), {"app": application_name}).first() is not None:
                assert time.monotonic() < deadline, "the backends did not go away"
                time.sleep(0.02)
        engine.dispose()

    return sabotage


def warned_cases(engine: Engine, clock: MovableClock, cases: int) -> None:
    """Accepted cases whose decision warning (and its notification) is due together."""
    clock.set("2026-09-28T10:00")
    for _ in range(cases):
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        engine.fire(case.id, "accept", actor=CLERK)
    clock.set("2026-10-28T00:00")
    assert (
        4 == engine.sweeper().run_once(max_batches=1).fired["warn"]
    )  # arms 4 notifications, due now


def assert_rest_of_batch_acknowledged(
    engine: Engine, clock: MovableClock, notifier: Saboteur
) -> None:
    lease = dt.timedelta(seconds=30)
    report = engine.fire_due(lease=lease)  # one batch: the 4 notifications
    assert 4 == len(notifier.keys) == len(set(notifier.keys))
    assert (3, 1) == (report.fired["notify"], report.errors)  # the sweep went on
    lost = int(notifier.keys[0].removeprefix("notify:"))
    [left] = engine.timers(due_only=True)
    assert (lost, "notify", 0) == (left.id, left.kind, left.attempts)  # not the notifier's fault
    clock.advance(seconds=10)
    assert 0 == engine.fire_due(lease=lease).total  # still leased: no second send yet


class Hider(ActionHandler):
    """Runs (records the key); on its first call renames ``cf_cases`` away, for real, on a
    connection of its own: the sweep can no longer read the cases of the next actions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keys: list[str] = []

    def run(self, *, case_id, data, params, idempotency_key):
        if not self.keys:
            rename(self.url, "cf_cases", "cf_cases_away")
        self.keys.append(idempotency_key)


def rename(url: str, table: str, to: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {to}")
    engine.dispose()


class TestAcknowledgements:
    """A notification is sent, then its acknowledgement fails: that one is sent again
    after its lease, with the same key; the rest of the batch is handled in the sweep."""

    def test_a_refused_ack_does_not_strand_the_batch(self, db_url: str):
        clock = MovableClock("2026-09-21T09:00")
        notifier = Saboteur(refuse_ack_trigger(db_url))
        with Engine(db_url, clock=clock, notifier=notifier, auto_upgrade=True) as engine:
            warned_cases(engine, clock, 4)
            assert_rest_of_batch_acknowledged(engine, clock, notifier)
            with engine.db.begin() as conn:
                conn.exec_driver_sql(
                    "DROP TRIGGER refuse_ack"
                    + (" ON cf_timers" if conn.dialect.name == "postgresql" else "")
                )
            clock.advance(seconds=21)  # the lease ran out
            assert 1 == engine.fire_due().fired["notify"]
            assert [notifier.keys[0]] == notifier.keys[4:]  # at least once, one key
            assert [] == engine.timers(due_only=True)

    def test_an_unreadable_case_does_not_strand_the_actions_after_it(
        self, db_url: str, tmp_path: Path
    ):
        """The first action hides the cases table: the next two cannot be read, each is a
        failed attempt (not an error of the sweep); all three run again, with their keys."""
        (tmp_path / "n.yaml").write_text(NOTICE, encoding="utf-8")
        handler = Hider(db_url)
        clock = MovableClock("2026-09-21T09:00")
        with Engine(
            db_url,
            workflows=tmp_path / "n.yaml",
            clock=clock,
            actions={"notify_applicant": handler},
            auto_upgrade=True,
        ) as engine:
            clerk = Actor("c", {"clerk"})
            for _ in range(3):
                engine.fire(engine.start("notice_test", actor=clerk).id, "notify", actor=clerk)
            lease, backoff = dt.timedelta(seconds=30), dt.timedelta(seconds=10)
            report = engine.fire_due(lease=lease, backoff=backoff)
            assert (1, 2) == (len(handler.keys), report.errors)
            rename(db_url, "cf_cases_away", "cf_cases")
            assert [0, 1, 1] == sorted(t.attempts for t in engine.timers())
            clock.advance(seconds=31)  # past the backoff and the first one's lease
            assert 3 == engine.fire_due(lease=lease, backoff=backoff).fired["action"]
            assert [handler.keys[0]] == [k for k in handler.keys[1:] if k == handler.keys[0]]
            assert 3 == len(set(handler.keys))
            assert [] == engine.timers()

    def test_a_killed_connection_does_not_strand_the_batch(self, pg_url: str):
        app = f"cf-ack-{uuid.uuid4().hex[:8]}"
        url = f"{pg_url}&application_name={app}"
        clock = MovableClock("2026-09-21T09:00")
        notifier = Saboteur(terminate_backends(pg_url, app))
        with Engine(url, clock=clock, notifier=notifier, auto_upgrade=True) as engine:
            warned_cases(engine, clock, 4)
            assert_rest_of_batch_acknowledged(engine, clock, notifier)
            clock.advance(seconds=21)  # the lease ran out
            assert 1 == engine.fire_due().fired["notify"]
            assert [notifier.keys[0]] == notifier.keys[4:]  # at least once, one key
            assert [] == engine.timers(due_only=True)


class TestConflicts:
    def test_expected_version_is_still_the_callers(self, engines):
        """A pinned version that lost the race is refused, not re-decided."""
        one, two = engines
        case = one.start("administrative_approval", data=DATA, actor=J_CLERK)
        one.fire(case.id, "accept", actor=J_CLERK)
        with pytest.raises(ConcurrencyConflict):
            two.fire(case.id, "refuse", actor=J_CLERK, expected_version=1)
