"""
四议两公开 (seed 000, Tanniu) on real 2026 dates: one matter resolved by the representative
meeting (secret ballot), one by the villager assembly counted by households (show of hands).

National Day 2026 is Thu 1 Oct to Wed 7 Oct; Labour Day is Fri 1 May to Tue 5 May.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from caseflow import Actor, DataValidationError

SH = ZoneInfo("Asia/Shanghai")
ORG = "hainan/wenchang/tanniu/damiao"
BRANCH = Actor("damiao.branch", {"village_party_branch"}, ORG)
COMMITTEES = Actor("damiao.liangwei", {"two_committees"}, ORG)
PARTY_MEETING = Actor("damiao.dangyuan-dahui", {"party_members_meeting"}, ORG)
VILLAGE_COMMITTEE = Actor("damiao.cunweihui", {"village_committee"}, ORG)
CLERK = Actor("damiao.clerk", {"vote_clerk"}, ORG)
REPS = [f"rep{i}" for i in range(1, 8)]  # 7 members: quorum 5
HOUSEHOLDS = [f"hh{i:03d}" for i in range(1, 31)]  # 30 households: quorum 20
DATA = {
    "matter": "一事一议：村道硬化 1.2 公里",
    "village": "文昌市潭牛镇大庙村",
    "funds_yuan": 141000,
}


def midnight(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(dt.UTC)


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def events(engine, case_id: str) -> list[str | None]:
    return [h.event for h in engine.history(case_id) if h.kind == "transition"]


def three_deliberations(engine, clock, body: str, when: str):
    """一议 提议 (choosing the body), 二议 商议, 三议 审议, then the meeting is called."""
    clock.set(when)
    case = engine.start(
        "four_deliberations",
        data={**DATA, "representatives": REPS, "households": HOUSEHOLDS},
        actor=BRANCH,
    )
    case = engine.fire(
        case.id, "propose", actor=BRANCH, payload={"proposal": "硬化村道", "body": body}
    )
    case = engine.fire(case.id, "agree", actor=COMMITTEES, payload={"plan": "财政奖补+村民筹资"})
    return engine.fire(case.id, "review_passed", actor=PARTY_MEETING)


class TestFourDeliberations:
    def test_representative_meeting_path_over_national_day(self, make_engine, clock):
        """Resolved Wed 30 Sep by 4 of 6 present; the resolution is posted until Thu 8 Oct."""
        engine = make_engine()
        case = three_deliberations(engine, clock, "representative_meeting", "2026-09-28T09:00")
        engine = make_engine()
        clock.set("2026-09-30T14:00")
        case = engine.fire(
            case.id, "convene", actor=VILLAGE_COMMITTEE, payload={"meeting": "村委会议室"}
        )
        assert "representative_resolution" == case.state
        for voter, choice in zip(REPS[:6], ["yes"] * 4 + ["no", "abstain"], strict=True):
            engine.cast_ballot(case.id, choice, actor=CLERK, voter=voter)
        view = engine.vote(case.id)
        assert (7, 6, 5, 4, []) == (
            view.electorate,
            view.present,
            view.min_present,
            view.min_yes,
            view.ballots,
        )
        case = engine.close_vote(case.id, actor=CLERK)
        assert "resolution_publicity" == case.state
        # 5 days from Wed 30 Sep end Mon 5 Oct, inside National Day: Thu 8 Oct.
        publicity = clock_of(engine, case.id, "resolution_publicity")
        assert (dt.date(2026, 10, 8), midnight("2026-10-09")) == (
            publicity.last_day,
            publicity.due_at,
        )
        clock.set("2026-10-09T00:00")
        engine.fire_due()
        engine = make_engine()
        case = engine.get(case.id)
        assert "implementation" == case.state
        clock.set("2026-10-20T10:00")
        engine.fire(
            case.id,
            "report_progress",
            actor=VILLAGE_COMMITTEE,
            payload={"progress": [{"by": VILLAGE_COMMITTEE.id, "note": "路基完成"}]},
        )
        clock.set("2026-11-02T10:00")
        case = engine.fire(
            case.id,
            "report_result",
            actor=VILLAGE_COMMITTEE,
            payload={"implementation_result": "村道硬化完成并验收"},
        )
        # 5 days from Mon 2 Nov end Sat 7 Nov, a rest day: Mon 9 Nov.
        assert dt.date(2026, 11, 9) == clock_of(engine, case.id, "result_publicity").last_day
        clock.set("2026-11-10T00:00")
        engine.fire_due()
        case = engine.get(case.id)
        assert ("done", "completed") == (case.state, case.status)
        assert [
            "propose",
            "agree",
            "review_passed",
            "convene",
            "resolved",
            "publicity_ended",
            "report_progress",
            "report_result",
            "finish",
        ] == events(engine, case.id)

    def test_villager_assembly_path_by_households(self, make_engine, clock):
        """21 of 30 households attend on Tue 28 Apr; 12 hands for, 8 against: passed, ballots on record."""
        engine = make_engine()
        case = three_deliberations(engine, clock, "villager_assembly", "2026-04-27T09:00")
        clock.set("2026-04-28T19:30")
        case = engine.fire(
            case.id, "convene", actor=VILLAGE_COMMITTEE, payload={"meeting": "村文化广场"}
        )
        assert "assembly_resolution" == case.state
        present = HOUSEHOLDS[:21]
        choices = ["yes"] * 12 + ["no"] * 8 + ["abstain"]
        for household, choice in zip(present, choices, strict=True):
            engine.cast_ballot(case.id, choice, actor=CLERK, voter=household)
        view = engine.vote(case.id)
        assert ("assembly_resolution", 30, 21, 20, 11, False) == (
            view.state,
            view.electorate,
            view.present,
            view.min_present,
            view.min_yes,
            view.secret,
        )
        assert ("hh013", "no") in view.ballots  # an open vote records who voted how
        engine = make_engine()
        case = engine.close_vote(case.id, actor=CLERK)
        assert "resolution_publicity" == case.state
        # 5 days from Tue 28 Apr end Sun 3 May (Labour Day): posted until Wed 6 May.
        assert dt.date(2026, 5, 6) == clock_of(engine, case.id, "resolution_publicity").last_day
        clock.set("2026-05-07T00:00")
        engine.fire_due()
        clock.set("2026-06-01T10:00")
        case = engine.fire(
            case.id,
            "report_result",
            actor=VILLAGE_COMMITTEE,
            payload={"implementation_result": "完工"},
        )
        # 5 days from Mon 1 Jun end Sat 6 Jun: Mon 8 Jun.
        assert dt.date(2026, 6, 8) == clock_of(engine, case.id, "result_publicity").last_day
        clock.set("2026-06-09T00:00")
        engine.fire_due()
        assert "done" == engine.get(case.id).state
        votes = [h.details for h in engine.history(case.id) if h.details.get("action") == "closed"]
        assert [("passed", 21, 12)] == [(v["outcome"], v["present"], v["yes"]) for v in votes]

    def test_assembly_failing_is_not_adopted(self, make_engine, clock):
        """10 for, 10 against of 20 households present: exactly half is not 过半数."""
        engine = make_engine()
        case = three_deliberations(engine, clock, "villager_assembly", "2026-09-21T09:00")
        case = engine.fire(case.id, "convene", actor=VILLAGE_COMMITTEE, payload={"meeting": "x"})
        for i, household in enumerate(HOUSEHOLDS[:20]):
            engine.cast_ballot(case.id, "yes" if i < 10 else "no", actor=CLERK, voter=household)
        case = engine.close_vote(case.id, actor=CLERK)
        assert ("not_adopted", "completed") == (case.state, case.status)

    def test_chosen_body_needs_its_electorate(self, make_engine, clock):
        """Choosing the villager assembly without a household list is refused at the proposal."""
        engine = make_engine()
        clock.set("2026-09-21T09:00")
        case = engine.start(
            "four_deliberations", data={**DATA, "representatives": REPS}, actor=BRANCH
        )
        with pytest.raises(DataValidationError, match="households"):
            engine.fire(
                case.id,
                "propose",
                actor=BRANCH,
                payload={"proposal": "p", "body": "villager_assembly"},
            )
        case = engine.fire(
            case.id,
            "propose",
            actor=BRANCH,
            payload={"proposal": "p", "body": "representative_meeting"},
        )
        assert "committees_deliberation" == case.state
