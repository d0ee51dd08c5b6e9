"""
The vote step kind: a vote held while the case is in a state (``vote:``).

Entering the state opens a round (the electorate snapshotted from case data or a
roster plugin, a closing timer if it has a window); leaving it cancels an open round.
Its commands: attendance, a ballot (online by the voter, or in person recorded by a
clerk), closing. Closing tallies the round (:func:`caseflow.voting.decide`: 民法典 art.
1259, 村民委员会组织法 arts. 22/26), stores the result and fires the pass / fail /
no-quorum event. Who may do what is checked in :mod:`caseflow.pipeline.authz`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from caseflow import sealing
from caseflow.cases import Actor
from caseflow.clocks.periods import compute_due
from caseflow.clocks.runtime import TimerSpec
from caseflow.errors import DataValidationError, VoteError
from caseflow.pipeline import validate
from caseflow.pipeline.commands import Attend, CastBallot, CloseVote
from caseflow.pipeline.plan import AttendVote, Ballot, FinishRound, OpenRound
from caseflow.pipeline.snapshot import VOTES
from caseflow.pipeline.steps.base import StepKind
from caseflow.records import VoteRound
from caseflow.voting import Counts, VoteRule, decide

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from caseflow.cases import Case
    from caseflow.definitions.model import VoteDef, WorkflowDef
    from caseflow.pipeline.draft import Draft, Move
    from caseflow.records import Timer

SYSTEM_VOTE = Actor.system("vote")
CHOICES = ("yes", "no", "abstain")


def timer_name(state: str) -> str:
    return f"vote:{state}"


class VoteStep(StepKind):
    name: ClassVar[str] = "vote"
    timer_kinds: ClassVar[frozenset[str]] = frozenset({"vote_close"})

    def needs(self, definition: WorkflowDef) -> frozenset[str]:
        has = any(s.vote is not None for s in definition.states.values())
        return frozenset({VOTES}) if has else frozenset()

    def on_move(self, draft: Draft, move: Move) -> None:
        states = draft.definition.states
        if move.left is not None and states[move.left].vote is not None:
            _cancel_open(draft, move.left)
        vote = states[move.entered].vote if move.entered is not None else None
        if move.entered is not None and vote is not None:
            _open(draft, vote, move.entered)

    def on_status(self, draft: Draft, change: str) -> None:
        if change == "cancel":
            _cancel_open(draft, draft.case.state)

    def on_timer(self, draft: Draft, timer: Timer) -> bool:  # noqa: ARG002
        vote = draft.definition.states[draft.case.state].vote
        current = draft.votes[-1] if draft.votes else None
        if vote is None or current is None or current.status != "open":
            return False
        if current.closes_at is not None:
            draft.at = min(current.closes_at, draft.env.recorded_at)
        close(draft, vote, current, SYSTEM_VOTE, "the voting window ended")
        return True

    @property
    def commands(self) -> Mapping[type[Any], Callable[[Draft, Any], Any]]:
        return {Attend: attend, CastBallot: cast_ballot, CloseVote: close_vote}


def _cancel_open(draft: Draft, state: str) -> None:
    current = draft.votes[-1] if draft.votes else None
    if current is None or current.status != "open" or current.state != state:
        return
    draft.vote_ops.append(FinishRound(current.id, "cancelled", None, erase=current.sealed))
    draft.votes[-1] = dataclasses.replace(current, status="cancelled")
    draft.cancel_timers(timer_name(state))
    draft.note("vote", SYSTEM_VOTE, {"vote": state, "round": current.round, "action": "cancelled"})


def _electorate(draft: Draft, vote: VoteDef) -> list[str]:
    case = draft.case
    if vote.electorate_data is not None:
        raw = case.data.get(vote.electorate_data)
        if not isinstance(raw, list) or not raw:
            raise VoteError(
                f"cannot open the vote: case data {vote.electorate_data!r} "
                "must be a non-empty list of voter ids"
            )
        voters = [v["id"] if isinstance(v, dict) else v for v in raw]
    else:
        provider = draft.env.rosters.get(vote.electorate_provider or "")
        if provider is None:
            raise VoteError(f"no roster provider {vote.electorate_provider!r} is registered")
        voters = list(provider.members(group=vote.electorate_group, org=case.org, data=case.data))
    unique = sorted({str(v) for v in voters})
    if len(unique) != len(voters):
        raise VoteError("the electorate lists a voter twice")
    for voter in unique:
        try:
            validate.text(voter, "voter", validate.ACTOR_ID)
        except DataValidationError as exc:
            raise VoteError(f"cannot open the vote: a voter id is not acceptable: {exc}") from exc
    return unique


def _open(draft: Draft, vote: VoteDef, state: str) -> None:
    electorate = _electorate(draft, vote)
    definition = draft.definition
    closes_at = None
    if vote.closes_after is not None:
        closes_at = compute_due(
            draft.at, vote.closes_after, draft.calendar, definition.timezone
        ).due_at
    number = 1 + max((r.round for r in draft.rounds_of(state)), default=0)
    wrapped = None
    if vote.secret:
        secret = draft.env.ballot_secret
        if secret is None:
            raise VoteError(
                "a secret vote needs the deployment's ballot secret to seal its ballots: "
                "Engine(ballot_secret=...) or CASEFLOW_BALLOT_SECRET (see caseflow.sealing)"
            )
        entropy = draft.env.entropy
        label = sealing.round_label(draft.case.id, state, number)
        wrapped = sealing.wrap(secret, entropy[: sealing.KEY], entropy[32:44], label)
    draft.vote_ops.append(
        OpenRound(
            state, number, tuple(electorate), dict(vote.rule), vote.secret, closes_at, wrapped
        )
    )
    draft.votes.append(
        VoteRound(
            0,
            draft.case.id,
            state,
            number,
            len(electorate),
            dict(vote.rule),
            vote.secret,
            "open",
            draft.at,
            closes_at,
            None,
            None,
            wrapped,
        )
    )
    if closes_at is not None:
        draft.arm.append(TimerSpec("vote_close", timer_name(state), closes_at))
    draft.note(
        "vote",
        SYSTEM_VOTE,
        {
            "vote": state,
            "round": number,
            "action": "opened",
            "electorate": len(electorate),
            "closes_at": closes_at.isoformat() if closes_at else None,
            "ballot": "secret" if vote.secret else "open",
        },
    )


def _round_key(draft: Draft, current: VoteRound) -> bytes:
    secret = draft.env.ballot_secret
    if secret is None or current.key_wrapped is None:
        raise VoteError(
            "this secret vote's ballots are sealed: the engine needs its ballot secret "
            "(Engine(ballot_secret=...) or CASEFLOW_BALLOT_SECRET)"
        )
    label = sealing.round_label(current.case_id, current.state, current.round)
    return sealing.unwrap(secret, current.key_wrapped, label)


def open_round(draft: Draft) -> tuple[VoteDef, VoteRound]:
    """The vote of the case's state and its open round, or :class:`VoteError`."""
    case = draft.case
    vote = draft.definition.states[case.state].vote
    current = draft.votes[-1] if draft.votes else None
    if vote is None or current is None or current.status != "open" or current.state != case.state:
        raise VoteError(f"case {case.id!r} has no open vote (state {case.state!r})")
    return vote, current


def who_votes(actor: Actor, voter: str | None) -> tuple[str, str]:
    """The voter and how they vote: themselves online, or recorded in person by a clerk."""
    if voter is None or voter == actor.id:
        return actor.id, "online"
    return voter, "in_person"


def _standing(draft: Draft, who: str) -> tuple[bool, bool]:
    """(present, voted) of the voter; a non-member is refused."""
    voter = draft.snapshot.voter
    if voter is None or voter.id != who or not voter.member:
        raise VoteError(f"{who!r} is not in the electorate of this vote")
    return voter.present, voter.voted


def attend(draft: Draft, command: Attend) -> None:
    """Register a voter as present (a clerk for someone in the room, or oneself online)."""
    _vote, current = open_round(draft)
    who, how = who_votes(command.actor, command.voter)
    present, _voted = _standing(draft, who)
    if present:
        return
    draft.vote_ops.append(AttendVote(current.id, who, how, command.actor.id))
    draft.note(
        "vote",
        command.actor,
        {
            "vote": current.state,
            "round": current.round,
            "action": "present",
            "voter": who,
            "how": how,
        },
    )


def cast_ballot(draft: Draft, command: CastBallot) -> Case:
    """One ballot; the vote closes when the last member voted (if so configured)."""
    if command.choice not in CHOICES:
        raise VoteError(f"a ballot is one of {', '.join(CHOICES)}, not {command.choice!r}")
    vote, current = open_round(draft)
    who, how = who_votes(command.actor, command.voter)
    present, voted = _standing(draft, who)
    if voted:
        raise VoteError(
            f"{who!r} has already voted in this round of case {draft.case.id!r}: one ballot "
            "per voter"
        )
    if not present:
        draft.vote_ops.append(AttendVote(current.id, who, how, command.actor.id))
    sealed = None
    if current.sealed:
        key = _round_key(draft, current)
        label = sealing.round_label(current.case_id, current.state, current.round)
        sealed = sealing.seal(key, command.choice, draft.env.entropy[44:56], label)
    draft.vote_ops.append(Ballot(current.id, who, command.choice, current.secret, sealed))
    details: dict[str, Any] = {
        "vote": current.state,
        "round": current.round,
        "action": "ballot",
        "voter": who,
        "how": how,
    }
    if not current.secret:
        details["choice"] = command.choice
    draft.note("vote", command.actor, details)
    counts = draft.snapshot.counts
    cast = (counts.ballots if counts is not None else 0) + 1
    if vote.close_when_all_voted and cast == current.electorate_size:
        close(draft, vote, current, SYSTEM_VOTE, "everyone voted", ballot=(command.choice, present))
    return draft.case


def close_vote(draft: Draft, command: CloseVote) -> Case:
    vote, current = open_round(draft)
    close(draft, vote, current, command.actor, command.reason)
    return draft.case


def close(
    draft: Draft,
    vote: VoteDef,
    current: VoteRound,
    actor: Actor,
    why: str,
    *,
    ballot: tuple[str, bool] | None = None,
) -> None:
    """Tally, store the result with the counts, fire the pass/fail/no-quorum event."""
    counts = draft.snapshot.counts
    tally = {
        "yes": counts.yes if counts else 0,
        "no": counts.no if counts else 0,
        "abstain": counts.abstain if counts else 0,
        "present": counts.present if counts else 0,
    }
    if current.sealed:  # opened only now: the sealed ballots are counted here
        key = _round_key(draft, current)
        label = sealing.round_label(current.case_id, current.state, current.round)
        for blob in draft.snapshot.sealed:
            tally[sealing.open_sealed(key, blob, label)] += 1
    if ballot is not None:  # the ballot that closed the vote is not in the snapshot's counts
        choice, was_present = ballot
        tally[choice] += 1
        tally["present"] += 0 if was_present else 1
    outcome = decide(
        VoteRule.parse(current.rule),
        Counts(
            members=current.electorate_size,
            present=tally["present"],
            yes=tally["yes"],
            no=tally["no"],
            abstain=tally["abstain"],
        ),
    )
    result = {
        "outcome": outcome.outcome,
        "members": current.electorate_size,
        "present": tally["present"],
        "yes": tally["yes"],
        "no": tally["no"],
        "abstain": tally["abstain"],
        "min_present": outcome.min_present,
        "min_yes": outcome.min_yes,
        "quorum_met": outcome.quorum_met,
        "passed": outcome.passed,
    }
    draft.vote_ops.append(FinishRound(current.id, "closed", result, erase=current.sealed))
    draft.votes[-1] = dataclasses.replace(current, status="closed", result=result)
    draft.cancel_timers(timer_name(current.state))
    draft.note(
        "vote",
        actor,
        {"vote": current.state, "round": current.round, "action": "closed", "why": why, **result},
    )
    event = {"passed": vote.on_pass, "failed": vote.on_fail, "no_quorum": vote.on_no_quorum}[
        outcome.outcome
    ]
    draft.transition(event, SYSTEM_VOTE, None, f"vote round {current.round}: {outcome.outcome}")
