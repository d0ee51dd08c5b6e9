"""
Moving running cases from one workflow version to another, batch by batch.

Each case is one :class:`~caseflow.pipeline.commands.Migrate` command decided by the
pipeline's planner (the rules are in :mod:`caseflow.pipeline.versions`); a batch is
written in one transaction by the batch writer, and is all-or-nothing: one refused case
leaves every case of its batch untouched, so a partial mapping never half-migrates a
batch. One history line per case (kind ``operator``, event ``migrate``) records the move
and what happened to each clock.

.. versionadded:: 0.1
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from caseflow.errors import ConcurrencyConflict, InvalidEvent
from caseflow.pipeline.authz import authorise
from caseflow.pipeline.commands import Migrate
from caseflow.pipeline.planner import decide
from caseflow.store import cases, snapshot
from caseflow.store.writer import apply_plans

if TYPE_CHECKING:
    from collections.abc import Mapping

    from caseflow.cases import Actor
    from caseflow.context import EngineContext
    from caseflow.pipeline.plan import Plan
    from caseflow.pipeline.runner import Pipeline


@dataclass(frozen=True, slots=True)
class MigratedCase:
    """A case moved (or, in a dry run, that would move), and what happened to its clocks."""

    case_id: str
    from_state: str
    to_state: str
    clocks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class RefusedCase:
    """A case that cannot move, and why."""

    case_id: str
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One batch: how many cases it held, moved and refused; whether it was written."""

    number: int
    cases: int
    moved: int
    refused: int
    committed: bool


@dataclass
class MigrationReport:
    """
    What a migration moved and refused, batch by batch.

    ``held_back`` are cases that could move but shared a batch with a refused one.
    """

    workflow: str
    from_version: int
    to_version: int
    dry_run: bool
    moved: list[MigratedCase] = field(default_factory=list)
    refused: list[RefusedCase] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)
    batches: list[BatchResult] = field(default_factory=list)

    def moves(self) -> Counter[tuple[str, str]]:
        """How many cases go from each old state to each new one."""
        return Counter((m.from_state, m.to_state) for m in self.moved)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    to_json = to_dict


class Migrations:
    """``migrate_cases`` over one engine context."""

    def __init__(self, ctx: EngineContext, pipeline: Pipeline) -> None:
        self.ctx = ctx
        self.pipeline = pipeline

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
        """
        Move the active and suspended cases of ``workflow`` v``from_version`` to ``to_version``.

        Args:
            mapping: old state -> new state; needed for states the new version lacks,
                allowed for any state (unmapped states keep their name).
            actor: the operator (one of the operator roles), recorded in each case's history.
            dry_run: compute and report everything, write nothing.
            batch: cases per transaction; a refused case holds back its whole batch.
            reason: recorded in each case's history entry.

        Raises:
            WorkflowNotFound: either version is unknown.
            Forbidden: the actor holds no operator role (or the case is outside their unit).
            InvalidEvent: the versions are the same, ``batch`` < 1, or the mapping names a
                state the old version does not have.
        """
        workflows = self.ctx.workflows
        with self.ctx.db.read() as conn:
            old = workflows.compiled(workflow, from_version, conn).definition
            workflows.compiled(workflow, to_version, conn)
        if from_version == to_version:
            raise InvalidEvent(f"workflow {workflow!r}: from and to are both v{from_version}")
        if batch < 1:
            raise InvalidEvent("batch must be at least 1")
        unknown = sorted(set(mapping) - set(old.states))
        if unknown:
            raise InvalidEvent(
                f"the mapping names states {workflow!r} v{from_version} does not have: "
                + ", ".join(unknown)
            )
        report = MigrationReport(workflow, from_version, to_version, dry_run)
        job = Migrate(
            case_id="", to_version=to_version, mapping=dict(mapping), reason=reason, actor=actor
        )
        after: str | None = ""
        while after is not None:
            for attempt in range(3):
                try:
                    after = self._batch(job, workflow, from_version, report, after or "", batch)
                    break
                except ConcurrencyConflict:  # a user changed a case meanwhile: redo the batch
                    if attempt == 2:
                        raise
        return report

    def _batch(
        self,
        job: Migrate,
        workflow: str,
        from_version: int,
        report: MigrationReport,
        after: str,
        size: int,
    ) -> str | None:
        """One batch in one transaction; the last case id seen, None when none was left."""
        db = self.ctx.db
        with db.read() if report.dry_run else db.write() as conn:
            ids = cases.ids_of_version(conn, workflow, from_version, after, size)
            if not ids:
                return None
            heads = snapshot.load_heads(conn, ids)
            compiled = self.ctx.workflows.compiled(workflow, from_version, conn)
            env = self.pipeline.env(compiled, conn)
            plans: list[Plan] = []
            refused: list[RefusedCase] = []
            for case_id in ids:
                head = heads[case_id]
                command = dataclasses.replace(job, case_id=case_id)
                authorise(command, head, env)
                try:
                    plans.append(decide(command, head, env))
                except InvalidEvent as exc:
                    assert head.case is not None  # noqa: S101 - loaded by id
                    refused.append(RefusedCase(case_id, head.case.state, str(exc)))
            write = not refused and not report.dry_run
            if write:
                apply_plans(conn, plans)
        report.refused += refused
        if refused:
            report.held_back += [p.case.id for p in plans]
        else:
            report.moved += [_moved(p) for p in plans]
        moved = 0 if refused else len(plans)
        report.batches.append(
            BatchResult(len(report.batches) + 1, len(ids), moved, len(refused), write)
        )
        return ids[-1]


def _moved(plan: Plan) -> MigratedCase:
    line = plan.entries[0]
    return MigratedCase(
        plan.case.id,
        line.from_state or "",
        line.to_state or "",
        tuple(line.details.get("clocks", ())),
    )
