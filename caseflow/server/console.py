"""
The supervision console (督办 / 电子监察): read-mostly pages rendered on the server.

Jinja2 templates with autoescaping on (every value from the database is text, never
markup); vendored htmx refreshes the unit lights, Chart.js draws the ranking, Mermaid the
workflow diagram (``static/vendor``, no network, no build step). Pages answer with a
Content-Security-Policy that allows scripts from this server only.

Who is looking is the authenticator's answer for the request's headers; a browser without
an SSO gateway signs in with a token (``/console/login``), kept in an HttpOnly,
SameSite=Strict cookie that only the console reads and hands to the same authenticator as
a bearer token. The console starts at the viewer's org unit (every unit for an actor
without one); the library has no read permissions, so this is a view, not a boundary.

The one write is a claim from the viewer's worklist (``Engine.claim``, as the viewer, with
the row's version): a POST that only this server's pages can make with the cookie
(SameSite=Strict), answered to htmx with the row's assignee cell.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from caseflow import listing
from caseflow.cases import Actor
from caseflow.cli.render import clock_status
from caseflow.clocks.periods import Due, remaining
from caseflow.errors import CaseflowError, VoteError
from caseflow.export.graph import mermaid
from caseflow.server import lights
from caseflow.server.deps import services

if TYPE_CHECKING:
    from caseflow.cases import HistoryEntry
    from caseflow.definitions.model import WorkflowDef
    from caseflow.engine import Engine
    from caseflow.views import ClockView

COOKIE = "caseflow_console"
TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
#: A clock's ``left_unit`` on a worklist, in Chinese.
UNIT_ZH = {"workdays": "个工作日", "days": "天", "hours": "小时"}
STATUS_ZH = {
    "breached": "超期",
    "warned": "预警",
    "running": "计时中",
    "paused": "暂停",
    "stopped": "已停止",
    "active": "在办",
    "suspended": "挂起",
    "completed": "办结",
    "cancelled": "撤销",
}
LIGHT = {"breached": "red", "warned": "yellow", "running": "green", "paused": "grey"}
router = APIRouter(prefix="/console", include_in_schema=False)


class SignIn(Exception):  # noqa: N818 - the response it becomes
    """The viewer is not signed in: redirect to the login page."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(target)


def viewer(request: Request) -> Actor:
    """The signed-in actor: from the headers (SSO gateway, bearer), else the cookie."""
    auth = services(request).authenticator
    found = auth.authenticate(request.headers)
    token = request.cookies.get(COOKIE)
    if found is None and token:
        found = auth.authenticate({"authorization": f"Bearer {token}"})
    if found is None or not isinstance(found, Actor) or found.is_system:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignIn(target)
    return found


Viewer = Annotated[Actor, Depends(viewer)]


def _engine(request: Request) -> Engine:
    return services(request).engine


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    actor: Actor | None = context.get("viewer")
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {"viewer": actor, "zh": STATUS_ZH, "light": LIGHT, "unit_zh": UNIT_ZH, **context},
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _local(value: dt.datetime | None, tz: str = "Asia/Shanghai") -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if value else ""


TEMPLATES.env.filters["local"] = _local


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, host, or ``//``) is a place to go back to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/console/"
    parts = urlsplit(target)
    return "/console/" if parts.scheme or parts.netloc else target


# -- signing in -------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next_: Annotated[str | None, Query(alias="next")] = None) -> Any:
    return page(request, "login.html", {"next": _safe_next(next_), "failed": False})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Any:
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    token = (form.get("token") or [""])[0].strip()
    target = _safe_next((form.get("next") or [""])[0])
    auth = services(request).authenticator
    found = auth.authenticate({"authorization": f"Bearer {token}"}) if token else None
    if found is None:
        return page(request, "login.html", {"next": target, "failed": True}, status=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


# -- the dashboard: unit lights -------------------------------------------------------------


def _root(actor: Actor, org: str | None) -> str | None:
    return (org if org is not None else actor.org).strip("/") or None


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, actor: Viewer, org: Annotated[str | None, Query(max_length=500)] = None
) -> Any:
    engine = _engine(request)
    root = _root(actor, org)
    units = lights.unit_lights(engine, root)
    overdue = engine.overdue(limit=10)
    return page(
        request,
        "dashboard.html",
        {
            "viewer": actor,
            "root": root,
            "units": units,
            "overdue": overdue,
            "now": engine.clock.now(),
            "query": f"?org={quote(root)}" if root else "",
        },
    )


@router.get("/fragments/units", response_class=HTMLResponse)
def units_fragment(
    request: Request, actor: Viewer, org: Annotated[str | None, Query(max_length=500)] = None
) -> Any:
    engine = _engine(request)
    root = _root(actor, org)
    return page(
        request,
        "_units.html",
        {"viewer": actor, "root": root, "units": lights.unit_lights(engine, root)},
    )


# -- lists -------------------------------------------------------------------------------------


@router.get("/overdue", response_class=HTMLResponse)
def overdue_page(request: Request, actor: Viewer, offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    engine = _engine(request)
    found = engine.overdue(limit=51, offset=offset)
    now = engine.clock.now()
    rows = [(case, view, clock_status(view.state, now)) for case, view in found[:50]]
    return page(
        request,
        "overdue.html",
        {
            "viewer": actor,
            "rows": rows,
            "offset": offset,
            "more": len(found) > 50,
            "names": {u.path: u.name for u in engine.orgs},
        },
    )


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    actor: Viewer,
    org: Annotated[str | None, Query(max_length=500)] = None,
    clock: Annotated[str | None, Query(pattern="^(breached|warned)$")] = None,
    status: Annotated[
        str | None, Query(pattern="^(active|suspended|completed|cancelled)$")
    ] = "active",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    engine = _engine(request)
    rows = listing.list_cases(
        engine,
        org=org or None,
        status=status or None,
        overdue=clock == "breached",
        warned=clock == "warned",
        limit=51,
        offset=offset,
    )
    return page(
        request,
        "cases.html",
        {
            "viewer": actor,
            "rows": rows[:50],
            "org": org or "",
            "clock": clock or "",
            "status": status or "",
            "offset": offset,
            "more": len(rows) > 50,
            "names": {u.path: u.name for u in engine.orgs},
        },
    )


# -- the viewer's worklist ---------------------------------------------------------------------


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    actor: Viewer,
    workflow: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    """The viewer's worklist (``Engine.worklist``), most urgent first, with a claim button."""
    engine = _engine(request)
    try:
        rows = engine.worklist(actor, workflow=workflow or None, limit=51, offset=offset)
        counts = engine.worklist_counts(actor, workflow=workflow or None)
    except CaseflowError as exc:
        return page(request, "missing.html", {"viewer": actor, "what": str(exc)}, status=422)
    return page(
        request,
        "worklist.html",
        {
            "viewer": actor,
            "rows": rows[:50],
            "counts": counts,
            "workflow": workflow or "",
            "offset": offset,
            "more": len(rows) > 50,
            "names": {u.path: u.name for u in engine.orgs},
        },
    )


@router.post("/worklist/{case_id}/claim", response_class=HTMLResponse)
async def claim(request: Request, case_id: str) -> Any:
    """
    ``Engine.claim`` for the viewer; ``version`` (the row's) refuses a case that moved on.
    htmx gets the row's assignee cell back (claimed by you, or why not); a plain form
    post goes back to the worklist. Signed out: to the login page, then the worklist.
    """
    htmx = request.headers.get("hx-request") == "true"
    try:
        actor = viewer(request)
    except SignIn:
        if not htmx:
            raise SignIn("/console/worklist") from None
        return HTMLResponse("", headers={"HX-Redirect": "/console/login?next=/console/worklist"})
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    version = (form.get("version") or [""])[0]
    engine = _engine(request)
    error = None
    try:
        case = engine.claim(
            case_id,
            actor=actor,
            expected_version=int(version) if version.isdigit() and len(version) < 19 else None,
        )
    except CaseflowError as exc:
        error = str(exc)
        case = None
    if not htmx:
        return RedirectResponse("/console/worklist", status_code=303)
    return page(
        request,
        "_claim.html",
        {"viewer": actor, "case": case, "case_id": case_id, "error": error},
    )


# -- the on-time ranking ---------------------------------------------------------------------


@router.get("/ranking", response_class=HTMLResponse)
def ranking_page(
    request: Request,
    actor: Viewer,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    depth: Annotated[int | None, Query(ge=1, le=10)] = None,
    org: Annotated[str | None, Query(max_length=500)] = None,
) -> Any:
    engine = _engine(request)
    root = _root(actor, org)
    first, after = lights.month_bounds(month, engine.clock.now())
    ranks = lights.ranking(engine, first, after, root=root, depth=depth)
    chart = {
        "labels": [r.name for r in ranks if r.row.on_time_rate is not None],
        "rates": [
            round(100 * (r.row.on_time_rate or 0.0), 1)
            for r in ranks
            if r.row.on_time_rate is not None
        ],
    }
    previous = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    return page(
        request,
        "ranking.html",
        {
            "viewer": actor,
            "ranks": ranks,
            "month": first.strftime("%Y-%m"),
            "previous": previous,
            "next": after.strftime("%Y-%m"),
            "depth": depth,
            "root": root,
            "chart": chart,
        },
    )


# -- a case ---------------------------------------------------------------------------------


def highlighted(definition: WorkflowDef, state: str) -> str:
    """The workflow's Mermaid drawing with ``state`` marked as the current one."""
    text = mermaid(definition)
    ids = {}
    for line in text.splitlines():
        found = re.fullmatch(r'\s*state "(.*)" as (\S+)', line)
        if found:
            ids[_unescape(found[1])] = found[2]
    sid = ids.get(state, state)
    return (
        text
        + "    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px,font-weight:bold\n"
        + f"    class {sid} current\n"
    )


def _unescape(text: str) -> str:
    for entity, char in (("#35;", "#"), ("#58;", ":"), ("#59;", ";"), ("#quot;", '"')):
        text = text.replace(entity, char)
    return text.replace("#lt;", "<").replace("#gt;", ">")


def _clock_rows(
    engine: Engine, definition: WorkflowDef, views: list[ClockView]
) -> list[dict[str, Any]]:
    now = engine.clock.now()
    calendar = engine.ctx.calendars.for_workflow(definition)
    out = []
    for v in views:
        status, unswept = clock_status(v.state, now)
        workdays = None
        if v.state.phase == "running" and v.last_day is not None and v.due_at is not None:
            left = remaining(
                Due(v.last_day, v.due_at, v.provisional), now, calendar, definition.timezone
            )
            workdays = left.amount
        out.append({"view": v, "status": status, "unswept": unswept, "workdays_left": workdays})
    return out


def _timeline(entries: list[HistoryEntry], definition: WorkflowDef) -> list[dict[str, Any]]:
    def title(name: str | None) -> str:
        if name is None:
            return ""
        state = definition.states.get(name)
        return f"{name} ({state.title})" if state is not None and state.title else name

    out = []
    for e in entries:
        if e.kind == "clock":
            what = f"clock {e.details.get('clock', '')} {e.details.get('action', '')}".strip()
            moved = ""
        else:
            what = e.event or e.kind
            moved = (
                f"{title(e.from_state)} → {title(e.to_state)}" if e.to_state != e.from_state else ""
            )
        details = {k: v for k, v in e.details.items() if k != "data"}
        out.append({"entry": e, "what": what, "moved": moved, "details": details})
    return out


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, actor: Viewer) -> Any:
    engine = _engine(request)
    try:
        case = engine.get(case_id)
    except CaseflowError as exc:
        return page(request, "missing.html", {"viewer": actor, "what": str(exc)}, status=404)
    definition = engine.workflow(case.workflow, case.workflow_version)
    try:
        vote = engine.vote(case_id)
    except VoteError:
        vote = None
    return page(
        request,
        "case.html",
        {
            "viewer": actor,
            "case": case,
            "definition": definition,
            "state_title": definition.states[case.state].title
            if case.state in definition.states
            else "",
            "data": json.dumps(case.data, ensure_ascii=False, indent=2),
            "clocks": _clock_rows(engine, definition, engine.clocks(case_id)),
            "timeline": _timeline(engine.history(case_id), definition),
            "diagram": highlighted(definition, case.state),
            "events": listing.event_choices(engine, case),
            "incidents": engine.incidents(case_id=case_id),
            "vote": vote,
            "tz": definition.timezone,
            "org_name": unit.name if (unit := engine.orgs.get(case.org)) else "",
        },
    )


@router.get("/cases/{case_id}/vote", response_class=HTMLResponse)
def vote_page(
    request: Request,
    case_id: str,
    actor: Viewer,
    round_no: Annotated[int | None, Query(alias="round", ge=1)] = None,
) -> Any:
    engine = _engine(request)
    try:
        vote = engine.vote(case_id, round_no)
        latest = engine.vote(case_id).round
    except CaseflowError as exc:
        return page(request, "missing.html", {"viewer": actor, "what": str(exc)}, status=404)
    case = engine.get(case_id)
    return page(
        request,
        "vote.html",
        {
            "viewer": actor,
            "case": case,
            "vote": vote,
            "rounds": list(range(1, latest + 1)),
            "result": json.dumps(vote.result, ensure_ascii=False, indent=2) if vote.result else "",
        },
    )
