"""
The read side: cases, history, clocks, overdue lists, timers, incidents, votes, listings.

Each query is one read-only transaction through the store's owner modules; nothing here
writes. Views are built from stored rows as of the engine's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from caseflow import machine
from caseflow.errors import CaseNotFound, IncidentNotFound, VoteError
from caseflow.pipeline import validate
from caseflow.pipeline.authz import can_work_on
from caseflow.store import (
    cases,
    clocks,
    definitions,
    history,
    incidents,
    listing,
    timers,
    votes,
    workitems,
    worklists,
)
from caseflow.store.worklists import Target
from caseflow.views import (
    CaseRow,
    ClockView,
    EventChoice,
    PendingAction,
    UnitCounts,
    VoteView,
    WorkRow,
    clock_status,
)
from caseflow.voting import Counts, VoteRule, decide

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from caseflow.cases import Actor, Case, HistoryEntry
    from caseflow.clocks.runtime import ClockState
    from caseflow.context import EngineContext
    from caseflow.definitions.model import WorkflowDef
    from caseflow.machine import CompiledWorkflow
    from caseflow.records import Incident, Timer, WorkItem
    from caseflow.store.listing import Sort


class Queries:
    """Read-only queries over one engine context."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def _compiled(self, case: Case) -> CompiledWorkflow:
        """The case's definition version, from the database if it is no longer on disk."""
        workflows = self.ctx.workflows
        found = workflows.cached(case.workflow, case.workflow_version)
        if found is None:
            with self.ctx.db.read() as conn:
                found = workflows.compiled(case.workflow, case.workflow_version, conn)
        return found

    def _definition(self, case: Case) -> WorkflowDef:
        return self._compiled(case).definition

    def clock_view(self, case: Case, state: ClockState, now: dt.datetime) -> ClockView:
        """A clock's view with what is left in its own unit (working days, hours, days)."""
        definition = self._definition(case)
        return ClockView.of_case(state, now, definition, self.ctx.calendars.needed(definition))

    def get(self, case_id: str) -> Case:
        validate.text(case_id, "case_id", validate.CASE_ID)
        with self.ctx.db.read() as conn:
            head = cases.load(conn, case_id)
        if head is None:
            raise CaseNotFound(case_id)
        return head.case

    def history(self, case_id: str) -> list[HistoryEntry]:
        validate.text(case_id, "case_id", validate.CASE_ID)
        with self.ctx.db.read() as conn:
            entries = history.load(conn, case_id)
            if not entries and cases.load(conn, case_id) is None:
                raise CaseNotFound(case_id)
        return entries

    def available_events(self, case_id: str, actor: Actor) -> list[str]:
        validate.actor(actor)
        case = self.get(case_id)
        with self.ctx.db.read() as conn:
            compiled = self.ctx.workflows.compiled(case.workflow, case.workflow_version, conn)
        return machine.available(compiled, case, actor)

    def event_choices(self, case: Case) -> list[EventChoice]:
        """Events that can fire in the case's state (none unless active), with their roles."""
        if case.status != "active":
            return []
        definition = self._definition(case)
        return [
            EventChoice(e.name, e.title, e.targets, e.roles, e.automatic)
            for e in definition.events.values()
            if case.state in e.sources
        ]

    def find_cases(self, **filters: Any) -> list[Case]:
        limit, offset = validate.page(filters.pop("limit", 100), filters.pop("offset", 0))
        for name in ("workflow", "state", "status", "org"):
            if filters.get(name) is not None:
                validate.text(filters[name], name, validate.ORG, empty=True)
        with self.ctx.db.read() as conn:
            return listing.find_cases(
                conn, now=self.ctx.now(), limit=limit, offset=offset, **filters
            )

    def list_cases(self, *, sort: Sort | None = None, **filters: Any) -> list[CaseRow]:
        """One page of cases matching every filter, each with its clock status."""
        overdue = bool(filters.get("overdue"))
        found = self.find_cases(sort=sort or ("due" if overdue else "created"), **filters)
        return self.rows_for(found)

    def rows_for(self, found: Sequence[Case]) -> list[CaseRow]:
        """Decorate cases with their clock status, next due time and open incidents."""
        return [row for row, _ in self._rows(found)]

    def _rows(self, found: Sequence[Case]) -> list[tuple[CaseRow, ClockState | None]]:
        """Each case's listing row and its running clock due soonest."""
        now = self.ctx.now()
        ids = [c.id for c in found]
        with self.ctx.db.read() as conn:
            by_case = clocks.load_many(conn, ids)
            open_counts = listing.open_incident_counts(conn, ids)
        rows = []
        for c in found:
            mine = list(by_case.get(c.id, {}).values())
            running = [s for s in mine if s.phase == "running" and s.due_at is not None]
            soonest = min(running, key=lambda s: s.due_at or now, default=None)
            row = CaseRow(
                c,
                clock_status(mine, now),
                soonest.due_at if soonest else None,
                open_counts.get(c.id, 0),
                soonest.last_day if soonest else None,
            )
            rows.append((row, soonest))
        return rows

    # -- worklists ------------------------------------------------------------------------

    def _targets(
        self,
        conn: Any,
        actor: Actor,
        workflow: str | None,
        state: str | None,
        *,
        scoped: bool = True,
    ) -> tuple[list[Target], bool]:
        """The (workflow versions, state, unit) an actor works on, and whether they
        supervise (see every task, claimed or not, in every state with a manual event).
        Not ``scoped``: the states of the actor's roles in every unit (dashboards)."""
        ctx = self.ctx
        supervisor = bool(actor.roles.intersection(ctx.supervisor_roles | ctx.operator_roles))
        grouped: dict[tuple[str, str, str | None], list[int]] = {}
        for name, version, _ in definitions.versions(conn):
            if workflow is not None and name != workflow:
                continue
            definition = ctx.workflows.compiled(name, version, conn).definition
            unit: str | None = None
            if (
                scoped
                and definition.org_scope
                and not actor.roles.intersection(definition.public_roles)
            ):
                if not actor.org:
                    continue  # an actor of no unit acts on no case of an org-scoped workflow
                unit = actor.org
            for spec in definition.states.values():
                if spec.final or (state is not None and spec.name != state):
                    continue
                if supervisor:
                    works = any(
                        spec.name in e.sources and not e.automatic
                        for e in definition.events.values()
                    )
                else:
                    works = can_work_on(definition, spec.name, actor)
                if works:
                    grouped.setdefault((name, spec.name, unit), []).append(version)
        targets = [Target(w, tuple(v), s, u) for (w, s, u), v in sorted(grouped.items())]
        return targets, supervisor

    def worklist(
        self,
        actor: Actor,
        *,
        workflow: str | None = None,
        state: str | None = None,
        org: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[WorkRow]:
        """
        The active cases ``actor`` works on now, most urgent first: breached, warned, then
        by the soonest due time. Cases someone else claimed are left out, except for
        supervisors, who see every task (``Engine(supervisor_roles=...)``).
        """
        validate.actor(actor)
        limit, offset = validate.page(limit, offset)
        for name, value in (("workflow", workflow), ("state", state), ("org", org)):
            if value is not None:
                validate.text(value, name, validate.ORG)
        with self.ctx.db.read() as conn:
            targets, supervisor = self._targets(conn, actor, workflow, state)
            found = worklists.worklist(
                conn,
                targets,
                actor.id,
                claimed_by_others=supervisor,
                org=org,
                limit=limit,
                offset=offset,
            )
        now = self.ctx.now()
        rows = []
        for row, soonest in self._rows(found):
            case = row.case
            compiled = self._compiled(case)
            rows.append(
                WorkRow(
                    case,
                    row.clock_status,
                    row.next_due,
                    row.open_incidents,
                    row.last_day,
                    compiled.definition.states[case.state].title,
                    tuple(machine.available(compiled, case, actor)),
                    None if soonest is None else self.clock_view(case, soonest, now),
                )
            )
        return rows

    def worklist_counts(
        self, actor: Actor, *, workflow: str | None = None, org: str | None = None
    ) -> dict[tuple[str, str], tuple[int, int]]:
        """(workflow, state) -> (cases, of them breached) on ``actor``'s worklist."""
        validate.actor(actor)
        for name, value in (("workflow", workflow), ("org", org)):
            if value is not None:
                validate.text(value, name, validate.ORG)
        with self.ctx.db.read() as conn:
            targets, supervisor = self._targets(conn, actor, workflow, None)
            found = worklists.counts(conn, targets, actor.id, claimed_by_others=supervisor, org=org)
        return {(w, s): n for (w, s, _), n in found.items()}

    def task_counts(
        self, roles: Sequence[str], *, org: str | None = None, workflow: str | None = None
    ) -> dict[tuple[str, str, str], tuple[int, int]]:
        """
        For dashboards: (org unit, workflow, state) -> (open tasks, of them breached) in the
        states holders of ``roles`` work on, claimed or not, in ``org`` and below.
        """
        from caseflow.cases import Actor  # noqa: PLC0415 - cases imports nothing of ours

        validate.actor(Actor("dashboard", frozenset(roles)))
        for name, value in (("workflow", workflow), ("org", org)):
            if value is not None:
                validate.text(value, name, validate.ORG)
        holder = Actor("dashboard", frozenset(roles), org or "")
        with self.ctx.db.read() as conn:
            targets, _ = self._targets(conn, holder, workflow, None, scoped=False)
            found = worklists.counts(
                conn, targets, holder.id, claimed_by_others=True, org=org, by_org=True
            )
        return {(o, w, s): n for (w, s, o), n in found.items()}

    def children(self, case_id: str) -> list[Case]:
        """The cases this case started (call activities), oldest first."""
        validate.text(case_id, "case_id", validate.CASE_ID)
        with self.ctx.db.read() as conn:
            if cases.load(conn, case_id) is None:
                raise CaseNotFound(case_id)
            return cases.children(conn, case_id)

    def clocks(self, case_id: str) -> list[ClockView]:
        """Every clock the case has had, with its status (running/warned/breached/...)."""
        validate.text(case_id, "case_id", validate.CASE_ID)
        with self.ctx.db.read() as conn:
            head = cases.load(conn, case_id)
            if head is None:
                raise CaseNotFound(case_id)
            states = clocks.load(conn, case_id)
        now = self.ctx.now()
        return [self.clock_view(head.case, s, now) for s in states.values()]

    def overdue(self, *, limit: int = 100, offset: int = 0) -> list[tuple[Case, ClockView]]:
        """Cases with a running clock past its due time, most overdue first."""
        limit, offset = validate.page(limit, offset)
        now = self.ctx.now()
        with self.ctx.db.read() as conn:
            found = clocks.overdue(conn, now, limit, offset)
            heads = cases.load_many(conn, [c for c, _ in found])
        return [
            (heads[c].case, self.clock_view(heads[c].case, s, now)) for c, s in found if c in heads
        ]

    def timers(self, *, due_only: bool = False, limit: int = 100) -> list[Timer]:
        """Pending timers, soonest first (``due_only``: only those due now)."""
        limit, _ = validate.page(limit, 0)
        with self.ctx.db.read() as conn:
            return timers.pending(
                conn, due_before=self.ctx.now() if due_only else None, limit=limit
            )

    def sweep_lag(self) -> dt.timedelta | None:
        """How late the oldest due timer is (None: nothing is due): is a worker running?"""
        now = self.ctx.now()
        with self.ctx.db.read() as conn:
            oldest = timers.oldest_due(conn, now)
        return None if oldest is None else now - oldest

    def pending_actions(self, case_id: str) -> list[PendingAction]:
        with self.ctx.db.read() as conn:
            return [PendingAction(*row) for row in timers.pending_actions(conn, case_id)]

    def incidents(
        self, *, status: str | None = "open", case_id: str | None = None, limit: int = 100
    ) -> list[Incident]:
        """Incidents (open by default), oldest first."""
        limit, _ = validate.page(limit, 0)
        with self.ctx.db.read() as conn:
            return incidents.find(conn, status=status, case_id=case_id, limit=limit)

    def incident(self, incident_id: int) -> Incident:
        with self.ctx.db.read() as conn:
            found = incidents.find(conn, status=None, incident_id=incident_id, limit=1)
        if not found:
            raise IncidentNotFound(incident_id)
        return found[0]

    def stuck(self) -> list[str]:
        """Ids of cases with an open incident."""
        with self.ctx.db.read() as conn:
            return incidents.stuck_case_ids(conn)

    def work_items(self, case_id: str) -> list[WorkItem]:
        """Every work item the case has had, by state and unit."""
        with self.ctx.db.read() as conn:
            return workitems.load(conn, case_id)

    def running_counts(self) -> dict[tuple[str, int], int]:
        """Active and suspended cases per ``(workflow, version)``."""
        with self.ctx.db.read() as conn:
            return cases.running_counts(conn)

    def case_counts_by_org(self, org: str | None = None) -> dict[str, UnitCounts]:
        """Open, warned and breached cases per org unit (its own, not its sub-units')."""
        if org is not None:
            validate.text(org, "org", validate.ORG)
        with self.ctx.db.read() as conn:
            opened = cases.open_counts_by_org(conn, org)
            lights = listing.light_counts(conn, self.ctx.now(), org)
        return {unit: UnitCounts(n, *lights.get(unit, (0, 0))) for unit, n in opened.items()}

    def vote(self, case_id: str, round_no: int | None = None) -> VoteView:
        """The newest (or a given) round: electorate, attendance, thresholds, tally, result."""
        with self.ctx.db.read() as conn:
            all_rounds = votes.rounds(conn, case_id)
            if not all_rounds:
                if cases.load(conn, case_id) is None:
                    raise CaseNotFound(case_id)
                raise VoteError(f"case {case_id!r} has had no vote")
            chosen = (
                all_rounds[-1]
                if round_no is None
                else next((r for r in all_rounds if r.round == round_no), None)
            )
            if chosen is None:
                raise VoteError(f"case {case_id!r} has no vote round {round_no}")
            counts = votes.tally(conn, chosen.id)
            ballots = [] if chosen.secret else votes.open_ballots(conn, chosen.id)
            present = votes.attendance(conn, chosen.id)
        if chosen.result is not None:  # closed: the counts it was decided on
            counts.update({k: int(chosen.result.get(k, 0)) for k in ("yes", "no", "abstain")})
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
            counts["ballots"],
            chosen.sealed and chosen.status == "open",
        )
