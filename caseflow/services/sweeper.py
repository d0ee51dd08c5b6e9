"""
The due-timer sweep: claim due timers, hand each to the pipeline, never stop on one.

A sweep claims due timers in batches (``FOR UPDATE SKIP LOCKED`` and a lease on
PostgreSQL; SQLite's single writer makes the claim exclusive). Each timer's effect is a
command (:class:`~caseflow.pipeline.commands.TimerDue`) in its own transaction, dated at
its legal due time, and marks the timer done in that transaction only if it is still
pending, so it happens once even when a worker dies mid-batch (its lease runs out and
another worker claims the rest) or two workers race. Warnings of a batch are decided one
by one and written together in one transaction (falling back to one by one if that
fails). Any exception of an effect is contained: the attempt is counted with its error
and retried with backoff; after ``max_attempts`` the case gets an incident (``cases list
--stuck``). A lease that ran out is not a failed attempt. Side effects and notifications
run outside any transaction (:mod:`caseflow.services.dispatch`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from caseflow.cases import Actor
from caseflow.errors import CaseNotFound
from caseflow.pipeline.commands import TimerDue, TimerFailed
from caseflow.pipeline.planner import decide
from caseflow.pipeline.snapshot import after
from caseflow.services import dispatch
from caseflow.store import snapshot, timers
from caseflow.store.writer import TimerGone, apply_plans, give_up_timer

if TYPE_CHECKING:
    from caseflow.context import EngineContext
    from caseflow.pipeline.plan import Plan
    from caseflow.pipeline.runner import Pipeline
    from caseflow.records import Timer

SYSTEM = Actor.system("timer")


@dataclass
class SweepReport:
    """
    What one sweep did: effects per timer kind; timers skipped (their clock had moved on,
    or another worker took them); attempts that failed and will be retried (``errors``);
    timers given up on, each now an incident (``failed``).
    """

    fired: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    failed: int = 0
    errors: int = 0

    @property
    def total(self) -> int:
        return sum(self.fired.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "fired": dict(self.fired),
            "total": self.total,
            "skipped": self.skipped,
            "errors": self.errors,
            "failed": self.failed,
        }


def describe(exc: BaseException, limit: int = 2000) -> str:
    """An error as text any database stores: no NUL, valid Unicode, bounded."""
    text = f"{type(exc).__name__}: {exc}".replace("\x00", "\\x00")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Sweeper:
    """Claims and fires due timers for one engine. Stateless between sweeps."""

    def __init__(
        self,
        ctx: EngineContext,
        pipeline: Pipeline,
        *,
        worker: str | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        batch: int = 500,
        max_attempts: int = 5,
        backoff: dt.timedelta = dt.timedelta(seconds=30),
    ) -> None:
        self.ctx = ctx
        self.pipeline = pipeline
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff

    def run_once(self, *, max_batches: int | None = None) -> SweepReport:
        """Fire every timer due now, batch by batch, until none is left."""
        report = SweepReport()
        batches = 0
        while max_batches is None or batches < max_batches:
            now = self.ctx.now()
            with self.ctx.db.write() as conn:
                claimed = timers.claim_due(conn, self.worker, now, self.lease, self.batch)
            if not claimed:
                break
            batches += 1
            self.fire_batch(claimed, report)
        return report

    def fire_batch(self, claimed: list[Timer], report: SweepReport) -> None:
        warns = [t for t in claimed if t.kind == "warn"]
        if warns:
            self._warnings(warns, report)
        notices = [t for t in claimed if t.kind == "notify"]
        if notices:
            dispatch.deliver(self, notices, report)
        for timer in claimed:
            if timer.kind == "action":
                dispatch.run_action(self, timer, report)
            elif timer.kind == "child_start":
                dispatch.start_child(self, timer, report)
            elif timer.kind not in ("warn", "notify"):
                self.fire_one(timer, report)

    # -- one timer, one transaction ------------------------------------------------------

    def fire_one(self, timer: Timer, report: SweepReport) -> None:
        try:
            plan = self.pipeline.run(TimerDue(case_id=timer.case_id, timer=timer, actor=SYSTEM))
        except (TimerGone, CaseNotFound):
            report.skipped += 1
            return
        except Exception as exc:  # noqa: BLE001 - one poisoned timer must not stop the sweep
            self.failed(timer, exc, report)
            return
        if plan.result:
            report.fired[timer.kind] += 1
        else:
            report.skipped += 1

    def failed(self, timer: Timer, exc: BaseException, report: SweepReport) -> None:
        """Count a failed attempt; after ``max_attempts`` the case gets an incident."""
        error = describe(exc)
        now = self.ctx.now()
        try:
            with self.ctx.db.write() as conn:
                attempts = timers.failed_attempt(
                    conn, timer.id, now + self.backoff * (timer.attempts + 1), error
                )
            if attempts is None:
                return
            report.errors += 1
            self.ctx.log.warning(
                "timer attempt failed",
                timer_id=timer.id,
                case_id=timer.case_id,
                kind=timer.kind,
                attempts=attempts,
                error=error,
            )
            if attempts >= self.max_attempts:
                self._give_up(dataclasses.replace(timer, attempts=attempts), error)
                report.failed += 1
        except Exception as again:
            self.ctx.log.exception(
                "timer failure not recorded",
                timer_id=timer.id,
                case_id=timer.case_id,
                error=describe(again),
            )

    def _give_up(self, timer: Timer, error: str) -> None:
        """An incident for the case; recorded in its history if the case can be read."""
        try:
            self.pipeline.run(
                TimerFailed(case_id=timer.case_id, timer=timer, error=error, actor=SYSTEM)
            )
        except Exception as exc:  # noqa: BLE001 - the case itself is unreadable
            with self.ctx.db.write() as conn:
                give_up_timer(
                    conn,
                    timer.case_id,
                    timer.id,
                    f"timer:{timer.kind}:{timer.clock}",
                    f"{error} (and recording it failed: {describe(exc)})",
                    timer.attempts,
                    self.ctx.now(),
                )

    # -- warnings: decided one by one, written together --------------------------------

    def _warnings(self, warns: list[Timer], report: SweepReport) -> None:
        try:
            with self.ctx.db.write() as conn:
                plans, skipped = self._warning_plans(conn, warns)
                apply_plans(conn, plans)
        except Exception:  # noqa: BLE001 - fall back to one by one, each contained
            for timer in warns:
                self.fire_one(timer, report)
            return
        report.skipped += skipped
        report.fired["warn"] += sum(1 for p in plans if p.result)
        report.skipped += sum(1 for p in plans if not p.result)

    def _warning_plans(self, conn: Any, warns: list[Timer]) -> tuple[list[Plan], int]:
        live = timers.finish_many(conn, [t.id for t in warns], self.ctx.now())
        mine = [t for t in warns if t.id in live]
        heads = snapshot.load_heads(conn, [t.case_id for t in mine])
        plans: list[Plan] = []
        for timer in mine:
            head = heads.get(timer.case_id)
            if head is None or head.case is None:
                continue
            case = head.case
            compiled = self.ctx.workflows.compiled(case.workflow, case.workflow_version, conn)
            plan = decide(
                TimerDue(case_id=case.id, timer=timer, actor=SYSTEM),
                head,
                self.pipeline.env(compiled, conn),
            )
            plan.timer = None  # finished above, with the others
            plans.append(plan)
            heads[case.id] = after(head, plan)  # a second warning of this case sees the first
        return plans, len(warns) - len(mine)
