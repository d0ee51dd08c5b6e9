"""
Loading a :class:`~caseflow.pipeline.snapshot.Snapshot`: the case row and its clocks in
one query (a LEFT JOIN), then only the parts the workflow's step kinds read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from caseflow.pipeline.snapshot import (
    CHILDREN,
    INCIDENTS,
    ITEMS,
    VOTES,
    Snapshot,
    VoteCounts,
    Voter,
)
from caseflow.store import cases as case_rows
from caseflow.store import clocks as clock_rows
from caseflow.store import incidents, votes, workitems
from caseflow.store.fast import Prepared
from caseflow.store.tables import cases, clocks

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

    from caseflow.records import VoteRound

_N = len(case_rows.COLUMNS)
_END = _N + 1 + len(clock_rows.COLUMNS)
_CASE_AND_CLOCKS = Prepared(
    select(
        *case_rows.COLUMNS,
        cases.c.history_count,
        *(c.label(f"k_{c.name}") for c in clock_rows.COLUMNS),
    )
    .select_from(cases.outerjoin(clocks, clocks.c.case_id == cases.c.id))
    .where(cases.c.id == bindparam("b_id"))
)


def load_head(conn: Connection, case_id: str) -> Snapshot | None:
    """The case row and its clocks (one round trip); None if there is no such case."""
    rows = _CASE_AND_CLOCKS.raw(conn, {"b_id": case_id})
    if not rows:
        return None
    first = rows[0]
    case = case_rows.case_from_row(_CASE_AND_CLOCKS.process(conn, first, 0, _N))
    found = {}
    for row in rows:
        if row[_N + 1] is not None:
            values = _CASE_AND_CLOCKS.process(conn, row, _N + 1, _END)
            found[values[0]] = clock_rows.clock_from_row(values)
    return Snapshot(case, first[_N], found)


def load_parts(
    conn: Connection,
    head: Snapshot,
    parts: frozenset[str],
    voter: str | None = None,
    *,
    closing: str | None = None,
) -> Snapshot:
    """
    The snapshot with the vote rounds, work items and open incidents it needs.
    ``closing``: ``"close"`` loads the latest round's sealed ballots, ``"last"`` only if
    the next ballot is the electorate's last (the command may close the round).
    """
    case = head.case
    if case is None or not parts.intersection({VOTES, ITEMS, INCIDENTS, CHILDREN}):
        return head
    rounds: tuple[VoteRound, ...] = ()
    counts = None
    standing = None
    sealed: tuple[bytes, ...] = ()
    if VOTES in parts:
        rounds = tuple(votes.rounds(conn, case.id))
        latest = rounds[-1] if rounds else None
        if latest is not None and latest.status == "open":
            tally = votes.tally(conn, latest.id)
            counts = VoteCounts(
                tally["yes"], tally["no"], tally["abstain"], tally["present"], tally["ballots"]
            )
            if voter is not None:
                status = votes.voter_status(conn, latest.id, voter)
                standing = Voter(voter, status.member, status.present, status.voted)
            last = counts.ballots + 1 >= latest.electorate_size
            if latest.sealed and (closing == "close" or (closing == "last" and last)):
                sealed = tuple(votes.sealed_ballots(conn, latest.id))
    items = tuple(workitems.load(conn, case.id)) if ITEMS in parts else ()
    found = tuple(incidents.find(conn, case_id=case.id)) if INCIDENTS in parts else ()
    children = tuple(case_rows.open_children(conn, case.id)) if CHILDREN in parts else ()
    return Snapshot(
        case,
        head.history_count,
        head.clocks,
        rounds,
        counts,
        standing,
        items,
        found,
        sealed,
        children,
    )


def load_heads(conn: Connection, case_ids: Sequence[str]) -> dict[str, Snapshot]:
    """Case rows and clocks of many cases (two queries), for batches."""
    heads = case_rows.load_many(conn, case_ids)
    by_case = clock_rows.load_many(conn, list(heads))
    return {
        cid: Snapshot(head.case, head.history_count, by_case.get(cid, {}))
        for cid, head in heads.items()
    }
