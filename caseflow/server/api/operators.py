"""
Operators' actions: suspend, resume, move, reassign, cancel, retry, skip.

The engine decides who may (``Engine(operator_roles=...)``, ``caseflow serve
--operator-role``): a caller without one of those roles gets 403 naming them. Each action
is the command the matching :class:`~caseflow.Engine` method runs (``Engine.suspend`` is
``Engine.run(Suspend(...))``), given to :meth:`~caseflow.Engine.run` with the caller's
``If-Match`` / ``expected_version`` and ``Idempotency-Key``, which the methods do not
take yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from fastapi import APIRouter, Response

from caseflow.pipeline import commands as c
from caseflow.server.deps import ActorDep, EngineDep, IdempotencyKey, IfMatch, etag, expected
from caseflow.server.models import (
    CaseOut,
    MoveRequest,
    OperatorRequest,
    ReassignRequest,
    ResolvedOut,
    RetryRequest,
)
from caseflow.server.problems import openapi_responses

if TYPE_CHECKING:
    from caseflow.cases import Actor, Case
    from caseflow.engine import Engine

router = APIRouter(prefix="/api/v1/cases/{case_id}/operator", tags=["operators"])
RESPONSES = openapi_responses(400, 401, 403, 404, 409, 412, 422, 500, 503)


def _done(response: Response, case: Case) -> dict[str, Any]:
    response.headers["ETag"] = etag(case.version)
    return case.to_dict()


def _run(engine: Engine, command: c.Command) -> Case:
    result: Case = engine.run(command)
    return result


class _Guards(TypedDict):
    """What every operator command carries besides its own fields."""

    case_id: str
    reason: str
    actor: Actor
    expected_version: int | None
    idempotency_key: str | None


def _guards(
    case_id: str,
    body: OperatorRequest | RetryRequest,
    actor: Actor,
    version: int | None,
    idempotency_key: str | None,
) -> _Guards:
    """The case, the body's reason and the caller's guards (``If-Match``, the key)."""
    return _Guards(
        case_id=case_id,
        reason=body.reason,
        actor=actor,
        expected_version=expected(version, body.expected_version),
        idempotency_key=idempotency_key,
    )


def _resolved(
    response: Response, engine: Engine, case_id: str, command: c.ResolveIncidents, *, run_now: bool
) -> dict[str, Any]:
    """Runs ``command`` (retry or skip): how many incidents it resolved, and the case."""
    ids: list[int] = engine.run(command)
    if ids and run_now:  # as Engine.retry does
        engine.fire_due()
    case = engine.get(case_id)
    response.headers["ETag"] = etag(case.version)
    return {"resolved": len(ids), "case": case.to_dict()}


@router.post("/suspend", response_model=CaseOut, responses=RESPONSES, summary="Suspend")
def suspend(
    case_id: str,
    body: OperatorRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.suspend``: events are refused and the case's clocks pause."""
    command = c.Suspend(**_guards(case_id, body, actor, version, idempotency_key))
    return _done(response, _run(engine, command))


@router.post("/resume", response_model=CaseOut, responses=RESPONSES, summary="Resume")
def resume(
    case_id: str,
    body: OperatorRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.resume``: the clocks run again (the suspended days not counted)."""
    command = c.Resume(**_guards(case_id, body, actor, version, idempotency_key))
    return _done(response, _run(engine, command))


@router.post("/move", response_model=CaseOut, responses=RESPONSES, summary="Move to a state")
def move(
    case_id: str,
    body: MoveRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.move``: any state, bypassing events and guards; clocks follow the move."""
    command = c.Move(
        **_guards(case_id, body, actor, version, idempotency_key), to_state=body.to_state
    )
    return _done(response, _run(engine, command))


@router.post("/reassign", response_model=CaseOut, responses=RESPONSES, summary="Reassign")
def reassign(
    case_id: str,
    body: ReassignRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.reassign``: another org unit and/or person."""
    command = c.Reassign(
        **_guards(case_id, body, actor, version, idempotency_key),
        org=body.org,
        assignee=body.assignee,
    )
    return _done(response, _run(engine, command))


@router.post("/cancel", response_model=CaseOut, responses=RESPONSES, summary="Cancel")
def cancel(
    case_id: str,
    body: OperatorRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.cancel``: the case ends here; its clocks stop and its timers go."""
    command = c.Cancel(**_guards(case_id, body, actor, version, idempotency_key))
    return _done(response, _run(engine, command))


@router.post("/retry", response_model=ResolvedOut, responses=RESPONSES, summary="Retry")
def retry(
    case_id: str,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    body: RetryRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """
    ``Engine.retry``: re-arm the failed actions (attempts from zero) and, unless
    ``run_now`` is false, run due timers now. ``resolved``: incidents re-armed (0: none).
    """
    body = body or RetryRequest()
    command = c.ResolveIncidents(
        **_guards(case_id, body, actor, version, idempotency_key), retry=True
    )
    return _resolved(response, engine, case_id, command, run_now=body.run_now)


@router.post("/skip", response_model=ResolvedOut, responses=RESPONSES, summary="Skip")
def skip(
    case_id: str,
    body: OperatorRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.skip``: give up on the failed actions; the case is no longer stuck."""
    command = c.ResolveIncidents(
        **_guards(case_id, body, actor, version, idempotency_key), retry=False
    )
    return _resolved(response, engine, case_id, command, run_now=False)
