"""
Worklists and tasks: the caller's worklist and its counts, task counts per unit, claims
and hand-overs; firing by business key, messages from outside, a case's child cases.

Who works on what is the definitions' business (:meth:`~caseflow.Engine.worklist`): the
worklist is the token's actor's, never another's. Claims, hand-overs and releases are
commands on the case with its version, like an event: ``If-Match`` (or the body's
``expected_version``) and ``Idempotency-Key`` as for ``POST .../events/{event}``. Two
callers claiming at once: one wins, the other gets 409 naming who has it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from caseflow import listing
from caseflow.server.deps import (
    ActorDep,
    BadRequest,
    EngineDep,
    IdempotencyKey,
    IfMatch,
    etag,
    expected,
)
from caseflow.server.models import (
    INT64,
    CaseOut,
    FireByKeyRequest,
    HandOverRequest,
    MessageRequest,
    TaskCountOut,
    TaskRequest,
    WorkCountOut,
    WorkRowOut,
)
from caseflow.server.problems import openapi_responses

if TYPE_CHECKING:
    from caseflow.cases import Actor, Case

router = APIRouter(prefix="/api/v1", tags=["worklists"])

CaseId = Annotated[str, Path(description="The case id.")]
#: Most rows one page of a worklist returns (as for ``GET /cases``).
MAX_PAGE = 1000
READS = openapi_responses(400, 401, 422, 500, 503)
TASKS = openapi_responses(400, 401, 403, 404, 409, 412, 422, 500, 503)
FIRES = openapi_responses(400, 401, 403, 404, 409, 422, 500, 503)


class WorkPage(BaseModel):
    """One page of a worklist, most urgent first; ``more``: a next page exists."""

    items: list[WorkRowOut]
    limit: int
    offset: int
    more: bool


@router.get("/worklist", response_model=WorkPage, responses=READS, summary="My worklist")
def worklist(
    engine: EngineDep,
    actor: ActorDep,
    workflow: str | None = None,
    state: str | None = None,
    org: Annotated[str | None, Query(description="An org unit; sub-units included.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT64)] = 0,
) -> dict[str, Any]:
    """
    ``Engine.worklist`` for the caller: the active cases they work on, breached first,
    then warned, then by the soonest due time; cases others claimed only for supervisors.
    Each row has the state's title, the events the caller may fire and the clock due
    soonest (``left`` in its own unit).
    """
    rows = engine.worklist(
        actor, workflow=workflow, state=state, org=org, limit=limit + 1, offset=offset
    )
    return {
        "items": [listing.row_json(r) for r in rows[:limit]],
        "limit": limit,
        "offset": offset,
        "more": len(rows) > limit,
    }


@router.get(
    "/worklist/counts",
    response_model=list[WorkCountOut],
    responses=READS,
    summary="My worklist's counts",
)
def worklist_counts(
    engine: EngineDep,
    actor: ActorDep,
    workflow: str | None = None,
    org: Annotated[str | None, Query(description="An org unit; sub-units included.")] = None,
) -> list[dict[str, Any]]:
    """``Engine.worklist_counts``: cases on the caller's worklist per state, and breached."""
    found = engine.worklist_counts(actor, workflow=workflow, org=org)
    return [
        {"workflow": w, "state": s, "cases": n, "breached": b} for (w, s), (n, b) in found.items()
    ]


@router.get(
    "/tasks/counts", response_model=list[TaskCountOut], responses=READS, summary="Task counts"
)
def task_counts(
    engine: EngineDep,
    actor: ActorDep,
    role: Annotated[
        list[str] | None,
        Query(description="The roles whose tasks are counted (repeatable); the caller's."),
    ] = None,
    workflow: str | None = None,
    org: Annotated[str | None, Query(description="An org unit; sub-units included.")] = None,
) -> list[dict[str, Any]]:
    """
    ``Engine.task_counts``, for dashboards: open tasks per org unit and state in the states
    holders of ``role`` work on (the caller's roles when none is given), claimed or not.
    """
    roles = sorted(actor.roles) if role is None else role
    found = engine.task_counts(roles, workflow=workflow, org=org)
    return [
        {"org": o, "workflow": w, "state": s, "tasks": n, "breached": b}
        for (o, w, s), (n, b) in found.items()
    ]


def _done(response: Response, case: Case) -> dict[str, Any]:
    response.headers["ETag"] = etag(case.version)
    return case.to_dict()


class _Guards(TypedDict):
    """The caller's guards on a task command: who, ``If-Match``, the key."""

    actor: Actor
    expected_version: int | None
    idempotency_key: str | None


def _guards(
    body: TaskRequest, actor: Actor, version: int | None, idempotency_key: str | None
) -> _Guards:
    return _Guards(
        actor=actor,
        expected_version=expected(version, body.expected_version),
        idempotency_key=idempotency_key,
    )


@router.post(
    "/cases/{case_id}/claim", response_model=CaseOut, responses=TASKS, summary="Claim a case"
)
def claim(
    case_id: CaseId,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    body: TaskRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """
    ``Engine.claim``: the caller takes an unassigned case of a state they work on; it
    leaves the others' worklists. Already claimed by someone else: 409 naming them.
    """
    guards = _guards(body or TaskRequest(), actor, version, idempotency_key)
    return _done(response, engine.claim(case_id, **guards))


@router.post(
    "/cases/{case_id}/assign", response_model=CaseOut, responses=TASKS, summary="Assign a case"
)
def assign(
    case_id: CaseId,
    body: HandOverRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.assign``: a supervisor (or operator) gives the case to the person ``to``."""
    guards = _guards(body, actor, version, idempotency_key)
    return _done(response, engine.assign(case_id, body.to, **guards))


@router.post(
    "/cases/{case_id}/delegate",
    response_model=CaseOut,
    responses=TASKS,
    summary="Delegate a case",
)
def delegate(
    case_id: CaseId,
    body: HandOverRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.delegate``: the case's assignee hands it to the person ``to``."""
    guards = _guards(body, actor, version, idempotency_key)
    return _done(response, engine.delegate(case_id, body.to, **guards))


@router.post(
    "/cases/{case_id}/release",
    response_model=CaseOut,
    responses=TASKS,
    summary="Release a case",
)
def release(
    case_id: CaseId,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    version: IfMatch,
    body: TaskRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """``Engine.release``: the assignee (or a supervisor) gives the case back to the pool."""
    guards = _guards(body or TaskRequest(), actor, version, idempotency_key)
    return _done(response, engine.release(case_id, **guards))


@router.post(
    "/workflows/{workflow}/cases/{business_key:path}/events/{event}",
    response_model=CaseOut,
    responses=FIRES,
    summary="Fire an event by business key",
)
def fire_by_key(
    workflow: Annotated[str, Path(description="The workflow's name.")],
    business_key: Annotated[str, Path(description="The case's business key.")],
    event: Annotated[str, Path(description="The event's name in the workflow.")],
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    body: FireByKeyRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """
    ``Engine.fire_by_key``: the event on the case of ``workflow`` with this business key,
    for a host that knows its own reference rather than caseflow's id. No such case: 404.
    """
    body = body or FireByKeyRequest()
    case = engine.fire_by_key(
        workflow,
        business_key,
        event,
        actor=actor,
        payload=body.payload,
        idempotency_key=idempotency_key,
    )
    return _done(response, case)


@router.post("/messages", response_model=CaseOut, responses=FIRES, summary="Deliver a message")
def message(
    body: MessageRequest,
    response: Response,
    engine: EngineDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """
    ``Engine.message``: fires the event that declares ``message: <name>`` on the one active
    case with the business key whose state takes it. ``message_id`` (or
    ``Idempotency-Key``) makes a redelivered message one effect: the first result. No case
    takes it now: 404 ``MessageNotCorrelated``; more than one could: 409 naming them.
    """
    if (
        idempotency_key is not None
        and body.message_id is not None
        and idempotency_key != body.message_id
    ):
        msg = "Idempotency-Key and message_id name different messages; give one"
        raise BadRequest(msg)
    case = engine.message(
        body.message,
        body.business_key,
        actor=actor,
        message_id=body.message_id if body.message_id is not None else idempotency_key,
        payload=body.payload,
    )
    return _done(response, case)


@router.get(
    "/cases/{case_id}/children",
    response_model=list[CaseOut],
    responses=openapi_responses(400, 401, 404, 422, 500, 503),
    summary="A case's child cases",
)
def children(case_id: CaseId, engine: EngineDep, _actor: ActorDep) -> list[dict[str, Any]]:
    """``Engine.children``: the cases this case started (call activities), oldest first."""
    return [c.to_dict() for c in engine.children(case_id)]
