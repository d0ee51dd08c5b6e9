"""
The pipeline: the one path every command takes.

::

    check(command)                                   values at the boundary (validate.py)
    with one transaction:
        idempotency record?  -> the first result     scoped key, request fingerprint
        load_snapshot(conn, case)                    store/snapshot.py: case + clocks in one
                                                     query, then what the step kinds read
        authorise(command, snapshot, env)            authz.py
        decide(command, snapshot, env) -> Plan       planner.py + step kinds (pure)
        apply_plan(conn, plan)                       store/writer.py: the one writer
    after the commit: the log line

A conflict with another writer (the case moved on since it was read) re-runs the command
on a fresh snapshot, unless the caller pinned ``expected_version``: then it is theirs to
handle. A retry with the same idempotency key, even racing the first request, gets the
first request's result.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from caseflow.cases import Case
from caseflow.errors import (
    CaseNotFound,
    ConcurrencyConflict,
    DuplicateBusinessKey,
    IdempotencyConflict,
    MessageNotCorrelated,
    StorageError,
)
from caseflow.pipeline import commands as c
from caseflow.pipeline import validate
from caseflow.pipeline.authz import authorise
from caseflow.pipeline.draft import Env
from caseflow.pipeline.plan import IdempotencyRecord, Plan
from caseflow.pipeline.planner import decide
from caseflow.pipeline.snapshot import INCIDENTS, Snapshot
from caseflow.pipeline.steps import snapshot_parts
from caseflow.store import cases, idempotency, snapshot
from caseflow.store.cases import new_case_id
from caseflow.store.db import ConstraintRefused
from caseflow.store.writer import apply_plan

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from caseflow.context import EngineContext
    from caseflow.machine import CompiledWorkflow

#: How often a command is re-run after losing a race (then the conflict is the caller's).
ATTEMPTS = 8


def scope_of(command: c.Command) -> str:
    """Where a command's idempotency key is looked up: per case and command, per workflow."""
    if isinstance(command, c.Start):
        return f"start:{command.workflow}"
    if isinstance(command, c.FireByKey):
        return f"fire:{command.workflow}:{command.business_key}"
    if isinstance(command, c.Message):
        return f"message:{command.message}"
    return f"{command.name}:{command.case_ref()}"


def fingerprint(command: c.Command) -> str:
    canonical = json.dumps(
        command.fingerprint_parts(), sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _first(conn: Connection, scope: str, key: str, fingerprint_: str) -> Plan | None:
    """The first result of a request with this key, if there was one (the same request)."""
    first = idempotency.lookup(conn, scope, key)
    if first is None:
        return None
    if first.fingerprint != fingerprint_:
        raise IdempotencyConflict(scope, key)
    case = Case.from_dict(first.result)
    return Plan(case=case, base_version=case.version, history_count=0, result=case)


class Pipeline:
    """Runs commands for one engine context. Stateless between calls."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self._parts: dict[tuple[str, int], frozenset[str]] = {}
        self._secret: dict[tuple[str, int], bool] = {}

    def run(self, command: c.Command) -> Plan:
        """Run one command to its committed plan; raises what the command raises."""
        validate.check(command)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.ctx.db.write() as conn:
                    plan = self._once(conn, command)
            except ConcurrencyConflict:
                pinned = isinstance(command, c.CaseCommand) and command.expected_version
                if pinned or attempt == ATTEMPTS:
                    raise
                continue
            except ConstraintRefused as exc:
                self._after_integrity_error(exc, command, last=attempt == ATTEMPTS)
                continue
            self._after_commit(command, plan)
            return plan
        raise StorageError("unreachable")  # pragma: no cover

    def _once(self, conn: Connection, command: c.Command) -> Plan:
        # The snapshot first, then the key: a first request that commits in between is
        # seen by the key lookup; one that commits after it makes our write conflict
        # (and the retry finds its key). READ COMMITTED sees each statement's own moment.
        key = command.idempotency_key
        scope = fingerprint_ = ""
        if key is not None:
            scope, fingerprint_ = scope_of(command), fingerprint(command)
        target = command
        correlated: Case | None = None
        if isinstance(command, (c.FireByKey, c.Message)):
            # A message seen before is answered before it is correlated again: its case
            # has moved on and would take it no longer.
            if key is not None and (first := _first(conn, scope, key, fingerprint_)):
                return first
            target, correlated = self._correlate(conn, command)
        found, compiled = self._snapshot(conn, target)
        if correlated is not None and (
            found.case is None or found.case.version != correlated.version
        ):
            raise ConcurrencyConflict(correlated.id, correlated.version)  # moved: correlate again
        if key is not None and (first := _first(conn, scope, key, fingerprint_)):
            return first
        env = self.env(compiled, conn, new_case=isinstance(command, c.Start))
        authorise(target, found, env)
        plan = decide(target, found, env)
        if key is not None and plan.writes_case and isinstance(plan.result, Case):
            plan.idempotency = IdempotencyRecord(scope, key, fingerprint_, command.name)
        apply_plan(conn, plan)
        return plan

    def _correlate(self, conn: Connection, command: c.FireByKey | c.Message) -> tuple[c.Fire, Case]:
        """The case a business key (and a message name) point to, and the Fire it becomes."""
        if isinstance(command, c.FireByKey):
            ids = cases.find_by_key(conn, command.workflow, command.business_key)
            head = snapshot.load_head(conn, ids[0]) if ids else None
            if head is None or head.case is None:
                raise MessageNotCorrelated(
                    command.event, command.business_key, workflow=command.workflow
                )
            case, event = head.case, command.event
        else:
            takers = []
            for candidate in cases.with_business_key(conn, command.business_key):
                if candidate.status != "active":
                    continue
                compiled = self.ctx.workflows.compiled(
                    candidate.workflow, candidate.workflow_version, conn
                )
                events = compiled.definition.events.values()
                takes = [
                    e.name
                    for e in events
                    if e.message == command.message and candidate.state in e.sources
                ]
                takers += [(candidate, name) for name in takes]
            if len(takers) != 1:
                ids = sorted({t.id for t, _ in takers})
                raise MessageNotCorrelated(command.message, command.business_key, ids)
            case, event = takers[0]
        fire = c.Fire(case_id=case.id, event=event, payload=command.payload, actor=command.actor)
        return fire, case

    def _snapshot(self, conn: Connection, command: c.Command) -> tuple[Snapshot, CompiledWorkflow]:
        if isinstance(command, c.Start):
            start = self.ctx.workflows.compiled(command.workflow, command.version, conn)
            return Snapshot(None), start
        case_id = command.case_ref() or ""
        head = snapshot.load_head(conn, case_id)
        if head is None or head.case is None:
            raise CaseNotFound(case_id)
        case = head.case
        compiled = self.ctx.workflows.compiled(case.workflow, case.workflow_version, conn)
        parts = self.parts(compiled)
        if isinstance(command, c.ResolveIncidents):
            parts |= {INCIDENTS}
        voter = None
        if isinstance(command, (c.Attend, c.CastBallot)):
            voter = command.voter or command.actor.id
        closing = None
        if isinstance(command, c.CastBallot):
            closing = "last"
        elif isinstance(command, c.CloseVote) or (
            isinstance(command, c.TimerDue) and command.timer.kind == "vote_close"
        ):
            closing = "close"
        return snapshot.load_parts(conn, head, parts, voter, closing=closing), compiled

    def _secret_votes(self, compiled: CompiledWorkflow) -> bool:
        key = compiled.definition.key
        found = self._secret.get(key)
        if found is None:
            states = compiled.definition.states.values()
            found = self._secret[key] = any(s.vote is not None and s.vote.secret for s in states)
        return found

    def parts(self, compiled: CompiledWorkflow) -> frozenset[str]:
        key = compiled.definition.key
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = snapshot_parts(compiled.definition)
        return found

    def env(
        self, compiled: CompiledWorkflow, conn: Connection | None = None, *, new_case: bool = False
    ) -> Env:
        ctx = self.ctx

        def other(name: str, version: int) -> CompiledWorkflow:
            return ctx.workflows.compiled(name, version, conn)

        return Env(
            compiled,
            ctx.calendars.needed(compiled.definition),
            ctx.orgs,
            ctx.rosters,
            ctx.operator_roles,
            ctx.now(),
            new_case_id() if new_case else "",
            other,
            ctx.ballot_key() if self._secret_votes(compiled) else None,
            os.urandom(64),
            ctx.supervisor_roles,
        )

    def _after_integrity_error(
        self, exc: ConstraintRefused, command: c.Command, *, last: bool
    ) -> None:
        """A unique key said no: a duplicate business key, or a race to retry."""
        text = exc.detail
        if isinstance(command, c.Start) and "business_key" in text:
            if command.idempotency_key is None or last:
                raise DuplicateBusinessKey(command.workflow, command.business_key) from exc
            return  # the same request may have won: the retry finds its key
        if last:
            raise StorageError(f"could not write {command.name}: {text}") from exc

    def _after_commit(self, command: c.Command, plan: Plan) -> None:
        if not plan.writes_case or not self.ctx.log_enabled():
            return
        case = plan.case
        fields: dict[str, Any] = {
            "case_id": case.id,
            "workflow": case.workflow,
            "version": case.workflow_version,
            "state": case.state,
            "actor": command.actor.id,
        }
        if isinstance(command, c.Fire):
            fields["event_name"] = command.event
        self.ctx.log.info(command.name, **fields)
