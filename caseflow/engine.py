"""
The Engine: the public facade over one explicit context and its services.

Every method is a short delegation: commands go through the one pipeline
(:mod:`caseflow.pipeline.runner`), queries to :class:`~caseflow.services.queries.Queries`,
the sweep to :class:`~caseflow.services.sweeper.Sweeper`, admin work to
:class:`~caseflow.services.admin.Admin`, version moves to
:class:`~caseflow.services.migration.Migrations`. Stateless between calls: everything
lives in the database; each call is one transaction.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from caseflow.context import Calendars, EngineContext, Workflows, default_logger
from caseflow.definitions.registry import Registry, shipped_workflows_dir
from caseflow.errors import WorkflowNotFound
from caseflow.notify import LoggingNotifier
from caseflow.pipeline import commands as c
from caseflow.pipeline.runner import Pipeline
from caseflow.plugins import ActionRegistry
from caseflow.services.admin import Admin
from caseflow.services.migration import MigrationReport, Migrations
from caseflow.services.queries import Queries
from caseflow.services.sweeper import Sweeper, SweepReport
from caseflow.store.db import DEFAULT_URL, Database, connect, resolve_ballot_secret
from caseflow.store.schema import ensure_current

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy.engine import Engine as SAEngine

    from caseflow.abc import ActionHandler, Calendar, Notifier, RosterProvider
    from caseflow.cases import Actor, Case, HistoryEntry
    from caseflow.clocks.time import Clock
    from caseflow.definitions.model import WorkflowDef
    from caseflow.machine import CompiledWorkflow
    from caseflow.orgs import OrgTree, OrgUnit
    from caseflow.records import Incident, Timer, WorkItem
    from caseflow.store.listing import Sort
    from caseflow.views import (
        CalendarStatus,
        CaseRow,
        ClockView,
        DeadlineMove,
        EventChoice,
        PendingAction,
        UnitCounts,
        VoteView,
        WorkRow,
    )

#: The roles that may run operators' actions unless the deployment says otherwise.
DEFAULT_OPERATOR_ROLES = ("operator",)


class Engine:
    """
    Runs cases of declarative workflows on SQLite or PostgreSQL.

    Args:
        url: a SQLAlchemy URL (``sqlite:///cases.db``, ``postgresql://...``) or a file path.
        workflows: directories/files of workflow YAML, or a :class:`Registry`; the
            workflows shipped with caseflow when omitted.
        clock: where "now" comes from (default: the system clock, UTC).
        logger: a structlog logger (default: structured lines to the stdlib logger
            ``caseflow``, silent until the host configures logging).
        auto_upgrade: migrate the schema on first use; default True for SQLite only.
        operator_roles: roles that may suspend, resume, move, reassign, cancel, retry,
            skip and migrate cases (default ``("operator",)``).
        ballot_secret: seals secret ballots (:mod:`caseflow.sealing`); default the
            environment's ``CASEFLOW_BALLOT_SECRET``, else for an SQLite file a key file
            next to it (``<file>.ballot-secret``, created once); never stored in the
            database. Without one (PostgreSQL, nothing configured) secret votes are refused.
        supervisor_roles: roles that see every task on worklists, claimed or not, and may
            assign cases to people (default ``("supervisor",)``; operators may too).

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        workflows: str | Path | Sequence[str | Path] | Registry | None = None,
        clock: Clock | None = None,
        logger: Any = None,
        auto_upgrade: bool | None = None,
        calendar: str | Calendar | None = None,
        calendar_overlays: Sequence[str | Path] = (),
        notifier: Notifier | None = None,
        rosters: Mapping[str, RosterProvider] | None = None,
        actions: Mapping[str, ActionHandler] | None = None,
        operator_roles: Sequence[str] = DEFAULT_OPERATOR_ROLES,
        ballot_secret: str | bytes | None = None,
        supervisor_roles: Sequence[str] = ("supervisor",),
        **engine_options: Any,
    ) -> None:
        from caseflow.clocks.time import SystemClock  # noqa: PLC0415

        if isinstance(workflows, Registry):
            registry = workflows
        elif workflows is None:
            registry = Registry.from_paths([shipped_workflows_dir()])
        elif isinstance(workflows, (str, Path)):
            registry = Registry.from_paths([workflows])
        else:
            registry = Registry.from_paths(list(workflows))
        db = Database(connect(url, **engine_options))
        self.ctx = EngineContext(
            db=db,
            clock=clock or SystemClock(),
            workflows=Workflows(registry),
            calendars=Calendars(calendar, calendar_overlays),
            notifier=notifier or LoggingNotifier(),
            actions=ActionRegistry(actions),
            rosters=dict(rosters or {}),
            log=logger if logger is not None else default_logger(),
            operator_roles=frozenset(operator_roles),
            supervisor_roles=frozenset(supervisor_roles),
            default_log=logger is None,
            ballot_key=functools.cache(lambda: resolve_ballot_secret(ballot_secret, db.engine.url)),
        )
        self.pipeline = Pipeline(self.ctx)
        self.queries = Queries(self.ctx)
        self.admin = Admin(self.ctx, self.pipeline)
        self.migrations = Migrations(self.ctx, self.pipeline)
        try:
            if auto_upgrade is None:
                auto_upgrade = db.dialect == "sqlite"
            ensure_current(db.engine, auto_upgrade=auto_upgrade)
            self.admin.sync_definitions()
            self.admin.reload_calendars()
            self.admin.reload_orgs()
        except BaseException:
            db.dispose()
            raise

    # -- the context ----------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def db(self) -> SAEngine:
        """The SQLAlchemy engine (for a host's own read-only checks)."""
        return self.ctx.db.engine

    @property
    def log(self) -> Any:
        return self.ctx.log

    @property
    def notifier(self) -> Notifier:
        return self.ctx.notifier

    @property
    def orgs(self) -> OrgTree:
        return self.ctx.orgs

    @property
    def registry(self) -> Registry:
        return self.ctx.workflows.registry

    def close(self) -> None:
        """Release the database connections."""
        self.ctx.db.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def compiled(self, name: str, version: int | None = None) -> CompiledWorkflow:
        """The compiled workflow; old versions are loaded from the database on demand."""
        workflows = self.ctx.workflows
        try:
            return workflows.compiled(name, version)
        except WorkflowNotFound:
            if version is None:
                raise
        with self.ctx.db.read() as conn:
            return workflows.compiled(name, version, conn)

    def workflow(self, name: str, version: int | None = None) -> WorkflowDef:
        return self.compiled(name, version).definition

    def run(self, command: c.Command) -> Any:
        """Run any command through the pipeline; returns what the command returns."""
        return self.pipeline.run(command).result

    # -- cases ----------------------------------------------------------------------

    def start(
        self,
        workflow: str,
        *,
        data: Mapping[str, Any] | None = None,
        actor: Actor,
        org: str | None = None,
        business_key: str | None = None,
        idempotency_key: str | None = None,
        version: int | None = None,
    ) -> Case:
        """
        Start a case in the workflow's initial state (the newest version unless given).

        Raises:
            WorkflowNotFound: no such workflow (version).
            DataValidationError: ``data`` does not match the workflow's schema, or the org
                unit is not in the loaded org tree.
            DuplicateBusinessKey: the workflow already has a case with this business key.
            IdempotencyConflict: the key was used for a different request.
            Forbidden: with ``org_scope``, the case's unit is outside the actor's.
        """
        command = c.Start(
            workflow=workflow,
            version=version,
            data=data if data is not None else {},
            org=org,
            business_key=business_key,
            actor=actor,
            idempotency_key=idempotency_key,
        )
        result: Case = self.run(command)
        return result

    def fire(
        self,
        case_id: str,
        event: str,
        *,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        comment: str | None = None,
    ) -> Case:
        """
        Fire ``event`` on a case; returns the case as it is afterwards.

        Raises:
            CaseNotFound: no such case.
            InvalidEvent: the event is unknown or not allowed in the current state.
            Forbidden: the actor holds none of the roles the event requires.
            DataValidationError: the payload breaks the event's or the case's schema.
            ConcurrencyConflict: the case is not at ``expected_version``.
            IdempotencyConflict: the key was used for a different request on this case.
            Nothing is written in any of these cases.
        """
        command = c.Fire(
            case_id=case_id,
            event=event,
            payload=payload,
            comment=comment,
            expected_version=expected_version,
            actor=actor,
            idempotency_key=idempotency_key,
        )
        result: Case = self.run(command)
        return result

    def get(self, case_id: str) -> Case:
        """The case as stored. Raises :class:`CaseNotFound`."""
        return self.queries.get(case_id)

    def history(self, case_id: str) -> list[HistoryEntry]:
        """Everything that happened to the case, in order (``seq`` 1, 2, 3, ...)."""
        return self.queries.history(case_id)

    def available_events(self, case_id: str, actor: Actor) -> list[str]:
        """Events ``actor`` may fire on the case now (by state and role)."""
        return self.queries.available_events(case_id, actor)

    def event_choices(self, case: Case) -> list[EventChoice]:
        """Events that can fire in the case's state, with their roles (for operators)."""
        return self.queries.event_choices(case)

    def cases(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        status: str | None = None,
        org: str | None = None,
        include_sub_orgs: bool = True,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Case]:
        """Cases matching every given filter, oldest first; ``org`` includes sub-units."""
        return self.queries.find_cases(
            workflow=workflow,
            state=state,
            status=status,
            org=org,
            include_sub_orgs=include_sub_orgs,
            limit=limit,
            offset=offset,
        )

    def list_cases(self, *, sort: Sort | None = None, **filters: Any) -> list[CaseRow]:
        """One page of cases with their clock status (see :mod:`caseflow.listing`)."""
        return self.queries.list_cases(sort=sort, **filters)

    def case_rows(self, found: Sequence[Case]) -> list[CaseRow]:
        return self.queries.rows_for(found)

    # -- clocks and timers ----------------------------------------------------------

    def clocks(self, case_id: str) -> list[ClockView]:
        """Every clock the case has had, with its status (running/warned/breached/...)."""
        return self.queries.clocks(case_id)

    def extend_clock(self, case_id: str, clock: str, *, actor: Actor, reason: str) -> ClockView:
        """
        Extend a running clock once by its configured ``extension`` (行政许可法 art. 42).

        Raises:
            Forbidden: the actor lacks the extension's roles.
            InvalidEvent: no such clock or extension, no reason, the clock is stopped or
                breached, or the extensions allowed are used up.
        """
        plan = self.pipeline.run(
            c.ExtendClock(case_id=case_id, clock=clock, reason=reason, actor=actor)
        )
        return self.queries.clock_view(plan.case, plan.result, self.ctx.now())

    def overdue(self, *, limit: int = 100, offset: int = 0) -> list[tuple[Case, ClockView]]:
        """Cases with a running clock past its due time, most overdue first."""
        return self.queries.overdue(limit=limit, offset=offset)

    def timers(self, *, due_only: bool = False, limit: int = 100) -> list[Timer]:
        """Pending timers, soonest first (``due_only``: only those due now)."""
        return self.queries.timers(due_only=due_only, limit=limit)

    def sweep_lag(self) -> dt.timedelta | None:
        """How late the oldest due timer is; None when nothing is due."""
        return self.queries.sweep_lag()

    def sweeper(self, **options: Any) -> Sweeper:
        """A :class:`~caseflow.services.sweeper.Sweeper` (``worker``, ``lease``, ``batch``...)."""
        return Sweeper(self.ctx, self.pipeline, **options)

    def fire_due(self, **options: Any) -> SweepReport:
        """Fire every due timer now (one sweep); see :class:`~caseflow.services.sweeper.Sweeper`."""
        return self.sweeper(**options).run_once()

    def start_scheduler(self, *, interval: float = 30.0, **options: Any) -> Any:
        """Sweep every ``interval`` seconds on an APScheduler 3.x BackgroundScheduler."""
        from apscheduler.schedulers.background import BackgroundScheduler  # noqa: PLC0415

        sweeper = self.sweeper(**options)
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            sweeper.run_once,
            "interval",
            seconds=interval,
            id="caseflow-sweep",
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        return scheduler

    def load_calendar_overlay(self, path: str | Path) -> list[int]:
        """Store an admin calendar file (holidays, make-up workdays per year) in the database."""
        return self.admin.load_calendar_overlay(path)

    def calendar_status(self, years: Sequence[int] = ()) -> CalendarStatus:
        """Which years the calendars in use know officially, which are provisional, and the
        running clocks with a provisional deadline by year (``caseflow calendar status``)."""
        return self.admin.calendar_status(years)

    def reload_calendars(self) -> None:
        self.admin.reload_calendars()

    def recompute_provisional(
        self, *, actor: Actor, progress: Callable[[int, int], None] | None = None
    ) -> list[DeadlineMove]:
        """Recompute every provisional deadline with the calendars as they are now (audited):
        each clock recomputed, with its last day before and after (``shift`` in days)."""
        return self.admin.recompute_provisional(actor=actor, progress=progress)

    # -- votes ----------------------------------------------------------------------

    def attend(self, case_id: str, voter: str | None = None, *, actor: Actor) -> None:
        """Register a voter as present (a clerk for someone in the room, or oneself online)."""
        self.pipeline.run(c.Attend(case_id=case_id, voter=voter, actor=actor))

    def cast_ballot(
        self, case_id: str, choice: str, *, actor: Actor, voter: str | None = None
    ) -> Case:
        """
        Cast one ballot (``yes``/``no``/``abstain``): online by the voter, or in person
        recorded by a clerk (``voter=``). A second ballot of the same voter in the same
        round raises :class:`VoteError`. Returns the case (moved on if this closed the vote).
        """
        result: Case = self.run(
            c.CastBallot(case_id=case_id, choice=choice, voter=voter, actor=actor)
        )
        return result

    def close_vote(
        self, case_id: str, *, actor: Actor, reason: str = "closed by the clerk"
    ) -> Case:
        """Tally, store the result with the counts, and fire the pass/fail/no-quorum event."""
        result: Case = self.run(c.CloseVote(case_id=case_id, reason=reason, actor=actor))
        return result

    def vote(self, case_id: str, round_no: int | None = None) -> VoteView:
        """The newest (or a given) round: electorate, attendance, thresholds, tally, result."""
        return self.queries.vote(case_id, round_no)

    # -- org units and parallel work ----------------------------------------------------

    def load_orgs(self, source: str | Path | Sequence[OrgUnit]) -> int:
        """Replace the org tree with a YAML file's (nested units with levels) or given units."""
        return self.admin.load_orgs(source)

    def reload_orgs(self) -> None:
        self.admin.reload_orgs()

    def report_item(
        self, case_id: str, item: str, *, actor: Actor, result: dict[str, Any] | None = None
    ) -> Case:
        """A unit reports its part done; when the join is met the case moves on."""
        done: Case = self.run(c.ReportItem(case_id=case_id, item=item, result=result, actor=actor))
        return done

    def work_items(self, case_id: str) -> list[WorkItem]:
        """Every work item the case has had, by state and unit."""
        return self.queries.work_items(case_id)

    # -- worklists, tasks, messages, child cases ----------------------------------------

    def worklist(self, actor: Actor, **filters: Any) -> list[WorkRow]:
        """The active cases ``actor`` works on, most urgent first (breached, warned, then the
        soonest due); others' claimed cases only for supervisors. Filters: ``workflow``,
        ``state``, ``org``, ``limit``, ``offset``."""
        return self.queries.worklist(actor, **filters)

    def worklist_counts(
        self, actor: Actor, **filters: Any
    ) -> dict[tuple[str, str], tuple[int, int]]:
        """(workflow, state) -> (cases, of them breached) on ``actor``'s worklist."""
        return self.queries.worklist_counts(actor, **filters)

    def task_counts(
        self, roles: Sequence[str], **filters: Any
    ) -> dict[tuple[str, str, str], tuple[int, int]]:
        """For dashboards: (org unit, workflow, state) -> (open tasks, of them breached) in
        the states holders of ``roles`` work on; filters ``org`` (and below), ``workflow``."""
        return self.queries.task_counts(roles, **filters)

    def claim(self, case_id: str, *, actor: Actor, **guards: Any) -> Case:
        """Take an unassigned case: it leaves the other actors' worklists. Two actors
        claiming at once: one wins, the other gets :class:`InvalidEvent` naming the winner."""
        result: Case = self.run(c.Claim(case_id=case_id, actor=actor, **guards))
        return result

    def assign(self, case_id: str, to: str, *, actor: Actor, **guards: Any) -> Case:
        """A supervisor (or operator) gives a case to a person."""
        result: Case = self.run(c.Assign(case_id=case_id, to=to, actor=actor, **guards))
        return result

    def delegate(self, case_id: str, to: str, *, actor: Actor, **guards: Any) -> Case:
        """The case's assignee hands it to another person."""
        result: Case = self.run(c.Delegate(case_id=case_id, to=to, actor=actor, **guards))
        return result

    def release(self, case_id: str, *, actor: Actor, **guards: Any) -> Case:
        """The assignee (or a supervisor) gives the case back to the pool."""
        result: Case = self.run(c.Release(case_id=case_id, actor=actor, **guards))
        return result

    def fire_by_key(
        self,
        workflow: str,
        business_key: str,
        event: str,
        *,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Case:
        """:meth:`fire` on the case of ``workflow`` with this business key."""
        command = c.FireByKey(
            workflow=workflow,
            business_key=business_key,
            event=event,
            payload=payload,
            actor=actor,
            idempotency_key=idempotency_key,
        )
        result: Case = self.run(command)
        return result

    def message(
        self,
        message: str,
        business_key: str,
        *,
        actor: Actor,
        message_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> Case:
        """
        Deliver a message from outside: it fires the event that declares ``message:
        <name>`` on the one active case with this business key whose state takes it.
        ``message_id`` makes a redelivered message one effect (the first result).

        Raises:
            MessageNotCorrelated: no case takes the message now, or more than one could.
        """
        command = c.Message(
            message=message,
            business_key=business_key,
            payload=payload,
            actor=actor,
            idempotency_key=message_id,
        )
        result: Case = self.run(command)
        return result

    def children(self, case_id: str) -> list[Case]:
        """The cases this case started (call activities), oldest first."""
        return self.queries.children(case_id)

    # -- operators ------------------------------------------------------------------

    # Every operator method takes ``expected_version`` (refuse if the case moved on) and
    # ``idempotency_key`` (a retried request gets the first result), like :meth:`fire`.

    def suspend(self, case_id: str, *, actor: Actor, reason: str, **guards: Any) -> Case:
        """Suspend an active case: events are refused and its clocks pause."""
        result: Case = self.run(c.Suspend(case_id=case_id, reason=reason, actor=actor, **guards))
        return result

    def resume(self, case_id: str, *, actor: Actor, reason: str, **guards: Any) -> Case:
        """Resume a suspended case; its clocks run again (the suspended days not counted)."""
        result: Case = self.run(c.Resume(case_id=case_id, reason=reason, actor=actor, **guards))
        return result

    def move(
        self, case_id: str, to_state: str, *, actor: Actor, reason: str, **guards: Any
    ) -> Case:
        """Put a case into any state, bypassing events and guards; clocks follow the move."""
        result: Case = self.run(
            c.Move(case_id=case_id, to_state=to_state, reason=reason, actor=actor, **guards)
        )
        return result

    def reassign(
        self,
        case_id: str,
        *,
        actor: Actor,
        reason: str,
        org: str | None = None,
        assignee: str | None = None,
        **guards: Any,
    ) -> Case:
        """Move a case to another org unit and/or person."""
        command = c.Reassign(
            case_id=case_id, org=org, assignee=assignee, reason=reason, actor=actor, **guards
        )
        result: Case = self.run(command)
        return result

    def cancel(self, case_id: str, *, actor: Actor, reason: str, **guards: Any) -> Case:
        """Cancel a case: it ends here, its clocks stop and its pending timers go (and the
        children it started with ``cancel_with_parent``)."""
        result: Case = self.run(c.Cancel(case_id=case_id, reason=reason, actor=actor, **guards))
        return result

    def incidents(
        self, *, status: str | None = "open", case_id: str | None = None, limit: int = 100
    ) -> list[Incident]:
        """Incidents (open by default), oldest first."""
        return self.queries.incidents(status=status, case_id=case_id, limit=limit)

    def incident(self, incident_id: int) -> Incident:
        return self.queries.incident(incident_id)

    def stuck(self) -> list[str]:
        """Ids of cases with an open incident."""
        return self.queries.stuck()

    def pending_actions(self, case_id: str) -> list[PendingAction]:
        """The case's side effects still queued or being retried."""
        return self.queries.pending_actions(case_id)

    def retry(
        self,
        case_id: str,
        *,
        actor: Actor,
        reason: str = "retry",
        run_now: bool = True,
        **guards: Any,
    ) -> int:
        """Re-arm the case's failed actions (attempts from zero) and, by default, run them now."""
        plan = self.pipeline.run(
            c.ResolveIncidents(case_id=case_id, retry=True, reason=reason, actor=actor, **guards)
        )
        ids: list[int] = plan.result
        if ids and run_now:
            self.fire_due()
        return len(ids)

    def skip(self, case_id: str, *, actor: Actor, reason: str, **guards: Any) -> int:
        """Give up on the case's failed actions; the case is no longer stuck."""
        ids: list[int] = self.run(
            c.ResolveIncidents(case_id=case_id, retry=False, reason=reason, actor=actor, **guards)
        )
        return len(ids)

    def migrate_cases(
        self,
        workflow: str,
        from_version: int,
        to_version: int,
        *,
        mapping: Mapping[str, str],
        actor: Actor,
        dry_run: bool = False,
        batch: int = 500,
        reason: str | None = None,
    ) -> MigrationReport:
        """Move running cases between versions (see :mod:`caseflow.services.migration`)."""
        return self.migrations.migrate_cases(
            workflow,
            from_version,
            to_version,
            mapping=mapping,
            actor=actor,
            dry_run=dry_run,
            batch=batch,
            reason=reason,
        )

    def stored_versions(self) -> list[tuple[str, int]]:
        """(name, version) of every definition version stored in the database."""
        return self.admin.stored_versions()

    def running_counts(self) -> dict[tuple[str, int], int]:
        """Active and suspended cases per ``(workflow, version)``."""
        return self.queries.running_counts()

    def case_counts_by_org(self, org: str | None = None) -> dict[str, UnitCounts]:
        """Per org unit in ``org`` and below (each unit's own cases, not its sub-units'):
        open cases, and of those the warned and the breached ones as ``cases list``
        colours them. Two GROUP BYs, for dashboards (电子监察 亮灯)."""
        return self.queries.case_counts_by_org(org)
