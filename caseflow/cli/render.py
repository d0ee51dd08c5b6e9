"""Rich renderings shared by commands: the history timeline."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from caseflow.cli.common import local_time

if TYPE_CHECKING:
    from caseflow.cases import HistoryEntry
    from caseflow.definitions.model import WorkflowDef


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
        state = f"→ {_state(definition, e.to_state)}" if e.to_state != e.from_state else ""
        table.add_row(local_time(e.at, tz), who, e.event or e.kind, state, _details(e.details))
    return table


def _details(details: dict[str, object]) -> str:
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


def console() -> Console:
    """A console 120 wide when writing to a pipe or file, the terminal's width otherwise."""
    return Console(width=None if sys.stdout.isatty() else 120)
