"""
Moving running cases from one workflow version to another (a mixin of the Engine).

Cases are pinned to the ``(workflow, version)`` they started on. When an admin ships a
new version, an operator may move the active and suspended cases of an old version to
it: every case must land in a state the new version has (a vanished state needs a
mapping, else the case is refused), its data must fit the new schema, and its clocks are
recomputed under the new definition: clocks that no longer exist (or no longer cover the
state) stop, running clocks are rescheduled with the new limits, and clocks that now
cover the state start. One history entry per case (kind ``operator``, event
``migrate``) records the move and what happened to each clock.

Batches are all-or-nothing: one refused case leaves every case of its batch untouched,
so a partial mapping never half-migrates a batch. A migration is not a transition: no
event fires, no ``on_enter``/``on_exit`` action runs, no vote opens.

.. versionadded:: 0.1
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from caseflow.cases import Actor, Case, HistoryEntry
from caseflow.clocks import runtime
from caseflow.errors import ConcurrencyConflict, DataValidationError, InvalidEvent
from caseflow.store import clockrepo, repo
from caseflow.store.tables import cases, timers

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Mapping, Sequence
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection

    from caseflow.abc import Calendar
    from caseflow.clocks.time import Clock
    from caseflow.clockwork import Calendars
    from caseflow.definitions.model import ClockDef, WorkflowDef
    from caseflow.machine import CompiledWorkflow


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

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Move:
    old: Case
    new: Case
    plan: runtime.ClockPlan
    existing: list[str]


_MIGRATE_CASE = (
    update(cases)
    .where(
        cases.c.id == bindparam("b_id"),
        cases.c.row_version == bindparam("b_expected"),
        cases.c.workflow_version == bindparam("b_from"),
    )
    .values(
        workflow_version=bindparam("b_to"),
        state=bindparam("b_state"),
        row_version=bindparam("b_version"),
        updated_at=bindparam("b_now", type_=cases.c.updated_at.type),
    )
)


class MigrationAPI:
    """``migrate_cases``: move running cases between versions of a workflow."""

    clock: Clock
    calendars: Calendars

    if TYPE_CHECKING:  # provided by Engine
        _write: Callable[[], AbstractContextManager[Connection]]
        _read: Callable[[], AbstractContextManager[Connection]]
        workflow: Callable[..., WorkflowDef]
        compiled: Callable[..., CompiledWorkflow]

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
            actor: the operator, recorded in each case's history.
            dry_run: compute and report everything, write nothing.
            batch: cases per transaction; a refused case holds back its whole batch.
            reason: recorded in each case's history entry.

        Raises:
            WorkflowNotFound: either version is unknown.
            InvalidEvent: the versions are the same, ``batch`` < 1, or the mapping names a
                state the old version does not have.
        """
        old = self.workflow(workflow, from_version)
        new = self.workflow(workflow, to_version)
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
        job = _Migration(
            old,
            new,
            self.compiled(workflow, to_version),
            dict(mapping),
            self.calendars.for_workflow(new) if new.clocks else None,
            getattr(self, "orgs", None),  # the org tree: clock limits by org level
        )
        report = MigrationReport(workflow, from_version, to_version, dry_run)
        after: str | None = ""
        while after is not None:
            for attempt in range(3):
                try:
                    after = self._migrate_batch(job, report, actor, reason, after or "", batch)
                    break
                except ConcurrencyConflict:  # a user changed a case meanwhile: redo the batch
                    if attempt == 2:
                        raise
        return report

    def _migrate_batch(
        self,
        job: _Migration,
        report: MigrationReport,
        actor: Actor,
        reason: str | None,
        after: str,
        size: int,
    ) -> str | None:
        """One batch in one transaction; the last case id seen, None when none was left."""
        now = self.clock.now()
        with self._read() if report.dry_run else self._write() as conn:
            found = _batch(conn, job.old, after, size)
            if not found:
                return None
            by_case: dict[str, dict[str, runtime.ClockState]] = {}
            for (case_id, name), state in clockrepo.load_clocks_for(
                conn, [c.id for c in found]
            ).items():
                by_case.setdefault(case_id, {})[name] = state
            moves: list[_Move] = []
            refused: list[RefusedCase] = []
            for case in found:
                outcome = job.plan(case, by_case.get(case.id, {}), now)
                if isinstance(outcome, RefusedCase):
                    refused.append(outcome)
                else:
                    moves.append(outcome)
            write = not refused and not report.dry_run
            if write:
                job.write(conn, moves, actor, reason, now)
        report.refused += refused
        if refused:
            report.held_back += [m.old.id for m in moves]
        else:
            report.moved += [
                MigratedCase(m.old.id, m.old.state, m.new.state, tuple(m.plan.notes)) for m in moves
            ]
        n = 0 if refused else len(moves)
        report.batches.append(
            BatchResult(len(report.batches) + 1, len(found), n, len(refused), write)
        )
        return found[-1].id


def _batch(conn: Connection, old: WorkflowDef, after: str, size: int) -> list[Case]:
    rows = conn.execute(
        select(*repo._CASE_COLUMNS)
        .where(
            cases.c.workflow == old.name,
            cases.c.workflow_version == old.version,
            cases.c.status.in_(["active", "suspended"]),
            cases.c.id > after,
        )
        .order_by(cases.c.id)
        .limit(size)
    )
    return [repo.case_from_row(r) for r in rows]


@dataclass
class _Migration:
    """One migration's fixed inputs: both definitions, the mapping, the calendar."""

    old: WorkflowDef
    new: WorkflowDef
    compiled: CompiledWorkflow
    mapping: dict[str, str]
    calendar: Calendar | None
    orgs: Any

    def refusal(self, case: Case, target: str) -> str | None:
        v2 = f"v{self.new.version}"
        if target not in self.new.states:
            if case.state in self.mapping:
                return f"state {case.state!r} is mapped to {target!r}, which {v2} does not have"
            return f"state {case.state!r} does not exist in {v2}: map it (--map {case.state}=STATE)"
        if self.new.states[target].final:
            return f"{target!r} is a final state in {v2}: a migration does not end cases"
        had = self.old.states[case.state].vote is not None
        has = self.new.states[target].vote is not None
        if (had or has) and (target != case.state or had != has):
            return f"state {case.state!r} holds a vote in one version: finish the vote first"
        try:
            self.compiled.validate_data(case.data)
        except DataValidationError as exc:
            return f"its data does not fit {v2}: {exc}"
        return None

    def plan(
        self, case: Case, states: dict[str, runtime.ClockState], now: dt.datetime
    ) -> _Move | RefusedCase:
        target = self.mapping.get(case.state, case.state)
        why = self.refusal(case, target)
        if why is not None:
            return RefusedCase(case.id, case.state, why)
        plan = runtime.ClockPlan()
        if self.calendar is not None or states:
            level = self.orgs.level(case.org) if self.orgs is not None else None
            self.clocks(plan, target, case.status == "suspended", states, now, level)
        moved = dataclasses.replace(
            case,
            workflow_version=self.new.version,
            state=target,
            version=case.version + 1,
            updated_at=now,
        )
        return _Move(case, moved, plan, list(states))

    def clocks(
        self,
        plan: runtime.ClockPlan,
        target: str,
        suspended: bool,
        states: dict[str, runtime.ClockState],
        now: dt.datetime,
        level: str | None,
    ) -> None:
        """Recompute a case's clocks under the new definition, into ``plan``."""
        today = runtime.local_day(now, self.new.timezone)
        for name, state in states.items():
            if not state.active:
                continue
            spec = self.new.clocks.get(name.split("@", 1)[0])  # a work item's clock: name@unit
            if spec is None or (
                spec.runs_in and target not in spec.runs_in and target not in spec.paused_in
            ):
                why = "not in the new version" if spec is None else f"does not run in {target!r}"
                _put(plan, dataclasses.replace(state, phase="stopped", stopped_at=now), why=why)
            elif state.phase == "running" and target in spec.paused_in:
                paused = (*state.pauses, (today, None))
                _put(plan, dataclasses.replace(state, phase="paused", pauses=paused), "paused")
            elif state.phase == "running":
                self.schedule(plan, spec, state, now, "rescheduled", old_due_at=state.due_at)
            elif not suspended and target not in spec.paused_in and state.pauses:
                closed = (*state.pauses[:-1], (state.pauses[-1][0], today))
                running = dataclasses.replace(state, phase="running", pauses=closed)
                self.schedule(plan, spec, running, now, "resumed")
        for name, spec in self.new.clocks.items():
            current = plan.changed.get(name, states.get(name))
            if (current is not None and current.active) or target not in spec.runs_in:
                continue
            if getattr(spec, "per_item", False):  # started per work item, not per case
                continue
            fresh = runtime.ClockState(name, "running", now, level=level)
            if suspended or target in spec.paused_in:
                fresh = dataclasses.replace(fresh, phase="paused", pauses=((today, None),))
                _put(plan, fresh, "started paused")
            else:
                self.schedule(plan, spec, fresh, now, "started")

    def schedule(
        self,
        plan: runtime.ClockPlan,
        spec: ClockDef,
        state: runtime.ClockState,
        now: dt.datetime,
        action: str,
        **note: Any,
    ) -> None:
        assert self.calendar is not None  # noqa: S101 - the new version has clocks
        fresh, timers = runtime.schedule(spec, state, self.calendar, self.new.timezone, now)
        plan.arm.extend(timers)
        _put(plan, fresh, action, due_at=fresh.due_at, last_day=fresh.last_day, **note)

    def write(
        self,
        conn: Connection,
        moves: Sequence[_Move],
        actor: Actor,
        reason: str | None,
        now: dt.datetime,
    ) -> None:
        """The whole batch in a few executemany statements (one round trip each)."""
        result = conn.execute(
            _MIGRATE_CASE,
            [
                {
                    "b_id": m.old.id,
                    "b_expected": m.old.version,
                    "b_from": self.old.version,
                    "b_to": self.new.version,
                    "b_state": m.new.state,
                    "b_version": m.new.version,
                    "b_now": now,
                }
                for m in moves
            ],
        )
        if result.rowcount != len(moves):  # a case changed since it was read
            raise ConcurrencyConflict(moves[0].old.id, moves[0].old.version)
        updates, inserts = [], []
        for m in moves:
            for state in m.plan.changed.values():
                values = clockrepo._values(state)
                if state.name in m.existing:
                    keys = {"b_case": m.old.id, "b_name": state.name}
                    updates.append(keys | {f"v_{k}": v for k, v in values.items()})
                else:
                    inserts.append({"case_id": m.old.id, "name": state.name, **values})
        for statement, rows in (
            (clockrepo._UPDATE_CLOCK, updates),
            (clockrepo._INSERT_CLOCK, inserts),
        ):
            if rows:
                conn.execute(statement, rows)
        _cancel_timers(conn, {(m.old.id, n) for m in moves for n in m.plan.cancel})
        clockrepo.arm_many(conn, [(m.old.id, t) for m in moves for t in m.plan.arm], now)
        roles = tuple(sorted(actor.roles))
        versions = {"from_version": self.old.version, "to_version": self.new.version}
        repo.insert_history(
            conn,
            [
                HistoryEntry(
                    m.old.id,
                    m.new.version,
                    now,
                    "operator",
                    "migrate",
                    m.old.state,
                    m.new.state,
                    actor.id,
                    roles,
                    actor.org,
                    {**versions, "reason": reason, "clocks": m.plan.notes},
                )
                for m in moves
            ],
        )


def _cancel_timers(conn: Connection, pairs: set[tuple[str, str]]) -> None:
    """Cancel the pending timers (not notices) of these (case, clock) pairs, by timer id."""
    if not pairs:
        return
    pending = conn.execute(
        select(timers.c.id, timers.c.case_id, timers.c.clock).where(
            timers.c.case_id.in_(sorted({c for c, _ in pairs})),
            timers.c.status == "pending",
            timers.c.kind != "notify",
        )
    )
    ids = [i for i, case_id, clock in pending if (case_id, clock) in pairs]
    if ids:
        conn.execute(update(timers).where(timers.c.id.in_(ids)).values(status="cancelled"))


def _put(
    plan: runtime.ClockPlan, state: runtime.ClockState, action: str = "stopped", **note: Any
) -> None:
    plan.changed[state.name] = state
    plan.cancel.add(state.name)
    iso = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in note.items()}
    plan.notes.append({"clock": state.name, "action": action, **iso})


__all__ = ["BatchResult", "MigratedCase", "MigrationAPI", "MigrationReport", "RefusedCase"]
