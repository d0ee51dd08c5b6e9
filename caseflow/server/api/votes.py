"""Votes held in a state: show a round, register attendance, cast a ballot, close."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from caseflow.server.deps import ActorDep, EngineDep, etag
from caseflow.server.models import (
    INT64,
    AttendRequest,
    BallotRequest,
    CaseOut,
    CloseVoteRequest,
    VoteOut,
)
from caseflow.server.problems import openapi_responses

router = APIRouter(prefix="/api/v1", tags=["votes"])
WRITES = (400, 401, 403, 404, 409, 422, 500, 503)


@router.get(
    "/cases/{case_id}/vote",
    response_model=VoteOut,
    responses=openapi_responses(400, 401, 404, 409, 422, 500, 503),
    summary="A vote round",
)
def show_vote(
    case_id: str,
    engine: EngineDep,
    _actor: ActorDep,
    round_no: Annotated[int | None, Query(alias="round", ge=1, le=INT64)] = None,
) -> dict[str, Any]:
    """``Engine.vote``: electorate, attendance, thresholds, tally and result."""
    return engine.vote(case_id, round_no).to_dict()


@router.post(
    "/cases/{case_id}/vote/attendance",
    status_code=204,
    responses=openapi_responses(*WRITES),
    summary="Register attendance",
)
def attend(case_id: str, body: AttendRequest, engine: EngineDep, actor: ActorDep) -> Response:
    """``Engine.attend``: a clerk for someone in the room, or the caller online."""
    engine.attend(case_id, body.voter, actor=actor)
    return Response(status_code=204)


@router.post(
    "/cases/{case_id}/vote/ballots",
    response_model=CaseOut,
    responses=openapi_responses(*WRITES),
    summary="Cast a ballot",
)
def cast_ballot(
    case_id: str, body: BallotRequest, response: Response, engine: EngineDep, actor: ActorDep
) -> dict[str, Any]:
    """``Engine.cast_ballot``: online by the voter, or in person recorded by a clerk."""
    case = engine.cast_ballot(case_id, body.choice, actor=actor, voter=body.voter)
    response.headers["ETag"] = etag(case.version)
    return case.to_dict()


@router.post(
    "/cases/{case_id}/vote/close",
    response_model=CaseOut,
    responses=openapi_responses(*WRITES),
    summary="Close the vote",
)
def close_vote(
    case_id: str,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    body: CloseVoteRequest | None = None,
) -> dict[str, Any]:
    """``Engine.close_vote``: tally, store the result, fire the pass/fail/no-quorum event."""
    reason = (body or CloseVoteRequest()).reason
    case = engine.close_vote(case_id, actor=actor, reason=reason)
    response.headers["ETag"] = etag(case.version)
    return case.to_dict()
