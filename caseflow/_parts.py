"""What the Engine's API mixins may use of the Engine (declared once, for the type checker)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection

    from caseflow.abc import Notifier, RosterProvider
    from caseflow.cases import Case, HistoryEntry
    from caseflow.clocks.time import Clock
    from caseflow.clockwork import Calendars
    from caseflow.definitions.model import WorkflowDef
    from caseflow.orgs import OrgTree


class EngineParts:
    """Base of the API mixins (ClockAPI, VoteAPI, OrgAPI, OpsAPI); the Engine provides all."""

    clock: Clock
    calendars: Calendars
    notifier: Notifier
    rosters: dict[str, RosterProvider]
    orgs: OrgTree

    if TYPE_CHECKING:
        _write: Callable[[], AbstractContextManager[Connection]]
        _read: Callable[[], AbstractContextManager[Connection]]
        workflow: Callable[..., WorkflowDef]
        reload_calendars: Callable[[], None]
        get: Callable[[str], Case]
        _transition: Callable[..., Case]
        _follow_up: Callable[..., list[HistoryEntry]]
        fire_due: Callable[..., Any]
