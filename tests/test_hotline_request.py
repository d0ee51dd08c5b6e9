"""
12345 hotline requests (公众诉求, seed 004) on the Jiaoling org tree: resolved on the call,
or referred to a department (派单) that may send it back (退单) within its window, handles
it within the limit of the request's type, is reminded (催办) and supervised (督办); the
citizen rates it at the callback (回访, 好差评): a first bad rating is re-handled once
(重办), a bad one after that is rectified (整改) and answered. The law sets no 12345
limits: every figure is the deployment's LOCAL PRACTICE (hotline_request.yaml).

Dates checked against chinese_calendar for 2026: Labour Day Fri 1 May to Tue 5 May off;
Dragon Boat Fri 19 Jun off; Sun 20 Sep a make-up workday, Mid-Autumn Fri 25 Sep off;
National Day Thu 1 Oct to Wed 7 Oct off, Sat 10 Oct a make-up workday. 2027 is
provisional (元旦 Fri 1 Jan). 24:00 of a last day is stored as 00:00 of the next day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from caseflow import Actor, DataValidationError, Forbidden, InvalidEvent
from caseflow.cli import cli
from caseflow.reports import report

ROOT = Path(__file__).resolve().parent.parent
ORGS = ROOT / "workflows" / "orgs" / "jiaoling.yaml"
SH = ZoneInfo("Asia/Shanghai")

COUNTY = "jiaoling"
SHUIWU = "jiaoling/shuiwu"  # 县水务局
ZHUJIAN = "jiaoling/zhujian"

AGENT = Actor("12345.agent07", {"hotline_agent"}, COUNTY)
SUPERVISOR = Actor("county.ducha", {"supervisor"}, COUNTY)
SHUIWU_STAFF = Actor("shuiwu.huang", {"department"}, SHUIWU)
ZHUJIAN_STAFF = Actor("zhujian.li", {"department"}, ZHUJIAN)
CITIZEN = Actor("caller.liu", {"citizen"})
CALL = {
    "caller": "刘女士",
    "phone": "0753-0000000",
    "content": "三圳镇九岭村停水三天",
    "category": "求助",
}


def midnight(day: str) -> dt.datetime:
    """00:00 of ``day`` in Shanghai (24:00 of the day before), as the UTC instant stored."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(dt.UTC)


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def sent_for(notifier, case_id: str) -> list[tuple[tuple[str, ...], str]]:
    return [(n["roles"], n["org"]) for n in notifier.sent if n["case_id"] == case_id]


def events(engine, case_id: str) -> list[tuple[str | None, str | None, str]]:
    return [
        (h.event, h.to_state, h.actor_id) for h in engine.history(case_id) if h.kind == "transition"
    ]


def referred(engine, clock, when: str, org: str = SHUIWU, **data):
    clock.set(when)
    case = engine.start("hotline_request", data={**CALL, **data}, actor=AGENT)
    return engine.fire(case.id, "refer", actor=AGENT, payload={"org": org})


def handled(engine, clock, when: str, replied: str, **data):
    """Referred to 水务局 at ``when``, signed for at once, replied at ``replied``."""
    case = referred(engine, clock, when, **data)
    engine.fire(case.id, "sign", actor=SHUIWU_STAFF)
    clock.set(replied)
    return engine.fire(case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "已恢复供水"})


@pytest.fixture
def fresh(make_engine):
    """Make a new Engine on the test's database, as a restarted host would (the tree is stored)."""
    assert 23 == make_engine().load_orgs(ORGS)
    return make_engine


class TestResolvedOnTheCall:
    def test_answered_on_the_call_then_rated(self, fresh, clock):
        """直接办结: the answer is kept; the caller rates it (按键评价) and it closes with
        outcome success. Mon 15 Jun 2026."""
        engine = fresh()
        clock.set("2026-06-15T09:30")
        case = engine.start("hotline_request", data={**CALL, "category": "咨询"}, actor=AGENT)
        assert (COUNTY, dt.date(2026, 6, 16)) == (
            case.org,
            clock_of(engine, case.id, "answer_limit").last_day,
        )
        with pytest.raises(Forbidden, match="requires one of the roles: hotline_agent"):
            engine.fire(case.id, "resolve_on_call", actor=CITIZEN, payload={"answer": "x"})
        case = engine.fire(
            case.id, "resolve_on_call", actor=AGENT, payload={"answer": "告知城乡居民医保缴费渠道"}
        )
        assert ("callback", "stopped") == (
            case.state,
            clock_of(engine, case.id, "answer_limit").status,
        )
        case = engine.fire(case.id, "rate", actor=CITIZEN, payload={"satisfaction": "非常满意"})
        assert ("resolved_on_call", "completed") == (case.state, case.status)
        assert "success" == engine.workflow("hotline_request").states[case.state].outcome


class TestReferred:
    def test_late_department_reminded_supervised_and_called_back(self, fresh, clock, notifier):
        """A 求助 referred Mon 15 Jun 2026 gets 10 workdays, skipping Dragon Boat: to Tue 30
        Jun; 催办 at 24:00 29 Jun, the head told at 24:00 30 Jun, 督办 2 workdays later."""
        engine = fresh()
        clock.set("2026-06-15T10:00")
        case = engine.start("hotline_request", data=CALL, actor=AGENT)
        case = engine.fire(
            case.id,
            "refer",
            actor=AGENT,
            payload={"org": SHUIWU, "instruction": "请核查停水原因并答复来电人"},
        )
        assert ("referred", SHUIWU) == (case.state, case.org)
        assert "org" not in case.data
        assert "stopped" == clock_of(engine, case.id, "answer_limit").status
        handling = clock_of(engine, case.id, "handling_limit")
        assert (dt.date(2026, 6, 30), midnight("2026-06-30"), "求助") == (
            handling.last_day,
            handling.state.warn_at,
            handling.state.variant,
        )
        clock.set("2026-06-15T11:00")
        case = engine.fire(case.id, "sign", actor=SHUIWU_STAFF)
        assert ("handling", "stopped") == (
            case.state,
            clock_of(engine, case.id, "sendback_window").status,
        )
        assert dt.date(2026, 6, 30) == clock_of(engine, case.id, "handling_limit").last_day
        clock.set("2026-06-29T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-06-30T00:00")  # 催办 (yellow)
        assert 1 == engine.fire_due().fired["warn"]
        assert [(("department",), SHUIWU)] == sent_for(notifier, case.id)
        engine = fresh()
        clock.set("2026-07-01T00:00")  # red: the department's head is told
        engine.fire_due()
        assert (("department_head",), SHUIWU) == sent_for(notifier, case.id)[-1]
        assert (SHUIWU, 1) == (engine.get(case.id).org, engine.get(case.id).escalation_level)
        assert [case.id] == [c.id for c, _ in engine.overdue()]
        clock.set("2026-07-02T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-07-03T00:00")  # 督办: up to the unit above the department, the county
        engine.fire_due()
        moved = engine.get(case.id)
        assert (COUNTY, 2, "handling") == (moved.org, moved.escalation_level, moved.state)
        assert [
            (("department",), SHUIWU),
            (("department_head",), SHUIWU),
            (("supervisor",), COUNTY),
        ] == sent_for(notifier, case.id)
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "x"})
        clock.set("2026-07-03T09:00")
        case = engine.fire(
            case.id,
            "refer",
            actor=SUPERVISOR,
            payload={"org": SHUIWU, "instruction": "督办：今日内恢复供水并答复"},
        )
        assert (SHUIWU, "referred", "breached") == (
            case.org,
            case.state,
            clock_of(engine, case.id, "handling_limit").status,
        )
        engine.fire(case.id, "sign", actor=SHUIWU_STAFF)
        clock.set("2026-07-03T16:00")
        case = engine.fire(
            case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "已抢修主管道，恢复供水"}
        )
        assert "callback" == case.state
        assert "stopped" == clock_of(engine, case.id, "handling_limit").status
        assert dt.date(2026, 7, 7) == clock_of(engine, case.id, "rating_window").last_day
        clock.set("2026-07-06T10:00")
        engine = fresh()
        case = engine.fire(case.id, "rate", actor=AGENT, payload={"satisfaction": "基本满意"})
        assert ("closed", "completed", "基本满意") == (
            case.state,
            case.status,
            case.data["satisfaction"],
        )
        assert [
            ("refer", AGENT.id),
            ("sign", SHUIWU_STAFF.id),
            ("refer", SUPERVISOR.id),
            ("sign", SHUIWU_STAFF.id),
            ("reply", SHUIWU_STAFF.id),
            ("rate", AGENT.id),
        ] == [(e, a) for e, _, a in events(engine, case.id)]
        steps = [
            (h.details["step"], h.details.get("to_org"))
            for h in engine.history(case.id)
            if h.details.get("clock") == "handling_limit" and h.details.get("action") == "escalated"
        ]
        assert [(1, None), (2, COUNTY)] == steps
        assert [] == engine.overdue()

    def test_wrong_department_and_unknown_unit(self, fresh, clock):
        """Only the department it was referred to signs and replies; a referral names a known
        unit; nobody replies before signing for it, and a request waiting to be signed for
        is not re-routed: it comes back by 退单."""
        engine = fresh()
        clock.set("2026-06-15T10:00")
        case = engine.start("hotline_request", data=CALL, actor=AGENT)
        with pytest.raises(DataValidationError, match="'org' is a required property"):
            engine.fire(case.id, "refer", actor=AGENT, payload={"instruction": "x"})
        with pytest.raises(DataValidationError, match="unknown org unit"):
            engine.fire(case.id, "refer", actor=AGENT, payload={"org": "jiaoling/shuili"})
        case = engine.fire(case.id, "refer", actor=AGENT, payload={"org": SHUIWU})
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(case.id, "sign", actor=ZHUJIAN_STAFF)
        with pytest.raises(Forbidden, match="requires one of the roles: department"):
            engine.fire(case.id, "send_back", actor=CITIZEN, payload={"reason": "x"})
        with pytest.raises(InvalidEvent, match="cannot fire in state 'referred'"):
            engine.fire(case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "x"})
        with pytest.raises(InvalidEvent, match="cannot fire in state 'referred'"):
            engine.fire(case.id, "refer", actor=AGENT, payload={"org": ZHUJIAN})  # 退单 first
        assert case == engine.get(case.id)


class TestSendBack:
    def test_sent_back_within_the_window(self, fresh, clock, notifier):
        """
        退单: a request referred to 住建局 on Thu 30 Apr 2026 16:00 may be sent back until
        the end of Wed 6 May (1 workday, over Labour Day). Sent back on 6 May with the
        reason, it returns to the hotline (the county), whose answer limit starts anew
        (to Thu 7 May); re-referred to 水务局, the handling limit starts anew too.
        """
        engine = fresh()
        case = referred(engine, clock, "2026-04-30T16:00", org=ZHUJIAN)
        assert dt.date(2026, 5, 6) == clock_of(engine, case.id, "sendback_window").last_day
        clock.set("2026-05-06T10:00")
        with pytest.raises(DataValidationError, match="reason"):
            engine.fire(case.id, "send_back", actor=ZHUJIAN_STAFF)
        reason = "供水管网属水务局职责，建议转县水务局"
        case = engine.fire(case.id, "send_back", actor=ZHUJIAN_STAFF, payload={"reason": reason})
        assert ("received", COUNTY, reason) == (case.state, case.org, case.data["reason"])
        assert {"sendback_window": "stopped", "handling_limit": "stopped"} == {
            c.name: c.status for c in engine.clocks(case.id) if c.name != "answer_limit"
        }
        assert dt.date(2026, 5, 7) == clock_of(engine, case.id, "answer_limit").last_day
        notices = [h.details for h in engine.history(case.id) if h.kind == "notice"]
        assert [(["hotline_agent"], f"12345 工单 {case.id} 被退单：{reason}")] == [
            (n["roles"], n["message"]) for n in notices
        ]
        engine.fire_due()
        assert [(("hotline_agent",), COUNTY)] == sent_for(notifier, case.id)
        clock.set("2026-05-06T11:00")
        case = engine.fire(case.id, "refer", actor=AGENT, payload={"org": SHUIWU})
        handling = clock_of(engine, case.id, "handling_limit")
        assert (SHUIWU, dt.date(2026, 5, 19), "running") == (
            case.org,
            handling.last_day,
            handling.status,
        )

    def test_not_sent_back_in_time_is_signed_for(self, fresh, clock):
        """Referred Thu 30 Apr 2026 16:00, neither signed for nor sent back by the end of Wed
        6 May: deemed signed for (at 24:00 6 May, however late the sweep); 退单 is over."""
        engine = fresh()
        case = referred(engine, clock, "2026-04-30T16:00")
        clock.set("2026-05-07T08:00")
        assert 1 == engine.fire_due().fired["breach"]
        case = engine.get(case.id)
        assert ("handling", SHUIWU) == (case.state, case.org)
        assert ("signed_by_default", "handling", "system:timer") == events(engine, case.id)[-1]
        assert midnight("2026-05-07") == engine.history(case.id)[-1].at
        with pytest.raises(InvalidEvent, match="cannot fire in state 'handling'"):
            engine.fire(case.id, "send_back", actor=SHUIWU_STAFF, payload={"reason": "x"})
        # the handling limit ran from the referral: 10 workdays from 30 Apr, Sat 9 May
        # worked, end Mon 18 May
        assert dt.date(2026, 5, 18) == clock_of(engine, case.id, "handling_limit").last_day


class TestLimitsByType:
    @pytest.mark.parametrize(
        ("category", "last_day"),
        [
            ("咨询", dt.date(2026, 6, 23)),
            ("求助", dt.date(2026, 7, 3)),
            ("建议", dt.date(2026, 7, 3)),
            ("投诉", dt.date(2026, 7, 10)),
            ("举报", dt.date(2026, 7, 10)),
            (None, dt.date(2026, 7, 3)),
        ],
    )
    def test_each_type_has_its_limit(self, fresh, clock, category, last_day):
        """LOCAL PRACTICE (configurable per deployment): 咨询 2 workdays, 求助 and 建议 10, 投诉
        and 举报 15; none given: 10. Referred Thu 18 Jun 2026, the day before Dragon Boat."""
        engine = fresh()
        data = {"category": category} if category else {}
        clock.set("2026-06-18T10:00")
        call = {k: v for k, v in CALL.items() if k != "category"}
        case = engine.start("hotline_request", data={**call, **data}, actor=AGENT)
        engine.fire(case.id, "refer", actor=AGENT, payload={"org": SHUIWU})
        handling = clock_of(engine, case.id, "handling_limit")
        assert (last_day, category) == (handling.last_day, handling.state.variant)

    def test_a_report_crossing_into_2027_is_provisional(self, fresh, clock):
        """A 举报 referred Tue 22 Dec 2026: 15 workdays skip 元旦 (Fri 1 Jan 2027) and end Wed
        13 Jan 2027, provisionally: 2027's schedule is not published."""
        engine = fresh()
        case = referred(engine, clock, "2026-12-22T10:00", category="举报")
        handling = clock_of(engine, case.id, "handling_limit")
        assert (dt.date(2027, 1, 13), True) == (handling.last_day, handling.state.provisional)


class TestRework:
    def test_unsatisfied_once_is_handled_again_then_rectified(self, fresh, clock, notifier):
        """
        重办: replied Thu 10 Sep 2026, rated 不满意: back to 水务局 with a new 10-workday
        limit (to Wed 23 Sep, Sun 20 Sep worked). Replied again Fri 18 Sep, rated 非常不满意
        on Mon 21 Sep: 差评整改, 15 workdays over Mid-Autumn and National Day to Mon 19 Oct;
        the answer is told to the citizen and the request closes.
        """
        engine = fresh()
        case = handled(engine, clock, "2026-09-07T09:00", "2026-09-10T16:00")
        assert dt.date(2026, 9, 14) == clock_of(engine, case.id, "rating_window").last_day
        case = engine.fire(case.id, "rate", actor=AGENT, payload={"satisfaction": "不满意"})
        assert ("handling", SHUIWU) == (case.state, case.org)
        handling = clock_of(engine, case.id, "handling_limit")
        assert (dt.date(2026, 9, 23), "running") == (handling.last_day, handling.status)
        clock.set("2026-09-18T16:00")
        engine.fire(case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "已更换老化管道"})
        clock.set("2026-09-21T10:00")
        case = engine.fire(case.id, "rate", actor=CITIZEN, payload={"satisfaction": "非常不满意"})
        assert "rectification" == case.state
        assert dt.date(2026, 10, 19) == clock_of(engine, case.id, "rectification").last_day
        clock.set("2026-10-12T10:00")
        answer = "已约谈供水站负责人，建立停水提前告知制度"
        case = engine.fire(
            case.id, "rectified", actor=SHUIWU_STAFF, payload={"rectification": answer}
        )
        assert ("closed", "completed", "非常不满意") == (
            case.state,
            case.status,
            case.data["satisfaction"],
        )
        engine.fire_due()
        told = [n["message"] for n in notifier.sent if n["roles"] == ("citizen",)]
        assert [f"12345 工单 {case.id} 差评整改反馈：{answer}"] == told
        assert ["rate", "reply", "rate", "rectified"] == [
            e for e, _, _ in events(engine, case.id)[-4:]
        ]

    def test_answered_on_the_call_and_unsatisfied_is_referred(self, fresh, clock):
        """A caller unsatisfied with the answer on the call (Mon 7 Sep 2026) gets it handled
        again: back to the hotline, which refers it; satisfied then, it closes as handled."""
        engine = fresh()
        clock.set("2026-09-07T09:00")
        case = engine.start("hotline_request", data=CALL, actor=AGENT)
        engine.fire(case.id, "resolve_on_call", actor=AGENT, payload={"answer": "已记录，等待通知"})
        case = engine.fire(case.id, "rate", actor=CITIZEN, payload={"satisfaction": "不满意"})
        assert ("received", COUNTY) == (case.state, case.org)
        assert dt.date(2026, 9, 8) == clock_of(engine, case.id, "answer_limit").last_day
        engine.fire(case.id, "refer", actor=AGENT, payload={"org": SHUIWU})
        engine.fire(case.id, "sign", actor=SHUIWU_STAFF)
        engine.fire(case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "已恢复供水"})
        case = engine.fire(case.id, "rate", actor=CITIZEN, payload={"satisfaction": "满意"})
        assert ("closed", "completed") == (case.state, case.status)

    def test_not_rated_in_time_closes_unrated(self, fresh, clock, notifier):
        """Replied Fri 18 Sep 2026: the callback has 2 workdays, Sun 20 Sep (a make-up
        workday) and Mon 21 Sep; the agent is reminded at 24:00 20 Sep; at 24:00 21 Sep the
        request closes unrated."""
        engine = fresh()
        case = handled(engine, clock, "2026-09-14T09:00", "2026-09-18T16:00")
        window = clock_of(engine, case.id, "rating_window")
        assert (dt.date(2026, 9, 21), midnight("2026-09-21")) == (
            window.last_day,
            window.state.warn_at,
        )
        clock.set("2026-09-21T00:00")
        assert 1 == engine.fire_due().fired["warn"]
        assert (("hotline_agent",), SHUIWU) == sent_for(notifier, case.id)[-1]
        clock.set("2026-09-22T00:00")
        engine.fire_due()
        case = engine.get(case.id)
        assert ("closed", "completed", None) == (
            case.state,
            case.status,
            case.data.get("satisfaction"),
        )
        assert ("rating_lapsed", "closed", "system:timer") == events(engine, case.id)[-1]


class TestCounts:
    def test_counts_by_final_state(self, fresh, clock):
        """Seed 004 (14,074 calls: 9,752 on the call, 4,322 by departments) as counts by final
        state; the good-rating rate counts 非常满意, 满意 and 基本满意. Mon 15 Jun 2026."""
        engine = fresh()
        clock.set("2026-06-15T09:00")
        for i, rating in enumerate(["非常满意", "满意", "基本满意"]):
            case = engine.start(
                "hotline_request", data={**CALL, "caller": f"来电人{i}"}, actor=AGENT
            )
            engine.fire(case.id, "resolve_on_call", actor=AGENT, payload={"answer": "当场答复"})
            engine.fire(case.id, "rate", actor=CITIZEN, payload={"satisfaction": rating})
        case = handled(engine, clock, "2026-06-15T10:00", "2026-06-16T10:00")
        engine.fire(case.id, "rate", actor=CITIZEN, payload={"satisfaction": "满意"})
        figures = report(
            engine, since=dt.date(2026, 6, 1), until=dt.date(2026, 7, 1), workflow="hotline_request"
        )
        total = figures.total
        assert (4, 3, 1, 1.0, 1.0) == (
            total.closed,
            total.closed_in("resolved_on_call"),
            total.closed_in("closed"),
            total.success_rate,
            total.satisfied_share,
        )
        assert (4, 4, 1.0, 0.0) == (
            total.rating.offered,
            total.rating.rated,
            total.rating.good_rate,
            total.rating.unrated_rate,
        )
        assert 3 == len(engine.cases(workflow="hotline_request", state="resolved_on_call"))
        assert 1 == len(engine.cases(workflow="hotline_request", state="closed"))


class TestHandedToMediation:
    """A request that is a neighbours' dispute goes to people's mediation as a linked child
    case (人民调解法); the request waits for it and closes on its outcome."""

    SANZHEN = "jiaoling/sanzhen"
    TOWN_STAFF = Actor("sanzhen.office", {"department"}, "jiaoling/sanzhen")
    CENTRE = Actor("sanzhen.centre", {"centre_staff"}, "jiaoling/sanzhen")
    MEDIATOR = Actor("sanzhen.mediator", {"mediator"}, "jiaoling/sanzhen")
    PARTIES = ({"name": "张三", "phone": "139-0000-0001"}, {"name": "李四"})

    def _in_mediation(self, engine, clock):
        clock.set("2026-06-15T09:30")
        call = {**CALL, "content": "邻居在宅基地边界砌墙，堵了我家排水沟", "category": "投诉"}
        case = engine.start(
            "hotline_request", data=call, actor=AGENT, business_key="12345-20260615-0042"
        )
        engine.fire(case.id, "refer", actor=AGENT, payload={"org": self.SANZHEN})
        engine.fire(case.id, "sign", actor=self.TOWN_STAFF)
        clock.set("2026-06-16T10:00")
        payload = {
            "parties": list(self.PARTIES),
            "dispute": "房屋宅基地",
            "severity": "minor",
            "reply": "属邻里纠纷，已转镇人民调解委员会调解",
        }
        case = engine.fire(case.id, "to_mediation", actor=self.TOWN_STAFF, payload=payload)
        assert case.state == "in_mediation"
        assert engine.fire_due().fired["child_start"] == 1
        (child,) = engine.children(case.id)
        return case, child

    def test_the_mediation_starts_with_the_parties_and_the_ticket(self, fresh, clock):
        engine = fresh()
        case, child = self._in_mediation(engine, clock)
        assert (child.workflow, child.parent_id, child.org) == (
            "dispute_mediation",
            case.id,
            self.SANZHEN,
        )
        assert child.data == {
            "channel": "hotline",
            "hotline_ticket": "12345-20260615-0042",
            "parties": list(self.PARTIES),
            "summary": "邻居在宅基地边界砌墙，堵了我家排水沟",
            "category": "房屋宅基地",
            "severity": "minor",
        }
        assert engine.fire_due().total == 0  # one child, however often the sweep runs
        assert "stopped" == clock_of(engine, case.id, "handling_limit").status

    def test_a_settled_mediation_brings_the_request_to_the_callback(self, fresh, clock, db_url):
        engine = fresh()
        case, child = self._in_mediation(engine, clock)
        engine.fire(child.id, "classify", actor=self.CENTRE,
                    payload={"category": "房屋宅基地", "severity": "minor"})  # fmt: skip
        engine.fire(child.id, "assign", actor=self.CENTRE, payload={"mediator": self.MEDIATOR.id})
        clock.set("2026-06-22T10:00")
        agreement = {"signed_on": "2026-06-22", "effective_on": "2026-06-22", "terms": "拆墙改道"}
        engine.fire(child.id, "agree", actor=self.MEDIATOR, payload={"agreement": agreement})
        engine.fire(child.id, "start_follow_up", actor=self.MEDIATOR)
        clock.set("2026-06-29T10:00")
        done = engine.fire(child.id, "close", actor=self.MEDIATOR,
                           payload={"performance": "performed"})  # fmt: skip
        assert done.state == "settled"
        engine.fire_due()
        assert engine.get(case.id).state == "callback"
        closed = engine.fire(case.id, "rate", actor=AGENT, payload={"satisfaction": "满意"})
        assert (closed.state, closed.status) == ("closed", "completed")
        lines = [h.details for h in engine.history(case.id) if h.kind == "call"]
        assert [d["action"] for d in lines] == ["started", "child ended"]
        assert lines[-1]["outcome"] == "success"
        month = {"since": dt.date(2026, 6, 1), "until": dt.date(2026, 7, 1)}
        figures = report(engine, workflow="hotline_request", **month)
        children = figures.row(self.SANZHEN).children
        assert (1, 0, 1, 0, 1.0) == (
            children.started,
            children.open,
            children.succeeded,
            children.failed,
            children.success_rate,
        )
        assert figures.total.children == children
        assert figures.to_dict()["total"]["children"]["succeeded"] == 1
        # the child's own row (mediation is its workflow) has no children of its own
        assert report(engine, workflow="dispute_mediation", **month).total.children.started == 0
        period = ["--since", "2026-06-01", "--until", "2026-07-01", "--db", db_url]
        table, as_csv = (
            CliRunner().invoke(cli, ["report", *period, *more], env={"COLUMNS": "200"})
            for more in ([], ["--csv", "--workflow", "hotline_request"])
        )
        assert (0, 0) == (table.exit_code, as_csv.exit_code), table.output + as_csv.output
        assert "Child cases started (call activities)" in table.output
        total = list(csv.DictReader(io.StringIO(as_csv.output)))[-1]
        assert ("1", "1", "1.0") == (
            total["children_started"],
            total["children_succeeded"],
            total["children_success_rate"],
        )

    def test_cancelling_the_request_cancels_the_mediation(self, fresh, clock):
        engine = fresh()
        case, child = self._in_mediation(engine, clock)
        month = {"since": dt.date(2026, 6, 1), "until": dt.date(2026, 7, 1)}
        assert report(engine, **month).total.children.open == 1
        engine.cancel(case.id, actor=Actor("ops", {"operator"}, COUNTY), reason="来电人撤诉")
        engine.fire_due()
        assert engine.get(child.id).status == "cancelled"
        assert (1, 0, 1, None) == (
            (figures := report(engine, **month).total.children).started,
            figures.open,
            figures.cancelled,
            figures.success_rate,
        )
