"""
A snapshot: what the planner may read of one case, loaded once per transaction.

Which parts are loaded depends on what the case's workflow uses (its step kinds say):
the clocks, the vote rounds (and, for a ballot, the voter's standing and the counts),
the parallel work items. A workflow with none of them loads the case row alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from caseflow.cases import Case
    from caseflow.clocks.runtime import ClockState
    from caseflow.pipeline.plan import Plan
    from caseflow.records import Incident, VoteRound, WorkItem

#: Parts of a snapshot beyond the case row.
CLOCKS = "clocks"
VOTES = "votes"
ITEMS = "items"
INCIDENTS = "incidents"
CHILDREN = "children"


@dataclass(frozen=True, slots=True)
class VoteCounts:
    """The latest round's counts: per choice, present, ballots cast."""

    yes: int = 0
    no: int = 0
    abstain: int = 0
    present: int = 0
    ballots: int = 0


@dataclass(frozen=True, slots=True)
class Voter:
    """One voter's standing in the latest round."""

    id: str
    member: bool
    present: bool
    voted: bool


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One case as the planner sees it (``case`` is None for a case being started)."""

    case: Case | None
    history_count: int = 0
    clocks: Mapping[str, ClockState] = field(default_factory=dict)
    votes: tuple[VoteRound, ...] = ()
    counts: VoteCounts | None = None
    voter: Voter | None = None
    items: tuple[WorkItem, ...] = ()
    incidents: tuple[Incident, ...] = ()
    #: The latest round's sealed ballots, loaded when the command may close it.
    sealed: tuple[bytes, ...] = ()
    #: Ids of the cases this one started that still run (call activities).
    children: tuple[str, ...] = ()

    @property
    def latest_vote(self) -> VoteRound | None:
        return self.votes[-1] if self.votes else None


def after(snapshot: Snapshot, plan: Plan) -> Snapshot:
    """
    The snapshot as a plan leaves it (the case, its history count and its clocks; vote
    rounds and work items are not replayed). Pure: used to decide a second command on
    the same case in one batch, and by tests that run the planner without a database.
    """
    if not plan.writes_case:
        return snapshot
    clocks = dict(snapshot.clocks)
    clocks.update({state.name: state for state, _ in plan.clocks})
    return Snapshot(
        plan.case,
        plan.history_count,
        clocks,
        snapshot.votes,
        snapshot.counts,
        snapshot.voter,
        snapshot.items,
        snapshot.incidents,
        snapshot.sealed,
        snapshot.children,
    )
