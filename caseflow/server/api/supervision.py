"""Supervision: overdue clocks (most overdue first) and incidents (stuck side effects)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from caseflow.server.deps import ActorDep, EngineDep, clock_out
from caseflow.server.models import INT64, IncidentOut, OverdueOut
from caseflow.server.problems import openapi_responses

router = APIRouter(prefix="/api/v1", tags=["supervision"])
READS = openapi_responses(400, 401, 404, 422, 500, 503)


@router.get("/overdue", response_model=list[OverdueOut], responses=READS, summary="Overdue")
def overdue(
    engine: EngineDep,
    _actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT64)] = 0,
) -> list[dict[str, Any]]:
    """``Engine.overdue``: one row per case with a running clock past its due time."""
    found = engine.overdue(limit=limit, offset=offset)
    now = engine.clock.now()
    return [{"case": case.to_dict(), "clock": clock_out(view, now)} for case, view in found]


@router.get("/incidents", response_model=list[IncidentOut], responses=READS, summary="Incidents")
def incidents(
    engine: EngineDep,
    _actor: ActorDep,
    status: Literal["open", "retried", "skipped", "all"] = "open",
    case_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """``Engine.incidents``: open ones by default (``status=all``: every one), oldest first."""
    found = engine.incidents(
        status=None if status == "all" else status, case_id=case_id, limit=limit
    )
    return [i.to_dict() for i in found]


@router.get(
    "/incidents/{incident_id}", response_model=IncidentOut, responses=READS, summary="Incident"
)
def incident(
    incident_id: Annotated[int, Path(ge=1, le=INT64)], engine: EngineDep, _actor: ActorDep
) -> dict[str, Any]:
    """``Engine.incident``."""
    return engine.incident(incident_id).to_dict()
