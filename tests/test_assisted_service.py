"""
Chencang's "三办" service modes (seed 001): 直办 on the spot, 代办 by a cadre within a set
time, 陪办 with a cadre to the county hall; then the citizen's rating (政务服务"好差评",
GB/T 39735-2020), a bad one rectified (整改) and answered; on the Jiaoling org tree.

Dates checked against chinese_calendar for 2026: Mid-Autumn Fri 25 Sep off; National Day
Thu 1 Oct to Wed 7 Oct off, Sat 10 Oct a make-up workday. 24:00 of a last day is stored
as 00:00 of the next day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from caseflow import Actor, Forbidden
from caseflow.reports import report

ROOT = Path(__file__).resolve().parent.parent
ORGS = ROOT / "workflows" / "orgs" / "jiaoling.yaml"
SH = ZoneInfo("Asia/Shanghai")

SANZHEN = "jiaoling/sanzhen"
JIULING = "jiaoling/sanzhen/jiuling"
CHENGBEI = "jiaoling/jiaocheng/chengbei"

TOWN_WINDOW = Actor("sanzhen.window1", {"window_clerk"}, SANZHEN)
JIULING_WINDOW = Actor("jiuling.window", {"window_clerk"}, JIULING)
JIULING_CADRE = Actor("jiuling.cadre", {"cadre"}, JIULING)
FANGXIN_CADRE = Actor("fangxin.cadre", {"cadre"}, "jiaoling/sanzhen/fangxin")
CHENGBEI_WINDOW = Actor("chengbei.window", {"window_clerk"}, CHENGBEI)
CHENGBEI_CADRE = Actor("chengbei.cadre", {"cadre"}, CHENGBEI)
APPLICANT = Actor("villager.zhou", {"applicant"})


def midnight(day: str) -> dt.datetime:
    """00:00 of ``day`` in Shanghai (24:00 of the day before), as the UTC instant stored."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(dt.UTC)


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def sent_for(notifier, case_id: str) -> list[tuple[tuple[str, ...], str]]:
    return [(n["roles"], n["org"]) for n in notifier.sent if n["case_id"] == case_id]


def request(engine, clock, when: str, mode: str, matter: str, actor: Actor, **extra):
    clock.set(when)
    data = {"applicant": "周某", "matter": matter, "mode": mode, **extra}
    return engine.start("assisted_service", data=data, actor=actor)


@pytest.fixture
def fresh(make_engine):
    """Make a new Engine on the test's database, as a restarted host would (the tree is stored)."""
    assert 23 == make_engine().load_orgs(ORGS)
    return make_engine


class TestModes:
    def test_direct_on_the_spot(self, fresh, clock):
        """直办: documents complete, the town window accepts and finishes at once; the
        citizen rates it on the window's 评价器 (Mon 9 Mar 2026)."""
        engine = fresh()
        case = request(engine, clock, "2026-03-09T09:00", "直办", "生育登记", TOWN_WINDOW)
        assert (SANZHEN, dt.date(2026, 3, 10)) == (
            case.org,
            clock_of(engine, case.id, "intake_limit").last_day,
        )
        case = engine.fire(case.id, "accept", actor=TOWN_WINDOW)
        assert ("rating", "stopped") == (
            case.state,
            clock_of(engine, case.id, "intake_limit").status,
        )
        case = engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "满意"})
        assert ("done_on_spot", "completed") == (case.state, case.status)
        assert {"intake_limit": "stopped", "rating_window": "stopped"} == {
            c.name: c.status for c in engine.clocks(case.id)
        }

    def test_proxy_within_five_workdays_over_national_day(self, fresh, clock, notifier):
        """代办 from Thu 24 Sep: 5 workdays skip Mid-Autumn and National Day -> Fri 9 Oct; reminded 9 Oct."""
        engine = fresh()
        case = request(
            engine,
            clock,
            "2026-09-24T10:00",
            "代办",
            "外出务工交通补贴申报",
            JIULING_WINDOW,
            cadre=JIULING_CADRE.id,
            documents=["身份证", "务工证明", "银行卡"],
        )
        assert (
            dt.date(2026, 9, 28) == clock_of(engine, case.id, "intake_limit").last_day
        )  # (25 off) Mon 28
        case = engine.fire(case.id, "accept", actor=JIULING_WINDOW)
        assert "proxy_handling" == case.state
        proxy = clock_of(engine, case.id, "proxy_limit")
        # Sep 28, 29, 30, (Oct 1-7 off), 8, 9
        assert (dt.date(2026, 10, 9), midnight("2026-10-10"), midnight("2026-10-09")) == (
            proxy.last_day,
            proxy.due_at,
            proxy.state.warn_at,
        )
        clock.set("2026-10-08T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-10-09T00:00")
        assert 1 == engine.fire_due().fired["warn"]
        assert [(("cadre",), JIULING)] == sent_for(notifier, case.id)
        engine = fresh()
        clock.set("2026-10-09T10:00")
        case = engine.fire(
            case.id, "result_obtained", actor=JIULING_CADRE, payload={"result": "补贴800元已审批"}
        )
        assert ("result_ready", "warned") == (
            case.state,
            clock_of(engine, case.id, "proxy_limit").status,
        )
        with pytest.raises(Forbidden, match="requires one of the roles: cadre, window_clerk"):
            engine.fire(case.id, "deliver", actor=APPLICANT)
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(case.id, "deliver", actor=FANGXIN_CADRE)
        clock.set("2026-10-09T15:00")
        case = engine.fire(case.id, "deliver", actor=JIULING_CADRE)
        assert ("rating", "补贴800元已审批") == (case.state, case.data["result"])
        done = clock_of(engine, case.id, "proxy_limit")
        assert ("stopped", None) == (done.status, done.state.breached_at)
        clock.set("2026-10-12T00:00")
        assert 0 == engine.fire_due().total
        # not rated within 7 days (to Fri 16 Oct): archived as delivered, unrated
        assert dt.date(2026, 10, 16) == clock_of(engine, case.id, "rating_window").last_day
        clock.set("2026-10-17T00:00")
        engine.fire_due()
        case = engine.get(case.id)
        assert ("delivered", "completed", None) == (
            case.state,
            case.status,
            case.data.get("satisfaction"),
        )

    def test_proxy_late_tells_the_centre_head(self, fresh, clock, notifier):
        """代办 from Mon 2 Nov, due by Mon 9 Nov: at 24:00 the centre's head is told; the
        warning (due 6 Nov) swept only now is recorded as late and sent to nobody."""
        engine = fresh()
        case = request(
            engine, clock, "2026-11-02T09:00", "代办", "城乡特困供养申请", JIULING_WINDOW
        )
        engine.fire(case.id, "accept", actor=JIULING_WINDOW)
        assert dt.date(2026, 11, 9) == clock_of(engine, case.id, "proxy_limit").last_day
        clock.set("2026-11-10T00:00")
        swept = engine.fire_due()
        assert (1, 1) == (
            swept.fired["warn"],
            swept.fired["breach"],
        )  # the warning was due on 7 Nov too
        assert [(("centre_head",), JIULING)] == sent_for(notifier, case.id)
        warned = [h.details for h in engine.history(case.id) if h.details.get("action") == "warned"]
        assert [True] == [w.get("late") for w in warned]
        assert "breached" == clock_of(engine, case.id, "proxy_limit").status

    def test_accompanied_to_the_county_hall(self, fresh, clock):
        """陪办 from Mon 9 Mar: booked 10 Mar, accompanied 17 Mar, within 10 workdays (Mon 23 Mar)."""
        engine = fresh()
        case = request(
            engine,
            clock,
            "2026-03-09T09:00",
            "陪办",
            "土地流转备案",
            CHENGBEI_WINDOW,
            cadre=CHENGBEI_CADRE.id,
        )
        case = engine.fire(case.id, "accept", actor=CHENGBEI_WINDOW)
        assert "to_book" == case.state
        visit = clock_of(engine, case.id, "accompany_limit")
        assert (dt.date(2026, 3, 23), midnight("2026-03-20")) == (
            visit.last_day,
            visit.state.warn_at,
        )
        clock.set("2026-03-10T10:00")
        engine = fresh()
        case = engine.fire(
            case.id,
            "book",
            actor=CHENGBEI_CADRE,
            payload={"appointment_at": "2026-03-17T09:30", "hall": "蕉岭县政务服务中心"},
        )
        assert ("booked", "running") == (
            case.state,
            clock_of(engine, case.id, "accompany_limit").status,
        )
        clock.set("2026-03-17T11:30")
        case = engine.fire(
            case.id, "accompanied", actor=CHENGBEI_CADRE, payload={"result": "土地流转合同备案完成"}
        )
        assert ("rating", "stopped") == (
            case.state,
            clock_of(engine, case.id, "accompany_limit").status,
        )
        case = engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "非常满意"})
        assert ("done_at_hall", "completed", CHENGBEI) == (case.state, case.status, case.org)


class TestCounts:
    def test_counts_per_mode_and_declined(self, fresh, clock):
        """Each mode ends in its own final state; a request outside the policy is declined (failure)."""
        engine = fresh()
        for mode, n in (("直办", 3), ("代办", 2), ("陪办", 1)):
            for i in range(n):
                case = request(
                    engine, clock, "2026-03-09T09:00", mode, f"{mode}事项{i}", TOWN_WINDOW
                )
                case = engine.fire(case.id, "accept", actor=TOWN_WINDOW)
                if case.state == "rating":
                    engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "满意"})
        cadre = Actor("sanzhen.cadre", {"cadre"}, SANZHEN)
        for case in engine.cases(workflow="assisted_service", state="proxy_handling"):
            engine.fire(case.id, "result_obtained", actor=cadre, payload={"result": "已办结"})
            engine.fire(case.id, "deliver", actor=cadre)
            engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "基本满意"})
        (booked,) = engine.cases(workflow="assisted_service", state="to_book")
        engine.fire(
            booked.id,
            "book",
            actor=cadre,
            payload={"appointment_at": "2026-03-12T09:00", "hall": "县政务服务中心"},
        )
        engine.fire(booked.id, "accompanied", actor=cadre, payload={"result": "已办结"})
        engine.fire(booked.id, "rate", actor=APPLICANT, payload={"satisfaction": "非常满意"})
        refused = request(engine, clock, "2026-03-09T10:00", "代办", "公益性岗位申请", TOWN_WINDOW)
        refused = engine.fire(
            refused.id,
            "decline",
            actor=TOWN_WINDOW,
            payload={"reason": "不符合公益性岗位安置条件，已解释说明"},
        )
        assert "rating" == refused.state
        refused = engine.fire(
            refused.id, "rate", actor=APPLICANT, payload={"satisfaction": "非常不满意"}
        )
        refused = engine.fire(
            refused.id,
            "rectified",
            actor=Actor("sanzhen.head", {"centre_head"}, SANZHEN),
            payload={"rectification": "已由中心负责人再次上门解释政策依据"},
        )
        assert "declined" == refused.state
        figures = report(
            engine,
            since=dt.date(2026, 3, 1),
            until=dt.date(2026, 4, 1),
            workflow="assisted_service",
        )
        assert {"done_on_spot": 3, "delivered": 2, "done_at_hall": 1, "declined": 1} == {
            s.state: s.count for s in figures.total.final_states
        }
        assert pytest.approx(6 / 7) == figures.total.success_rate


class TestRating:
    def test_a_bad_rating_is_rectified_and_answered(self, fresh, clock, notifier):
        """
        好差评 (GB/T 39735-2020 five levels): a 代办 declined on Tue 10 Mar 2026 and rated
        不满意 opens 差评整改 with 15 workdays (to Tue 31 Mar); the centre's head answers,
        the citizen is told, and the request closes as declined.
        """
        engine = fresh()
        case = request(engine, clock, "2026-03-09T09:00", "代办", "公益性岗位申请", JIULING_WINDOW)
        engine.fire(case.id, "accept", actor=JIULING_WINDOW)
        clock.set("2026-03-10T10:00")
        engine.fire(
            case.id, "decline", actor=JIULING_CADRE, payload={"reason": "家庭收入超过认定标准"}
        )
        case = engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "不满意"})
        assert "rectification" == case.state
        assert dt.date(2026, 3, 31) == clock_of(engine, case.id, "rectification").last_day
        head = Actor("jiuling.head", {"centre_head"}, JIULING)
        with pytest.raises(Forbidden, match="requires one of the roles: centre_head, window_clerk"):
            engine.fire(case.id, "rectified", actor=JIULING_CADRE, payload={"rectification": "x"})
        clock.set("2026-03-16T10:00")
        answer = "已上门说明认定标准，并告知可申请临时救助"
        case = engine.fire(case.id, "rectified", actor=head, payload={"rectification": answer})
        assert ("declined", "completed", "不满意") == (
            case.state,
            case.status,
            case.data["satisfaction"],
        )
        engine.fire_due()
        told = [n["message"] for n in notifier.sent if n["roles"] == ("applicant",)]
        assert [f"差评整改反馈（公益性岗位申请）：{answer}"] == told

    def test_unrated_over_national_day_closes_on_the_next_working_day(self, fresh, clock):
        """直办 on Wed 30 Sep 2026: the 7-day window ends Wed 7 Oct, a holiday, so Thu 8 Oct
        (民法典 art. 203); at 24:00 it closes as done_on_spot, unrated."""
        engine = fresh()
        case = request(engine, clock, "2026-09-30T10:00", "直办", "生育登记", TOWN_WINDOW)
        engine.fire(case.id, "accept", actor=TOWN_WINDOW)
        assert dt.date(2026, 10, 8) == clock_of(engine, case.id, "rating_window").last_day
        clock.set("2026-10-08T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-10-09T00:00")
        engine.fire_due()
        case = engine.get(case.id)
        assert ("done_on_spot", "completed", None) == (
            case.state,
            case.status,
            case.data.get("satisfaction"),
        )
