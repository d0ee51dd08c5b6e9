"""Clocks: a case's legal time limits, and an audited extension."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from caseflow.server.deps import ActorDep, EngineDep, clock_out
from caseflow.server.models import ClockOut, ExtendRequest
from caseflow.server.problems import openapi_responses

router = APIRouter(prefix="/api/v1", tags=["clocks"])


@router.get(
    "/cases/{case_id}/clocks",
    response_model=list[ClockOut],
    responses=openapi_responses(400, 401, 404, 422, 500, 503),
    summary="A case's clocks",
)
def clocks(case_id: str, engine: EngineDep, _actor: ActorDep) -> list[dict[str, Any]]:
    """``Engine.clocks``: each clock's status judged now, last day, days left."""
    views = engine.clocks(case_id)
    now = engine.clock.now()
    return [clock_out(v, now) for v in views]


@router.post(
    "/cases/{case_id}/clocks/{clock}/extensions",
    response_model=ClockOut,
    responses=openapi_responses(400, 401, 403, 404, 409, 422, 500, 503),
    summary="Extend a clock",
)
def extend(
    case_id: str,
    clock: Annotated[str, Path(description="The clock's name.")],
    body: ExtendRequest,
    engine: EngineDep,
    actor: ActorDep,
) -> dict[str, Any]:
    """``Engine.extend_clock``: once, by the workflow's extension, with a reason."""
    view = engine.extend_clock(case_id, clock, actor=actor, reason=body.reason)
    return clock_out(view, engine.clock.now())
