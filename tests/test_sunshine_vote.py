"""
The six-step sunshine vote (阳光票决, seed 001) on real 2026 dates.

Dates were checked against chinese_calendar: Labour Day is Fri 1 May to Tue 5 May 2026
with Sat 9 May a make-up workday; Dragon Boat is 19 June; National Day is Thu 1 Oct to
Wed 7 Oct with Sat 10 Oct a make-up workday. A calendar-day period whose last day is a
rest day ends on the next working day; 24:00 of a last day is stored as 00:00 of the
next day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from caseflow import Actor, DataValidationError, Forbidden
from caseflow.errors import VoteError

SH = ZoneInfo("Asia/Shanghai")
VILLAGE_ORG = "zhejiang/lishui/liandu/bihu/huangnidun"
TOWNSHIP_ORG = "zhejiang/lishui/liandu/bihu"
REPS = [f"rep{i:02d}" for i in range(1, 16)]  # 15 members: quorum 10

PARTY_MEMBER = Actor("ye.dangyuan", {"party_member"}, VILLAGE_ORG)
VILLAGER = Actor("wu.cunmin", {"villager"}, VILLAGE_ORG)
BRANCH = Actor("branch.secretary", {"village_party_branch"}, VILLAGE_ORG)
COMMITTEES = Actor("liangwei.meeting", {"two_committees"}, VILLAGE_ORG)
TOWNSHIP = Actor("bihu.dangwei", {"township_party_committee"}, TOWNSHIP_ORG)
VILLAGE_COMMITTEE = Actor("cunweihui.director", {"village_committee"}, VILLAGE_ORG)
CLERK = Actor("jianpiao.clerk", {"vote_clerk"}, VILLAGE_ORG)
SUPERVISION = Actor("jianweihui.chair", {"supervision_committee"}, VILLAGE_ORG)

CATEGORY = "公益事业的兴办和筹资筹劳方案及建设承包方案"
DATA = {
    "category": CATEGORY,
    "matter": "黄泥墩村文化礼堂改造及筹资筹劳方案",
    "village": "莲都区碧湖镇黄泥墩村",
    "budget_yuan": 480000,
    "representatives": REPS,
}


def rep(voter: str) -> Actor:
    return Actor(voter, {"representative"}, VILLAGE_ORG)


def midnight(day: str) -> dt.datetime:
    """00:00 of ``day`` in Shanghai (24:00 of the day before), as the UTC instant stored."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(dt.UTC)


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def transitions(engine, case_id: str) -> list[tuple[str | None, str | None, str]]:
    return [
        (h.event, h.to_state, h.actor_id) for h in engine.history(case_id) if h.kind == "transition"
    ]


def vote_actions(engine, case_id: str) -> list[str]:
    return [h.details["action"] for h in engine.history(case_id) if h.kind == "vote"]


def to_meeting_called(engine, clock, when: str, data=None):
    """Steps ①-④ in one morning: the branch closes the suggestions itself."""
    clock.set(when)
    case = engine.start("sunshine_vote", data=data or DATA, actor=PARTY_MEMBER)
    engine.fire(case.id, "close_suggestions", actor=BRANCH)
    engine.fire(case.id, "propose", actor=BRANCH, payload={"proposal": "改造文化礼堂"})
    engine.fire(case.id, "agree_plan", actor=COMMITTEES, payload={"plan": "公开招标，村民投工"})
    return engine.fire(case.id, "file", actor=TOWNSHIP, payload={"filing_no": "碧湖备〔2026〕7号"})  # noqa: RUF001


class TestDefinition:
    def test_ten_mandatory_categories(self, make_engine):
        """The category enum is the seed's list of ten; anything else is refused at start."""
        engine = make_engine()
        enum = engine.workflow("sunshine_vote").data_schema["properties"]["category"]["enum"]
        assert 10 == len(enum)
        assert "以借贷、租赁或者其他方式处分村集体财产" in enum
        with pytest.raises(DataValidationError, match="category"):
            engine.start("sunshine_vote", data={**DATA, "category": "修路"}, actor=VILLAGER)

    def test_each_step_has_its_roles(self, make_engine, clock):
        """A villager cannot file for the township; a representative cannot close the vote."""
        engine = make_engine()
        clock.set("2026-09-21T09:00")
        case = engine.start("sunshine_vote", data=DATA, actor=VILLAGER)
        with pytest.raises(Forbidden, match="village_party_branch"):
            engine.fire(case.id, "close_suggestions", actor=VILLAGER)
        case = to_meeting_called(engine, clock, "2026-09-21T10:00")
        case = engine.fire(case.id, "open_vote", actor=VILLAGE_COMMITTEE, payload={"meeting": "x"})
        with pytest.raises(Forbidden, match="vote_clerk"):
            engine.close_vote(case.id, actor=rep("rep01"))
        assert {"postpone_meeting"} == set(engine.available_events(case.id, VILLAGE_COMMITTEE))


class TestSixSteps:
    def test_full_procedure_with_revision_objection_and_publications(
        self, make_engine, clock, notifier
    ):
        """Suggestions → proposal → deliberation → returned, refiled late → vote → publicity → implementation → closed."""
        engine = make_engine()

        # ① Suggestions open on Fri 24 Apr. 7 days end on Fri 1 May, Labour Day: the
        #    period runs to the next working day, Wed 6 May.
        clock.set("2026-04-24T09:00")
        first = {"by": PARTY_MEMBER.id, "text": "文化礼堂漏雨，建议整体改造"}
        case = engine.start(
            "sunshine_vote", data={**DATA, "suggestions": [first]}, actor=PARTY_MEMBER
        )
        assert "collecting_suggestions" == case.state
        window = clock_of(engine, case.id, "suggestion_window")
        assert (dt.date(2026, 5, 6), midnight("2026-05-07"), "running") == (
            window.last_day,
            window.due_at,
            window.status,
        )
        clock.set("2026-04-27T10:00")
        second = {"by": VILLAGER.id, "text": "改造时增设老年食堂"}
        case = engine.fire(
            case.id,
            "suggest",
            actor=VILLAGER,
            payload={"suggestions": [*case.data["suggestions"], second]},
            expected_version=case.version,
        )
        assert [first, second] == case.data["suggestions"]

        engine = make_engine()  # a fresh engine: the case is a row, nothing is held in memory
        clock.set("2026-05-06T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-05-07T00:00")
        assert 1 == engine.fire_due().fired["breach"]
        case = engine.get(case.id)
        assert "branch_proposal" == case.state
        assert ("suggestions_closed", "branch_proposal", "system:timer") == transitions(
            engine, case.id
        )[-1]
        assert "stopped" == clock_of(engine, case.id, "suggestion_window").status

        # ② The branch proposes; ③ the joint meeting agrees a plan.
        clock.set("2026-05-07T10:00")
        engine.fire(case.id, "propose", actor=BRANCH, payload={"proposal": "改造文化礼堂"})
        clock.set("2026-05-08T15:00")
        case = engine.fire(
            case.id, "agree_plan", actor=COMMITTEES, payload={"plan": "方案一：原址翻修"}
        )

        # ④ Township review, round 1: 10 workdays from Fri 8 May count Sat 9 May (make-up
        #    workday), 11-15 May and 18-21 May: the last day is Thu 21 May.
        assert "township_review" == case.state
        review = clock_of(engine, case.id, "township_review")
        assert (dt.date(2026, 5, 21), "running") == (review.last_day, review.status)
        clock.set("2026-05-12T10:00")
        case = engine.fire(
            case.id,
            "return_for_revision",
            actor=TOWNSHIP,
            payload={"review_opinion": "筹资标准需经户代表确认，补充预算明细"},
        )
        assert "joint_deliberation" == case.state
        assert "stopped" == clock_of(engine, case.id, "township_review").status

        # Round 2: refiled Wed 13 May; 10 workdays: 14, 15, 18-22, 25, 26, 27 May.
        engine = make_engine()
        clock.set("2026-05-13T16:00")
        case = engine.fire(
            case.id,
            "agree_plan",
            actor=COMMITTEES,
            payload={"plan": "方案二：原址翻修，附预算明细"},
        )
        review = clock_of(engine, case.id, "township_review")
        assert (dt.date(2026, 5, 27), midnight("2026-05-28"), 0) == (
            review.last_day,
            review.due_at,
            review.extensions,
        )
        # Yellow 2 workdays before: at 24:00 of Mon 25 May (26 and 27 May remain).
        clock.set("2026-05-25T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-05-26T00:00")
        report = engine.fire_due()
        assert (1, 1) == (report.fired["warn"], report.fired["notify"])
        assert "warned" == clock_of(engine, case.id, "township_review").status
        assert ("township_party_committee",) == notifier.sent[-1]["roles"]
        # Red at 24:00 of Wed 27 May: 督办 to the township party committee.
        clock.set("2026-05-28T00:00")
        report = engine.fire_due()
        assert (1, 1) == (report.fired["breach"], report.fired["escalate"])
        assert "breached" == clock_of(engine, case.id, "township_review").status
        assert [case.id] == [c.id for c, _ in engine.overdue()]
        assert ("township_party_committee",) == notifier.sent[-1]["roles"]
        clock.set("2026-05-28T10:00")
        case = engine.fire(
            case.id,
            "file",
            actor=TOWNSHIP,
            payload={"filing_no": "碧湖备〔2026〕12号"},  # noqa: RUF001
        )
        assert "meeting_called" == case.state
        assert [] == engine.overdue()
        assert "stopped" == clock_of(engine, case.id, "township_review").status
        # The second escalation step (3 workdays after, up to the township) never comes.
        assert [] == [t for t in engine.timers() if t.clock == "township_review"]
        assert VILLAGE_ORG == case.org

        # ⑤ The representative meeting, Fri 29 May, in the hall and online (云票决). The
        #    window of 2 days ends on Sun 31 May, a rest day: it closes at 24:00 of Mon 1 Jun.
        engine = make_engine()
        clock.set("2026-05-29T09:00")
        case = engine.fire(
            case.id,
            "open_vote",
            actor=VILLAGE_COMMITTEE,
            payload={"meeting": "5月29日9时，村民议事大厅，线上同步"},
        )
        assert "representative_vote" == case.state
        opened = next(h for h in engine.history(case.id) if h.details.get("action") == "opened")
        assert (15, "secret", midnight("2026-06-02").isoformat()) == (
            opened.details["electorate"],
            opened.details["ballot"],
            opened.details["closes_at"],
        )
        in_person, online = REPS[:8], REPS[8:11]
        for voter in in_person:
            engine.attend(case.id, voter, actor=CLERK)
        in_person_choices = ["yes", "yes", "yes", "yes", "yes", "no", "abstain"]
        for voter, choice in zip(in_person, in_person_choices, strict=False):
            engine.cast_ballot(case.id, choice, actor=CLERK, voter=voter)
        for voter, choice in zip(online, ["yes", "yes", "no"], strict=True):
            engine.cast_ballot(case.id, choice, actor=rep(voter))
        with pytest.raises(VoteError, match="already voted"):
            engine.cast_ballot(case.id, "no", actor=rep(online[0]))
        view = engine.vote(case.id)
        hows = [how for _, how, _ in view.attendance]
        assert (15, 11, 8, 3, 10, 6, 10, True, 0) == (
            view.electorate,
            view.present,
            hows.count("in_person"),
            hows.count("online"),
            view.min_present,
            view.min_yes,
            view.cast,
            view.sealed,
            view.yes + view.no + view.abstain,  # sealed: nothing counted until the close
        )
        assert [] == view.ballots  # secret: nobody's choice is shown

        engine = make_engine()
        clock.set("2026-05-29T11:30")
        case = engine.close_vote(case.id, actor=CLERK)
        assert "result_publicity" == case.state
        result = engine.vote(case.id).result
        assert result is not None
        assert ("passed", 11, 7, 2, 1, 6) == (
            result["outcome"],
            result["present"],
            result["yes"],
            result["no"],
            result["abstain"],
            result["min_yes"],
        )
        assert [] == [t for t in engine.timers() if t.kind == "vote_close"]

        # Publicity: 5 days from Fri 29 May end Wed 3 Jun. An objection on Mon 1 Jun is
        # reviewed and dismissed on Tue 2 Jun: 1 Jun is not counted, the end moves to 4 Jun.
        assert dt.date(2026, 6, 3) == clock_of(engine, case.id, "result_publicity").last_day
        clock.set("2026-06-01T20:00")
        case = engine.fire(
            case.id, "raise_objection", actor=VILLAGER, payload={"objection": "投工按户还是按人"}
        )
        assert "objection_review" == case.state
        assert "paused" == clock_of(engine, case.id, "result_publicity").status
        # 5 workdays from Mon 1 Jun: 2, 3, 4, 5, 8 Jun.
        assert dt.date(2026, 6, 8) == clock_of(engine, case.id, "objection_review").last_day
        clock.set("2026-06-02T15:00")
        case = engine.fire(
            case.id,
            "dismiss_objection",
            actor=SUPERVISION,
            payload={"objection_finding": "方案已写明按户投工，异议不成立"},
        )
        publicity = clock_of(engine, case.id, "result_publicity")
        assert (dt.date(2026, 6, 4), "running") == (publicity.last_day, publicity.status)
        assert "stopped" == clock_of(engine, case.id, "objection_review").status
        clock.set("2026-06-04T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-06-05T00:00")
        assert 1 == engine.fire_due().fired["breach"]
        case = engine.get(case.id)
        assert "implementation" == case.state

        # ⑥ Implementation under the supervision committee: progress reports stay in place.
        engine = make_engine()
        progress = [{"by": VILLAGE_COMMITTEE.id, "note": "完成招标", "percent": 10}]
        clock.set("2026-06-15T10:00")
        case = engine.fire(
            case.id, "report_progress", actor=VILLAGE_COMMITTEE, payload={"progress": progress}
        )
        progress = [*progress, {"by": SUPERVISION.id, "note": "现场检查：屋面完工", "percent": 60}]
        clock.set("2026-07-01T10:00")
        case = engine.fire(
            case.id, "report_progress", actor=SUPERVISION, payload={"progress": progress}
        )
        assert ("implementation", 2) == (case.state, len(case.data["progress"]))
        # Confirmed Mon 20 Jul; 5 days end Sat 25 Jul, a rest day: the publication runs
        # to 24:00 of Mon 27 Jul.
        clock.set("2026-07-20T10:00")
        case = engine.fire(
            case.id,
            "confirm_implemented",
            actor=SUPERVISION,
            payload={"implementation_result": "改造完成，决算 46.2 万元"},
        )
        assert "implementation_publicity" == case.state
        published = clock_of(engine, case.id, "implementation_publicity")
        assert (dt.date(2026, 7, 27), midnight("2026-07-28")) == (
            published.last_day,
            published.due_at,
        )
        clock.set("2026-07-28T00:00")
        assert 1 == engine.fire_due().fired["breach"]

        engine = make_engine()
        case = engine.get(case.id)
        assert ("closed", "completed") == (case.state, case.status)
        assert {"stopped"} == {c.status for c in engine.clocks(case.id)}
        assert [
            ("suggest", "collecting_suggestions", VILLAGER.id),
            ("suggestions_closed", "branch_proposal", "system:timer"),
            ("propose", "joint_deliberation", BRANCH.id),
            ("agree_plan", "township_review", COMMITTEES.id),
            ("return_for_revision", "joint_deliberation", TOWNSHIP.id),
            ("agree_plan", "township_review", COMMITTEES.id),
            ("file", "meeting_called", TOWNSHIP.id),
            ("open_vote", "representative_vote", VILLAGE_COMMITTEE.id),
            ("vote_passed", "result_publicity", "system:vote"),
            ("raise_objection", "objection_review", VILLAGER.id),
            ("dismiss_objection", "result_publicity", SUPERVISION.id),
            ("publicity_ended", "implementation", "system:timer"),
            ("report_progress", "implementation", VILLAGE_COMMITTEE.id),
            ("report_progress", "implementation", SUPERVISION.id),
            ("confirm_implemented", "implementation_publicity", SUPERVISION.id),
            ("archive", "closed", "system:timer"),
        ] == transitions(engine, case.id)
        returned = next(h for h in engine.history(case.id) if h.event == "return_for_revision")
        assert "补充预算明细" in returned.details["payload"]["review_opinion"]
        assert ["opened", *["present"] * 8, *["ballot"] * 10, "closed"] == vote_actions(
            engine, case.id
        )
        assert "方案二：原址翻修，附预算明细" == case.data["plan"]


class TestVoteOutcomes:
    def test_failing_vote_closed_by_the_window_over_national_day(self, make_engine, clock):
        """Opened Tue 29 Sep, 2 days end on Oct 1: the window runs to 24:00 of Thu 8 Oct; 5 of 12 yes fails."""
        engine = make_engine()
        case = to_meeting_called(engine, clock, "2026-09-29T08:30")
        clock.set("2026-09-29T09:00")
        case = engine.fire(
            case.id, "open_vote", actor=VILLAGE_COMMITTEE, payload={"meeting": "9月29日"}
        )
        choices = ["yes"] * 5 + ["no"] * 6 + ["abstain"]
        for voter, choice in zip(REPS[:12], choices, strict=True):
            engine.cast_ballot(case.id, choice, actor=CLERK, voter=voter)
        engine = make_engine()
        clock.set("2026-10-08T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-10-09T00:00")
        assert 1 == engine.fire_due().fired["vote_close"]
        case = engine.get(case.id)
        assert "rejection_publicity" == case.state
        result = engine.vote(case.id).result
        assert result is not None
        assert ("failed", 12, 5, 7, True) == (
            result["outcome"],
            result["present"],
            result["yes"],
            result["min_yes"],
            result["quorum_met"],
        )
        closed = next(h for h in engine.history(case.id) if h.details.get("action") == "closed")
        assert ("the voting window ended", "system:vote") == (
            closed.details["why"],
            closed.actor_id,
        )
        # The failed result is posted too: 5 days from Fri 9 Oct end Wed 14 Oct.
        assert dt.date(2026, 10, 14) == clock_of(engine, case.id, "rejection_publicity").last_day
        clock.set("2026-10-15T00:00")
        engine.fire_due()
        case = engine.get(case.id)
        assert ("not_adopted", "completed") == (case.state, case.status)

    def test_no_quorum_then_second_round_everyone_votes(self, make_engine, clock):
        """9 of 15 attend on Thu 30 Apr: no quorum, reconvened after Labour Day; round 2 passes."""
        engine = make_engine()
        case = to_meeting_called(engine, clock, "2026-04-30T08:00")
        clock.set("2026-04-30T10:00")
        case = engine.fire(
            case.id, "open_vote", actor=VILLAGE_COMMITTEE, payload={"meeting": "4月30日"}
        )
        opened = next(h for h in engine.history(case.id) if h.details.get("action") == "opened")
        # 2 days end Sat 2 May (Labour Day): the window runs to 24:00 of Wed 6 May.
        assert midnight("2026-05-07").isoformat() == opened.details["closes_at"]
        for voter in REPS[:9]:
            engine.cast_ballot(case.id, "yes", actor=rep(voter))
        case = engine.close_vote(case.id, actor=CLERK)
        assert "meeting_called" == case.state
        first = engine.vote(case.id, 1).result
        assert first is not None
        assert ("no_quorum", 9, 10, False) == (
            first["outcome"],
            first["present"],
            first["min_present"],
            first["passed"],
        )

        engine = make_engine()
        clock.set("2026-05-06T09:00")
        case = engine.fire(
            case.id, "open_vote", actor=VILLAGE_COMMITTEE, payload={"meeting": "5月6日重新召开"}
        )
        second = engine.vote(case.id)
        assert (2, "open", 0) == (second.round, second.status, second.present)
        for i, voter in enumerate(REPS):
            choice = "yes" if i < 10 else "no"
            if i % 2:
                case = engine.cast_ballot(case.id, choice, actor=rep(voter))
            else:
                case = engine.cast_ballot(case.id, choice, actor=CLERK, voter=voter)
        # The last ballot of the electorate closes the round.
        assert "result_publicity" == case.state
        second = engine.vote(case.id)
        assert second.result is not None
        assert ("closed", "passed", 15, 10) == (
            second.status,
            second.result["outcome"],
            second.result["present"],
            second.result["yes"],
        )
        assert [] == [t for t in engine.timers() if t.kind == "vote_close"]
        assert ["opened", "closed", "opened", "closed"] == [
            a for a in vote_actions(engine, case.id) if a in ("opened", "closed")
        ]

    def test_postponed_meeting_cancels_the_round(self, make_engine, clock):
        """Leaving the vote state by hand cancels the open round and its window timer."""
        engine = make_engine()
        case = to_meeting_called(engine, clock, "2026-09-21T09:00")
        case = engine.fire(case.id, "open_vote", actor=VILLAGE_COMMITTEE, payload={"meeting": "x"})
        engine.cast_ballot(case.id, "yes", actor=rep("rep01"))
        case = engine.fire(case.id, "postpone_meeting", actor=VILLAGE_COMMITTEE)
        assert "meeting_called" == case.state
        assert "cancelled" == engine.vote(case.id).status
        assert [] == [t for t in engine.timers() if t.kind == "vote_close"]

    def test_upheld_objection_goes_back_to_deliberation(self, make_engine, clock):
        """An upheld objection stops the publicity and returns the matter to step ③."""
        engine = make_engine()
        case = to_meeting_called(engine, clock, "2026-09-21T09:00")
        case = engine.fire(case.id, "open_vote", actor=VILLAGE_COMMITTEE, payload={"meeting": "x"})
        for voter in REPS:
            case = engine.cast_ballot(case.id, "yes", actor=rep(voter))
        assert "result_publicity" == case.state
        clock.set("2026-09-22T09:00")
        engine.fire(case.id, "raise_objection", actor=VILLAGER, payload={"objection": "程序有误"})
        clock.set("2026-09-23T09:00")
        case = engine.fire(
            case.id,
            "uphold_objection",
            actor=SUPERVISION,
            payload={"objection_finding": "会前未公告议题，重新商议"},
        )
        assert "joint_deliberation" == case.state
        assert "stopped" == clock_of(engine, case.id, "result_publicity").status
        case = engine.fire(case.id, "agree_plan", actor=COMMITTEES, payload={"plan": "重议"})
        assert "township_review" == case.state
