"""Cases: start, get (with its ETag), list, fire an event, history, available events."""

from __future__ import annotations

import datetime as dt  # noqa: TC003 - FastAPI reads the annotations at run time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from caseflow import listing
from caseflow.server.deps import (
    ActorDep,
    EngineDep,
    IdempotencyKey,
    IfMatch,
    etag,
    expected,
)
from caseflow.server.models import (
    INT64,
    CaseOut,
    CaseRowOut,
    EventsOut,
    FireRequest,
    HistoryOut,
    StartRequest,
)
from caseflow.server.problems import openapi_responses

router = APIRouter(prefix="/api/v1", tags=["cases"])

CaseId = Annotated[str, Path(description="The case id.")]
#: Most rows one page of a listing returns.
MAX_PAGE = 1000
COMMON = (400, 401, 403, 404, 422, 500, 503)


class CasePage(BaseModel):
    """One page of a listing; ``more``: a next page exists (``offset + limit``)."""

    items: list[CaseRowOut]
    limit: int
    offset: int
    more: bool


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    responses=openapi_responses(*COMMON, 409),
    summary="Start a case",
)
def start_case(
    body: StartRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.start``: the case in its workflow's initial state (``ETag``: its version)."""
    case = engine.start(
        body.workflow,
        data=body.data,
        actor=actor,
        org=body.org,
        business_key=body.business_key,
        idempotency_key=idempotency_key,
        version=body.version,
    )
    response.headers["Location"] = f"/api/v1/cases/{case.id}"
    response.headers["ETag"] = etag(case.version)
    return case.to_dict()


@router.get(
    "/cases",
    response_model=CasePage,
    responses=openapi_responses(400, 401, 422, 500, 503),
    summary="List cases",
)
def list_cases(
    engine: EngineDep,
    _actor: ActorDep,
    workflow: str | None = None,
    version: Annotated[int | None, Query(ge=1, le=INT64)] = None,
    state: str | None = None,
    status: Literal["active", "suspended", "completed", "cancelled"] | None = None,
    org: Annotated[str | None, Query(description="An org unit; sub-units included.")] = None,
    include_sub_orgs: bool = True,
    stuck: bool = False,
    warned: bool = False,
    provisional: bool = False,
    overdue: bool = False,
    since: Annotated[dt.datetime | None, Query(description="Created at or after.")] = None,
    sort: Literal["created", "updated", "due"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT64)] = 0,
) -> dict[str, Any]:
    """``caseflow.listing.list_cases``: cases matching every filter, with clock status."""
    rows = listing.list_cases(
        engine,
        workflow=workflow,
        version=version,
        state=state,
        status=status,
        org=org,
        include_sub_orgs=include_sub_orgs,
        stuck=stuck,
        warned=warned,
        provisional=provisional,
        overdue=overdue,
        since=_aware(since),
        sort=sort,
        limit=limit + 1,
        offset=offset,
    )
    return {
        "items": [listing.row_json(r) for r in rows[:limit]],
        "limit": limit,
        "offset": offset,
        "more": len(rows) > limit,
    }


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A date-time without an offset is read in Asia/Shanghai, as the CLI reads ``--since``."""
    if value is None or value.tzinfo is not None:
        return value
    return listing.day_start(value.isoformat())


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    responses=openapi_responses(400, 401, 404, 422, 500, 503),
    summary="Get a case",
)
def get_case(
    case_id: CaseId, response: Response, engine: EngineDep, _actor: ActorDep
) -> dict[str, Any]:
    """``Engine.get``; ``ETag`` is the case's version, for ``If-Match`` on later writes."""
    case = engine.get(case_id)
    response.headers["ETag"] = etag(case.version)
    return case.to_dict()


@router.post(
    "/cases/{case_id}/events/{event}",
    response_model=CaseOut,
    responses=openapi_responses(*COMMON, 409, 412),
    summary="Fire an event",
)
def fire_event(
    case_id: CaseId,
    event: Annotated[str, Path(description="The event's name in the workflow.")],
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    body: FireRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """
    ``Engine.fire``. ``If-Match: "3"`` (or ``expected_version: 3``) refuses a case that is
    no longer at version 3: 412 for ``If-Match``, 409 for the body's field.
    """
    body = body or FireRequest()
    case = engine.fire(
        case_id,
        event,
        actor=actor,
        payload=body.payload,
        comment=body.comment,
        expected_version=expected(version, body.expected_version),
        idempotency_key=idempotency_key,
    )
    response.headers["ETag"] = etag(case.version)
    return case.to_dict()


@router.get(
    "/cases/{case_id}/history",
    response_model=list[HistoryOut],
    responses=openapi_responses(400, 401, 404, 422, 500, 503),
    summary="A case's history",
)
def history(case_id: CaseId, engine: EngineDep, _actor: ActorDep) -> list[dict[str, Any]]:
    """``Engine.history``: every transition, clock change and operator action, in order."""
    return [h.to_dict() for h in engine.history(case_id)]


@router.get(
    "/cases/{case_id}/events",
    response_model=EventsOut,
    responses=openapi_responses(400, 401, 404, 422, 500, 503),
    summary="Events the caller may fire",
)
def available_events(case_id: CaseId, engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    """``Engine.available_events`` for the caller (by the case's state and their roles)."""
    return {"case_id": case_id, "events": engine.available_events(case_id, actor)}
