"""
The vote tables: ``cf_votes`` (rounds), ``cf_vote_electorate``, ``cf_vote_attendance``,
``cf_ballots`` and ``cf_vote_tallies``. The only module that writes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update

from caseflow.records import VoteRound
from caseflow.store.tables import ballots, vote_attendance, vote_electorate, vote_tallies, votes

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

CHOICES = ("yes", "no", "abstain")

_COLUMNS = (
    votes.c.id,
    votes.c.case_id,
    votes.c.state,
    votes.c.round,
    votes.c.electorate_size,
    votes.c.rule,
    votes.c.secret,
    votes.c.status,
    votes.c.opened_at,
    votes.c.closes_at,
    votes.c.closed_at,
    votes.c.result,
    votes.c.key_wrapped,
)


class VoterStatus(NamedTuple):
    """What a ballot or an attendance needs to know of one voter in one round."""

    member: bool
    present: bool
    voted: bool


def open_round(
    conn: Connection,
    case_id: str,
    state: str,
    number: int,
    electorate: Sequence[str],
    rule: dict[str, Any],
    *,
    secret: bool,
    now: dt.datetime,
    closes_at: dt.datetime | None,
    key_wrapped: bytes | None = None,
) -> int:
    """Insert round ``number`` with its electorate snapshot and zero tallies; its id."""
    vote_id = conn.execute(
        insert(votes).returning(votes.c.id),
        {
            "case_id": case_id,
            "state": state,
            "round": number,
            "electorate_size": len(electorate),
            "rule": rule,
            "secret": secret,
            "status": "open",
            "opened_at": now,
            "closes_at": closes_at,
            "key_wrapped": key_wrapped,
        },
    ).scalar_one()
    conn.execute(
        insert(vote_tallies), [{"vote_id": vote_id, "choice": c, "count": 0} for c in CHOICES]
    )
    conn.execute(insert(vote_electorate), [{"vote_id": vote_id, "voter": v} for v in electorate])
    return int(vote_id)


_ROUNDS = select(*_COLUMNS).where(votes.c.case_id == bindparam("b_case")).order_by(votes.c.id)


def rounds(conn: Connection, case_id: str) -> list[VoteRound]:
    """Every round of the case's votes, oldest first."""
    return [VoteRound(*tuple(r)) for r in conn.execute(_ROUNDS, {"b_case": case_id})]


_VOTER = select(
    select(vote_electorate.c.voter)
    .where(
        vote_electorate.c.vote_id == bindparam("b_vote"),
        vote_electorate.c.voter == bindparam("b_voter"),
    )
    .exists()
    .label("member"),
    select(vote_attendance.c.voter)
    .where(
        vote_attendance.c.vote_id == bindparam("b_vote"),
        vote_attendance.c.voter == bindparam("b_voter"),
    )
    .exists()
    .label("present"),
    select(ballots.c.voter)
    .where(ballots.c.vote_id == bindparam("b_vote"), ballots.c.voter == bindparam("b_voter"))
    .exists()
    .label("voted"),
)


def voter_status(conn: Connection, vote_id: int, voter: str) -> VoterStatus:
    row = conn.execute(_VOTER, {"b_vote": vote_id, "b_voter": voter}).one()
    return VoterStatus(bool(row[0]), bool(row[1]), bool(row[2]))


_ATTEND = insert(vote_attendance)
_BALLOT = insert(ballots)
_COUNT = (
    update(vote_tallies)
    .where(
        vote_tallies.c.vote_id == bindparam("b_vote"),
        vote_tallies.c.choice == bindparam("b_choice"),
    )
    .values(count=vote_tallies.c.count + 1)
)


def attend(conn: Connection, vote_id: int, voter: str, how: str, recorded_by: str) -> None:
    conn.execute(
        _ATTEND, {"vote_id": vote_id, "voter": voter, "how": how, "recorded_by": recorded_by}
    )


def cast(
    conn: Connection,
    vote_id: int,
    voter: str,
    choice: str,
    *,
    secret: bool,
    sealed: bytes | None = None,
) -> None:
    """
    Insert the ballot (the primary key refuses a second). An open ballot is counted at
    once; a sealed one is stored sealed and counted only at close (nothing else changes).
    """
    conn.execute(
        _BALLOT,
        {
            "vote_id": vote_id,
            "voter": voter,
            "choice": None if secret else choice,
            "sealed": sealed,
        },
    )
    if sealed is None:
        conn.execute(_COUNT, {"b_vote": vote_id, "b_choice": choice})


def sealed_ballots(conn: Connection, vote_id: int) -> list[bytes]:
    """The sealed ballots of a round, in no meaningful order (by their own bytes)."""
    rows = conn.execute(
        select(ballots.c.sealed)
        .where(ballots.c.vote_id == vote_id, ballots.c.sealed.is_not(None))
        .order_by(ballots.c.sealed)
    )
    return [bytes(r[0]) for r in rows]


def tally(conn: Connection, vote_id: int) -> dict[str, int]:
    """Counts per choice, ``present`` and ``ballots`` (ballots cast) of one round."""
    rows = conn.execute(
        select(vote_tallies.c.choice, vote_tallies.c.count).where(vote_tallies.c.vote_id == vote_id)
    )
    counts = dict.fromkeys(CHOICES, 0)
    counts.update({r[0]: r[1] for r in rows})
    counts["ballots"] = conn.execute(
        select(func.count()).select_from(ballots).where(ballots.c.vote_id == vote_id)
    ).scalar_one()
    counts["present"] = conn.execute(
        select(func.count())
        .select_from(vote_attendance)
        .where(vote_attendance.c.vote_id == vote_id)
    ).scalar_one()
    return counts


def open_ballots(conn: Connection, vote_id: int) -> list[tuple[str, str | None]]:
    rows = conn.execute(
        select(ballots.c.voter, ballots.c.choice)
        .where(ballots.c.vote_id == vote_id)
        .order_by(ballots.c.voter)
    )
    return [(r[0], r[1]) for r in rows]


def attendance(conn: Connection, vote_id: int) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        select(vote_attendance.c.voter, vote_attendance.c.how, vote_attendance.c.recorded_by)
        .where(vote_attendance.c.vote_id == vote_id)
        .order_by(vote_attendance.c.voter)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def electorate(conn: Connection, vote_id: int) -> list[str]:
    rows = conn.execute(
        select(vote_electorate.c.voter)
        .where(vote_electorate.c.vote_id == vote_id)
        .order_by(vote_electorate.c.voter)
    )
    return [r[0] for r in rows]


def finish(
    conn: Connection,
    vote_id: int,
    status: str,
    result: dict[str, Any] | None,
    now: dt.datetime,
    *,
    erase: bool = False,
) -> bool:
    """Close or cancel a round; ``erase``: drop its sealed ballots and its wrapped key."""
    done = conn.execute(
        update(votes)
        .where(votes.c.id == vote_id, votes.c.status == "open")
        .values(status=status, result=result, closed_at=now, key_wrapped=None)
    )
    if erase:
        conn.execute(update(ballots).where(ballots.c.vote_id == vote_id).values(sealed=None))
    return done.rowcount == 1
