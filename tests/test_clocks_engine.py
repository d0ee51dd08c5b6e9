"""Legal clocks on real cases, with real 2026 dates (holidays and make-up workdays)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseflow import Actor, Forbidden, InvalidEvent

if TYPE_CHECKING:
    from caseflow.testing import MovableClock

SH = ZoneInfo("Asia/Shanghai")
CLERK = Actor("clerk-7", {"window_clerk"}, "hainan/haikou/longhua")
REVIEWER = Actor("rev-1", {"reviewer"}, "hainan/haikou/longhua")
HEAD = Actor("head-1", {"agency_head"}, "hainan/haikou/longhua")
DATA = {"applicant": "张三", "matter": "食品经营许可", "delivery": "window"}


def midnight(day: str) -> dt.datetime:
    """24:00 of the day before ``day`` in Shanghai, as the aware UTC instant we store."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(dt.UTC)


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def clock_notes(engine, case_id: str) -> list[tuple[str, str]]:
    return [
        (h.details["clock"], h.details["action"])
        for h in engine.history(case_id)
        if h.kind == "clock" and "clock" in h.details
    ]


def accepted_case(engine, clock: MovableClock, when: str):
    clock.set(when)
    case = engine.start("administrative_approval", data=DATA, actor=CLERK)
    return engine.fire(case.id, "accept", actor=CLERK)


class TestCorrectionWindow:
    def test_deemed_accepted_after_five_workdays_across_national_day(self, make_engine, clock):
        """Submitted on Mid-Autumn Friday 25 Sep: 5 workdays skip Sep 26-27 and Oct 1-7 -> end of Oct 9."""
        engine = make_engine()
        clock.set("2026-09-25T10:00")
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        window = clock_of(engine, case.id, "correction_window")
        assert (dt.date(2026, 10, 9), midnight("2026-10-10"), "running", False) == (
            window.last_day,
            window.due_at,
            window.status,
            window.provisional,
        )
        clock.set("2026-10-09T23:59")
        assert 0 == engine.fire_due().total
        assert "submitted" == engine.get(case.id).state
        clock.set("2026-10-10T00:00")
        report = engine.fire_due()
        assert 1 == report.fired["breach"]
        case = engine.get(case.id)
        assert "accepted" == case.state
        last = [h for h in engine.history(case.id) if h.kind == "transition"][-1]
        assert ("deemed_accepted", "system:timer") == (last.event, last.actor_id)
        assert "stopped" == clock_of(engine, case.id, "correction_window").status
        # A deemed acceptance is an acceptance from the receipt of the application (art.
        # 32): the decision clock counts from the submission on 25 Sep (a holiday, not
        # counted); 20 workdays (Sat 10 Oct worked) later is Thu 29 Oct.
        assert dt.date(2026, 10, 29) == clock_of(engine, case.id, "decision").last_day
        assert 0 == engine.fire_due().total

    def test_correction_request_stops_and_resubmission_restarts(self, make_engine, clock):
        """Asking for documents stops the 5-day window; resubmitting starts a new one."""
        engine = make_engine()
        clock.set("2026-09-21T09:00")
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        assert (
            dt.date(2026, 9, 29) == clock_of(engine, case.id, "correction_window").last_day
        )  # Fri 25 Sep is Mid-Autumn
        clock.set("2026-09-22T09:00")
        engine.fire(
            case.id, "request_correction", actor=CLERK, payload={"missing_documents": ["x"]}
        )
        assert "stopped" == clock_of(engine, case.id, "correction_window").status
        clock.set("2026-09-29T09:00")
        assert 0 == engine.fire_due().total
        engine.fire(case.id, "resubmit", actor=Actor("a", {"applicant"}))
        # Tue 29 Sep + 5 workdays: Sep 30, Oct 8, Oct 9, Sat Oct 10 (make-up), Oct 12.
        assert dt.date(2026, 10, 12) == clock_of(engine, case.id, "correction_window").last_day
        assert [
            ("correction_window", "started"),
            ("correction_window", "stopped"),
            ("correction_window", "started"),
        ] == clock_notes(engine, case.id)


class TestDecisionClock:
    def test_expert_pause_and_one_extension(self, make_engine, clock):
        """20 workdays from Mon 28 Sep end Fri 30 Oct; 4 expert days move it to 5 Nov; +10 to 19 Nov."""
        engine = make_engine()
        case = accepted_case(engine, clock, "2026-09-28T10:00")
        assert dt.date(2026, 10, 30) == clock_of(engine, case.id, "decision").last_day
        clock.set("2026-09-29T09:00")
        engine.fire(case.id, "start_review", actor=REVIEWER)
        clock.set("2026-10-12T09:00")
        excluded = {"procedure": "检验", "time_needed": "五日"}
        engine.fire(case.id, "send_to_experts", actor=REVIEWER, payload={"excluded": excluded})
        paused = clock_of(engine, case.id, "decision")
        assert ("paused", None) == (paused.status, paused.days_left)
        assert [] == [t for t in engine.timers() if t.clock == "decision"]
        clock.set("2026-10-16T15:00")
        engine.fire(case.id, "experts_done", actor=REVIEWER)
        resumed = clock_of(engine, case.id, "decision")
        assert (dt.date(2026, 11, 5), "running") == (resumed.last_day, resumed.status)
        with pytest.raises(Forbidden, match="agency_head"):
            engine.extend_clock(case.id, "decision", actor=REVIEWER, reason="more time")
        with pytest.raises(InvalidEvent, match="needs a reason"):
            engine.extend_clock(case.id, "decision", actor=HEAD, reason=" ")
        extended = engine.extend_clock(case.id, "decision", actor=HEAD, reason="需现场核查")
        assert (dt.date(2026, 11, 19), 1) == (extended.last_day, extended.extensions)
        with pytest.raises(InvalidEvent, match="already extended 1"):
            engine.extend_clock(case.id, "decision", actor=HEAD, reason="again")
        note = next(h for h in engine.history(case.id) if h.details.get("action") == "extended")
        assert ("head-1", "需现场核查", "10 workdays") == (
            note.actor_id,
            note.details["reason"],
            note.details["by"],
        )
        breach = [t for t in engine.timers() if t.clock == "decision" and t.kind == "breach"]
        assert [midnight("2026-11-20")] == [t.due_at for t in breach]

    def test_warning_breach_and_escalation_ladder(self, make_engine, clock, notifier):
        """Yellow 3 workdays before, red at 24:00 of Oct 30, then 督办 and a move up the org path."""
        engine = make_engine()
        case = accepted_case(engine, clock, "2026-09-28T10:00")
        clock.set("2026-10-27T23:00")
        assert 0 == engine.fire_due().total
        clock.set("2026-10-28T00:00")
        report = engine.fire_due()
        assert (1, 1) == (report.fired["warn"], report.fired["notify"])
        assert "warned" == clock_of(engine, case.id, "decision").status
        assert ("reviewer", "agency_head") == notifier.sent[-1]["roles"]
        clock.set("2026-10-31T00:00")
        report = engine.fire_due()
        assert (1, 1) == (report.fired["breach"], report.fired["escalate"])
        view = clock_of(engine, case.id, "decision")
        assert ("breached", 1) == (view.status, view.escalation_step)
        assert [case.id] == [c.id for c, _ in engine.overdue()]
        assert ("agency_head",) == notifier.sent[-1]["roles"]
        assert 1 == engine.get(case.id).escalation_level
        clock.set("2026-11-03T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-11-04T00:00")
        engine.fire_due()
        moved = engine.get(case.id)
        assert ("hainan/haikou", 2) == (moved.org, moved.escalation_level)
        assert {"roles": ("supervisor",), "org": "hainan/haikou"} == {
            k: notifier.sent[-1][k] for k in ("roles", "org")
        }
        escalations = [
            h.details for h in engine.history(case.id) if h.details.get("action") == "escalated"
        ]
        assert [1, 2] == [e["level"] for e in escalations]
        assert ("hainan/haikou/longhua", "hainan/haikou") == (
            escalations[1]["from_org"],
            escalations[1]["to_org"],
        )
        engine.fire(case.id, "start_review", actor=REVIEWER)
        engine.fire(case.id, "decide", actor=HEAD, payload={"decision": "approve"})
        assert [] == engine.overdue()
        assert "stopped" == clock_of(engine, case.id, "decision").status

    def test_timers_fire_exactly_once(self, make_engine, clock):
        """A second sweep, or a second engine sweeping at the same time, fires nothing again."""
        engines = [make_engine(), make_engine()]
        cases = [accepted_case(engines[0], clock, "2026-09-28T10:00") for _ in range(20)]
        clock.set("2026-11-06T00:00")
        reports = []
        barrier = threading.Barrier(2)

        def sweep(e) -> None:
            barrier.wait()
            reports.append(e.fire_due(batch=5))

        threads = [threading.Thread(target=sweep, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert 20 == sum(r.fired["breach"] for r in reports)
        assert 40 == sum(r.fired["escalate"] for r in reports)  # both steps are due by Nov 6
        warned = sum(r.fired["warn"] for r in reports)
        assert 0 == engines[0].fire_due().total
        seen = 0
        for case in cases:
            actions = sorted(a for c, a in clock_notes(engines[0], case.id) if c == "decision")
            # a warning that loses the race to its breach is dropped, never doubled
            assert actions in (
                ["breached", "escalated", "escalated", "started"],
                ["breached", "escalated", "escalated", "started", "warned"],
            )
            seen += "warned" in actions
        assert warned == seen


class TestNotifications:
    def test_failing_notifier_is_retried_and_never_blocks(self, make_engine, clock, notifier):
        """A gateway that fails twice delivers on the third sweep; the engine calls never fail."""
        notifier.fail = 2
        engine = make_engine()
        case = accepted_case(engine, clock, "2026-09-28T10:00")
        clock.set("2026-10-28T00:00")
        first = engine.fire_due(backoff=dt.timedelta(seconds=10))
        assert (1, 0) == (first.fired["warn"], first.fired["notify"])
        assert "warned" == clock_of(engine, case.id, "decision").status
        clock.advance(seconds=10)
        assert 0 == engine.fire_due(backoff=dt.timedelta(seconds=10)).fired["notify"]
        clock.advance(seconds=30)
        assert 1 == engine.fire_due(backoff=dt.timedelta(seconds=10)).fired["notify"]
        assert 1 == len(notifier.sent)

    def test_notifier_giving_up_is_recorded(self, make_engine, clock, notifier):
        """After the last attempt the notification is marked failed and the history says so."""
        notifier.fail = 100
        engine = make_engine()
        case = accepted_case(engine, clock, "2026-09-28T10:00")
        clock.set("2026-10-28T00:00")
        for _ in range(3):
            engine.fire_due(max_attempts=2, backoff=dt.timedelta(0))
        failed = [
            h.details for h in engine.history(case.id) if h.details.get("action") == "notify failed"
        ]
        assert 1 == len(failed)
        assert "gateway down" in failed[0]["error"]


class TestProvisional:
    def test_deadline_into_2027_is_provisional_then_exact(self, make_engine, clock, tmp_path):
        """Without the 2027 notice the statutory 元旦 (1 Jan) is a rest day, provisionally; the
        notice (here: 1 Jan off, Sat 2 Jan a make-up workday) makes the deadline exact."""
        engine = make_engine()
        clock.set("2026-12-28T10:00")
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        window = clock_of(engine, case.id, "correction_window")
        # 29, 30, 31 Dec, (1 Jan 元旦, 2-3 weekend), 4, 5 Jan
        assert (dt.date(2027, 1, 5), True) == (window.last_day, window.provisional)
        overlay = tmp_path / "cn-2027.yaml"
        overlay.write_text(
            "years:\n  2027:\n    holidays: ['2027-01-01']\n    workdays: ['2027-01-02']\n"
        )
        assert [2027] == engine.load_calendar_overlay(overlay)
        (moved,) = engine.recompute_provisional(actor=Actor("ops", {"operator"}))
        assert (moved.case_id, moved.clock) == (case.id, "correction_window")
        assert (moved.old_last_day, moved.new_last_day) == (
            dt.date(2027, 1, 5),
            dt.date(2027, 1, 4),
        )
        assert (moved.shift, moved.provisional) == (-1, False)
        window = clock_of(engine, case.id, "correction_window")
        assert (dt.date(2027, 1, 4), False) == (window.last_day, window.provisional)
        assert ("correction_window", "recomputed") == clock_notes(engine, case.id)[-1]
        with engine.db.connect() as conn:
            pending = (
                conn.execute(
                    sa.text(
                        "select due_at from cf_timers where status = 'pending' and kind = 'breach'"
                    )
                )
                .scalars()
                .all()
            )
        assert 1 == len(pending)
        assert [] == engine.recompute_provisional(actor=Actor("ops", {"operator"}))
