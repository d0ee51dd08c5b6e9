"""Vote rounds, attendance, ballots and tallies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update

from caseflow.store.tables import ballots, vote_attendance, vote_electorate, vote_tallies, votes

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.engine import Connection

CHOICES = ("yes", "no", "abstain")


@dataclass(frozen=True, slots=True)
class VoteRound:
    """One round of a vote, as stored."""

    id: int
    case_id: str
    state: str
    round: int
    electorate_size: int
    rule: dict[str, Any]
    secret: bool
    status: str
    opened_at: dt.datetime
    closes_at: dt.datetime | None
    closed_at: dt.datetime | None
    result: dict[str, Any] | None


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
)


def open_round(
    conn: Connection,
    case_id: str,
    state: str,
    electorate: list[str],
    rule: dict[str, Any],
    *,
    secret: bool,
    now: dt.datetime,
    closes_at: dt.datetime | None,
) -> VoteRound:
    last = conn.execute(
        select(func.max(votes.c.round)).where(votes.c.case_id == case_id, votes.c.state == state)
    ).scalar()
    number = (last or 0) + 1
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
        },
    ).scalar_one()
    conn.execute(
        insert(vote_tallies), [{"vote_id": vote_id, "choice": c, "count": 0} for c in CHOICES]
    )
    conn.execute(insert(vote_electorate), [{"vote_id": vote_id, "voter": v} for v in electorate])
    return VoteRound(
        vote_id,
        case_id,
        state,
        number,
        len(electorate),
        rule,
        secret,
        "open",
        now,
        closes_at,
        None,
        None,
    )


_LATEST = (
    select(*_COLUMNS)
    .where(votes.c.case_id == bindparam("b_case"))
    .order_by(votes.c.id.desc())
    .limit(1)
)
_LATEST_LOCKED = {"share": _LATEST.with_for_update(read=True), "update": _LATEST.with_for_update()}


def latest_round(conn: Connection, case_id: str, *, lock: str | None = None) -> VoteRound | None:
    """The newest round of the case's votes; ``lock`` 'share'/'update' locks it on PostgreSQL."""
    query = _LATEST
    if lock is not None and conn.dialect.name == "postgresql":
        query = _LATEST_LOCKED[lock]
    row = conn.execute(query, {"b_case": case_id}).first()
    return None if row is None else VoteRound(*tuple(row))


def rounds(conn: Connection, case_id: str) -> list[VoteRound]:
    rows = conn.execute(select(*_COLUMNS).where(votes.c.case_id == case_id).order_by(votes.c.id))
    return [VoteRound(*tuple(r)) for r in rows]


_PRESENT = select(vote_attendance.c.voter).where(
    vote_attendance.c.vote_id == bindparam("b_vote"),
    vote_attendance.c.voter == bindparam("b_voter"),
)
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


def attend(conn: Connection, vote_id: int, voter: str, how: str, recorded_by: str) -> bool:
    """Register a voter as present; False if already registered."""
    if conn.execute(_PRESENT, {"b_vote": vote_id, "b_voter": voter}).first() is not None:
        return False
    conn.execute(
        _ATTEND, {"vote_id": vote_id, "voter": voter, "how": how, "recorded_by": recorded_by}
    )
    return True


def cast(conn: Connection, vote_id: int, voter: str, choice: str, *, secret: bool) -> None:
    """Insert the ballot (the primary key refuses a second) and count it."""
    conn.execute(
        _BALLOT, {"vote_id": vote_id, "voter": voter, "choice": None if secret else choice}
    )
    conn.execute(_COUNT, {"b_vote": vote_id, "b_choice": choice})


_IS_MEMBER = select(vote_electorate.c.voter).where(
    vote_electorate.c.vote_id == bindparam("b_vote"),
    vote_electorate.c.voter == bindparam("b_voter"),
)
_CAST = select(func.sum(vote_tallies.c.count)).where(vote_tallies.c.vote_id == bindparam("b_vote"))


def is_member(conn: Connection, vote_id: int, voter: str) -> bool:
    return conn.execute(_IS_MEMBER, {"b_vote": vote_id, "b_voter": voter}).first() is not None


def ballots_cast(conn: Connection, vote_id: int) -> int:
    """Ballots counted so far (three tally rows: no scan of the ballots)."""
    return int(conn.execute(_CAST, {"b_vote": vote_id}).scalar() or 0)


def electorate(conn: Connection, vote_id: int) -> list[str]:
    rows = conn.execute(
        select(vote_electorate.c.voter)
        .where(vote_electorate.c.vote_id == vote_id)
        .order_by(vote_electorate.c.voter)
    )
    return [r[0] for r in rows]


def tally(conn: Connection, vote_id: int) -> dict[str, int]:
    rows = conn.execute(
        select(vote_tallies.c.choice, vote_tallies.c.count).where(vote_tallies.c.vote_id == vote_id)
    )
    counts = dict.fromkeys(CHOICES, 0)
    counts.update({r[0]: r[1] for r in rows})
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


def finish(
    conn: Connection, vote_id: int, status: str, result: dict[str, Any] | None, now: dt.datetime
) -> bool:
    done = conn.execute(
        update(votes)
        .where(votes.c.id == vote_id, votes.c.status == "open")
        .values(status=status, result=result, closed_at=now)
    )
    return done.rowcount == 1
