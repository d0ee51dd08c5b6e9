"""
What every route needs: the engine, the caller (an :class:`~caseflow.Actor`), and the
``If-Match`` / ``Idempotency-Key`` headers, as FastAPI dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request

from caseflow import listing
from caseflow.cases import Actor
from caseflow.cli.render import clock_status

if TYPE_CHECKING:
    from caseflow.engine import Engine
    from caseflow.server.auth import Authenticator
    from caseflow.views import ClockView

_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,18})"\s*')


class NotAuthenticated(Exception):  # noqa: N818 - named after the response it becomes
    """No credentials, or credentials the authenticator does not know: 401."""


class BadRequest(Exception):  # noqa: N818
    """A header or parameter the library never sees is malformed: 400."""

    def __init__(self, detail: str, *, status: int = 400) -> None:
        self.detail = detail
        self.status = status
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class Services:
    """What the application holds: one engine and one authenticator for its lifetime."""

    engine: Engine
    authenticator: Authenticator


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def engine(request: Request) -> Engine:
    return services(request).engine


def actor(request: Request) -> Actor:
    """The caller, from the request's headers; 401 when the authenticator says None."""
    found = services(request).authenticator.authenticate(request.headers)
    if found is None:
        raise NotAuthenticated
    if not isinstance(found, Actor) or found.is_system:
        # a plugin may not hand out the engine's own identity
        raise NotAuthenticated
    request.state.actor = found
    return found


def etag(version: int) -> str:
    return f'"{version}"'


def if_match(
    request: Request,
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The case version the caller last saw, as its ETag (`"3"`).',
        ),
    ] = None,
) -> int | None:
    """The version ``If-Match`` names (``*``: any, so None); 400 when malformed."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.fullmatch(value)
    if match is None:
        raise BadRequest('If-Match takes one ETag of a case, such as "3"')
    request.state.precondition = True
    return int(match[1])  # at most 18 digits: within a 64-bit column


def expected(header: int | None, body: int | None) -> int | None:
    """The expected version from ``If-Match`` or the body; both must agree."""
    if header is not None and body is not None and header != body:
        raise BadRequest(
            f"If-Match names version {header} but expected_version is {body}; give one"
        )
    return header if header is not None else body


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes a retried request return the first result (and write nothing).",
    ),
]
EngineDep = Annotated["Engine", Depends(engine)]
ActorDep = Annotated[Actor, Depends(actor)]
IfMatch = Annotated[int | None, Depends(if_match)]


def clock_out(view: ClockView, now: Any) -> dict[str, Any]:
    """A clock as the CLI's ``cases show --json`` gives it: judged now, swept or not."""
    out = listing.clock_json(view)
    out["status"], out["not_yet_swept"] = clock_status(view.state, now)
    return out
