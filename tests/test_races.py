"""
Races and faults on PostgreSQL (and SQLite where it applies): decisions made from other
rows see them under the case's version, the sweep isolates each timer, retries with one
key get the first result.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import threading
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


class TestConflicts:
    def test_expected_version_is_still_the_callers(self, engines):
        """A pinned version that lost the race is refused, not re-decided."""
        one, two = engines
        case = one.start("administrative_approval", data=DATA, actor=J_CLERK)
        one.fire(case.id, "accept", actor=J_CLERK)
        with pytest.raises(ConcurrencyConflict):
            two.fire(case.id, "refuse", actor=J_CLERK, expected_version=1)
