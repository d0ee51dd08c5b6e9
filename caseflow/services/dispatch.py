"""
Side effects and notifications: run outside any transaction, at least once, with keys.

An action (``on_enter``, ``on_exit``, event ``actions:``) is handed to its
:class:`~caseflow.abc.ActionHandler` with the idempotency key ``<case id>:<timer id>``;
each attempt is then recorded on the case by the pipeline
(:class:`~caseflow.pipeline.commands.ActionDone`); after the action's retries the case
gets an incident. A notification goes to the :class:`~caseflow.abc.Notifier` with the
key ``notify:<timer id>`` (the same on every attempt) and is acknowledged on its own as
soon as it was sent, so a worker killed mid-batch re-sends at most the one it was
sending; an acknowledgement that fails (its connection was killed) is logged, the sweep
goes on with the rest of the batch and that one is sent again after its lease; a
notifier that keeps failing ends in an incident, not a silent drop. A call activity's
child is started with the idempotency key ``child:<timer id>``, so a parent whose timer
is fired twice (a lease ran out mid-start) still has one child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow.cases import Actor
from caseflow.errors import CaseNotFound
from caseflow.pipeline.commands import ActionDone, ChildStarted, Start
from caseflow.store import cases, timers
from caseflow.store.writer import TimerGone

if TYPE_CHECKING:
    from caseflow.records import Timer
    from caseflow.services.sweeper import Sweeper, SweepReport

DISPATCHER = Actor.system("dispatcher")
CALLER = Actor.system("call")


def notification_key(timer: Timer) -> str:
    return f"notify:{timer.id}"


def action_key(timer: Timer) -> str:
    return f"{timer.case_id}:{timer.id}"


def run_action(sweeper: Sweeper, timer: Timer, report: SweepReport) -> None:
    from caseflow.services.sweeper import describe  # noqa: PLC0415 - a cycle otherwise

    ctx = sweeper.ctx
    payload = timer.payload or {}
    name = str(payload.get("action", timer.clock))
    try:
        with ctx.db.read() as conn:
            head = cases.load(conn, timer.case_id)
            if head is None:
                return
            case = head.case
            compiled = ctx.workflows.compiled(case.workflow, case.workflow_version, conn)
    except Exception as exc:  # noqa: BLE001 - the case cannot be read now: a failed attempt
        sweeper.failed(timer, exc, report)
        return
    definition = compiled.definition
    config = definition.actions.get(name)
    retries = config.retries if config is not None else 0
    attempt = timer.attempts + 1
    error: str | None = None
    try:
        handler = ctx.actions.get(name)
        handler.run(
            case_id=case.id,
            data=case.data,
            params=payload.get("params", {}),
            idempotency_key=action_key(timer),
        )
    except Exception as exc:  # noqa: BLE001 - a handler may fail in any way: we record it
        error = describe(exc)
    give_up = error is not None and attempt > retries
    try:
        sweeper.pipeline.run(
            ActionDone(
                case_id=case.id,
                timer=timer,
                action=name,
                error=error,
                attempt=attempt,
                give_up=give_up,
                actor=DISPATCHER,
            )
        )
    except (TimerGone, CaseNotFound):
        report.skipped += 1
        return
    except Exception as exc:
        ctx.log.exception("action result not recorded", timer_id=timer.id, error=describe(exc))
        return
    if error is None:
        report.fired["action"] += 1
    elif give_up:
        report.failed += 1
    else:
        report.errors += 1


def deliver(sweeper: Sweeper, notices: list[Timer], report: SweepReport) -> None:
    """Send notifications, each acknowledged as soon as it was sent (a failed ack is retried)."""
    from caseflow.services.sweeper import describe  # noqa: PLC0415 - a cycle otherwise

    ctx = sweeper.ctx
    for timer in notices:
        payload = timer.payload or {}
        try:
            ctx.notifier.notify(
                case_id=timer.case_id,
                roles=tuple(payload.get("roles", ())),
                org=str(payload.get("org", "")),
                message=str(payload.get("message", "")),
                idempotency_key=notification_key(timer),
            )
        except Exception as exc:  # noqa: BLE001 - a notifier may fail in any way
            sweeper.failed(timer, exc, report)
            continue
        try:
            with ctx.db.write() as conn:
                acknowledged = timers.finish(conn, timer.id, ctx.now())
        except Exception as exc:  # noqa: BLE001 - a lost ack must not strand the rest of the batch
            # Sent but not acknowledged (the connection died, the database refused the
            # write): the timer stays claimed and is sent again after its lease, with the
            # same key. Not an attempt of the notifier, which did its part.
            report.errors += 1
            ctx.log.warning(
                "notification sent, acknowledgement failed",
                timer_id=timer.id,
                case_id=timer.case_id,
                key=notification_key(timer),
                error=describe(exc),
            )
            continue
        if acknowledged:
            report.fired["notify"] += 1


def child_key(timer: Timer) -> str:
    return f"child:{timer.id}"


def start_child(sweeper: Sweeper, timer: Timer, report: SweepReport) -> None:
    """Start the child case of a call activity, then record it on the parent."""
    payload = timer.payload or {}
    start = Start(
        workflow=str(payload.get("workflow")),
        data=payload.get("data") or {},
        org=payload.get("org"),
        parent_id=timer.case_id,
        idempotency_key=child_key(timer),
        actor=CALLER,
    )
    try:
        child = sweeper.pipeline.run(start).case
        sweeper.pipeline.run(
            ChildStarted(case_id=timer.case_id, timer=timer, child_id=child.id, actor=CALLER)
        )
    except (TimerGone, CaseNotFound):
        report.skipped += 1
        return
    except Exception as exc:  # noqa: BLE001 - a child that cannot start is the parent's incident
        sweeper.failed(timer, exc, report)
        return
    report.fired["child_start"] += 1
