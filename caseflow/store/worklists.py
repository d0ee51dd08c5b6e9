"""
Worklists: the active cases an actor works on, most urgent first, read off one index.

Every command that changes a clock keeps ``cf_cases.urgency`` (0 breached, 1 warned,
2 a clock running, 3 none) and ``next_due`` (its soonest due time), so a worklist is
``ORDER BY urgency, next_due, id`` over ``ix_cf_cases_status_urgency_next_due_id``: the
database walks the index in that order and stops at the page's end. Which states an actor
works on is the definitions' business (:func:`caseflow.pipeline.authz.can_work_on`); this
module gets them as :class:`Target` rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import and_, case, func, or_, select

from caseflow.store.cases import COLUMNS, case_from_row
from caseflow.store.listing import org_condition
from caseflow.store.tables import cases

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import ColumnElement

    from caseflow.cases import Case


class Target(NamedTuple):
    """Cases of these workflow versions in this state, of this unit and below (None: any)."""

    workflow: str
    versions: tuple[int, ...]
    state: str
    org: str | None


def _where(
    targets: Sequence[Target], actor_id: str, *, claimed_by_others: bool, org: str | None
) -> list[ColumnElement[bool]]:
    ors = []
    for t in targets:
        parts = [
            cases.c.workflow == t.workflow,
            cases.c.state == t.state,
            cases.c.workflow_version.in_(t.versions),
        ]
        if t.org is not None:
            parts.append(org_condition(t.org, include_sub_orgs=True))
        ors.append(and_(*parts))
    where = [cases.c.status == "active", or_(*ors)]
    if org is not None:
        where.append(org_condition(org, include_sub_orgs=True))
    if not claimed_by_others:
        where.append(or_(cases.c.assignee.is_(None), cases.c.assignee == actor_id))
    return where


def worklist(
    conn: Connection,
    targets: Sequence[Target],
    actor_id: str,
    *,
    claimed_by_others: bool = False,
    org: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Case]:
    """One page of the cases ``targets`` name, most urgent first (breached, warned, then
    by the soonest due time); cases others claimed only with ``claimed_by_others``."""
    if not targets:
        return []
    where = _where(targets, actor_id, claimed_by_others=claimed_by_others, org=org)
    query = (
        select(*COLUMNS)
        .where(*where)
        .order_by(cases.c.urgency, cases.c.next_due, cases.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [case_from_row(r) for r in conn.execute(query)]


def counts(
    conn: Connection,
    targets: Sequence[Target],
    actor_id: str,
    *,
    claimed_by_others: bool = False,
    org: str | None = None,
    by_org: bool = False,
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(workflow, state, org unit or "") -> (cases, of them breached) over the same cases as
    :func:`worklist`; per unit only ``by_org``."""
    if not targets:
        return {}
    where = _where(targets, actor_id, claimed_by_others=claimed_by_others, org=org)
    breached = func.sum(case((cases.c.urgency == 0, 1), else_=0))
    keys = [cases.c.workflow, cases.c.state, *([cases.c.org] if by_org else [])]
    query = select(*keys, func.count(), breached).where(*where).group_by(*keys).order_by(*keys)
    out = {}
    for r in conn.execute(query):
        unit = r[2] if by_org else ""
        out[(r[0], r[1], unit)] = (int(r[-2]), int(r[-1] or 0))
    return out
