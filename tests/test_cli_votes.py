"""``caseflow votes show`` and the sunshine-vote demo."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from caseflow import Actor
from caseflow.cli.demo_vote import run_sunshine_vote_demo
from caseflow.cli.votes import votes_group

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = str(ROOT / "workflows")
ORG = "zhejiang/lishui/liandu/bihu/huangnidun"
REPS = [f"rep{i:02d}" for i in range(1, 16)]
BRANCH = Actor("branch", {"village_party_branch"}, ORG)
COMMITTEES = Actor("liangwei", {"two_committees"}, ORG)
TOWNSHIP = Actor("dangwei", {"township_party_committee"}, ORG)
VILLAGE_COMMITTEE = Actor("cunweihui", {"village_committee"}, ORG)
CLERK = Actor("clerk", {"vote_clerk"}, ORG)
PARTY_MEETING = Actor("dangyuan", {"party_members_meeting"}, ORG)
HOUSEHOLDS = [f"hh{i:02d}" for i in range(1, 7)]


def show(db_url: str, *args: str):
    runner = CliRunner()
    return runner.invoke(
        votes_group,
        ["show", *args, "--db", db_url, "--workflows", WORKFLOWS],
        catch_exceptions=False,
    )


def flat(text: str) -> str:
    """The output as one line of words: rich's wrapping and table rules removed."""
    return " ".join(text.translate({ord(c): " " for c in "│┃"}).split())


@pytest.fixture
def sunshine_in_vote(make_engine, clock):
    """A sunshine-vote case at step ⑤ on Fri 29 May 2026: 11 of 15 present, 3 of them online."""
    engine = make_engine()
    clock.set("2026-05-29T08:00")
    case = engine.start(
        "sunshine_vote",
        data={
            "category": "宅基地的使用方案",
            "matter": "2026年度宅基地安排",
            "village": "黄泥墩村",
            "representatives": REPS,
        },
        actor=BRANCH,
    )
    engine.fire(case.id, "close_suggestions", actor=BRANCH)
    engine.fire(case.id, "propose", actor=BRANCH, payload={"proposal": "p"})
    engine.fire(case.id, "agree_plan", actor=COMMITTEES, payload={"plan": "p"})
    engine.fire(case.id, "file", actor=TOWNSHIP, payload={"filing_no": "1"})
    clock.set("2026-05-29T09:00")
    engine.fire(case.id, "open_vote", actor=VILLAGE_COMMITTEE, payload={"meeting": "m"})
    for voter, choice in zip(REPS[:8], ["yes"] * 6 + ["no", "abstain"], strict=True):
        engine.cast_ballot(case.id, choice, actor=CLERK, voter=voter)
    for voter in REPS[8:11]:
        engine.cast_ballot(case.id, "yes", actor=Actor(voter, {"representative"}, ORG))
    return engine, case.id


class TestVotesShow:
    def test_secret_vote_while_open_and_after_closing(self, db_url, sunshine_in_vote, clock):
        """Counts, thresholds and the window; never who voted how on a secret ballot."""
        engine, case_id = sunshine_in_vote
        result = show(db_url, case_id)
        assert 0 == result.exit_code, result.output
        out = flat(result.output)
        for expected in (
            "vote representative_vote",
            "round 1 of 1",
            "secret ballot",
            "window ends 2026-06-02 00:00",
            "15 members",
            "11 present: 8 in person, 3 online",
            "at least 10 of 15 present (≥ 2/3 of the members) met",
            "at least 6 yes (> 1/2 of 11 present)",
            "sealed until the vote closes (11 ballots; 0 present without a ballot)",
            "open: ballots sealed until the vote closes",
            "who voted how is not recorded",
        ):
            assert expected in out
        for voter in REPS[:11]:
            assert voter not in out

        clock.set("2026-05-29T11:00")
        engine.close_vote(case_id, actor=CLERK)
        data = json.loads(show(db_url, case_id, "--json").output)
        assert {
            "state": "representative_vote",
            "round": 1,
            "status": "closed",
            "ballot": "secret",
            "electorate": 15,
            "attendance": {"present": 11, "in_person": 8, "online": 3},
            "thresholds": {"min_present": 10, "min_yes": 6},
            "outcome": "passed",
            "ballots": None,
            "ended_why": "closed by the clerk",
        } == {
            k: data[k]
            for k in (
                "state",
                "round",
                "status",
                "ballot",
                "electorate",
                "attendance",
                "thresholds",
                "outcome",
                "ballots",
                "ended_why",
            )
        }
        assert {
            "yes": 9,
            "no": 1,
            "abstain": 1,
            "ballots": 11,
            "present_without_ballot": 0,
            "sealed": False,  # closed: counted, the seals erased
        } == data["tally"]
        assert ("passed", 11) == (data["result"]["outcome"], data["result"]["present"])
        assert "2026-05-29T01:00:00+00:00" == data["opened_at"]
        assert "rep01" not in json.dumps(data)

    def test_open_vote_lists_who_voted_how(self, db_url, make_engine, clock):
        """A villager assembly's show of hands is on record; --round picks a round."""
        engine = make_engine()
        clock.set("2026-09-21T09:00")
        case = engine.start(
            "four_deliberations",
            data={"matter": "m", "village": "v", "households": HOUSEHOLDS},
            actor=BRANCH,
        )
        engine.fire(
            case.id,
            "propose",
            actor=BRANCH,
            payload={"proposal": "p", "body": "villager_assembly"},
        )
        engine.fire(case.id, "agree", actor=COMMITTEES, payload={"plan": "p"})
        engine.fire(case.id, "review_passed", actor=PARTY_MEETING)
        engine.fire(case.id, "convene", actor=VILLAGE_COMMITTEE, payload={"meeting": "m"})
        engine.cast_ballot(case.id, "yes", actor=CLERK, voter="hh01")
        engine.cast_ballot(case.id, "no", actor=Actor("hh02", set(), ORG))
        engine.close_vote(case.id, actor=CLERK)  # 2 of 6 households: no quorum
        engine.fire(case.id, "convene", actor=VILLAGE_COMMITTEE, payload={"meeting": "again"})
        for household in HOUSEHOLDS[:5]:
            engine.cast_ballot(case.id, "yes", actor=CLERK, voter=household)

        out = flat(show(db_url, case.id).output)
        assert "round 2 of 2" in out
        assert "open ballot" in out
        assert "hh03 in person yes" in out
        assert "at least 4 of 6 present (≥ 2/3 of the members)" in out

        data = json.loads(show(db_url, case.id, "--round", "1", "--json").output)
        assert ("no_quorum", 1, "closed") == (data["outcome"], data["round"], data["status"])
        assert [
            {"voter": "hh01", "how": "in_person", "choice": "yes"},
            {"voter": "hh02", "how": "online", "choice": "no"},
        ] == data["ballots"]
        assert [
            {"state": "assembly_resolution", "round": 1},
            {"state": "assembly_resolution", "round": 2},
        ] == data["rounds"]

    def test_case_without_vote_is_a_clear_error(self, db_url, make_engine):
        """No traceback: one line naming the problem, exit status 1."""
        engine = make_engine()
        case = engine.start(
            "four_deliberations", data={"matter": "m", "village": "v"}, actor=BRANCH
        )
        result = CliRunner().invoke(
            votes_group, ["show", case.id, "--db", db_url, "--workflows", WORKFLOWS]
        )
        assert 1 == result.exit_code
        assert f"error: case {case.id!r} has had no vote" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


class TestSunshineVoteDemo:
    def test_demo_runs_end_to_end(self, tmp_path: Path):
        """The demo drives a case through all six steps and prints the timeline and the tally."""
        buffer = io.StringIO()
        run_sunshine_vote_demo(tmp_path / "demo.db", Console(file=buffer, width=160))
        out = flat(buffer.getvalue())
        assert (tmp_path / "demo.db").is_file()
        for expected in (
            "return_for_revision",
            "open_vote",
            "vote_passed",
            "passed",
            "yes 11, no 2, abstain 1",
            "closed (办结归档)",
            "2026-06-02 00:00",
        ):
            assert expected in out
