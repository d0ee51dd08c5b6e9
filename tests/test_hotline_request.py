"""
12345 hotline requests (公众诉求, seed 004) on the Jiaoling org tree: resolved on the call,
or referred to a department with a time limit, 催办, 督办 and a callback.

Dates checked against chinese_calendar for 2026: Dragon Boat Festival Fri 19 Jun off.
24:00 of a last day is stored as 00:00 of the next day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from caseflow import Actor, DataValidationError, Forbidden
from caseflow.reports import report

ROOT = Path(__file__).resolve().parent.parent
ORGS = ROOT / "workflows" / "orgs" / "jiaoling.yaml"

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


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def sent_for(notifier, case_id: str) -> list[tuple[tuple[str, ...], str]]:
    return [(n["roles"], n["org"]) for n in notifier.sent if n["case_id"] == case_id]


@pytest.fixture
def fresh(make_engine):
    """Make a new Engine on the test's database, as a restarted host would (the tree is stored)."""
    assert 23 == make_engine().load_orgs(ORGS)
    return make_engine


class TestResolvedOnTheCall:
    def test_answered_on_the_call(self, fresh, clock):
        """直接办结: one event, a final state with outcome success; the answer is kept."""
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
        assert ("resolved_on_call", "completed") == (case.state, case.status)
        assert "success" == engine.workflow("hotline_request").states[case.state].outcome
        assert "stopped" == clock_of(engine, case.id, "answer_limit").status


class TestReferred:
    def test_late_department_reminded_supervised_and_called_back(self, fresh, clock, notifier):
        """Referred Mon 15 Jun: 5 workdays skip Dragon Boat -> Tue 23 Jun; 催办 23 Jun, 24 Jun; 督办 26 Jun."""
        engine = fresh()
        clock.set("2026-06-15T10:00")
        case = engine.start("hotline_request", data=CALL, actor=AGENT)
        case = engine.fire(
            case.id,
            "refer",
            actor=AGENT,
            payload={"org": SHUIWU, "instruction": "请核查停水原因并答复来电人"},
        )
        assert ("handling", SHUIWU) == (case.state, case.org)
        assert "org" not in case.data
        assert "stopped" == clock_of(engine, case.id, "answer_limit").status
        handling = clock_of(engine, case.id, "handling_limit")
        # Jun 16, 17, 18, (19 off), 22, 23
        assert (dt.date(2026, 6, 23), dt.datetime(2026, 6, 22, 16, 0, tzinfo=dt.UTC)) == (
            handling.last_day,
            handling.state.warn_at,
        )
        clock.set("2026-06-22T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-06-23T00:00")  # 催办 (yellow)
        assert 1 == engine.fire_due().fired["warn"]
        assert [(("department",), SHUIWU)] == sent_for(notifier, case.id)
        engine = fresh()
        clock.set("2026-06-24T00:00")  # red: the department's head is told
        engine.fire_due()
        assert (("department_head",), SHUIWU) == sent_for(notifier, case.id)[-1]
        assert (SHUIWU, 1) == (engine.get(case.id).org, engine.get(case.id).escalation_level)
        assert [case.id] == [c.id for c, _ in engine.overdue()]
        clock.set("2026-06-25T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-06-26T00:00")  # 督办: up to the unit above the department, the county
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
        clock.set("2026-06-26T09:00")
        case = engine.fire(
            case.id,
            "refer",
            actor=SUPERVISOR,
            payload={"org": SHUIWU, "instruction": "督办：今日内恢复供水并答复"},
        )
        assert (SHUIWU, "breached") == (
            case.org,
            clock_of(engine, case.id, "handling_limit").status,
        )
        clock.set("2026-06-26T16:00")
        case = engine.fire(
            case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "已抢修主管道，恢复供水"}
        )
        assert "callback" == case.state
        assert "stopped" == clock_of(engine, case.id, "handling_limit").status
        assert (
            dt.date(2026, 6, 30) == clock_of(engine, case.id, "callback_limit").last_day
        )  # Jun 29, 30
        clock.set("2026-06-29T10:00")
        engine = fresh()
        case = engine.fire(
            case.id, "rate", actor=AGENT, payload={"satisfaction": "basically_satisfied"}
        )
        assert ("closed", "completed", "basically_satisfied") == (
            case.state,
            case.status,
            case.data["satisfaction"],
        )
        assert "success" == engine.workflow("hotline_request").states["closed"].outcome
        assert [
            ("refer", AGENT.id),
            ("refer", SUPERVISOR.id),
            ("reply", SHUIWU_STAFF.id),
            ("rate", AGENT.id),
        ] == [(h.event, h.actor_id) for h in engine.history(case.id) if h.kind == "transition"]
        steps = [
            (h.details["step"], h.details.get("to_org"))
            for h in engine.history(case.id)
            if h.details.get("clock") == "handling_limit" and h.details.get("action") == "escalated"
        ]
        assert [(1, None), (2, COUNTY)] == steps
        assert [] == engine.overdue()

    def test_wrong_department_and_unknown_unit(self, fresh, clock):
        """Only the department it was referred to replies; a referral names a known unit."""
        engine = fresh()
        clock.set("2026-06-15T10:00")
        case = engine.start("hotline_request", data=CALL, actor=AGENT)
        with pytest.raises(DataValidationError, match="'org' is a required property"):
            engine.fire(case.id, "refer", actor=AGENT, payload={"instruction": "x"})
        with pytest.raises(DataValidationError, match="unknown org unit"):
            engine.fire(case.id, "refer", actor=AGENT, payload={"org": "jiaoling/shuili"})
        case = engine.fire(case.id, "refer", actor=AGENT, payload={"org": SHUIWU})
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(case.id, "reply", actor=ZHUJIAN_STAFF, payload={"reply": "x"})
        with pytest.raises(Forbidden, match="requires one of the roles: department"):
            engine.fire(case.id, "reply", actor=CITIZEN, payload={"reply": "x"})
        assert case == engine.get(case.id)


class TestCounts:
    def test_counts_by_final_state(self, fresh, clock):
        """Seed 004 (14,074 calls: 9,752 on the call, 4,322 by departments) as counts by final state."""
        engine = fresh()
        clock.set("2026-06-15T09:00")
        for i in range(3):
            case = engine.start(
                "hotline_request", data={**CALL, "caller": f"来电人{i}"}, actor=AGENT
            )
            engine.fire(case.id, "resolve_on_call", actor=AGENT, payload={"answer": "当场答复"})
        case = engine.start("hotline_request", data=CALL, actor=AGENT)
        engine.fire(case.id, "refer", actor=AGENT, payload={"org": SHUIWU})
        engine.fire(case.id, "reply", actor=SHUIWU_STAFF, payload={"reply": "已处理"})
        engine.fire(case.id, "rate", actor=CITIZEN, payload={"satisfaction": "satisfied"})
        figures = report(
            engine, since=dt.date(2026, 6, 1), until=dt.date(2026, 7, 1), workflow="hotline_request"
        )
        assert (4, 3, 1, 1.0) == (
            figures.total.closed,
            figures.total.closed_in("resolved_on_call"),
            figures.total.closed_in("closed"),
            figures.total.success_rate,
        )
        assert 3 == len(engine.cases(workflow="hotline_request", state="resolved_on_call"))
        assert 1 == len(engine.cases(workflow="hotline_request", state="closed"))
