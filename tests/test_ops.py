"""The operator API: suspend, resume, move, reassign, cancel; incidents, retry and skip."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from caseflow import Actor, InvalidEvent
from caseflow.abc import ActionHandler
from caseflow.store.tables import timers

if TYPE_CHECKING:
    from pathlib import Path

CLERK = Actor("clerk-1", {"window_clerk"}, "hainan/lingshui/yingzhou")
REVIEWER = Actor("rev-1", {"reviewer"}, "hainan/lingshui")
OPS = Actor("ops-1", {"operator"})
DATA = {"applicant": "张三", "matter": "食品经营许可"}

NOTICE = """\
workflow: notice_test
version: 1
roles: [clerk]
actions:
  notify_applicant: {retries: 2, backoff_seconds: 0}
states:
  open: {initial: true}
  notified:
    on_enter: [notify_applicant]
  closed: {final: true}
events:
  notify: {from: open, to: notified, roles: [clerk]}
  close: {from: notified, to: closed, roles: [clerk]}
"""


class Flaky(ActionHandler):
    """Fails while ``fail`` is set (an SMS gateway that is down); records every call."""

    def __init__(self) -> None:
        self.fail = True
        self.keys: list[str] = []

    def run(self, *, case_id, data, params, idempotency_key):
        self.keys.append(idempotency_key)
        if self.fail:
            raise ConnectionError("SMS gateway down")


def clocks_of(engine, case_id):
    return {c.name: (c.status, c.last_day) for c in engine.clocks(case_id)}


def operator_entries(engine, case_id):
    return [h for h in engine.history(case_id) if h.kind == "operator"]


def pending_clock_timers(engine, case_id):
    return sorted(
        (t.kind, t.clock)
        for t in engine.timers(limit=1000)
        if t.case_id == case_id and t.kind in ("warn", "breach", "escalate")
    )


@pytest.fixture
def approval(engine, clock):
    """An accepted approval case: its 20-workday decision clock runs from Mon 21 Sep 2026."""
    case = engine.start("administrative_approval", data=DATA, actor=CLERK)
    engine.fire(case.id, "accept", actor=CLERK)
    assert ("running", dt.date(2026, 10, 26)) == clocks_of(engine, case.id)["decision"]
    return case


class TestSuspendResume:
    def test_suspended_working_days_are_not_counted(self, engine, clock, approval):
        """Suspended Wed 23 to Tue 29 Sep: 23, 24 and 28 Sep are working days (25 is 中秋)."""
        clock.set("2026-09-23T10:00")
        suspended = engine.suspend(approval.id, actor=OPS, reason="applicant abroad")
        assert "suspended" == suspended.status
        assert ("paused", dt.date(2026, 10, 26)) == clocks_of(engine, approval.id)["decision"]
        assert [] == pending_clock_timers(engine, approval.id)
        clock.set("2026-09-29T10:00")
        resumed = engine.resume(approval.id, actor=OPS, reason="applicant back")
        assert "active" == resumed.status
        # 26 Oct + 3 working days (27, 28, 29 Oct)
        assert ("running", dt.date(2026, 10, 29)) == clocks_of(engine, approval.id)["decision"]
        assert [("breach", "decision"), ("warn", "decision")] == pending_clock_timers(
            engine, approval.id
        )

    def test_events_refused_while_suspended(self, engine, clock, approval):
        """A suspended case takes no events; after resume it does."""
        engine.suspend(approval.id, actor=OPS, reason="court order")
        with pytest.raises(InvalidEvent, match="suspended"):
            engine.fire(approval.id, "start_review", actor=REVIEWER)
        assert [] == engine.available_events(approval.id, actor=REVIEWER)
        with pytest.raises(InvalidEvent, match="only an active case"):
            engine.suspend(approval.id, actor=OPS, reason="twice")
        engine.resume(approval.id, actor=OPS, reason="order lifted")
        assert "under_review" == engine.fire(approval.id, "start_review", actor=REVIEWER).state

    def test_history_names_operator_and_reason(self, engine, clock, approval):
        """Each operator action writes one 'operator' entry: who, what, why."""
        engine.suspend(approval.id, actor=OPS, reason="applicant abroad")
        clock.advance(days=1)
        engine.resume(approval.id, actor=Actor("ops-2", {"operator"}), reason="back")
        entries = operator_entries(engine, approval.id)
        assert [("suspend", "ops-1", "applicant abroad"), ("resume", "ops-2", "back")] == [
            (e.event, e.actor_id, e.details["reason"]) for e in entries
        ]
        clock_notes = [h for h in engine.history(approval.id) if h.kind == "clock"]
        assert "paused (case suspended)" == clock_notes[-2].details["action"]
        assert "resumed (case resumed)" == clock_notes[-1].details["action"]

    def test_reason_is_required(self, engine, approval):
        """No reason, no action: nothing is written."""
        before = engine.get(approval.id)
        with pytest.raises(InvalidEvent, match="needs a reason"):
            engine.suspend(approval.id, actor=OPS, reason="  ")
        assert before == engine.get(approval.id)


class TestMove:
    def test_move_bypasses_guards_and_clocks_follow(self, engine, clock):
        """A fresh case moved to accepted: the correction window stops, the decision starts."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        assert "running" == clocks_of(engine, case.id)["correction_window"][0]
        moved = engine.move(case.id, "accepted", actor=OPS, reason="accepted on paper")
        assert ("accepted", "active", 2) == (moved.state, moved.status, moved.version)
        clocks = clocks_of(engine, case.id)
        assert "stopped" == clocks["correction_window"][0]
        assert ("running", dt.date(2026, 10, 26)) == clocks["decision"]
        assert [("breach", "decision"), ("warn", "decision")] == pending_clock_timers(
            engine, case.id
        )
        # decide needs a payload and a head; a move needs neither
        engine.move(case.id, "approved", actor=OPS, reason="decided on paper")
        clocks = clocks_of(engine, case.id)
        assert "stopped" == clocks["decision"][0]
        assert ("running", dt.date(2026, 10, 12)) == clocks["issuance"]
        note = operator_entries(engine, case.id)[-1]
        assert ("move", "accepted", "approved", "ops-1") == (
            note.event,
            note.from_state,
            note.to_state,
            note.actor_id,
        )
        assert {"reason": "decided on paper", "to": "approved"} == note.details

    def test_move_to_final_state_completes(self, engine, approval):
        """Into a final state: the case is completed and every clock stops."""
        done = engine.move(approval.id, "collected", actor=OPS, reason="collected in person")
        assert "completed" == done.status
        assert {"stopped"} == {s for s, _ in clocks_of(engine, approval.id).values()}
        assert [] == pending_clock_timers(engine, approval.id)

    def test_unknown_state_refused(self, engine, approval):
        """A state the workflow lacks is refused and nothing changes."""
        with pytest.raises(InvalidEvent, match="no state 'aproved'"):
            engine.move(approval.id, "aproved", actor=OPS, reason="typo")
        assert 2 == engine.get(approval.id).version

    def test_move_while_suspended_keeps_clocks_paused(self, engine, clock, approval):
        """A suspended case moved on stays suspended: its clocks do not start running."""
        clock.set("2026-09-23T10:00")
        engine.suspend(approval.id, actor=OPS, reason="court order")
        moved = engine.move(approval.id, "under_review", actor=OPS, reason="file moved")
        assert ("under_review", "suspended") == (moved.state, moved.status)
        assert "paused" == clocks_of(engine, approval.id)["decision"][0]
        assert [] == pending_clock_timers(engine, approval.id)
        clock.set("2026-09-29T10:00")
        engine.resume(approval.id, actor=OPS, reason="order lifted")
        assert ("running", dt.date(2026, 10, 29)) == clocks_of(engine, approval.id)["decision"]


class TestReassignCancel:
    def test_reassign_records_from_and_to(self, engine, approval):
        """Org unit and assignee change; the history has both sides."""
        case = engine.reassign(
            approval.id,
            actor=OPS,
            reason="wrong township",
            org="hainan/lingshui/benhao",
            assignee="rev-9",
        )
        assert ("hainan/lingshui/benhao", "rev-9") == (case.org, case.assignee)
        note = operator_entries(engine, approval.id)[-1]
        assert {
            "reason": "wrong township",
            "from_org": "hainan/lingshui/yingzhou",
            "to_org": "hainan/lingshui/benhao",
            "from_assignee": None,
            "to_assignee": "rev-9",
        } == note.details
        assert [approval.id] == [c.id for c in engine.cases(org="hainan/lingshui/benhao")]
        with pytest.raises(InvalidEvent, match="an org unit, a person"):
            engine.reassign(approval.id, actor=OPS, reason="nothing")

    def test_cancel_stops_clocks_and_timers(self, engine, approval):
        """A cancelled case: clocks stopped, no pending clock timers, no more events."""
        case = engine.cancel(approval.id, actor=OPS, reason="applicant withdrew by letter")
        assert "cancelled" == case.status
        assert {"stopped"} == {s for s, _ in clocks_of(engine, approval.id).values()}
        assert [] == pending_clock_timers(engine, approval.id)
        with pytest.raises(InvalidEvent):
            engine.fire(approval.id, "start_review", actor=REVIEWER)
        with pytest.raises(InvalidEvent, match="already cancelled"):
            engine.cancel(approval.id, actor=OPS, reason="again")
        with pytest.raises(InvalidEvent, match="cancelled"):
            engine.move(approval.id, "accepted", actor=OPS, reason="undo")
        note = operator_entries(engine, approval.id)[-1]
        assert ("cancel", "ops-1", "applicant withdrew by letter") == (
            note.event,
            note.actor_id,
            note.details["reason"],
        )


@pytest.fixture
def flaky() -> Flaky:
    return Flaky()


@pytest.fixture
def notices(make_engine, tmp_path: Path, flaky: Flaky):
    path = tmp_path / "notice.yaml"
    path.write_text(NOTICE)
    return make_engine(workflows=path, actions={"notify_applicant": flaky})


def action_timer(engine, case_id):
    with engine.db.connect() as conn:
        rows = conn.execute(
            sa.select(timers.c.id, timers.c.status, timers.c.attempts).where(
                timers.c.case_id == case_id, timers.c.kind == "action"
            )
        ).all()
    assert 1 == len(rows)
    return rows[0]


def attempts(engine, case_id):
    return [
        (h.details["status"], h.details.get("attempt"))
        for h in engine.history(case_id)
        if h.kind == "action"
    ]


def stuck_case(engine):
    clerk = Actor("c", {"clerk"})
    case = engine.start("notice_test", actor=clerk)
    engine.fire(case.id, "notify", actor=clerk)
    engine.fire_due()
    return case


class TestIncidents:
    def test_three_failures_open_an_incident_and_retry_resolves(self, notices, flaky):
        """retries: 2 -> three attempts, one idempotency key, then a stuck case; retry fixes."""
        case = stuck_case(notices)
        timer_id, status, _ = action_timer(notices, case.id)
        assert [f"{case.id}:{timer_id}"] * 3 == flaky.keys
        assert "failed" == status
        assert [case.id] == notices.stuck()
        [incident] = notices.incidents()
        assert (case.id, "notify_applicant", 3, "open") == (
            incident.case_id,
            incident.action,
            incident.attempts,
            incident.status,
        )
        assert "ConnectionError: SMS gateway down" == incident.error
        assert [("failed", 1), ("failed", 2), ("failed", 3), ("incident", None)] == attempts(
            notices, case.id
        )

        flaky.fail = False
        assert 1 == notices.retry(case.id, actor=OPS)
        assert [f"{case.id}:{timer_id}"] * 4 == flaky.keys  # the same key: the handler dedups
        assert [] == notices.stuck()
        assert ("done", 0) == action_timer(notices, case.id)[1:]  # attempts counts failures
        resolved = notices.incident(incident.id)
        assert ("retried", "ops-1") == (resolved.status, resolved.resolved_by)
        assert [
            ("failed", 1),
            ("failed", 2),
            ("failed", 3),
            ("incident", None),
            ("done", 1),
        ] == attempts(notices, case.id)
        retry = operator_entries(notices, case.id)[-1]
        assert ("retry", "ops-1", [incident.id]) == (
            retry.event,
            retry.actor_id,
            retry.details["incidents"],
        )
        assert 0 == notices.retry(case.id, actor=OPS)  # nothing left to retry

    def test_retry_that_fails_again_is_stuck_again(self, notices, flaky):
        """Retrying while the fault is still there: three more attempts, a new incident."""
        case = stuck_case(notices)
        notices.retry(case.id, actor=OPS)
        assert 6 == len(flaky.keys)
        assert [case.id] == notices.stuck()
        assert ["retried", "open"] == [i.status for i in notices.incidents(status=None)]

    def test_skip_gives_up_with_a_reason(self, notices, flaky):
        """skip: the action will not run; the case is no longer stuck; the reason is kept."""
        case = stuck_case(notices)
        with pytest.raises(InvalidEvent, match="needs a reason"):
            notices.skip(case.id, actor=OPS, reason="")
        assert 1 == notices.skip(case.id, actor=OPS, reason="told the applicant by phone")
        assert [] == notices.stuck()
        assert "skipped" == action_timer(notices, case.id)[1]
        [incident] = notices.incidents(status=None)
        assert ("skipped", "told the applicant by phone") == (incident.status, incident.reason)
        notices.fire_due()
        assert 3 == len(flaky.keys)  # never run again
        assert "skip" == operator_entries(notices, case.id)[-1].event
        # the case itself goes on
        assert "closed" == notices.fire(case.id, "close", actor=Actor("c", {"clerk"})).state
