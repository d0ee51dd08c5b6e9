"""
The FastAPI application: the JSON API (:mod:`caseflow.server.api`), the console
(:mod:`caseflow.server.console`), the vendored static files, and one error format.

FastAPI because pydantic, which caseflow already uses for its definitions, is what it
builds its OpenAPI document from: the request and response models in
:mod:`caseflow.server.models` are the API's schema, served at ``/api/v1/openapi.json``
(no Swagger UI page: it would load its scripts from the web; open the document in any
OpenAPI viewer).
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from caseflow.errors import CaseflowError
from caseflow.server import problems
from caseflow.server.api import ROUTERS
from caseflow.server.console import SignIn
from caseflow.server.console import router as console_router
from caseflow.server.deps import BadRequest, NotAuthenticated, Services

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from caseflow.engine import Engine
    from caseflow.server.auth import Authenticator

STATIC = Path(__file__).resolve().parent / "static"
#: The largest request body read: the library refuses JSON documents over 1,000,000
#: characters anyway (caseflow.pipeline.validate), so a bigger body is never useful.
MAX_BODY = 4 * 1024 * 1024
API_PREFIX = "/api/v1"
log = logging.getLogger("caseflow.server")


def create_app(engine: Engine, authenticator: Authenticator, *, console: bool = True) -> FastAPI:
    """
    The application serving ``engine`` to the callers ``authenticator`` recognises.

    The engine is the host's: the application does not close it.
    """
    app = FastAPI(
        title="caseflow",
        version=version("caseflow"),
        summary="Cases, legal clocks, votes and operators' actions over HTTP.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN: the console works offline, so no docs page
        redoc_url=None,
    )
    app.state.services = Services(engine=engine, authenticator=authenticator)
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    for router in ROUTERS:
        app.include_router(router)
    _handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if console:
        app.include_router(console_router)

        @app.get("/", include_in_schema=False)
        def home() -> RedirectResponse:
            return RedirectResponse("/console/", status_code=303)

    return app


class BodyTooLarge(Exception):  # noqa: N818 - the response it becomes
    """A chunked request body grew past the limit while it was read."""


class BodyLimit:
    """
    Refuses request bodies over ``limit`` bytes: 413 up front when ``Content-Length``
    says so; a chunked body is cut off when it passes the limit (read as a bad body).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            status = 413 if length.isdigit() else 400
            body = problems.document(
                status,
                detail=f"request bodies are at most {self.limit:,} bytes",
                instance=scope.get("path"),
            )
            await problems.response(status, body)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge
            return message

        await self.app(scope, limited, send)


def _instance(request: Request) -> str:
    return request.url.path


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(CaseflowError)
    def caseflow_error(request: Request, exc: CaseflowError) -> Response:
        precondition = bool(getattr(request.state, "precondition", False))
        if problems.status_of(exc) >= 500:
            log.warning("caseflow error on %s: %s", request.url.path, exc)
        return problems.from_error(exc, _instance(request), precondition=precondition)

    @app.exception_handler(NotAuthenticated)
    def not_authenticated(request: Request, _exc: NotAuthenticated) -> Response:
        body = problems.document(
            401,
            detail="give a valid bearer token: Authorization: Bearer TOKEN",
            instance=_instance(request),
        )
        return problems.response(401, body, {"WWW-Authenticate": 'Bearer realm="caseflow"'})

    @app.exception_handler(SignIn)
    def sign_in(_request: Request, exc: SignIn) -> Response:
        return RedirectResponse(f"/console/login?next={quote(exc.target)}", status_code=303)

    @app.exception_handler(BadRequest)
    def bad_request(request: Request, exc: BadRequest) -> Response:
        body = problems.document(exc.status, detail=exc.detail, instance=_instance(request))
        return problems.response(exc.status, body)

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            body = problems.document(
                400, detail="the body is not JSON", instance=_instance(request)
            )
            return problems.response(400, body)
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        body = problems.document(
            422,
            detail=detail,
            instance=_instance(request),
            error="RequestValidationError",
            extra={"errors": errors},
        )
        return problems.response(422, body)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        body = problems.document(
            exc.status_code, detail=str(exc.detail), instance=_instance(request)
        )
        return problems.response(exc.status_code, body, exc.headers)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        body = problems.document(
            500,
            detail="the server could not complete the request; its log has the details",
            instance=_instance(request),
        )
        return problems.response(500, body)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, with error responses as ``application/problem+json`` only."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation["security"] = [{"bearer": []}]
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if int(status) >= 400 and problems.MEDIA_TYPE in content:
                    content.pop("application/json", None)
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from the server's token file (or the deployment's SSO).",
    }
    app.openapi_schema = schema
    return schema
