"""
``report()`` and ``caseflow report`` on real 2026 dates, SQLite and PostgreSQL: cases of a
small mediation, a small 12345 and a small rated (好差评) workflow run through the engine,
each figure checked: the cases created in the period, what closed in it (whenever
opened), and the ratings of the period.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from caseflow import Actor
from caseflow.cli import cli
from caseflow.errors import CaseflowError
from caseflow.orgs import OrgUnit
from caseflow.reports import (
    SATISFIED,
    ClockFigures,
    LevelCount,
    OrgMove,
    RatingFigures,
    StateCount,
    report,
)
from caseflow.store.tables import clocks

if TYPE_CHECKING:
    from pathlib import Path

    from caseflow.testing import MovableClock

SH = ZoneInfo("Asia/Shanghai")
MEDIATION = """\
workflow: test_mediation
version: 1
title: 矛盾纠纷调处 (test)
roles: [mediator, supervisor]
data: {type: object}
states:
  intake: {initial: true}
  mediating: {}
  agreed: {final: true, outcome: success}
  failed: {final: true, outcome: failure}
  withdrawn: {final: true}
events:
  accept: {from: intake, to: mediating, roles: [mediator]}
  agree: {from: mediating, to: agreed, roles: [mediator]}
  fail: {from: mediating, to: failed, roles: [mediator]}
  withdraw: {from: [intake, mediating], to: withdrawn, roles: [mediator]}
clocks:
  mediation:
    limit: 30 days
    runs_in: [mediating]
    escalate:
      - {after: 0 days, to_org: parent, notify: [supervisor]}
      - {after: 5 days, notify: [supervisor]}
"""
HOTLINE = """\
workflow: test_hotline
version: 1
title: 12345 热线 (test)
roles: [operator, department]
data: {type: object}
states:
  received: {initial: true}
  resolved_on_call: {final: true, outcome: success, title: 当场解决}
  referred: {title: 转职能部门}
  handled: {title: 部门已办理}
  closed: {final: true, outcome: success, title: 办结}
events:
  resolve_on_call: {from: received, to: resolved_on_call, roles: [operator]}
  refer: {from: received, to: referred, roles: [operator]}
  handle: {from: referred, to: handled, roles: [department]}
  close: {from: handled, to: closed, roles: [operator]}
"""
RATED = """\
workflow: test_rated
version: 1
title: 好差评 (test)
roles: [clerk, applicant]
data:
  type: object
  properties:
    satisfaction: {enum: [非常满意, 满意, 基本满意, 不满意, 非常不满意]}
    rectification: {type: string}
states:
  handling: {initial: true}
  rating: {}
  rectification: {}
  done: {final: true, outcome: success}
events:
  finish: {from: handling, to: rating, roles: [clerk]}
  rate:
    from: rating
    roles: [applicant]
    payload: {type: object, required: [satisfaction]}
    to:
      - {to: rectification, when: "payload.satisfaction in ['不满意', '非常不满意']"}
      - {to: done}
  lapsed: {from: rating, to: done, automatic: true}
  rectified: {from: rectification, to: done, roles: [clerk]}
clocks:
  rating_window: {limit: 7 days, runs_in: [rating], on_breach: {fire: lapsed}}
  rectification: {limit: 5 workdays, runs_in: [rectification]}
"""

V1 = "county/townA/village1"
V2 = "county/townA/village2"
V3 = "county/townB/village3"
TOWN_A = "county/townA"
MARCH, MAY = dt.date(2026, 3, 1), dt.date(2026, 5, 1)
OPERATOR = Actor("op-1", {"operator"}, "county")


@pytest.fixture
def workflows_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "test_mediation.yaml").write_text(MEDIATION, encoding="utf-8")
    (folder / "test_hotline.yaml").write_text(HOTLINE, encoding="utf-8")
    (folder / "test_rated.yaml").write_text(RATED, encoding="utf-8")
    return folder


@pytest.fixture
def engine(make_engine, workflows_dir):
    return make_engine(workflows=workflows_dir)


def mediator(org: str) -> Actor:
    return Actor(f"mediator@{org}", {"mediator"}, org)


def open_case(engine, clock: MovableClock, when: str, org: str) -> str:
    clock.set(when)
    case = engine.start("test_mediation", actor=mediator(org), data={})
    engine.fire(case.id, "accept", actor=mediator(org))
    return case.id


def fire(engine, clock: MovableClock, when: str, case_id: str, event: str, **payload) -> None:
    clock.set(when)
    org = engine.get(case_id).org
    engine.fire(case_id, event, actor=mediator(org), payload=payload or None)


@pytest.fixture
def mediation(engine, clock: MovableClock) -> dict[str, str]:
    """
    Cases of spring 2026 (local times), in time order. The period is March and April.

    H  Feb 27, closed Mar 2: created before the period, not counted.
    A  Mar 2  village1, agreed Mar 12 (10 days), satisfaction 5.
    B  Mar 3  village1, agreed Mar 23 (20 days), satisfaction 4.
    C  Mar 4  village2, failed Mar 10 21:00 (6.5 days), "dissatisfied".
    D  Mar 5  village2: 30 days end on Sat 4 Apr, Qingming (4-6 Apr), so the limit rolls
       to the end of Tue 7 Apr (民法典 art. 203); breaches at 24:00, escalates to townA
       (level 1), level 2 five days later; agreed Apr 20 (46 days, late), "satisfied".
    E  Mar 9  village3, withdrawn at 15:00 (0.25 days): a final state with no outcome.
    J  Mar 10 townA itself, agreed Mar 11 (1 day), satisfaction 3.
    F  Mar 16 village3, cancelled by an operator Mar 20 (4 days).
    G  Apr 20 village3, agreed May 6: after the period, so still open at its end.
    I  May 1 00:00 village1: created at the end of the period, not counted.
    """
    ids: dict[str, str] = {}
    ids["H"] = open_case(engine, clock, "2026-02-27T09:00", V1)
    fire(engine, clock, "2026-03-02T09:00", ids["H"], "agree")
    ids["A"] = open_case(engine, clock, "2026-03-02T09:00", V1)
    ids["B"] = open_case(engine, clock, "2026-03-03T09:00", V1)
    ids["C"] = open_case(engine, clock, "2026-03-04T09:00", V2)
    ids["D"] = open_case(engine, clock, "2026-03-05T09:00", V2)
    ids["E"] = open_case(engine, clock, "2026-03-09T09:00", V3)
    fire(engine, clock, "2026-03-09T15:00", ids["E"], "withdraw")
    ids["J"] = open_case(engine, clock, "2026-03-10T09:00", TOWN_A)
    fire(engine, clock, "2026-03-10T21:00", ids["C"], "fail", satisfaction="dissatisfied")
    fire(engine, clock, "2026-03-11T09:00", ids["J"], "agree", satisfaction=3)
    fire(engine, clock, "2026-03-12T09:00", ids["A"], "agree", satisfaction=5)
    ids["F"] = open_case(engine, clock, "2026-03-16T09:00", V3)
    clock.set("2026-03-20T09:00")
    engine.cancel(ids["F"], actor=OPERATOR, reason="both parties withdrew")
    fire(engine, clock, "2026-03-23T09:00", ids["B"], "agree", satisfaction=4)
    clock.set("2026-04-08T00:00")
    assert {"breach": 1, "escalate": 1, "notify": 1} == dict(engine.fire_due().fired)
    assert (TOWN_A, 1) == (engine.get(ids["D"]).org, engine.get(ids["D"]).escalation_level)
    clock.set("2026-04-14T00:00")
    assert 1 == engine.fire_due().fired["escalate"]
    fire(engine, clock, "2026-04-20T09:00", ids["D"], "agree", satisfaction="satisfied")
    ids["G"] = open_case(engine, clock, "2026-04-20T09:00", V3)
    clock.set("2026-05-01T00:00")
    ids["I"] = engine.start("test_mediation", actor=mediator(V1), data={}).id
    fire(engine, clock, "2026-05-06T09:00", ids["G"], "agree")
    return ids


def mediation_clock(
    finished: int, on_time: int, median: float | None, limit: float | None
) -> tuple[ClockFigures, ...]:
    return (ClockFigures("mediation", finished, on_time, finished, median, limit),)


def agreed(n: int) -> StateCount:
    return StateCount("test_mediation", "agreed", "success", n)


def counts(row) -> tuple[int, ...]:
    return (row.opened, row.closed, row.completed, row.cancelled, row.still_open)


def outcomes(row) -> tuple[int, int, float | None]:
    return (row.successes, row.with_outcome, row.success_rate)


def satisfaction(row) -> tuple[float | None, int, float | None, int]:
    return (row.satisfaction_mean, row.satisfaction_n, row.satisfied_share, row.satisfaction_texts)


class TestMediationReport:
    def test_by_org(self, engine, mediation):
        found = report(engine, since=MARCH, until=MAY)
        assert [TOWN_A, V1, V2, V3] == [r.key for r in found.rows]
        town_a, v1, v2, v3 = found.rows
        # D was moved up to townA by its escalation and is counted there, with J.
        assert (2, 2, 2, 0, 0) == counts(town_a)
        # D: 46 days against a limit of 33 days 15 hours (09:00 Mar 5 to 24:00 Apr 7), late;
        # J: 1 day against 30 days 15 hours.
        assert mediation_clock(2, 1, 23.5, 32.125) == town_a.clocks
        assert 0.5 == town_a.on_time_rate
        assert (agreed(2),) == town_a.final_states
        assert (2, 2, 1.0) == outcomes(town_a)
        assert (LevelCount(1, 1), LevelCount(2, 1)) == town_a.escalations
        assert (OrgMove(V2, TOWN_A, 1),) == town_a.org_moves
        assert (3.0, 1, 1.0, 1) == satisfaction(town_a)

        assert (2, 2, 2, 0, 0) == counts(v1)
        assert mediation_clock(2, 2, 15.0, 30.625) == v1.clocks
        assert ((agreed(2),), 1.0) == (v1.final_states, v1.success_rate)
        assert ((), ()) == (v1.escalations, v1.org_moves)
        assert (4.5, 2, None, 0) == satisfaction(v1)

        assert (1, 1, 1, 0, 0) == counts(v2)
        assert mediation_clock(1, 1, 6.5, 30.625) == v2.clocks
        assert (StateCount("test_mediation", "failed", "failure", 1),) == v2.final_states
        assert ((0, 1, 0.0), (None, 0, 0.0, 1)) == (outcomes(v2), satisfaction(v2))

        # E withdrawn (no outcome), F cancelled, G still open at the end of April; G's clock
        # stopped on May 6, after the period: neither on time nor late as of its end.
        assert (3, 2, 1, 1, 1) == counts(v3)
        assert mediation_clock(2, 2, 2.125, 30.625) == v3.clocks
        assert (StateCount("test_mediation", "withdrawn", None, 1),) == v3.final_states
        assert ((0, 0, None), (None, 0, None, 0)) == (outcomes(v3), satisfaction(v3))

    def test_total(self, engine, mediation):
        total = report(engine, since=MARCH, until=MAY).total
        assert ("total", (8, 7, 6, 1, 1)) == (total.key, counts(total))
        # days to close 0.25, 1, 4, 6.5, 10, 20, 46; limits 30.625 six times and 33.625
        assert mediation_clock(7, 6, 6.5, 30.625) == total.clocks
        assert 6 / 7 == total.on_time_rate
        assert (
            agreed(4),
            StateCount("test_mediation", "failed", "failure", 1),
            StateCount("test_mediation", "withdrawn", None, 1),
        ) == total.final_states
        # the mediation success rate (seed 003's 93%): agreed / (agreed + failed)
        assert (4, 5, 0.8) == outcomes(total)
        assert (4, 1) == (total.closed_in("agreed"), total.closed_in("failed", "test_mediation"))
        assert ((LevelCount(1, 1), LevelCount(2, 1)), 2) == (total.escalations, total.escalated)
        assert (OrgMove(V2, TOWN_A, 1),) == total.org_moves
        assert (4.0, 3, 0.5, 2) == satisfaction(total)

    def test_rolled_up_by_depth_level_and_workflow(self, engine, mediation):
        by_town = report(engine, since=MARCH, until=MAY, depth=2)
        assert [TOWN_A, "county/townB"] == [r.key for r in by_town.rows]
        town_a = by_town.rows[0]
        assert ((5, 5, 5, 0, 0), (4, 5, 0.8)) == (counts(town_a), outcomes(town_a))
        # medians over the five cases of townA and its villages: 1, 6.5, 10, 20, 46
        assert mediation_clock(5, 4, 10.0, 30.625) == town_a.clocks
        county = report(engine, since=MARCH, until=MAY, depth=1)
        assert ["county"] == [r.key for r in county.rows]
        assert county.rows[0].to_dict() == {**county.total.to_dict(), "key": "county"}

        levels = report(engine, since=MARCH, until=MAY, by="org_level")
        assert ["2", "3"] == [r.key for r in levels.rows]
        level2, level3 = levels.rows
        assert ((2, 2, 2, 0, 0), 2) == (counts(level2), level2.escalated)
        assert (6, 5, 4, 1, 1) == counts(level3)
        assert mediation_clock(5, 5, 6.5, 30.625) == level3.clocks
        # with an org tree, its level names; a unit it does not know keeps its depth
        engine.load_orgs(
            [
                OrgUnit("county", "县", "county", None),
                OrgUnit(TOWN_A, "甲镇", "township", "county"),
                *(OrgUnit(v, v, "village", TOWN_A) for v in (V1, V2)),
            ]
        )
        named = report(engine, since=MARCH, until=MAY, by="org_level")
        assert ["township", "3", "village"] == [r.key for r in named.rows]  # top down
        assert [2, 3, 3] == [r.opened for r in named.rows]
        assert mediation_clock(3, 3, 10.0, 30.625) == named.row("village").clocks

        per_workflow = report(engine, since=MARCH, until=MAY, by="workflow")
        assert ["test_mediation"] == [r.key for r in per_workflow.rows]
        assert per_workflow.rows[0].to_dict() == {
            **per_workflow.total.to_dict(),
            "key": "test_mediation",
        }

    def test_filters(self, engine, mediation):
        sub = report(engine, since=MARCH, until=MAY, org=TOWN_A)
        assert ([TOWN_A, V1, V2], 5) == ([r.key for r in sub.rows], sub.total.opened)
        exact = report(engine, since=MARCH, until=MAY, org=TOWN_A + "/", include_sub_orgs=False)
        assert ([TOWN_A], 2) == ([r.key for r in exact.rows], exact.total.opened)
        other = report(engine, since=MARCH, until=MAY, workflow="test_hotline")
        assert ((), 0, ()) == (other.rows, other.total.opened, other.total.clocks)
        assert (None, None) == (other.total.on_time_rate, other.total.success_rate)
        # a datetime period: from A's creation (inclusive) to B's (exclusive)
        start = dt.datetime(2026, 3, 2, 9, tzinfo=SH)
        only_a = report(engine, since=start, until=start + dt.timedelta(days=1))
        assert ([V1], 1) == ([r.key for r in only_a.rows], only_a.total.opened)

    def test_counted_as_of_the_end_of_the_period(self, engine, mediation):
        """Up to 10 Apr: D has breached and escalated once but is still open."""
        found = report(engine, since=MARCH, until=dt.date(2026, 4, 10))
        town_a = found.row(TOWN_A)
        assert (2, 1, 1, 0, 1) == counts(town_a)
        # D's clock breached before the end: finished and late, though it has not stopped
        clock = town_a.clock("mediation")
        assert clock is not None
        assert ClockFigures("mediation", 2, 1, 1, 1.0, 30.625) == clock
        assert (LevelCount(1, 1),) == town_a.escalations
        assert (OrgMove(V2, TOWN_A, 1),) == town_a.org_moves
        assert (agreed(1),) == town_a.final_states
        # satisfaction counts closed cases only: D's "satisfied" came with its closing
        assert (3.0, 1, None, 0) == satisfaction(town_a)

    def test_work_item_clocks_count_under_their_clock(self, engine, mediation):
        """Per-unit clocks of parallel handling are named clock@unit; reported as the clock."""
        start = dt.datetime(2026, 3, 2, 9, tzinfo=SH)
        base = {"case_id": mediation["A"], "phase": "stopped", "started_at": start, "pauses": []}
        base |= {"extensions": 0, "provisional": False, "escalation_step": 0}
        base["due_at"] = start + dt.timedelta(days=5)
        rows = [
            {**base, "name": f"review@{unit}", "stopped_at": start + dt.timedelta(days=d)}
            for unit, d in (("water", 2), ("power", 6))
        ]
        with engine.db.begin() as conn:
            conn.execute(clocks.insert(), rows)
        figures = report(engine, since=MARCH, until=MAY).row(V1).clock("review")
        assert ClockFigures("review", 2, 1, 2, 4.0, 5.0) == figures

    def test_bad_arguments(self, engine):
        with pytest.raises(CaseflowError, match="empty period"):
            report(engine, since=MAY, until=MARCH)
        with pytest.raises(CaseflowError, match="by must be"):
            report(engine, since=MARCH, until=MAY, by="state")  # type: ignore[arg-type]
        with pytest.raises(CaseflowError, match="depth"):
            report(engine, since=MARCH, until=MAY, by="workflow", depth=2)


class TestClosedInThePeriod:
    def test_what_closed_whenever_opened(self, engine, mediation):
        """
        March and April: H (opened 27 Feb) closed on 2 Mar counts, G (closed 6 May) does
        not. Closed 8: 7 completed (agreed H, A, B, D, J; failed C; withdrawn E), 1
        cancelled (F). Clocks that stopped in the period: 8, D's late; days 0.25, 1, 4, 4,
        6.5, 10, 20, 46; limits 30.625 six times, 31.625 (H: 30 days from 27 Feb end Sun 29
        Mar, so Mon 30 Mar) and 33.625 (D).
        """
        total = report(engine, since=MARCH, until=MAY).total
        period = total.period
        assert (8, 7, 1) == (period.closed, period.completed, period.cancelled)
        assert (
            agreed(5),
            StateCount("test_mediation", "failed", "failure", 1),
            StateCount("test_mediation", "withdrawn", None, 1),
        ) == period.final_states
        assert (5, 6, 5 / 6, 5) == (
            period.successes,
            period.with_outcome,
            period.success_rate,
            period.closed_in("agreed"),
        )
        assert mediation_clock(8, 7, 5.25, 30.625) == period.clocks
        assert (8, 7, 7 / 8) == (period.finished_clocks, period.on_time, period.on_time_rate)
        assert (4.0, 3, 0.5, 2) == (
            period.satisfaction_mean,
            period.satisfaction_n,
            period.satisfied_share,
            period.satisfaction_texts,
        )
        # the created cohort is unchanged: 8 opened (not H), 7 closed by 1 May
        assert (8, 7) == (total.opened, total.closed)

    def test_a_month_counts_its_own_closures(self, engine, mediation):
        """April: of the cases created in April only G, still open; but D closed on 20 Apr
        (opened 5 Mar), late; May: G closed on 6 May, on time (I, opened 1 May, is open)."""
        april = report(engine, since=dt.date(2026, 4, 1), until=MAY)
        assert (1, 0) == (april.total.opened, april.total.closed)
        period = april.total.period
        assert ((agreed(1),), 0.0) == (period.final_states, period.on_time_rate)
        assert [TOWN_A] == [r.key for r in april.rows if r.period.closed]
        assert (1.0, 1) == (
            april.row(TOWN_A).period.satisfied_share,
            april.row(TOWN_A).period.satisfaction_texts,
        )
        may = report(engine, since=MAY, until=dt.date(2026, 6, 1)).total
        assert ((1, 0), (1, 1.0)) == (
            (may.opened, may.closed),
            (may.period.closed, may.period.on_time_rate),
        )

    def test_by_unit_and_in_json(self, engine, mediation):
        """Per unit: village1 closed H, A, B; the JSON form carries the derived figures."""
        found = report(engine, since=MARCH, until=MAY)
        v1 = found.row(V1).period
        assert (3, (agreed(3),), 1.0) == (v1.closed, v1.final_states, v1.on_time_rate)
        out = found.total.to_dict()["period"]
        assert (8, 5 / 6, 7 / 8, 8) == (
            out["closed"],
            out["success_rate"],
            out["on_time_rate"],
            out["finished_clocks"],
        )
        assert 7 / 8 == out["clocks"][0]["on_time_rate"]


@pytest.fixture
def rated(engine, clock: MovableClock) -> dict[str, str]:
    """
    好差评 in spring 2026 (local times). The period is March.

    P  village1, finished Mon 2 Mar, rated 满意 Tue 3 Mar: good.
    Q  village1, finished 2 Mar, rated 不满意 Wed 4 Mar; rectification (5 workdays, to Wed
       11 Mar) answered Tue 10 Mar: in time.
    R  village2, finished Mon 23 Mar, rated 非常不满意 Wed 25 Mar; rectification due Wed 1
       Apr, breached, answered Fri 3 Apr: late, and after March.
    S  village2, finished Fri 20 Mar, not rated: the 7 days end Fri 27 Mar, closed unrated.
    U  village1, finished Mon 30 Mar: its window (to Tue 7 Apr, Qingming rolled) is open at
       the end of March; rated 满意 Thu 2 Apr.
    T  village1, finished Mon 27 Apr, rated 基本满意 Tue 28 Apr.
    """
    applicant = Actor("citizen", {"applicant"})

    def finished(when: str, org: str) -> str:
        clock.set(when)
        clerk = Actor(f"clerk@{org}", {"clerk"}, org)
        case = engine.start("test_rated", actor=clerk, data={})
        return engine.fire(case.id, "finish", actor=clerk).id

    def act(when: str, case_id: str, event: str, **payload: str) -> None:
        clock.set(when)
        who = applicant if event == "rate" else Actor("clerk", {"clerk"}, engine.get(case_id).org)
        engine.fire(case_id, event, actor=who, payload=payload or None)

    ids = {
        "P": finished("2026-03-02T09:00", V1),
        "Q": finished("2026-03-02T09:30", V1),
    }
    act("2026-03-03T10:00", ids["P"], "rate", satisfaction="满意")
    act("2026-03-04T10:00", ids["Q"], "rate", satisfaction="不满意")
    act("2026-03-10T10:00", ids["Q"], "rectified", rectification="已整改")
    ids["S"] = finished("2026-03-20T09:00", V2)
    ids["R"] = finished("2026-03-23T10:00", V2)
    act("2026-03-25T10:00", ids["R"], "rate", satisfaction="非常不满意")
    clock.set("2026-03-28T00:00")
    assert 1 == engine.fire_due().fired["breach"]  # S's window: closed unrated
    ids["U"] = finished("2026-03-30T09:00", V1)
    act("2026-04-02T10:00", ids["U"], "rate", satisfaction="满意")
    clock.set("2026-04-02T00:00")
    engine.fire_due()  # R's rectification breaches
    act("2026-04-03T10:00", ids["R"], "rectified", rectification="已整改并回访")
    ids["T"] = finished("2026-04-27T09:00", V1)
    act("2026-04-28T10:00", ids["T"], "rate", satisfaction="基本满意")
    return ids


class TestRatings:
    def test_march(self, engine, rated):
        """
        March: 4 windows closed (P, Q, R rated; S unrated); good 1 of 3 rated, unrated 1 of
        4; of the 2 bad ratings, Q's rectification was answered (in time) by 1 Apr, R's not.
        """
        found = report(engine, since=MARCH, until=dt.date(2026, 4, 1))
        total = found.total.rating
        assert RatingFigures(4, 3, 1, 2, 1, 1) == total
        assert (1, 1 / 3, 0.25, 0.5) == (
            total.unrated,
            total.good_rate,
            total.unrated_rate,
            total.rectification_rate,
        )
        assert RatingFigures(2, 2, 1, 1, 1, 1) == found.row(V1).rating
        v2 = found.row(V2).rating
        assert (RatingFigures(2, 1, 0, 1, 0, 0), 0.0, 0.5) == (
            v2,
            v2.rectification_rate,
            v2.unrated_rate,
        )

    def test_march_and_april(self, engine, rated):
        """March and April: U and T rated good too; R's late rectification now counts as
        answered, not in time."""
        total = report(engine, since=MARCH, until=MAY).total.rating
        assert (RatingFigures(6, 5, 3, 2, 2, 1), 0.6, 1.0) == (
            total,
            total.good_rate,
            total.rectification_rate,
        )
        out = report(engine, since=MARCH, until=MAY).total.to_dict()["rating"]
        assert (6, 1, 0.6, 1 / 6, 1.0) == (
            out["offered"],
            out["unrated"],
            out["good_rate"],
            out["unrated_rate"],
            out["rectification_rate"],
        )

    def test_windows_are_left_out_of_on_time(self, engine, rated):
        """S's rating window ran out unrated: a normal end, not lateness. The on-time totals
        count the limits only: the rectifications, Q's in time, R's late; told to count
        every clock, the report does."""
        total = report(engine, since=MARCH, until=MAY).total
        window, fix = total.clock("rating_window"), total.clock("rectification")
        assert window is not None
        assert fix is not None
        assert ((True, 6, 5), (False, 2, 1)) == (
            (window.window, window.finished, window.on_time),
            (fix.window, fix.finished, fix.on_time),
        )
        assert ((2, 1, 0.5), 0.5) == (
            (total.finished_clocks, total.on_time, total.on_time_rate),
            total.period.on_time_rate,
        )
        every = report(engine, since=MARCH, until=MAY, windows=()).total
        assert (8, 6) == (every.finished_clocks, every.on_time)

    def test_other_clock_names(self, engine, rated):
        """A deployment whose rating stage has other clock names says so."""
        none = report(engine, since=MARCH, until=MAY, rating_clock="evaluation_window")
        assert RatingFigures() == none.total.rating
        other = report(engine, since=MARCH, until=MAY, rectification_clock="zhenggai")
        assert (2, 0) == (other.total.rating.bad, other.total.rating.rectified)


class TestSatisfiedByDefault:
    def test_good_levels_count(self, engine, rated):
        """The satisfied share counts 非常满意, 满意 and 基本满意 (and the codes satisfied,
        basically_satisfied) unless told otherwise; the CLI spells the same default out."""
        from caseflow.cli import report as report_cli

        assert SATISFIED == report_cli.SATISFIED
        total = report(engine, since=MARCH, until=MAY).total
        assert (0.6, 5) == (total.satisfied_share, total.satisfaction_texts)
        strict = report(engine, since=MARCH, until=MAY, satisfied=["满意"]).total
        assert 0.4 == strict.satisfied_share


def test_hotline_resolved_on_the_call_vs_by_departments(engine, clock):
    """Seed 004 (Zigui 12345): 9,752 of 14,074 calls resolved on the call, 4,322 by
    departments. Scaled down: 97 and 43 calls on 1 June 2026, one a minute."""
    clock.set("2026-06-01T08:00")
    for n in range(140):
        clock.advance(minutes=1)
        case = engine.start("test_hotline", actor=OPERATOR, org="hubei/yichang/zigui", data={})
        if n < 97:
            engine.fire(case.id, "resolve_on_call", actor=OPERATOR)
        else:
            engine.fire(case.id, "refer", actor=OPERATOR)
            engine.fire(case.id, "handle", actor=Actor("dept", {"department"}, "zigui/water"))
            engine.fire(case.id, "close", actor=OPERATOR)
    june = {"since": dt.date(2026, 6, 1), "until": dt.date(2026, 7, 1)}
    row = report(engine, **june, workflow="test_hotline", by="workflow").row("test_hotline")
    assert (140, 140, 0) == (row.opened, row.closed, row.still_open)
    assert (97, 43) == (row.closed_in("resolved_on_call"), row.closed_in("closed"))
    assert (
        StateCount("test_hotline", "resolved_on_call", "success", 97),
        StateCount("test_hotline", "closed", "success", 43),
    ) == row.final_states
    assert 1.0 == row.success_rate


class TestCommand:
    def invoke(self, db_url: str, workflows_dir: Path, *args: str) -> str:
        period = ["--since", "2026-03-01", "--until", "2026-05-01"]
        options = ["--db", db_url, "--workflows", str(workflows_dir), *period]
        result = CliRunner().invoke(cli, ["report", *options, *args], env={"COLUMNS": "160"})
        assert 0 == result.exit_code, result.output
        return result.output

    def test_json(self, db_url, workflows_dir, mediation):
        out = json.loads(self.invoke(db_url, workflows_dir, "--json", "--depth", "2"))
        assert ["county/townA", "county/townB"] == [r["key"] for r in out["rows"]]
        assert "2026-03-01T00:00:00+08:00" == out["since"]
        total = out["total"]
        assert [8, 7, 1, 0.8] == [
            total[k] for k in ("opened", "closed", "still_open", "success_rate")
        ]
        assert [{"level": 1, "count": 1}, {"level": 2, "count": 1}] == total["escalations"]
        keys = ("clock", "finished", "on_time", "stopped", "median_days", "median_limit_days")
        assert ["mediation", 7, 6, 7, 6.5, 30.625] == [total["clocks"][0][k] for k in keys]
        assert 6 / 7 == total["clocks"][0]["on_time_rate"] == total["on_time_rate"]

    def test_csv(self, db_url, workflows_dir, mediation):
        lines = list(csv.DictReader(io.StringIO(self.invoke(db_url, workflows_dir, "--csv"))))
        assert [TOWN_A, V1, V2, V3, "total"] == [r["unit"] for r in lines]
        total = lines[-1]
        keys = [
            "opened",
            "closed",
            "still_open",
            "escalations:level 2",
            "clock:mediation:median_days",
        ]
        keys += ["closed:test_mediation/agreed", "closed:test_mediation/failed"]
        assert ["8", "7", "1", "1", "6.5", "4", "1"] == [total[k] for k in keys]
        assert "30.625" == total["clock:mediation:median_limit_days"]
        assert "" == lines[0]["closed:test_mediation/failed"]

    def test_table(self, db_url, workflows_dir, mediation):
        out = self.invoke(db_url, workflows_dir, "--by", "org_level")
        assert "cases created 2026-03-01 to 2026-04-30" in out
        assert "85.7%" in out  # on time: 6 of 7 clocks
        assert "80.0%" in out  # success: 4 of 5 with an outcome
        assert "L1:1 L2:1" in out
        assert "county/townA/village2" in out  # the org move
        assert "withdrawn" in out

    def test_closed_in_the_period_and_ratings(self, db_url, workflows_dir, mediation, rated):
        """The table shows what closed in the period and the 好差评 figures; JSON and CSV
        carry them as fields."""
        out = self.invoke(db_url, workflows_dir)
        flat = " ".join(out.split())
        assert "Closed 2026-03-01 to 2026-04-30, whenever opened" in flat
        assert "好差评: ratings of the period" in flat
        assert "3 (60.0%)" in flat  # good: P, U, T of 5 rated
        assert "2 (100.0%)" in flat  # rectified: both bad ratings answered by 1 May
        total = json.loads(self.invoke(db_url, workflows_dir, "--json"))["total"]
        assert (14, 6) == (total["period"]["closed"], total["rating"]["offered"])
        lines = list(csv.DictReader(io.StringIO(self.invoke(db_url, workflows_dir, "--csv"))))
        row = lines[-1]
        assert ["14", "0.6", "1.0", "5"] == [
            row[k]
            for k in (
                "period_closed",
                "rating_good_rate",
                "rating_rectification_rate",
                "period_closed:test_mediation/agreed",
            )
        ]
        assert "6" == row["period_clock:rating_window:finished"]

    def test_rejects_bad_dates(self, db_url, workflows_dir):
        result = CliRunner().invoke(cli, ["report", "--db", db_url, "--since", "March"])
        assert 2 == result.exit_code
        assert "not a date" in result.output
