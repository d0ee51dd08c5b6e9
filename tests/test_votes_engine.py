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
            # secret and open: who voted is known, what they chose is sealed until the close
            assert (1, 1, True, 0, 0) == (view.present, view.cast, view.sealed, view.yes, view.no)

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
        """Stored rows say who voted, never who chose what: the choices are sealed with the
        round's key (itself stored only wrapped), no running count moves, and polling the
        vote while it is open tells nothing; closing counts them and erases the seals."""
        with Engine(db_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine, reps=["rep00", "rep01", "rep02", "rep03", "rep04"])
            choices = {"rep00": "yes", "rep01": "no", "rep02": "yes", "rep03": "abstain"}
            views = []
            for name, choice in choices.items():
                engine.cast_ballot(case.id, choice, actor=voter(name))
                views.append(engine.vote(case.id))
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
            assert 1 == len({len(bytes(b["sealed"])) for b in ballots})  # one length for all
            assert 4 == len({bytes(b["sealed"]) for b in ballots})
            assert {0} == {t["count"] for t in tallies}  # no running count to watch
            assert [(0, 0, 0)] == list({(v.yes, v.no, v.abstain) for v in views})
            assert [1, 2, 3, 4] == [v.cast for v in views]
            for details in history:
                assert "'choice'" not in str(details)
            assert [] == engine.vote(case.id).ballots
            engine.close_vote(case.id, actor=CLERK)
            view = engine.vote(case.id)
            assert (2, 1, 1, False) == (view.yes, view.no, view.abstain, view.sealed)
            with engine.db.connect() as conn:
                left = conn.execute(
                    sa.text("select count(*) from cf_ballots where sealed is not null")
                ).scalar_one()
                keys = conn.execute(
                    sa.text("select count(*) from cf_votes where key_wrapped is not null")
                ).scalar_one()
            assert (0, 0) == (left, keys)


class TestSecretBallotsAgainstTheDatabase:
    def test_an_attacker_reading_postgresql_cannot_link(self, pg_url, folder, clock):
        """With plain SQL on PostgreSQL: no row a ballot wrote shares a transaction id with a
        counted choice (tallies never move while the round is open), every sealed ballot
        has the same length, the round's key is stored only wrapped (a wrong secret cannot
        open it), and closing leaves no ciphertext or key behind."""
        from caseflow import sealing

        with Engine(pg_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine:
            case = open_case(engine, reps=["rep00", "rep01", "rep02", "rep03", "rep04"])
            for name, choice in (("rep00", "yes"), ("rep01", "no"), ("rep02", "abstain")):
                engine.cast_ballot(case.id, choice, actor=voter(name))
            with engine.db.connect() as conn:
                ballots = conn.execute(
                    sa.text("select xmin::text, voter, sealed from cf_ballots")
                ).all()
                tallies = conn.execute(
                    sa.text("select xmin::text, choice, count from cf_vote_tallies")
                ).all()
                opened = conn.execute(sa.text("select xmin::text, key_wrapped from cf_votes")).one()
            assert {opened[0]} == {t[0] for t in tallies}  # written once, when the round opened
            assert {0} == {t[2] for t in tallies}
            assert not {b[0] for b in ballots} & {t[0] for t in tallies}
            assert 1 == len({len(bytes(b[2])) for b in ballots})
            label = sealing.round_label(case.id, "voting", 1)
            with pytest.raises(VoteError, match="another ballot secret"):
                sealing.unwrap(
                    sealing.secret_key("a guess, not the secret"), bytes(opened[1]), label
                )
            engine.close_vote(case.id, actor=CLERK)
            with engine.db.connect() as conn:
                left = (
                    conn.execute(
                        sa.text(
                            "select count(*) from cf_ballots where sealed is not null "
                            "union all select count(*) from cf_votes where key_wrapped is not null"
                        )
                    )
                    .scalars()
                    .all()
                )
            assert [0, 0] == left
            result = engine.vote(case.id).result
            assert result is not None
            assert (1, 1, 1) == (result["yes"], result["no"], result["abstain"])

    def test_no_secret_no_secret_vote(self, pg_url, folder, clock, monkeypatch):
        """On PostgreSQL without a ballot secret, a secret vote does not open: it says how."""
        monkeypatch.delenv("CASEFLOW_BALLOT_SECRET")
        with (
            Engine(pg_url, workflows=folder("secret"), clock=clock, auto_upgrade=True) as engine,
            pytest.raises(VoteError, match="CASEFLOW_BALLOT_SECRET"),
        ):
            open_case(engine)

    def test_sqlite_keeps_its_secret_next_to_the_file(self, tmp_path, folder, clock, monkeypatch):
        """An SQLite file gets a ballot secret of its own, readable by its owner only."""
        monkeypatch.delenv("CASEFLOW_BALLOT_SECRET")
        db = tmp_path / "v.db"
        with Engine(f"sqlite:///{db}", workflows=folder("secret"), clock=clock) as engine:
            case = open_case(engine, reps=["a", "b"])
            engine.cast_ballot(case.id, "yes", actor=voter("a"))
        key_file = tmp_path / "v.db.ballot-secret"
        assert 0o600 == key_file.stat().st_mode & 0o777
        with Engine(f"sqlite:///{db}", workflows=folder("secret"), clock=clock) as again:
            assert "adopted" == again.cast_ballot(case.id, "yes", actor=voter("b")).state
