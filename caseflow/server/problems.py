"""
Errors as RFC 9457 problem details (``application/problem+json``).

Every error response has ``type``, ``title``, ``status``, ``detail`` and ``instance`` (the
request path), and for a :class:`~caseflow.CaseflowError` also ``error`` (the class name)
and the fields the error carries:

==========================  ======  ==============================================
error                       status  extra members
==========================  ======  ==============================================
CaseNotFound                404     ``case_id``
WorkflowNotFound            404     ``workflow``, ``version``
IncidentNotFound            404     ``incident_id``
MessageNotCorrelated        404     ``message``, ``business_key``, ``candidates``
                                    (``workflow`` from fire by business key)
                            or 409  (404: no case takes the message now; 409: more
                                    than one could, ``candidates`` names them)
Forbidden                   403     ``required_roles`` (401 with no credentials)
ConcurrencyConflict         409     ``case_id``, ``version`` (412 for ``If-Match``)
IdempotencyConflict         409     ``scope``, ``key``
DuplicateBusinessKey        409     ``workflow``, ``business_key``
InvalidEvent, VoteError     409     (the request is well formed; the case's state
                                    refuses it: the same request can succeed later)
DataValidationError         422     ``errors`` (the fields or schema paths)
DefinitionError             422     ``errors`` (the problems, ``file:line:col``)
StorageError                503
other CaseflowError         400
anything else               500     nothing about the internals
==========================  ======  ==============================================
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from caseflow.errors import (
    CaseflowError,
    CaseNotFound,
    ConcurrencyConflict,
    DataValidationError,
    DefinitionError,
    DuplicateBusinessKey,
    Forbidden,
    IdempotencyConflict,
    IncidentNotFound,
    InvalidEvent,
    MessageNotCorrelated,
    StorageError,
    WorkflowNotFound,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:caseflow:problem:"

#: Error class -> HTTP status, most specific first (VoteError is an InvalidEvent).
STATUS: tuple[tuple[type[CaseflowError], int], ...] = (
    (CaseNotFound, 404),
    (WorkflowNotFound, 404),
    (IncidentNotFound, 404),
    (Forbidden, 403),
    (ConcurrencyConflict, 409),
    (IdempotencyConflict, 409),
    (DuplicateBusinessKey, 409),
    (InvalidEvent, 409),
    (DataValidationError, 422),
    (DefinitionError, 422),
    (StorageError, 503),
    (CaseflowError, 400),
)

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(BaseModel):
    """An RFC 9457 problem document; caseflow errors add ``error`` and their fields."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    error: str | None = None


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def status_of(exc: CaseflowError) -> int:
    if isinstance(exc, MessageNotCorrelated):
        # nobody takes it: nothing to act on (404); several could: the request is
        # ambiguous against the cases as they are (409), and names them
        return 409 if exc.candidates else 404
    return next(status for cls, status in STATUS if isinstance(exc, cls))


def fields_of(exc: CaseflowError) -> dict[str, Any]:
    """The members an error carries beyond its message."""
    if isinstance(exc, Forbidden):
        return {"required_roles": list(exc.required_roles)}
    if isinstance(exc, ConcurrencyConflict):
        return {"case_id": exc.case_id, "version": exc.version}
    if isinstance(exc, IdempotencyConflict):
        return {"scope": exc.scope, "key": exc.key}
    if isinstance(exc, DuplicateBusinessKey):
        return {"workflow": exc.workflow, "business_key": exc.business_key}
    if isinstance(exc, DataValidationError):
        return {"errors": list(exc.errors)}
    if isinstance(exc, DefinitionError):
        return {"errors": [str(p) for p in exc.problems]}
    if isinstance(exc, CaseNotFound):
        return {"case_id": exc.case_id}
    if isinstance(exc, WorkflowNotFound):
        return {"workflow": exc.name, "version": exc.version}
    if isinstance(exc, IncidentNotFound):
        return {"incident_id": exc.incident_id}
    if isinstance(exc, MessageNotCorrelated):
        return {
            "message": exc.message,
            "business_key": exc.business_key,
            "candidates": list(exc.candidates),
            **({"workflow": exc.workflow} if exc.workflow is not None else {}),
        }
    return {}


def document(
    status: int,
    *,
    detail: str | None,
    instance: str | None,
    error: str | None = None,
    kind: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A problem document; ``kind`` names its type (default: the error, else the status)."""
    title = TITLES.get(status, "Error")
    name = kind or (kebab(error) if error else kebab(title.replace(" ", "")))
    out: dict[str, Any] = {
        "type": TYPE_PREFIX + name,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if error is not None:
        out["error"] = error
    out.update(extra or {})
    return out


def response(
    status: int,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(exc: CaseflowError, instance: str, *, precondition: bool = False) -> JSONResponse:
    """The response for a library error; ``precondition``: the version came from If-Match."""
    status = status_of(exc)
    if precondition and isinstance(exc, ConcurrencyConflict):
        status = 412
    body = document(
        status,
        detail=str(exc),
        instance=instance,
        error=type(exc).__name__,
        extra=fields_of(exc),
    )
    return response(status, body)


def openapi_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status as a problem document."""
    return {
        status: {
            "description": TITLES.get(status, "Error"),
            "model": Problem,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
