"""
Administrative approval (政务服务事项办理, seeds 000, 001, 004) under 行政许可法, on real
dates, SQLite and PostgreSQL.

Dates checked against chinese_calendar for 2026: Qingming Mon 6 Apr off; Labour Day Fri
1 May to Tue 5 May off, Sat 9 May a make-up workday; Dragon Boat Fri 19 Jun off; Sun 20
Sep a make-up workday, Mid-Autumn Fri 25 Sep off; National Day Thu 1 Oct to Wed 7 Oct
off, Sat 10 Oct a make-up workday. 2027 has no published schedule: its deadlines are
provisional (weekends, 元旦 Fri 1 Jan). Working days are counted from the day after the
start (民法典 art. 201); 24:00 of a last day is stored as 00:00 of the next day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from caseflow import Actor, DataValidationError, InvalidEvent
from caseflow.reports import report

SH = ZoneInfo("Asia/Shanghai")
UNIT = "hainan/haikou/longhua"
CLERK = Actor("clerk-7", {"window_clerk"}, UNIT)
APPLICANT = Actor("zhang", {"applicant"}, UNIT)
REVIEWER = Actor("rev-1", {"reviewer"}, "hainan/haikou")
HEAD = Actor("head-1", {"agency_head"}, "hainan/haikou")
ISSUER = Actor("iss-1", {"issuing_clerk"}, UNIT)
COURIER = Actor("ems-3", {"postal_courier"}, UNIT)
DATA = {"applicant": "张三", "matter": "食品经营许可"}
REJECTION = {
    "decision": "reject",
    "reason": "经营场所与住宅未有效隔离，不符合《食品经营许可审查通则》",
    "remedy": "可自收到本决定之日起六十日内申请行政复议，或六个月内提起行政诉讼",
}


def midnight(day: str) -> dt.datetime:
    """00:00 of ``day`` in Shanghai (24:00 of the day before), as the UTC instant stored."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(dt.UTC)


def local(when: str) -> dt.datetime:
    return dt.datetime.fromisoformat(when).replace(tzinfo=SH).astimezone(dt.UTC)


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def clock_lines(engine, case_id: str, name: str) -> list[dict]:
    return [h.details for h in engine.history(case_id) if h.details.get("clock") == name]


def notices(engine, case_id: str) -> list[tuple[tuple[str, ...], str]]:
    """The notices recorded in the history: (roles, message)."""
    return [
        (tuple(h.details["roles"]), h.details["message"])
        for h in engine.history(case_id)
        if h.kind == "notice"
    ]


def sent(notifier, case_id: str) -> list[tuple[tuple[str, ...], str]]:
    return [(n["roles"], n["message"]) for n in notifier.sent if n["case_id"] == case_id]


def submit(engine, clock, when: str, **extra):
    clock.set(when)
    return engine.start("administrative_approval", data={**DATA, **extra}, actor=CLERK)


def to_review(engine, clock, when: str, **extra):
    """Submitted and accepted at ``when``, the reviewer starts an hour later."""
    case = submit(engine, clock, when, **extra)
    engine.fire(case.id, "accept", actor=CLERK)
    clock.advance(hours=1)
    return engine.fire(case.id, "start_review", actor=REVIEWER)


def to_approved(engine, clock, when: str, decided: str, **extra):
    case = to_review(engine, clock, when, **extra)
    clock.set(decided)
    return engine.fire(case.id, "decide", actor=HEAD, payload={"decision": "approve"})


@pytest.fixture
def engine(make_engine):
    return make_engine()


class TestDeemedAcceptance:
    def test_counts_from_the_submission(self, engine, clock):
        """
        行政许可法 art. 32: no correction notice within 5 working days means the
        application is accepted *from its receipt* (自收到申请材料之日起即为受理), so the
        art. 42 decision clock counts from the submission. Submitted Thu 24 Sep 2026: the
        window (Sep 28, 29, 30, Oct 8, 9) ends Fri 9 Oct; 20 workdays from 24 Sep end Thu
        29 Oct, not Fri 6 Nov as they would from the deemed acceptance on 10 Oct.
        """
        case = submit(engine, clock, "2026-09-24T10:00")
        assert dt.date(2026, 10, 9) == clock_of(engine, case.id, "correction_window").last_day
        clock.set("2026-10-09T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-10-12T08:30")  # the sweep is late: the effect is dated 24:00 9 Oct
        assert 1 == engine.fire_due().fired["breach"]
        case = engine.get(case.id)
        assert ("accepted", "system:timer") == (case.state, engine.history(case.id)[-3].actor_id)
        decision = clock_of(engine, case.id, "decision")
        assert (local("2026-09-24T10:00"), dt.date(2026, 10, 29), midnight("2026-10-30")) == (
            decision.state.started_at,
            decision.last_day,
            decision.due_at,
        )
        started = [d for d in clock_lines(engine, case.id, "decision") if d["action"] == "started"]
        assert [("clock correction_window started", "2026-10-29")] == [
            (d["since"], d["last_day"]) for d in started
        ]
        assert midnight("2026-10-10") == next(
            h.at for h in engine.history(case.id) if h.event == "deemed_accepted"
        )

    def test_after_a_correction_the_resubmission_is_the_receipt(self, engine, clock):
        """
        Art. 32: after the one-time correction notice (一次性告知) the complete materials are
        received on resubmission. Submitted Mon 14 Dec 2026, correction asked Tue 15 Dec,
        resubmitted Mon 21 Dec: the window ends Mon 28 Dec, and the decision clock counts
        from 21 Dec into 2027: 20 workdays skip 元旦 (Fri 1 Jan 2027) and end Tue 19 Jan,
        provisionally (no 2027 schedule is published).
        """
        case = submit(engine, clock, "2026-12-14T10:00")
        clock.set("2026-12-15T09:00")
        engine.fire(
            case.id,
            "request_correction",
            actor=CLERK,
            payload={"missing_documents": ["健康证明", "场所平面图"]},
        )
        assert "stopped" == clock_of(engine, case.id, "correction_window").status
        clock.set("2026-12-21T10:00")
        engine.fire(case.id, "resubmit", actor=APPLICANT)
        assert dt.date(2026, 12, 28) == clock_of(engine, case.id, "correction_window").last_day
        clock.set("2026-12-29T00:00")
        engine.fire_due()
        decision = clock_of(engine, case.id, "decision")
        assert (local("2026-12-21T10:00"), dt.date(2027, 1, 19), True) == (
            decision.state.started_at,
            decision.last_day,
            decision.state.provisional,
        )

    def test_an_acceptance_counts_from_the_acceptance(self, engine, clock):
        """
        Art. 42: the 20 working days run from the acceptance when the window accepts in
        time. Submitted Mon 28 Sep, accepted Wed 30 Sep 15:00: the days skip National Day,
        count Sat 10 Oct (a make-up workday) and end Tue 3 Nov.
        """
        case = submit(engine, clock, "2026-09-28T09:00")
        clock.set("2026-09-30T15:00")
        engine.fire(case.id, "accept", actor=CLERK)
        decision = clock_of(engine, case.id, "decision")
        assert (local("2026-09-30T15:00"), dt.date(2026, 11, 3)) == (
            decision.state.started_at,
            decision.last_day,
        )
        started = [d for d in clock_lines(engine, case.id, "decision") if d["action"] == "started"]
        assert ["-"] == [d.get("since", "-") for d in started]
        clock.set("2026-10-10T00:00")
        assert 0 == engine.fire_due().total  # the window stopped on the acceptance


class TestIssuance:
    def test_window_pickup_runs_until_collected(self, engine, clock, notifier):
        """
        行政许可法 art. 44: the certificate is issued *and served* (颁发、送达) within 10
        working days of the decision. Approved Wed 10 Jun 2026: 10 workdays skip Dragon Boat
        (Fri 19 Jun) and end Thu 25 Jun. Printed on 12 Jun but not collected until Fri 26
        Jun: the clock runs on while the certificate waits at the window and breaches at
        24:00 on 25 Jun.
        """
        case = to_approved(engine, clock, "2026-06-08T09:00", "2026-06-10T16:00")
        assert "approved" == case.state
        assert "stopped" == clock_of(engine, case.id, "decision").status
        issuance = clock_of(engine, case.id, "issuance")
        assert (dt.date(2026, 6, 25), "running") == (issuance.last_day, issuance.status)
        clock.set("2026-06-12T10:00")
        case = engine.fire(case.id, "issue", actor=ISSUER, payload={"certificate_no": "JY1460"})
        assert ("ready_for_pickup", "running") == (
            case.state,
            clock_of(engine, case.id, "issuance").status,
        )
        clock.set("2026-06-26T00:00")
        assert 1 == engine.fire_due().fired["breach"]
        engine.fire_due()  # the escalation's notice
        assert [("issuing_clerk", "agency_head")] == [r for r, _ in sent(notifier, case.id)]
        clock.set("2026-06-26T10:00")
        case = engine.fire(case.id, "collect", actor=ISSUER)
        issuance = clock_of(engine, case.id, "issuance")
        assert ("rating", "stopped", midnight("2026-06-26")) == (
            case.state,
            issuance.status,
            issuance.state.breached_at,
        )

    def test_post_runs_until_delivered(self, engine, clock):
        """Art. 44, 邮政送达: approved Wed 10 Jun, posted Thu 11 Jun, delivered Tue 16 Jun:
        within the 10 workdays (to Thu 25 Jun), the clock stops on delivery, not on posting."""
        case = to_approved(
            engine,
            clock,
            "2026-06-08T09:00",
            "2026-06-10T16:00",
            delivery="post",
            address="海口市龙华区滨海大道 1 号",
        )
        clock.set("2026-06-11T09:00")
        case = engine.fire(case.id, "issue", actor=ISSUER, payload={"tracking_no": "EMS1"})
        assert ("in_post", "running") == (case.state, clock_of(engine, case.id, "issuance").status)
        clock.set("2026-06-16T14:00")
        case = engine.fire(case.id, "deliver", actor=COURIER)
        issuance = clock_of(engine, case.id, "issuance")
        assert ("rating", "stopped", None, local("2026-06-16T14:00")) == (
            case.state,
            issuance.status,
            issuance.state.breached_at,
            issuance.state.stopped_at,
        )


class TestWrittenReasons:
    def test_refusal_gives_reasons_and_remedy(self, engine, clock, notifier):
        """
        行政许可法 art. 32 (不予受理, a written and dated decision) and art. 38: the
        reasons and the remedy are required and told to the applicant, recorded and sent.
        Refused Mon 27 Apr 2026; not rated within 7 days (to Mon 4 May, a holiday, so to
        Wed 6 May, 民法典 art. 203), it closes as not_accepted, unrated.
        """
        case = submit(engine, clock, "2026-04-27T09:00")
        clock.set("2026-04-27T10:00")
        with pytest.raises(DataValidationError, match="remedy"):
            engine.fire(case.id, "refuse", actor=CLERK, payload={"reason": "不属于本机关职权"})
        payload = {
            "reason": "申请事项依法不属于本机关职权范围",
            "remedy": "请向市市场监督管理局申请",
        }
        case = engine.fire(case.id, "refuse", actor=CLERK, payload=payload)
        message = "不予受理（食品经营许可）：申请事项依法不属于本机关职权范围；救济途径：请向市市场监督管理局申请"
        assert ("rating", [(("applicant",), message)]) == (case.state, notices(engine, case.id))
        assert [] == sent(notifier, case.id)  # sent after the commit, by the next sweep
        engine.fire_due()
        assert [(("applicant",), message)] == sent(notifier, case.id)
        window = clock_of(engine, case.id, "rating_window")
        assert dt.date(2026, 5, 6) == window.last_day
        clock.set("2026-05-07T00:00")
        engine.fire_due()
        case = engine.get(case.id)
        assert ("not_accepted", "completed", None) == (
            case.state,
            case.status,
            case.data.get("satisfaction"),
        )
        assert "rating_lapsed" == [h.event for h in engine.history(case.id) if h.event][-1]

    def test_rejection_gives_reasons_and_the_right_to_appeal(self, engine, clock, notifier):
        """
        Art. 38: 不予许可 is a written decision with its reasons and the right to
        administrative reconsideration or litigation; the agency head cannot reject
        through ``decide`` (approvals only) nor without them. Rejected Fri 8 May 2026.
        """
        case = to_review(engine, clock, "2026-04-23T10:00")
        clock.set("2026-05-08T10:00")
        with pytest.raises(DataValidationError, match="approve"):
            engine.fire(case.id, "decide", actor=HEAD, payload={"decision": "reject"})
        with pytest.raises(DataValidationError, match="remedy"):
            engine.fire(
                case.id, "reject", actor=HEAD, payload={"decision": "reject", "reason": "x"}
            )
        case = engine.fire(case.id, "reject", actor=HEAD, payload=REJECTION)
        assert ("rating", "stopped") == (case.state, clock_of(engine, case.id, "decision").status)
        message = (
            f"不予许可（食品经营许可）：{REJECTION['reason']}；救济途径：{REJECTION['remedy']}"
        )
        assert [(("applicant",), message)] == notices(engine, case.id)
        engine.fire_due()
        assert [(("applicant",), message)] == sent(notifier, case.id)
        case = engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "基本满意"})
        assert ("rejected", "completed", "基本满意") == (
            case.state,
            case.status,
            case.data["satisfaction"],
        )


class TestToldToTheApplicant:
    def test_extension_and_its_reason(self, engine, clock, notifier):
        """
        Art. 42: accepted Thu 23 Apr 2026, 20 workdays (over Labour Day, with Sat 9 May
        worked) end Mon 25 May; the agency head's one extension by 10 workdays moves the
        end to Mon 8 Jun, and the applicant is told of it and its reason.
        """
        case = to_review(engine, clock, "2026-04-23T10:00")
        assert dt.date(2026, 5, 25) == clock_of(engine, case.id, "decision").last_day
        clock.set("2026-05-20T09:00")
        extended = engine.extend_clock(case.id, "decision", actor=HEAD, reason="需现场核查经营场所")
        assert (dt.date(2026, 6, 8), 1) == (extended.last_day, extended.extensions)
        ((roles, message),) = notices(engine, case.id)
        assert ("applicant",) == roles
        assert "2026-06-08" in message
        assert "需现场核查经营场所" in message
        engine.fire_due()
        assert [(roles, message)] == sent(notifier, case.id)
        with pytest.raises(InvalidEvent, match="already extended 1"):
            engine.extend_clock(case.id, "decision", actor=HEAD, reason="再延长")

    def test_expert_review_is_told_and_not_counted(self, engine, clock, notifier):
        """
        Art. 45: expert review is not counted and the time it needs is told to the
        applicant in writing. Accepted Thu 23 Apr 2026 (due Mon 25 May); experts from Mon
        27 Apr to Mon 11 May: the paused days [27 Apr, 11 May) hold 8 workdays (Sat 9 May
        among them), so the decision is due Thu 4 Jun.
        """
        case = to_review(engine, clock, "2026-04-23T10:00")
        clock.set("2026-04-27T09:00")
        with pytest.raises(DataValidationError, match="excluded"):
            engine.fire(case.id, "send_to_experts", actor=REVIEWER)
        excluded = {"procedure": "专家评审", "time_needed": "十个工作日"}
        case = engine.fire(
            case.id, "send_to_experts", actor=REVIEWER, payload={"excluded": excluded}
        )
        assert ("expert_review", "paused") == (
            case.state,
            clock_of(engine, case.id, "decision").status,
        )
        message = (
            "食品经营许可：需要专家评审，所需时间十个工作日，不计入审查期限（行政许可法第四十五条）"
        )
        assert [(("applicant",), message)] == notices(engine, case.id)
        engine.fire_due()
        assert [(("applicant",), message)] == sent(notifier, case.id)
        clock.set("2026-05-11T09:00")
        engine.fire(case.id, "experts_done", actor=REVIEWER)
        decision = clock_of(engine, case.id, "decision")
        assert ("running", dt.date(2026, 6, 4)) == (decision.status, decision.last_day)


class TestRating:
    def test_a_good_rating_closes_in_the_result_reached(self, engine, clock):
        """好差评: delivered by post Tue 16 Jun 2026, rated 非常满意 on Wed 17 Jun: the case
        closes as delivered; the 7-day window (to Tue 23 Jun) stops."""
        case = to_approved(engine, clock, "2026-06-08T09:00", "2026-06-10T16:00", delivery="post")
        engine.fire(case.id, "issue", actor=ISSUER)
        clock.set("2026-06-16T14:00")
        engine.fire(case.id, "deliver", actor=COURIER)
        assert dt.date(2026, 6, 23) == clock_of(engine, case.id, "rating_window").last_day
        clock.set("2026-06-17T09:00")
        with pytest.raises(DataValidationError, match="satisfaction"):
            engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "好"})
        case = engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "非常满意"})
        assert ("delivered", "completed") == (case.state, case.status)
        assert "stopped" == clock_of(engine, case.id, "rating_window").status
        clock.set("2026-06-24T00:00")
        assert 0 == engine.fire_due().total

    def test_a_bad_rating_is_rectified_and_answered(self, engine, clock, notifier):
        """
        好差评: a bad rating (不满意) opens 差评整改 with its own limit: rated Wed 23 Sep
        2026, 15 workdays skip Mid-Autumn and National Day, count Sat 10 Oct and end Wed
        21 Oct (warned at 24:00 Fri 16 Oct, 3 workdays before). The reply is told to the
        applicant and the case closes in the result it reached (rejected).
        """
        case = to_review(engine, clock, "2026-09-07T09:00")
        clock.set("2026-09-22T10:00")
        engine.fire(case.id, "reject", actor=HEAD, payload=REJECTION)
        clock.set("2026-09-23T10:00")
        case = engine.fire(
            case.id,
            "rate",
            actor=CLERK,
            payload={"satisfaction": "不满意", "comment": "窗口未一次性告知所需材料"},
        )
        assert "rectification" == case.state
        rectification = clock_of(engine, case.id, "rectification")
        assert (dt.date(2026, 10, 21), midnight("2026-10-17")) == (
            rectification.last_day,
            rectification.state.warn_at,
        )
        clock.set("2026-10-17T00:00")
        assert 1 == engine.fire_due().fired["warn"]
        clock.set("2026-10-19T15:00")
        with pytest.raises(DataValidationError, match="rectification"):
            engine.fire(case.id, "rectified", actor=HEAD)
        reply = "已对窗口人员开展一次性告知制度培训，并电话致歉"
        case = engine.fire(case.id, "rectified", actor=HEAD, payload={"rectification": reply})
        assert ("rejected", "completed", "不满意") == (
            case.state,
            case.status,
            case.data["satisfaction"],
        )
        assert ("stopped", None) == (
            clock_of(engine, case.id, "rectification").status,
            clock_of(engine, case.id, "rectification").state.breached_at,
        )
        engine.fire_due()
        told = [m for roles, m in sent(notifier, case.id) if roles == ("applicant",)]
        assert f"差评整改反馈（食品经营许可）：{reply}" == told[-1]

    def test_a_withdrawn_application_is_not_rated(self, engine, clock):
        """The applicant withdrew (Mon 4 May 2026 is a holiday: the window may still record it):
        no result was reached, so no rating is asked; the case closes at once."""
        case = submit(engine, clock, "2026-04-30T09:00")
        clock.set("2026-05-04T10:00")
        case = engine.fire(case.id, "withdraw", actor=APPLICANT)
        assert ("withdrawn", "completed") == (case.state, case.status)
        assert "rating_window" not in {c.name for c in engine.clocks(case.id)}


class TestReport:
    def test_ratings_and_closures_per_unit(self, engine, clock):
        """
        好差评 per unit in June 2026 (the report's rating figures): at 龙华 one collected
        case rated 满意 and one rejected case rated 非常不满意 and rectified; at 美兰 one
        delivered case nobody rated (the 7 days from Tue 16 Jun end Tue 23 Jun). Good 1
        of 2 rated, unrated 1 of 3, rectified 1 of 1; the on-time totals leave the rating
        windows out (the unrated one ran out: not lateness).
        """
        meilan = "hainan/haikou/meilan"
        collected = to_approved(engine, clock, "2026-06-01T09:00", "2026-06-03T10:00")
        engine.fire(collected.id, "issue", actor=ISSUER)
        clock.set("2026-06-05T10:00")
        engine.fire(collected.id, "collect", actor=ISSUER)
        engine.fire(collected.id, "rate", actor=APPLICANT, payload={"satisfaction": "满意"})
        rejected = to_review(engine, clock, "2026-06-01T09:30")
        clock.set("2026-06-08T10:00")
        engine.fire(rejected.id, "reject", actor=HEAD, payload=REJECTION)
        engine.fire(rejected.id, "rate", actor=APPLICANT, payload={"satisfaction": "非常不满意"})
        clock.set("2026-06-12T10:00")
        engine.fire(rejected.id, "rectified", actor=HEAD, payload={"rectification": "已复核"})
        clock.set("2026-06-02T09:00")
        posted = engine.start(
            "administrative_approval", data={**DATA, "delivery": "post"}, actor=CLERK, org=meilan
        )
        for actor, event, payload in [
            (CLERK, "accept", None),
            (REVIEWER, "start_review", None),
            (HEAD, "decide", {"decision": "approve"}),
            (ISSUER, "issue", None),
        ]:
            engine.fire(posted.id, event, actor=actor, payload=payload)
        clock.set("2026-06-16T10:00")
        engine.fire(posted.id, "deliver", actor=COURIER)
        clock.set("2026-06-24T00:00")
        engine.fire_due()
        assert "delivered" == engine.get(posted.id).state
        found = report(engine, since=dt.date(2026, 6, 1), until=dt.date(2026, 7, 1), depth=3)
        assert ["hainan/haikou/longhua", meilan] == [r.key for r in found.rows]
        longhua = found.row("hainan/haikou/longhua").rating
        assert (2, 2, 1, 1, 1, 1.0) == (
            longhua.offered,
            longhua.rated,
            longhua.good,
            longhua.bad,
            longhua.rectified,
            longhua.rectification_rate,
        )
        assert (1, 0, 1.0) == (
            found.row(meilan).rating.offered,
            found.row(meilan).rating.rated,
            found.row(meilan).rating.unrated_rate,
        )
        total = found.total
        assert (0.5, 1 / 3) == (total.rating.good_rate, total.rating.unrated_rate)
        assert (3, {"collected": 1, "rejected": 1, "delivered": 1}) == (
            total.period.closed,
            {s.state: s.count for s in total.period.final_states},
        )
        window = total.clock("rating_window")
        assert window is not None
        assert (True, 3, 2) == (window.window, window.finished, window.on_time)
        assert 1.0 == total.on_time_rate  # decision, issuance, rectification all in time
