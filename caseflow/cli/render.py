"""Rich renderings shared by commands: the history timeline."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from caseflow.cli.common import local_time

if TYPE_CHECKING:
    from caseflow.cases import HistoryEntry
    from caseflow.definitions.model import WorkflowDef
    from caseflow.views import ClockView


def _state(definition: WorkflowDef | None, name: str | None) -> str:
    if name is None:
        return ""
    title = definition.states[name].title if definition and name in definition.states else ""
    return f"{name} ({title})" if title else name


def timeline(entries: list[HistoryEntry], definition: WorkflowDef | None = None) -> Table:
    tz = definition.timezone if definition else "Asia/Shanghai"
    table = Table(title=f"History ({tz})", show_lines=False)
    table.add_column("when", style="cyan", no_wrap=True)
    table.add_column("who")
    table.add_column("event")
    table.add_column("state")
    table.add_column("details", overflow="fold")
    for e in entries:
        who = f"{e.actor_id} ({', '.join(e.actor_roles)})" if e.actor_roles else e.actor_id
        if e.kind == "clock":
            what, state, details = _clock_row(e.details)
        else:
            what = e.event or e.kind
            state = f"→ {_state(definition, e.to_state)}" if e.to_state != e.from_state else ""
            details = _details(e.details)
        table.add_row(local_time(e.at, tz), who, what, state, details)
    return table


def _clock_row(details: dict[str, Any]) -> tuple[str, str, str]:
    what = f"clock {details.get('clock', '')} {details.get('action', '')}".strip()
    parts = []
    if details.get("last_day"):
        parts.append(f"last day {details['last_day']}")
    keys = ("reason", "from_org", "to_org", "level", "event", "error", "note")
    parts += [f"{k.replace('_', ' ')}: {details[k]}" for k in keys if details.get(k) is not None]
    if details.get("provisional"):
        parts.append("PROVISIONAL")
    return f"[magenta]{what}[/]", "", "; ".join(parts)


def _details(details: dict[str, Any]) -> str:
    flat: dict[str, object] = {}
    for key, value in details.items():
        if key == "data":
            continue
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return "; ".join(
        f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in flat.items()
    )


_STATUS_STYLE = {
    "running": "green",
    "warned": "yellow",
    "breached": "bold red",
    "paused": "blue",
    "stopped": "dim",
}


def clocks_table(views: list[ClockView], tz: str) -> Table:
    table = Table(title="Clocks")
    for column in ("clock", "status", "last day", f"due ({tz})", "days left", "ext.", "escalation"):
        table.add_column(column)
    for v in views:
        style = _STATUS_STYLE.get(v.status, "")
        table.add_row(
            v.name,
            f"[{style}]{v.status}[/]" + (" [yellow](provisional)[/]" if v.provisional else ""),
            v.last_day.isoformat() if v.last_day else "-",
            local_time(v.due_at, tz) if v.due_at else "-",
            "" if v.days_left is None else str(v.days_left),
            str(v.extensions),
            str(v.escalation_step),
        )
    return table


def console() -> Console:
    """A console 120 wide when writing to a pipe or file, the terminal's width otherwise."""
    return Console(width=None if sys.stdout.isatty() else 120)
