"""
Grid events (网格事件, seeds 000 and 003): 前端发现报告 → 网上分流移交 → 部门联动处置 →
全程跟踪督办 → 办结回访问效, on the Jiaoling org tree.

Dates checked against chinese_calendar for 2026: Labour Day Fri 1 May to Tue 5 May off,
Sat 9 May a make-up workday. 24:00 of a last day is stored as 00:00 of the next day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from caseflow import Actor, DataValidationError, Forbidden, InvalidEvent
from caseflow.reports import report

ROOT = Path(__file__).resolve().parent.parent
ORGS = ROOT / "workflows" / "orgs" / "jiaoling.yaml"

COUNTY = "jiaoling"
SANZHEN = "jiaoling/sanzhen"
GRID = "jiaoling/sanzhen/jiuling/grid-1"
ZHUJIAN = "jiaoling/zhujian"  # 县住房和城乡建设局, under the county
ZHIFA = "jiaoling/sanzhen/zhifa"  # 三圳镇综合行政执法队, under the township

GRID_WORKER = Actor("jiuling.grid1", {"grid_worker"}, GRID)
OTHER_GRID_WORKER = Actor("fangxin.grid1", {"grid_worker"}, "jiaoling/sanzhen/fangxin/grid-1")
CENTRE = Actor("sanzhen.centre", {"dispatcher"}, SANZHEN)
ZHUJIAN_STAFF = Actor("zhujian.li", {"department"}, ZHUJIAN)
ZHIFA_STAFF = Actor("zhifa.wang", {"department"}, ZHIFA)
COUNTY_SUPERVISOR = Actor("county.ducha", {"supervisor"}, COUNTY)
REPORTER = Actor("villager.chen", {"reporter"})
EVENT = {
    "category": "市政设施",
    "description": "村道路面塌陷，排水沟堵塞，雨天积水",
    "location": "九岭村村委会门前",
    "reporter_name": "陈某",
}


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def sent_for(notifier, case_id: str) -> list[tuple[tuple[str, ...], str]]:
    return [(n["roles"], n["org"]) for n in notifier.sent if n["case_id"] == case_id]


def transitions(engine, case_id: str) -> list[tuple[str | None, str | None]]:
    return [(h.event, h.to_state) for h in engine.history(case_id) if h.kind == "transition"]


@pytest.fixture
def fresh(make_engine):
    """Make a new Engine on the test's database, as a restarted host would (the tree is stored)."""
    assert 23 == make_engine().load_orgs(ORGS)
    return make_engine


def dispatched(engine, clock, departments: list[str], when: str = "2026-04-28T09:00"):
    clock.set(when)
    case = engine.start("grid_event", data=EVENT, actor=GRID_WORKER)
    return engine.fire(case.id, "dispatch", actor=CENTRE, payload={"departments": departments})


class TestJointHandling:
    def test_two_departments_one_late_then_reopened_once(self, fresh, clock, notifier):
        """Dispatched Wed 29 Apr: 5 workdays end Sat 9 May (make-up); 催办 9 May and 10 May, 督办 13 May."""
        engine = fresh()
        clock.set("2026-04-28T09:00")
        case = engine.start("grid_event", data=EVENT, actor=GRID_WORKER)  # ① 前端发现报告
        assert (GRID, "reported") == (case.org, case.state)
        assert dt.date(2026, 4, 29) == clock_of(engine, case.id, "dispatch_limit").last_day
        clock.set("2026-04-29T10:00")
        case = engine.fire(
            case.id, "dispatch", actor=CENTRE, payload={"departments": [ZHUJIAN, ZHIFA]}
        )  # ②
        assert ("handling", GRID) == (case.state, case.org)
        items = {c.name: c for c in engine.clocks(case.id) if "@" in c.name}
        # Apr 30, (May 1-5 off), May 6, 7, 8, Sat 9 (make-up workday)
        assert {
            f"department_limit@{ZHUJIAN}": dt.date(2026, 5, 9),
            f"department_limit@{ZHIFA}": dt.date(2026, 5, 9),
        } == {n: c.last_day for n, c in items.items()}
        assert "stopped" == clock_of(engine, case.id, "dispatch_limit").status
        clock.set("2026-05-07T11:00")  # ③ 部门联动处置: the township's team is done first
        with pytest.raises(Forbidden, match="cannot report"):
            engine.report_item(case.id, ZHUJIAN, actor=ZHIFA_STAFF, result={"done": "x"})
        case = engine.report_item(
            case.id, ZHIFA, actor=ZHIFA_STAFF, result={"done": "清理排水沟淤泥"}
        )
        assert "handling" == case.state
        clock.set("2026-05-08T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-05-09T00:00")  # ④ 催办, yellow: one working day left
        assert 1 == engine.fire_due().fired["warn"]
        assert [(("department",), ZHUJIAN)] == sent_for(notifier, case.id)
        engine = fresh()
        clock.set("2026-05-10T00:00")  # red: 催办 again at the limit
        swept = engine.fire_due()
        assert (1, 1) == (swept.fired["breach"], swept.fired["escalate"])
        assert (("department",), ZHUJIAN) == sent_for(notifier, case.id)[-1]
        clock.set("2026-05-11T09:00")
        engine.fire(
            case.id,
            "supervise",
            actor=COUNTY_SUPERVISOR,
            payload={"instruction": "限5月12日前修复路面"},
        )
        clock.set("2026-05-12T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-05-13T00:00")  # 督办: the county's supervisor, 2 workdays after the limit
        assert 1 == engine.fire_due().fired["escalate"]
        assert [
            (("department",), ZHUJIAN),
            (("department",), ZHUJIAN),
            (("supervisor",), COUNTY),
        ] == sent_for(notifier, case.id)
        assert "督办" in notifier.sent[-1]["message"]
        late = [
            h.details
            for h in engine.history(case.id)
            if h.details.get("clock") == f"department_limit@{ZHUJIAN}"
            and h.details.get("action") == "escalated"
        ]
        assert [(1, ZHUJIAN), (2, COUNTY)] == [(e["step"], e["notified_org"]) for e in late]
        case = engine.get(case.id)
        assert ("handling", GRID) == (
            case.state,
            case.org,
        )  # 督办 tells; the event stays in its grid
        clock.set("2026-05-13T15:00")
        case = engine.report_item(
            case.id, ZHUJIAN, actor=ZHUJIAN_STAFF, result={"done": "路面修复"}
        )
        assert "visiting" == case.state  # ⑤ 办结回访问效
        assert {ZHIFA: ("done", ZHIFA_STAFF.id), ZHUJIAN: ("done", ZHUJIAN_STAFF.id)} == {
            i.item: (i.status, i.closed_by) for i in engine.work_items(case.id)
        }
        assert dt.date(2026, 5, 18) == clock_of(engine, case.id, "visit_limit").last_day
        clock.set("2026-05-14T10:00")
        engine = fresh()
        case = engine.fire(
            case.id,
            "evaluate",
            actor=REPORTER,
            payload={"satisfaction": "unsatisfied", "comment": "路面仍有积水"},
        )
        assert ("reopened", "unsatisfied") == (case.state, case.data["satisfaction"])
        assert dt.date(2026, 5, 15) == clock_of(engine, case.id, "dispatch_limit").last_day
        for bad in ({"departments": [ZHUJIAN]}, {"departments": [ZHUJIAN], "reopened": False}):
            with pytest.raises(DataValidationError, match="reopened"):
                engine.fire(case.id, "redispatch", actor=CENTRE, payload=bad)
        clock.set("2026-05-14T16:00")
        case = engine.fire(
            case.id,
            "redispatch",
            actor=CENTRE,
            payload={"departments": [ZHUJIAN], "reopened": True},
        )
        assert ("handling", True) == (case.state, case.data["reopened"])
        # May 15, 18, 19, 20, 21
        assert (
            dt.date(2026, 5, 21)
            == clock_of(engine, case.id, f"department_limit@{ZHUJIAN}").last_day
        )
        clock.set("2026-05-19T11:00")
        case = engine.report_item(
            case.id, ZHUJIAN, actor=ZHUJIAN_STAFF, result={"done": "加设排水管"}
        )
        clock.set("2026-05-20T10:00")
        case = engine.fire(
            case.id, "evaluate", actor=REPORTER, payload={"satisfaction": "satisfied"}
        )
        assert ("closed", "completed", "satisfied") == (
            case.state,
            case.status,
            case.data["satisfaction"],
        )
        assert "success" == engine.workflow("grid_event").states["closed"].outcome
        assert [
            ("dispatch", "handling"),
            ("supervise", "handling"),
            ("all_done", "visiting"),
            ("evaluate", "reopened"),
            ("redispatch", "handling"),
            ("all_done", "visiting"),
            ("evaluate", "closed"),
        ] == transitions(engine, case.id)
        assert 3 == len(sent_for(notifier, case.id))  # nothing late in the second round


class TestClosing:
    def test_reopen_only_once_and_monthly_figures(self, fresh, clock):
        """On the spot, satisfied, and unsatisfied twice: 2 of 3 successes, half the ratings satisfied."""
        engine = fresh()
        clock.set("2026-06-01T09:00")
        spot = engine.start("grid_event", data={**EVENT, "category": "环境卫生"}, actor=GRID_WORKER)
        spot = engine.fire(
            spot.id, "settle_on_spot", actor=GRID_WORKER, payload={"resolution": "现场清理垃圾"}
        )
        assert ("closed_on_spot", GRID) == (spot.state, spot.org)  # 小事不出网格
        happy = dispatched(engine, clock, [ZHIFA], "2026-06-01T10:00")
        engine.report_item(happy.id, ZHIFA, actor=ZHIFA_STAFF)
        engine.fire(happy.id, "evaluate", actor=GRID_WORKER, payload={"satisfaction": "satisfied"})
        unhappy = dispatched(engine, clock, [ZHIFA], "2026-06-01T11:00")
        engine.report_item(unhappy.id, ZHIFA, actor=ZHIFA_STAFF)
        assert (
            "reopened"
            == engine.fire(
                unhappy.id, "evaluate", actor=REPORTER, payload={"satisfaction": "unsatisfied"}
            ).state
        )
        engine.fire(
            unhappy.id,
            "redispatch",
            actor=CENTRE,
            payload={"departments": [ZHIFA], "reopened": True},
        )
        engine.report_item(unhappy.id, ZHIFA, actor=ZHIFA_STAFF)
        final = engine.fire(
            unhappy.id, "evaluate", actor=REPORTER, payload={"satisfaction": "unsatisfied"}
        )
        assert ("closed_unsatisfied", "completed") == (final.state, final.status)
        assert "failure" == engine.workflow("grid_event").states["closed_unsatisfied"].outcome
        month = report(
            engine, since=dt.date(2026, 6, 1), until=dt.date(2026, 7, 1), workflow="grid_event"
        )
        total = month.total
        assert (3, 1, 1, 1) == (
            total.closed,
            total.closed_in("closed_on_spot"),
            total.closed_in("closed"),
            total.closed_in("closed_unsatisfied"),
        )
        assert (pytest.approx(2 / 3), 0.5, 2) == (
            total.success_rate,
            total.satisfied_share,
            total.satisfaction_texts,
        )


class TestAuthorisation:
    def test_other_grid_wrong_role_unknown_unit(self, fresh, clock):
        """Another village's grid worker, a department dispatching, an unknown unit: refused, nothing written."""
        engine = fresh()
        clock.set("2026-06-01T09:00")
        case = engine.start("grid_event", data=EVENT, actor=GRID_WORKER)
        history = engine.history(case.id)
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(
                case.id, "settle_on_spot", actor=OTHER_GRID_WORKER, payload={"resolution": "x"}
            )
        with pytest.raises(Forbidden, match="requires one of the roles: dispatcher"):
            engine.fire(
                case.id, "dispatch", actor=ZHUJIAN_STAFF, payload={"departments": [ZHUJIAN]}
            )
        with pytest.raises(InvalidEvent, match="unknown org units: jiaoling/nowhere"):
            engine.fire(
                case.id,
                "dispatch",
                actor=CENTRE,
                payload={"departments": [ZHUJIAN, "jiaoling/nowhere"]},
            )
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(
                case.id,
                "dispatch",
                actor=Actor("jc", {"dispatcher"}, "jiaoling/jiaocheng"),
                payload={"departments": [ZHUJIAN]},
            )
        assert case == engine.get(case.id)
        assert history == engine.history(case.id)
        assert [] == engine.work_items(case.id)
        case = engine.fire(case.id, "dispatch", actor=CENTRE, payload={"departments": [ZHUJIAN]})
        with pytest.raises(InvalidEvent, match="no open work item"):
            engine.report_item(case.id, ZHIFA, actor=ZHIFA_STAFF)
        with pytest.raises(Forbidden, match="automatic"):
            engine.fire(case.id, "all_done", actor=CENTRE)

    def test_work_items_keep_the_first_round(self, fresh, clock):
        """After a reopen, work_items still lists the first round's items ("every work item the case has had")."""
        engine = fresh()
        case = dispatched(engine, clock, [ZHIFA, ZHUJIAN])
        engine.report_item(case.id, ZHIFA, actor=ZHIFA_STAFF)
        engine.report_item(case.id, ZHUJIAN, actor=ZHUJIAN_STAFF)
        engine.fire(case.id, "evaluate", actor=REPORTER, payload={"satisfaction": "unsatisfied"})
        engine.fire(
            case.id,
            "redispatch",
            actor=CENTRE,
            payload={"departments": [ZHUJIAN], "reopened": True},
        )
        assert 3 == len(engine.work_items(case.id))


class TestReferredForApproval:
    """A matter that needs a licence goes to the service centre as a linked approval case;
    the grid event waits for the approval's result and then goes to the closing visit."""

    CLERK = Actor("sanzhen.window", {"window_clerk"}, SANZHEN)
    REVIEWER = Actor("sanzhen.review", {"reviewer"}, SANZHEN)
    HEAD = Actor("sanzhen.head", {"agency_head"}, SANZHEN)
    ISSUER = Actor("sanzhen.issue", {"issuing_clerk"}, SANZHEN)

    def _referred(self, engine, clock):
        clock.set("2026-09-28T09:00")
        case = engine.start("grid_event", data={**EVENT, "category": "民生服务"}, actor=GRID_WORKER)
        payload = {"applicant": "陈某", "matter": "小餐饮登记 (村口早餐店)"}
        case = engine.fire(case.id, "refer_for_approval", actor=CENTRE, payload=payload)
        assert case.state == "awaiting_approval"
        engine.fire_due()
        (child,) = engine.children(case.id)
        assert (child.workflow, child.state, child.org) == (
            "administrative_approval",
            "submitted",
            GRID,
        )
        assert child.data == {"applicant": "陈某", "matter": "小餐饮登记 (村口早餐店)",
                              "delivery": "window"}  # fmt: skip
        return case, child

    def test_a_licence_granted_brings_the_event_to_the_visit(self, fresh, clock):
        engine = fresh()
        case, child = self._referred(engine, clock)
        engine.fire(child.id, "accept", actor=self.CLERK)
        engine.fire(child.id, "start_review", actor=self.REVIEWER)
        clock.set("2026-10-09T10:00")  # after National Day
        engine.fire(child.id, "decide", actor=self.HEAD, payload={"decision": "approve"})
        engine.fire(child.id, "issue", actor=self.ISSUER)
        engine.fire(child.id, "collect", actor=self.ISSUER)
        done = engine.fire(child.id, "rate", actor=self.CLERK, payload={"satisfaction": "满意"})
        assert (done.state, done.status) == ("collected", "completed")
        engine.fire_due()
        assert engine.get(case.id).state == "visiting"
        assert ("approval_granted", "visiting") == transitions(engine, case.id)[-1]

    def test_a_refusal_also_comes_back_to_be_told(self, fresh, clock):
        engine = fresh()
        case, child = self._referred(engine, clock)
        refusal = {"reason": "不属于本机关职权范围", "remedy": "可向县市场监管局申请"}
        engine.fire(child.id, "refuse", actor=self.CLERK, payload=refusal)
        engine.fire(child.id, "rate", actor=self.CLERK, payload={"satisfaction": "基本满意"})
        assert engine.get(child.id).state == "not_accepted"
        engine.fire_due()
        assert ("approval_refused", "visiting") == transitions(engine, case.id)[-1]
