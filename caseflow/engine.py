"""
The Engine: load, authorise, apply, persist in one transaction, log.

Stateless between calls: everything lives in the database. Each call is one
transaction: the case row (guarded by its row version), its history lines, its timer
rows and the idempotency record commit together or not at all.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import structlog
from sqlalchemy.exc import IntegrityError, OperationalError

from caseflow import machine
from caseflow.casemigration import MigrationAPI
from caseflow.cases import Actor, Case, HistoryEntry
from caseflow.clockapi import ClockAPI
from caseflow.clocks.time import Clock, SystemClock
from caseflow.clockwork import Calendars, apply_clocks, outbox
from caseflow.definitions.loader import load_text
from caseflow.definitions.registry import Registry, shipped_workflows_dir
from caseflow.errors import (
    CaseNotFound,
    ConcurrencyConflict,
    DataValidationError,
    DefinitionError,
    StorageError,
    WorkflowNotFound,
)
from caseflow.migrate import ensure_current
from caseflow.notify import LoggingNotifier
from caseflow.opsapi import OpsAPI
from caseflow.orgapi import OrgAPI
from caseflow.orgs import OrgTree
from caseflow.plugins import ActionRegistry
from caseflow.store import clockrepo, listing, repo
from caseflow.store.db import DEFAULT_URL, READ_ONLY, connect
from caseflow.voteapi import VoteAPI

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Mapping, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine as SAEngine

    from caseflow.abc import ActionHandler, Calendar, Notifier, RosterProvider
    from caseflow.clocks.runtime import ClockState
    from caseflow.definitions.model import WorkflowDef


class Engine(ClockAPI, VoteAPI, OpsAPI, OrgAPI, MigrationAPI):
    """
    Runs cases of declarative workflows on SQLite or PostgreSQL.

    Args:
        url: a SQLAlchemy URL (``sqlite:///cases.db``, ``postgresql://...``) or a file path.
        workflows: directories/files of workflow YAML, or a :class:`Registry`; the
            workflows shipped with caseflow when omitted.
        clock: where "now" comes from (default: the system clock, UTC).
        logger: a structlog logger (default: ``structlog.get_logger("caseflow")``).
        auto_upgrade: migrate the schema on first use; default True for SQLite only.

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
        **engine_options: Any,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.calendars = Calendars(calendar, calendar_overlays)
        self.notifier: Notifier = notifier or LoggingNotifier()
        self.rosters: dict[str, RosterProvider] = dict(rosters or {})
        self.actions = ActionRegistry(actions)
        self.log = logger if logger is not None else structlog.get_logger("caseflow")
        if isinstance(workflows, Registry):
            self.registry = workflows
        elif workflows is None:
            self.registry = Registry.from_paths([shipped_workflows_dir()])
        elif isinstance(workflows, (str, Path)):
            self.registry = Registry.from_paths([workflows])
        else:
            self.registry = Registry.from_paths(list(workflows))
        self.db: SAEngine = connect(url, **engine_options)
        try:
            if auto_upgrade is None:
                auto_upgrade = self.db.dialect.name == "sqlite"
            ensure_current(self.db, auto_upgrade=auto_upgrade)
            self._compiled: dict[tuple[str, int], machine.CompiledWorkflow] = {}
            self._sync_definitions()
            self.reload_calendars()
            self.orgs = OrgTree()
            self.reload_orgs()
        except BaseException:
            self.db.dispose()
            raise

    # -- plumbing -----------------------------------------------------------------

    def close(self) -> None:
        """Release the database connections."""
        self.db.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self.db.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StorageError(f"database error: {exc.orig}") from exc

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.db.connect() as conn:
                conn.execution_options(**{READ_ONLY: True})
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StorageError(f"database error: {exc.orig}") from exc

    def _sync_definitions(self) -> None:
        """Store new definition versions; refuse a changed file under a stored version."""
        now = self.clock.now()
        with self._write() as conn:
            for definition in self.registry:
                stored = repo.stored_definition(conn, definition.name, definition.version)
                if stored is None:
                    repo.store_definition(conn, definition, now)
                elif stored[0] != definition.content_hash:
                    raise DefinitionError(
                        f"{definition.source_file}: workflow {definition.name!r} version "
                        f"{definition.version} was already registered with different content "
                        f"(from {stored[2]}); running cases stay on the registered version, so "
                        "give the changed file a new 'version:'"
                    )

    def reload_calendars(self) -> None:
        """Re-read the calendar overlays stored with ``caseflow calendar load``."""
        with self._read() as conn:
            self.calendars.set_db_overlays(clockrepo.load_overlays(conn))
        for definition in self.registry:
            if definition.clocks:
                self.calendars.for_workflow(definition)  # fail now, not at the first timer

    def compiled(self, name: str, version: int | None = None) -> machine.CompiledWorkflow:
        """The compiled workflow; old versions are loaded from the database on demand."""
        if version is None:
            version = self.registry.get(name).version
        key = (name, version)
        found = self._compiled.get(key)
        if found is not None:
            return found
        if key not in self.registry:
            with self._read() as conn:
                stored = repo.stored_definition(conn, name, version)
            if stored is None:
                raise WorkflowNotFound(name, version, sorted(self.registry.names()))
            self.registry.add(load_text(stored[1], stored[2]))
        found = self._compiled[key] = machine.CompiledWorkflow(self.registry.get(name, version))
        return found

    def workflow(self, name: str, version: int | None = None) -> WorkflowDef:
        return self.compiled(name, version).definition

    # -- cases --------------------------------------------------------------------

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
            DataValidationError: ``data`` does not match the workflow's schema, the org
                unit is not in the loaded org tree, or the business key is taken.
            Forbidden: with ``org_scope``, the case's unit is outside the actor's.
        """
        compiled = self.compiled(workflow, version)
        definition = compiled.definition
        data = dict(data or {})
        compiled.validate_data(data)
        now = self.clock.now()
        case = Case(
            id=repo.new_case_id(),
            workflow=definition.name,
            workflow_version=definition.version,
            state=definition.initial_state,
            status="active",
            data=data,
            org=org if org is not None else actor.org,
            version=1,
            created_at=now,
            updated_at=now,
            business_key=business_key,
        )
        if len(self.orgs) and case.org and case.org not in self.orgs:
            raise DataValidationError(f"unknown org unit {case.org!r}: not in the loaded org tree")
        machine.authorise_org(definition, case, actor)
        entry = HistoryEntry(
            case.id,
            1,
            now,
            "start",
            None,
            None,
            case.state,
            actor.id,
            tuple(sorted(actor.roles)),
            actor.org,
            {"data": data},
        )
        try:
            with self._write() as conn:
                if idempotency_key is not None:
                    done = repo.load_idempotent(conn, idempotency_key)
                    if done is not None:
                        return repo.case_from_json(done)
                repo.insert_case(conn, case)
                entries = [
                    entry,
                    *self._follow_up(conn, definition, case, None, None, case.state, actor, now),
                ]
                repo.insert_history(conn, entries)
                if idempotency_key is not None:
                    repo.save_idempotent(conn, idempotency_key, case, "start", now)
        except IntegrityError as exc:
            return self._after_integrity_error(exc, idempotency_key, workflow, business_key)
        self.log.info(
            "case started",
            case_id=case.id,
            workflow=case.workflow,
            version=case.workflow_version,
            state=case.state,
            actor=actor.id,
        )
        return case

    def _after_integrity_error(
        self, exc: IntegrityError, key: str | None, workflow: str, business_key: str | None
    ) -> Case:
        if key is not None:
            with self._read() as conn:
                done = repo.load_idempotent(conn, key)
            if done is not None:  # the same request won a race with us
                return repo.case_from_json(done)
        raise DataValidationError(
            f"workflow {workflow!r} already has a case with business key {business_key!r}"
        ) from exc

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
            ConcurrencyConflict: the case is not at ``expected_version``, or another
                writer changed it meanwhile. Nothing is written in any of these cases.
        """
        now = self.clock.now()
        try:
            with self._write() as conn:
                if idempotency_key is not None:
                    done = repo.load_idempotent(conn, idempotency_key)
                    if done is not None:
                        return repo.case_from_json(done)
                case = repo.load_case(conn, case_id)
                if case is None:
                    raise CaseNotFound(case_id)
                if expected_version is not None and case.version != expected_version:
                    raise ConcurrencyConflict(case_id, expected_version)
                new = self._transition(conn, case, event, actor, payload, now, comment)
                if idempotency_key is not None:
                    repo.save_idempotent(conn, idempotency_key, new, "fire", now)
        except IntegrityError as exc:
            if idempotency_key is not None:
                with self._read() as conn:
                    done = repo.load_idempotent(conn, idempotency_key)
                if done is not None:
                    return repo.case_from_json(done)
            raise ConcurrencyConflict(case_id, expected_version or -1) from exc
        self.log.info(
            "transition",
            case_id=new.id,
            workflow=new.workflow,
            version=new.workflow_version,
            event_name=event,
            from_state=case.state,
            to_state=new.state,
            actor=actor.id,
        )
        return new

    def _transition(
        self,
        conn: Connection,
        case: Case,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any] | None,
        now: dt.datetime,
        comment: str | None,
        *,
        clocks: Mapping[str, ClockState] | None = None,
        prior: Sequence[HistoryEntry] = (),
    ) -> Case:
        """
        Apply, run the clocks, write case and history: inside the caller's transaction.

        ``clocks`` are the case's clock states when the caller already loaded them, and
        ``prior`` history lines to write in the same insert (a timer's breach note).
        """
        compiled = self.compiled(case.workflow, case.workflow_version)
        outcome = machine.apply(
            compiled,
            case,
            event,
            actor=actor,
            payload=payload,
            now=now,
            comment=comment,
            orgs=self.orgs,
        )
        if not repo.update_case(conn, case.version, outcome.case):
            raise ConcurrencyConflict(case.id, case.version)
        entries = [
            *prior,
            *outcome.history,
            *self._follow_up(
                conn,
                compiled.definition,
                outcome.case,
                event,
                outcome.left,
                outcome.entered,
                actor,
                now,
                old_org=case.org,
                clocks=clocks,
            ),
        ]
        repo.insert_history(conn, entries)
        return outcome.case

    def _follow_up(
        self,
        conn: Connection,
        definition: WorkflowDef,
        case: Case,
        event: str | None,
        left: str | None,
        entered: str | None,
        actor: Actor,
        now: dt.datetime,
        old_org: str | None = None,
        clocks: Mapping[str, ClockState] | None = None,
    ) -> list[HistoryEntry]:
        """What a start or transition does besides the state: clocks, votes, units, effects."""
        entries: list[HistoryEntry] = []
        if definition.clocks:
            entries += apply_clocks(
                conn,
                definition,
                self.calendars.for_workflow(definition),
                case,
                event=event,
                entered=entered,
                actor=actor,
                now=now,
                level=self.orgs.level(case.org),
                states=clocks,
            )
        if left is not None or entered is not None:
            entries += self._vote_hooks(conn, definition, case, left, entered, now)
        if left is not None or entered is not None or (old_org or case.org) != case.org:
            entries += self._org_hooks(
                conn, definition, case, old_org or case.org, left, entered, now
            )
        outbox(conn, definition, case, event, left, entered, now)
        return entries

    def get(self, case_id: str) -> Case:
        """The case as stored. Raises :class:`CaseNotFound`."""
        with self._read() as conn:
            case = repo.load_case(conn, case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    def history(self, case_id: str) -> list[HistoryEntry]:
        """Everything that happened to the case, oldest first."""
        with self._read() as conn:
            entries = repo.load_history(conn, case_id)
            if not entries and repo.load_case(conn, case_id) is None:
                raise CaseNotFound(case_id)
        return entries

    def available_events(self, case_id: str, actor: Actor) -> list[str]:
        """Events ``actor`` may fire on the case now (by state and role)."""
        case = self.get(case_id)
        return machine.available(self.compiled(case.workflow, case.workflow_version), case, actor)

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
        with self._read() as conn:
            return listing.find_cases(
                conn,
                now=self.clock.now(),
                workflow=workflow,
                state=state,
                status=status,
                org=org,
                include_sub_orgs=include_sub_orgs,
                limit=limit,
                offset=offset,
            )
