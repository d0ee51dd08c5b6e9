"""
Worklists: the active cases an actor works on, most urgent first, read off one index.

Every command that changes a clock keeps ``cf_cases.urgency`` (0 breached, 1 warned,
2 a clock running, 3 none) and ``next_due`` (its soonest due time), so a worklist is
``ORDER BY urgency, next_due, id``. Which states an actor works on is the definitions'
business (:func:`caseflow.pipeline.authz.can_work_on`); this module gets them as
:class:`Target` rows, and reads each target off its own range of ``ix_cf_cases_worklist``
(``status, workflow, state, urgency, next_due, id, workflow_version, org, assignee``:
``status, workflow, state`` fixed, then in worklist order; the columns after ``id`` let
the unit, version and claim filters and the counts be answered from the index alone):
a page is the merge of one ordered, limited index walk per target (``UNION ALL``), whose
ids are then joined to their rows; counts add up one index range per target. A single
``WHERE status = 'active' AND (target OR target ...)`` over one global urgency index had
to walk every active case ahead of the actor's first (1.2 s for counts at 1M cases on
SQLite: bench/BENCHMARKS.md, "Worklist benchmark").
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import String, bindparam, case, func, or_, select, union_all

from caseflow.store.cases import COLUMNS, case_from_row
from caseflow.store.listing import org_condition
from caseflow.store.tables import cases

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import BindParameter, ColumnElement
    from sqlalchemy.sql.selectable import CompoundSelect, Select

    from caseflow.cases import Case


class Target(NamedTuple):
    """Cases of these workflow versions in this state, of this unit and below (None: any)."""

    workflow: str
    versions: tuple[int, ...]
    state: str
    org: str | None


#: The actor whose claims count (cases claimed by others are left out), bound per call.
_ACTOR: BindParameter[str] = bindparam("worklist_actor", type_=String())


def _branches(
    targets: Sequence[Target], *, claimed_by_others: bool, org: str | None
) -> list[list[ColumnElement[bool]]]:
    """One WHERE per target: ``status``, ``workflow`` and ``state`` fixed (an index range),
    then the version, unit and claim filters (on columns the index holds)."""
    out = []
    for t in targets:
        where = [
            cases.c.status == "active",
            cases.c.workflow == t.workflow,
            cases.c.state == t.state,
            cases.c.workflow_version.in_(t.versions),
        ]
        if t.org is not None:
            where.append(org_condition(t.org, include_sub_orgs=True))
        if org is not None:
            where.append(org_condition(org, include_sub_orgs=True))
        if not claimed_by_others:
            where.append(or_(cases.c.assignee.is_(None), cases.c.assignee == _ACTOR))
        out.append(where)
    return out


def _params(actor_id: str, claimed_by_others: bool) -> dict[str, str]:
    return {} if claimed_by_others else {"worklist_actor": actor_id}


@functools.lru_cache(maxsize=512)
def _page_query(
    targets: tuple[Target, ...], claimed_by_others: bool, org: str | None, limit: int, offset: int
) -> Select[Any]:
    """The page's statement, built once per set of targets and page (the actor is bound)."""
    order = (cases.c.urgency, cases.c.next_due, cases.c.id)
    walks = []
    for where in _branches(targets, claimed_by_others=claimed_by_others, org=org):
        # each target's first limit + offset ids, in order, off its index range
        walk = select(*order).where(*where).order_by(*order).limit(limit + offset).subquery()
        walks.append(select(walk))
    merged = union_all(*walks) if len(walks) > 1 else walks[0]
    page = merged.order_by("urgency", "next_due", "id").limit(limit).offset(offset).subquery()
    return (
        select(*COLUMNS)
        .join_from(cases, page, cases.c.id == page.c.id)
        .order_by(page.c.urgency, page.c.next_due, page.c.id)
    )


@functools.lru_cache(maxsize=512)
def _counts_query(
    targets: tuple[Target, ...], claimed_by_others: bool, org: str | None, by_org: bool
) -> CompoundSelect[Any] | Select[Any]:
    breached = func.sum(case((cases.c.urgency == 0, 1), else_=0))
    keys = [cases.c.workflow, cases.c.state, *([cases.c.org] if by_org else [])]
    parts = [
        select(*keys, func.count(), breached).where(*where).group_by(*keys)
        for where in _branches(targets, claimed_by_others=claimed_by_others, org=org)
    ]
    return union_all(*parts) if len(parts) > 1 else parts[0]


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
    query = _page_query(tuple(targets), claimed_by_others, org, limit, offset)
    rows = conn.execute(query, _params(actor_id, claimed_by_others))
    return [case_from_row(r) for r in rows]


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
    query = _counts_query(tuple(targets), claimed_by_others, org, by_org)
    found: dict[tuple[str, str, str], tuple[int, int]] = {}
    for r in conn.execute(query, _params(actor_id, claimed_by_others)):
        key = (r[0], r[1], r[2] if by_org else "")
        n, hot = found.get(key, (0, 0))
        found[key] = (n + int(r[-2]), hot + int(r[-1] or 0))
    return dict(sorted(found.items()))
