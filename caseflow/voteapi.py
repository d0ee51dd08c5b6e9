"""The voting half of the :class:`~caseflow.Engine` API (a mixin, for module size)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from caseflow._parts import EngineParts
from caseflow.cases import Actor, Case, HistoryEntry, note_entry
from caseflow.clocks.periods import compute_due
from caseflow.errors import CaseNotFound, Forbidden, VoteError
from caseflow.store import clockrepo, repo, voterepo
from caseflow.store.tables import timers
from caseflow.voting import Counts, VoteRule, decide

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from sqlalchemy.engine import Connection

    from caseflow.abc import RosterProvider
    from caseflow.definitions.model import VoteDef, WorkflowDef

SYSTEM = Actor.system("vote")


@dataclass(frozen=True, slots=True)
class VoteView:
    """A vote round as ``caseflow votes show`` prints it."""

    case_id: str
    state: str
    round: int
    status: str
    secret: bool
    electorate: int
    present: int
    yes: int
    no: int
    abstain: int
    min_present: int
    min_yes: int | None
    result: dict[str, Any] | None
    ballots: list[tuple[str, str | None]]
    attendance: list[tuple[str, str, str]]


def _entry(case: Case, actor: Actor, now: dt.datetime, details: dict[str, Any]) -> HistoryEntry:
    return note_entry(case, actor, now, "vote", details)


class VoteAPI(EngineParts):
    """Votes held in a state: attendance, ballots (in person or online), closing, tally."""

    # -- hooks called from Engine._transition / start ---------------------------------

    def _vote_hooks(
        self,
        conn: Connection,
        definition: WorkflowDef,
        case: Case,
        left: str | None,
        entered: str | None,
        now: dt.datetime,
    ) -> list[HistoryEntry]:
        entries: list[HistoryEntry] = []
        if left is not None and definition.states[left].vote is not None:
            current = voterepo.latest_round(conn, case.id)
            if current is not None and current.status == "open" and current.state == left:
                voterepo.finish(conn, current.id, "cancelled", None, now)
                _cancel_close_timer(conn, case.id)
                entries.append(
                    _entry(
                        case,
                        SYSTEM,
                        now,
                        {"vote": left, "round": current.round, "action": "cancelled"},
                    )
                )
        vote = definition.states[entered].vote if entered is not None else None
        if entered is not None and vote is not None:
            entries.append(self._open(conn, definition, vote, case, entered, now))
        return entries

    def _open(
        self,
        conn: Connection,
        definition: WorkflowDef,
        vote: VoteDef,
        case: Case,
        state: str,
        now: dt.datetime,
    ) -> HistoryEntry:
        electorate = self._electorate(vote, case)
        closes_at = None
        if vote.closes_after is not None:
            calendar = self.calendars.for_workflow(definition)
            closes_at = compute_due(now, vote.closes_after, calendar, definition.timezone).due_at
        opened = voterepo.open_round(
            conn,
            case.id,
            state,
            electorate,
            dict(vote.rule),
            secret=vote.secret,
            now=now,
            closes_at=closes_at,
        )
        if closes_at is not None:
            from caseflow.clocks.runtime import TimerSpec  # noqa: PLC0415

            clockrepo.arm_timers(
                conn, case.id, [TimerSpec("vote_close", f"vote:{state}", closes_at)], now
            )
        return _entry(
            case,
            SYSTEM,
            now,
            {
                "vote": state,
                "round": opened.round,
                "action": "opened",
                "electorate": len(electorate),
                "closes_at": closes_at.isoformat() if closes_at else None,
                "ballot": "secret" if vote.secret else "open",
            },
        )

    def _electorate(self, vote: VoteDef, case: Case) -> list[str]:
        if vote.electorate_data is not None:
            raw = case.data.get(vote.electorate_data)
            if not isinstance(raw, list) or not raw:
                raise VoteError(
                    f"cannot open the vote: case data {vote.electorate_data!r} "
                    "must be a non-empty list of voter ids"
                )
            voters = [v["id"] if isinstance(v, dict) else v for v in raw]
        else:
            provider = self.rosters.get(vote.electorate_provider or "")
            if provider is None:
                raise VoteError(f"no roster provider {vote.electorate_provider!r} is registered")
            voters = list(
                provider.members(group=vote.electorate_group, org=case.org, data=case.data)
            )
        unique = sorted({str(v) for v in voters})
        if len(unique) != len(voters):
            raise VoteError("the electorate lists a voter twice")
        return unique

    # -- public calls --------------------------------------------------------------

    def _open_round(
        self, conn: Connection, case_id: str, lock: str
    ) -> tuple[Case, WorkflowDef, VoteDef, voterepo.VoteRound]:
        case = repo.load_case(conn, case_id)
        if case is None:
            raise CaseNotFound(case_id)
        definition = self.workflow(case.workflow, case.workflow_version)
        vote = definition.states[case.state].vote
        current = voterepo.latest_round(conn, case_id, lock=lock)
        if (
            vote is None
            or current is None
            or current.status != "open"
            or current.state != case.state
        ):
            raise VoteError(f"case {case_id!r} has no open vote (state {case.state!r})")
        return case, definition, vote, current

    def _clerk_or_voter(self, vote: VoteDef, actor: Actor, voter: str | None) -> tuple[str, str]:
        if voter is None or voter == actor.id:
            return actor.id, "online"
        if not actor.is_system and not actor.roles.intersection(vote.clerk_roles):
            raise Forbidden(
                f"recording another voter requires one of the roles: "
                f"{', '.join(vote.clerk_roles) or '(none configured)'}",
                required_roles=vote.clerk_roles,
            )
        return voter, "in_person"

    def _voter(
        self, conn: Connection, case_id: str, actor: Actor, voter: str | None
    ) -> tuple[Case, VoteDef, voterepo.VoteRound, str, str]:
        """The open round and who is voting how (online / in person), checked."""
        case, _definition, vote, current = self._open_round(conn, case_id, "share")
        who, how = self._clerk_or_voter(vote, actor, voter)
        if not voterepo.is_member(conn, current.id, who):
            raise VoteError(f"{who!r} is not in the electorate of this vote")
        return case, vote, current, who, how

    def attend(self, case_id: str, voter: str | None = None, *, actor: Actor) -> None:
        """Register a voter as present (a clerk for someone in the room, or oneself online)."""
        now = self.clock.now()
        with self._write() as conn:
            case, _vote, current, who, how = self._voter(conn, case_id, actor, voter)
            if voterepo.attend(conn, current.id, who, how, actor.id):
                details = {
                    "vote": current.state,
                    "round": current.round,
                    "action": "present",
                    "voter": who,
                    "how": how,
                }
                repo.insert_history(conn, [_entry(case, actor, now, details)])

    def cast_ballot(
        self, case_id: str, choice: str, *, actor: Actor, voter: str | None = None
    ) -> Case:
        """
        Cast one ballot (``yes``/``no``/``abstain``): online by the voter, or in person
        recorded by a clerk (``voter=``). A second ballot of the same voter in the same
        round raises :class:`VoteError`. Returns the case (moved on if this closed the vote).
        """
        if choice not in voterepo.CHOICES:
            raise VoteError(f"a ballot is one of {', '.join(voterepo.CHOICES)}, not {choice!r}")
        now = self.clock.now()
        try:
            with self._write() as conn:
                case, vote, current, who, how = self._voter(conn, case_id, actor, voter)
                voterepo.attend(conn, current.id, who, how, actor.id)
                voterepo.cast(conn, current.id, who, choice, secret=current.secret)
                details: dict[str, Any] = {
                    "vote": current.state,
                    "round": current.round,
                    "action": "ballot",
                    "voter": who,
                    "how": how,
                }
                if not current.secret:
                    details["choice"] = choice
                repo.insert_history(conn, [_entry(case, actor, now, details)])
                if (
                    vote.close_when_all_voted
                    and voterepo.ballots_cast(conn, current.id) == current.electorate_size
                ):
                    return self._close(conn, vote, case, current, SYSTEM, now, "everyone voted")
                return case
        except IntegrityError as exc:
            raise VoteError(
                f"{voter or actor.id!r} has already voted in this round of case "
                f"{case_id!r}: one ballot per voter"
            ) from exc

    def close_vote(
        self, case_id: str, *, actor: Actor, reason: str = "closed by the clerk"
    ) -> Case:
        """Tally, store the result with the counts, and fire the pass/fail/no-quorum event."""
        now = self.clock.now()
        with self._write() as conn:
            case, _definition, vote, current = self._open_round(conn, case_id, "update")
            if not actor.is_system and not actor.roles.intersection(vote.clerk_roles):
                raise Forbidden(
                    f"closing the vote requires one of the roles: {', '.join(vote.clerk_roles)}",
                    required_roles=vote.clerk_roles,
                )
            return self._close(conn, vote, case, current, actor, now, reason)

    def _close(
        self,
        conn: Connection,
        vote: VoteDef,
        case: Case,
        current: voterepo.VoteRound,
        actor: Actor,
        now: dt.datetime,
        why: str,
    ) -> Case:
        counts = voterepo.tally(conn, current.id)
        outcome = decide(
            VoteRule.parse(current.rule),
            Counts(
                members=current.electorate_size,
                present=counts["present"],
                yes=counts["yes"],
                no=counts["no"],
                abstain=counts["abstain"],
            ),
        )
        result = {
            "outcome": outcome.outcome,
            "members": current.electorate_size,
            "present": counts["present"],
            "yes": counts["yes"],
            "no": counts["no"],
            "abstain": counts["abstain"],
            "min_present": outcome.min_present,
            "min_yes": outcome.min_yes,
            "quorum_met": outcome.quorum_met,
            "passed": outcome.passed,
        }
        if not voterepo.finish(conn, current.id, "closed", result, now):
            raise VoteError(f"the vote of case {case.id!r} is already closed")
        _cancel_close_timer(conn, case.id)
        repo.insert_history(
            conn,
            [
                _entry(
                    case,
                    actor,
                    now,
                    {
                        "vote": current.state,
                        "round": current.round,
                        "action": "closed",
                        "why": why,
                        **result,
                    },
                )
            ],
        )
        event = {"passed": vote.on_pass, "failed": vote.on_fail, "no_quorum": vote.on_no_quorum}[
            outcome.outcome
        ]
        return self._transition(
            conn, case, event, SYSTEM, None, now, f"vote round {current.round}: {outcome.outcome}"
        )

    def _close_due_vote(self, conn: Connection, case: Case, now: dt.datetime) -> bool:
        """The vote window ended (timer): close the open round, if any."""
        definition = self.workflow(case.workflow, case.workflow_version)
        vote = definition.states[case.state].vote
        current = voterepo.latest_round(conn, case.id, lock="update")
        if vote is None or current is None or current.status != "open":
            return False
        self._close(conn, vote, case, current, SYSTEM, now, "the voting window ended")
        return True

    def vote(self, case_id: str, round_no: int | None = None) -> VoteView:
        """The newest (or a given) round: electorate, attendance, thresholds, tally, result."""
        with self._read() as conn:
            all_rounds = voterepo.rounds(conn, case_id)
            if not all_rounds:
                if repo.load_case(conn, case_id) is None:
                    raise CaseNotFound(case_id)
                raise VoteError(f"case {case_id!r} has had no vote")
            chosen = (
                all_rounds[-1]
                if round_no is None
                else next((r for r in all_rounds if r.round == round_no), None)
            )
            if chosen is None:
                raise VoteError(f"case {case_id!r} has no vote round {round_no}")
            counts = voterepo.tally(conn, chosen.id)
            ballots = [] if chosen.secret else voterepo.open_ballots(conn, chosen.id)
            present = voterepo.attendance(conn, chosen.id)
        decided = decide(
            VoteRule.parse(chosen.rule),
            Counts(
                members=chosen.electorate_size,
                present=counts["present"],
                yes=counts["yes"],
                no=counts["no"],
                abstain=counts["abstain"],
            ),
        )
        return VoteView(
            case_id,
            chosen.state,
            chosen.round,
            chosen.status,
            chosen.secret,
            chosen.electorate_size,
            counts["present"],
            counts["yes"],
            counts["no"],
            counts["abstain"],
            decided.min_present,
            decided.min_yes,
            chosen.result,
            ballots,
            present,
        )


def _cancel_close_timer(conn: Connection, case_id: str) -> None:
    conn.execute(
        update(timers)
        .where(
            timers.c.case_id == case_id, timers.c.kind == "vote_close", timers.c.status == "pending"
        )
        .values(status="cancelled")
    )


def rosters_from(mapping: Mapping[str, RosterProvider] | None) -> dict[str, RosterProvider]:
    return dict(mapping or {})
