"""Votes held in a state: attendance, ballots, one per voter, secret ballots, closing."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from caseflow import Actor, Engine, Forbidden
from caseflow.errors import VoteError
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from pathlib import Path

WORKFLOW = textwrap.dedent("""\
    workflow: mini_vote
    version: 1
    calendar: cn
    roles: [proposer, clerk]
    data:
      type: object
      properties:
        representatives: {type: array, items: {type: string}}
    states:
      draft: {initial: true}
      voting:
        vote:
          electorate: {data: representatives}
          rule: {preset: representative_meeting}
          ballot: BALLOT
          closes_after: 3 days
          clerk_roles: [clerk]
          on_pass: adopt
          on_fail: reject
          on_no_quorum: no_quorum
      adopted: {final: true}
      rejected: {final: true}
    events:
      submit: {from: draft, to: voting, roles: [proposer]}
      revise: {from: voting, to: draft, roles: [proposer]}
      adopt: {from: voting, to: adopted, automatic: true}
      reject: {from: voting, to: rejected, automatic: true}
      no_quorum: {from: voting, to: draft, automatic: true}
    """)
REPS = [f"rep{i:02d}" for i in range(15)]
PROPOSER = Actor("branch", {"proposer"}, "zj/lishui/liandu/village")
CLERK = Actor("clerk", {"clerk"}, "zj/lishui/liandu/village")


def voter(name: str) -> Actor:
    return Actor(name, {"representative"}, "zj/lishui/liandu/village")


@pytest.fixture
def folder(tmp_path: Path):
    def make(ballot: str) -> Path:
        path = tmp_path / f"wf-{ballot}"
        path.mkdir(exist_ok=True)
        (path / "mini.yaml").write_text(WORKFLOW.replace("BALLOT", ballot), encoding="utf-8")
        return path

    return make


@pytest.fixture
def clock():
    return MovableClock("2026-05-06T09:00")


def open_case(engine: Engine, reps=REPS):
    case = engine.start("mini_vote", data={"representatives": reps}, actor=PROPOSER)
    return engine.fire(case.id, "submit", actor=PROPOSER)


class TestVoting:
    def test_open_vote_passes_with_eleven_of_twenty(self, db_url, folder, clock):
        """Quorum 10 of 15; online and in-person ballots; the clerk closes; the case is adopted."""
        with Engine(db_url, workflows=folder("open"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine)
            for name in REPS[:6]:
                engine.cast_ballot(case.id, "yes", actor=voter(name))
            engine.cast_ballot(case.id, "no", actor=CLERK, voter=REPS[6])
            for name in REPS[7:10]:
                engine.cast_ballot(case.id, "abstain", actor=CLERK, voter=name)
            view = engine.vote(case.id)
            assert (15, 10, 6, 1, 3, 10, 6) == (
                view.electorate,
                view.present,
                view.yes,
                view.no,
                view.abstain,
                view.min_present,
                view.min_yes,
            )
            assert ("rep06", "no") in view.ballots
            case = engine.close_vote(case.id, actor=CLERK)
            assert "adopted" == case.state
            result = engine.vote(case.id).result
            assert result is not None
            assert ("passed", 10, 6) == (result["outcome"], result["present"], result["yes"])
            history = [h.details for h in engine.history(case.id) if h.kind == "vote"]
            in_person = [h for h in history if h.get("voter") == "rep06"]
            assert [("in_person", "no")] == [(h["how"], h["choice"]) for h in in_person]

    def test_second_ballot_refused(self, db_url, folder, clock):
        """One ballot per voter per round: the second gets a clear VoteError, nothing changes."""
        with Engine(db_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine)
            engine.cast_ballot(case.id, "yes", actor=voter("rep01"))
            with pytest.raises(VoteError, match="already voted"):
                engine.cast_ballot(case.id, "no", actor=CLERK, voter="rep01")
            with pytest.raises(VoteError, match="not in the electorate"):
                engine.cast_ballot(case.id, "yes", actor=voter("stranger"))
            with pytest.raises(Forbidden, match="clerk"):
                engine.cast_ballot(case.id, "yes", actor=voter("rep02"), voter="rep03")
            view = engine.vote(case.id)
            assert (1, 1, 0) == (view.present, view.yes, view.no)

    def test_below_quorum_and_new_round(self, db_url, folder, clock):
        """9 of 15 present: no quorum, back to draft; resubmitting opens round 2."""
        with Engine(db_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine)
            for name in REPS[:9]:
                engine.cast_ballot(case.id, "yes", actor=voter(name))
            case = engine.close_vote(case.id, actor=CLERK)
            assert "draft" == case.state
            assert "no_quorum" == engine.vote(case.id).result["outcome"]
            case = engine.fire(case.id, "submit", actor=PROPOSER)
            assert (2, "open", 0) == (
                engine.vote(case.id).round,
                engine.vote(case.id).status,
                engine.vote(case.id).present,
            )
            assert "no_quorum" == engine.vote(case.id, 1).result["outcome"]

    def test_everyone_voted_closes(self, db_url, folder, clock):
        """The last ballot of the electorate closes the vote and moves the case."""
        with Engine(db_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine, reps=["a", "b", "c"])
            engine.cast_ballot(case.id, "yes", actor=voter("a"))
            engine.cast_ballot(case.id, "no", actor=voter("b"))
            case = engine.cast_ballot(case.id, "yes", actor=voter("c"))
            assert "adopted" == case.state

    def test_window_closes_by_timer(self, db_url, folder, clock):
        """The 3-day window: the sweep closes the vote and fires the result."""
        with Engine(db_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine)
            for name in REPS[:10]:
                engine.cast_ballot(case.id, "no", actor=voter(name))
            clock.set("2026-05-09T23:59")  # Wed 6 May + 3 days = Sat 9 May, a make-up workday
            assert 0 == engine.fire_due().total
            clock.set("2026-05-10T00:00")
            assert 1 == engine.fire_due().fired["vote_close"]
            assert "rejected" == engine.get(case.id).state

    def test_secret_ballots_cannot_be_linked(self, db_url, folder, clock):
        """Stored rows say who voted and how many chose what, but never who chose what."""
        with Engine(db_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine)
            choices = {"rep00": "yes", "rep01": "no", "rep02": "yes", "rep03": "abstain"}
            for name, choice in choices.items():
                engine.cast_ballot(case.id, choice, actor=voter(name))
            with engine.db.connect() as conn:
                ballots = conn.execute(sa.text("select * from cf_ballots")).mappings().all()
                tallies = conn.execute(sa.text("select * from cf_vote_tallies")).mappings().all()
                history = (
                    conn.execute(sa.text("select details from cf_history where kind = 'vote'"))
                    .scalars()
                    .all()
                )
            assert {None} == {b["choice"] for b in ballots}
            assert set(choices) == {b["voter"] for b in ballots}
            assert {"vote_id", "voter", "choice"} == set(ballots[0].keys())
            assert {"vote_id", "choice", "count"} == set(tallies[0].keys())
            assert {"yes": 2, "no": 1, "abstain": 1} == {t["choice"]: t["count"] for t in tallies}
            for details in history:
                text = str(details)
                assert "'choice'" not in text
            assert [] == engine.vote(case.id).ballots
