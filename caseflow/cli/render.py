"""
Terminal output shared by the commands: safe text, JSON, clock statuses, list tables that
fit the terminal, the history timeline and the clocks table.

Every value read from the database (actor ids, orgs, case data, comments, reasons, errors,
titles) goes through :func:`clean` (control characters shown as ``\\x1b``-style escapes)
and, where it ends up in rich markup, :func:`esc` (clean, then markup-escaped). Tables get
:class:`~rich.text.Text` cells built by :func:`text`, which rich never parses as markup.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rich import box
from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from caseflow.cli.common import CONTROL_CHARS, local_time

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterable, Sequence

    from caseflow.cases import HistoryEntry
    from caseflow.clocks.runtime import ClockState
    from caseflow.definitions.model import WorkflowDef
    from caseflow.views import ClockView

# -- safe text ---------------------------------------------------------------------------

_UNSAFE = CONTROL_CHARS
#: The same less C0, for JSON text (json.dumps escapes C0 itself).
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\t": " ", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: object, *, multiline: bool = False) -> str:
    """
    ``value`` as text that cannot drive the terminal: every control character (C0, C1,
    DEL, bidi controls) is shown as an escape such as ``\\x1b``; a tab becomes a space.
    With ``multiline``, newlines stay (``\\r\\n`` becomes ``\\n``).
    """
    text = value if isinstance(value, str) else str(value)
    if multiline:
        text = text.replace("\r\n", "\n")
        return "\n".join(_UNSAFE.sub(_visible, line) for line in text.split("\n"))
    return _UNSAFE.sub(_visible, text)


def esc(value: object, *, multiline: bool = False) -> str:
    """:func:`clean`, then escaped for rich markup: for values inside markup strings."""
    return escape(clean(value, multiline=multiline))


def text(value: object, style: str | None = None, *, multiline: bool = False) -> Text:
    """A table cell or line: :func:`clean` text, never parsed as markup."""
    return Text(clean(value, multiline=multiline), style=style or "")


def one_line(value: object) -> str:
    """A message on one line: :func:`clean`, with line breaks folded into spaces."""
    return " ".join(clean(value, multiline=True).split())


def json_text(value: Any) -> str:
    """
    Indented JSON whose every control character is a JSON escape (``\\u001b``, ``\\u009b``):
    the same data for a program, nothing a terminal acts on.
    """
    dumped = json.dumps(value, ensure_ascii=False, indent=2)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def highlighted_json(value: Any) -> Text:
    """:func:`json_text`, coloured as ``rich`` colours JSON (no markup parsed)."""
    return JSONHighlighter()(Text(json_text(value)))


def console() -> Console:
    """
    A console for stdout: the terminal's width (or ``COLUMNS``), 120 on a pipe or file
    without ``COLUMNS``; no emoji codes (``:smile:`` in a stored value stays text).
    """
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit() else 120
    return Console(width=width, emoji=False)


# -- clock statuses ----------------------------------------------------------------------

_STATUS_STYLE = {
    "running": "green",
    "warned": "yellow",
    "breached": "bold red",
    "paused": "blue",
    "stopped": "dim",
}
#: Row colours of a case listing, by its worst clock status.
ROW_STYLE = {"breached": "red", "warned": "yellow", "running": "green"}


def clock_status(state: ClockState, now: dt.datetime) -> tuple[str, bool]:
    """
    A clock's status as every command shows it, judged at ``now``, and whether the worker
    has yet to record it: a running clock past its due time is ``breached`` (overdue) even
    before a sweep stores the breach, as ``cases list`` counts it; in its warning window,
    ``warned``. Returns ``(status, unswept)``.
    """
    from caseflow.listing import clock_status as worst_status

    if state.phase != "running":
        return state.phase, False
    status = worst_status([state], now) or "running"
    unswept = (status == "breached" and state.breached_at is None) or (
        status == "warned" and state.warned_at is None
    )
    return status, unswept


def status_text(status: str | None, unswept: bool = False, *, clock: str | None = None) -> Text:
    """
    A clock status, coloured (``decision breached`` with ``clock``); ``breached (not yet
    swept)`` when the worker has not recorded it yet.
    """
    if status is None:
        return Text("")
    label = f"{status} (not yet swept)" if unswept else status
    return text(f"{clock} {label}" if clock else label, _STATUS_STYLE.get(status))


# -- list tables that fit the terminal ----------------------------------------------------

Role = Literal["keep", "main", "flex", "spill"]


@dataclass(frozen=True, slots=True)
class Column:
    """
    A column of a :class:`Grid` and what it may give up when the terminal is narrow.

    ``keep``: printed whole on one line, always (ids). ``main``: wrapped only after its
    ``breaks`` characters, and only when nothing else is left to give (workflow, state,
    org). ``flex``: free text, wrapped first (an error message). ``spill``: wrapped, and
    when that is not enough moved under the ``host`` column as ``label value`` (lowest
    ``order`` first).
    """

    header: str
    role: Role = "main"
    breaks: str = " "
    label: str | None = None
    order: int = 0
    host: bool = False
    justify: Literal["left", "right"] = "left"
    min_width: int = 8


@dataclass
class _Row:
    cells: list[Text]
    style: str | None


def _cell_len(value: str) -> int:
    from rich.cells import cell_len

    return cell_len(value)


def _pieces(value: str, breaks: str) -> list[str]:
    """``value`` cut after each break character (a run of them stays together)."""
    if not breaks:
        return [value]
    chars = re.escape(breaks)
    return re.findall(rf"[^{chars}]*[{chars}]+|[^{chars}]+", value) or [value]


def _line_starts(value: str, width: int, breaks: str) -> list[int]:
    """Where each line of ``value`` wrapped to ``width`` cells starts (see :func:`wrap`)."""
    starts, line, pos = [0], 0, 0
    for piece in _pieces(value, breaks):
        end = pos + len(piece)
        if pos > line and _cell_len(value[line:end].rstrip()) > width:
            starts.append(pos)
            line = pos
        while _cell_len(value[line:end].rstrip()) > width:  # one piece wider than a line
            cut = line + 1
            while cut < end and _cell_len(value[line : cut + 1]) <= width:
                cut += 1
            starts.append(cut)
            line = cut
        pos = end
    return starts


def wrap(value: str, width: int, breaks: str = " ") -> list[str]:
    """
    Lines of at most ``width`` cells, cut after ``breaks`` characters where possible (a
    piece longer than the width is folded); trailing spaces dropped.
    """
    starts = _line_starts(value, width, breaks)
    return [value[a:b].rstrip() for a, b in zip(starts, [*starts[1:], len(value)], strict=True)]


def _wrap_text(cell: Text, width: int, breaks: str) -> Text:
    """A cell wrapped like :func:`wrap`, keeping its styles."""
    if "\n" not in cell.plain and _cell_len(cell.plain) <= width:
        return cell
    out: list[Text] = []
    for line in cell.split("\n"):
        for piece in line.divide(_line_starts(line.plain, width, breaks)[1:]):
            piece.rstrip()
            out.append(piece)
    return Text("\n").join(out)


def _longest(value: str, breaks: str) -> int:
    return max((_cell_len(p.rstrip()) for p in _pieces(value, breaks)), default=0)


@dataclass
class Grid:
    """
    A list table that fits the console width without ever cutting a ``keep`` column:
    other columns wrap (at their break characters), then ``spill`` columns move under
    the host column, then ``main`` columns wrap. Cells are cleaned text.
    """

    columns: Sequence[Column]
    rows: list[_Row] = field(default_factory=list)

    def add_row(self, *cells: object, style: str | None = None) -> None:
        """One row; a cell is a value (cleaned here) or a :class:`Text` made by :func:`text`."""
        built = [c if isinstance(c, Text) else text("" if c is None else c) for c in cells]
        self.rows.append(_Row(built, style))

    def _natural(self, i: int) -> int:
        header = _cell_len(self.columns[i].header)
        return max([header, *(_cell_len(r.cells[i].plain) for r in self.rows)])

    def _minimum(self, i: int, breaks: str) -> int:
        """The narrowest a column gets: its longest unbreakable piece (free text: capped)."""
        column = self.columns[i]
        if column.role == "keep":
            return self._natural(i)
        header = _longest(column.header, " ")
        cells = max((_longest(r.cells[i].plain, breaks) for r in self.rows), default=0)
        if column.role == "flex":
            cells = min(cells, column.min_width)
        return min(self._natural(i), max(header, cells))

    def widths(self, width: int) -> tuple[dict[int, int], list[int]]:
        """Column widths for a console ``width`` and the columns spilled under the host."""
        columns = self.columns
        to_spill = sorted(
            (c.order, i) for i, c in enumerate(columns) if c.role == "spill" and c.label is not None
        )
        spilled: list[int] = []
        if not any(c.host for c in columns):
            to_spill = []

        def fits(widths: dict[int, int]) -> bool:
            return sum(widths.values()) + 2 * (len(widths) - 1) <= width

        while True:
            shown = [i for i in range(len(columns)) if i not in spilled]
            widths = {i: self._natural(i) for i in shown}
            soft = {i: self._minimum(i, " ") for i in shown}
            first = [i for i in shown if columns[i].role in ("flex", "spill")]
            _shrink(widths, first, {i: self._minimum(i, columns[i].breaks) for i in first}, fits)
            main = [i for i in shown if columns[i].role == "main"]
            _shrink(widths, main, soft, fits)
            if fits(widths):
                return widths, spilled
            if to_spill:
                spilled.append(to_spill.pop(0)[1])
                continue
            hard = {i: self._minimum(i, columns[i].breaks) for i in main}
            _shrink(widths, main, hard, fits)
            return widths, spilled

    def table(self, width: int) -> tuple[Table, int]:
        """The rich table for a console ``width``, and the width it takes."""
        widths, spilled = self.widths(width)
        columns = self.columns
        host = next((i for i, c in enumerate(columns) if c.host), None)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
        for i, w in widths.items():
            column = columns[i]
            header = Text(column.header, style="bold")
            if i == host and spilled:
                legend = " · ".join(columns[j].header for j in sorted(spilled))
                header.append("\n" + legend, style="dim")
            table.add_column(
                _wrap_text(header, w, " "), width=w, no_wrap=True, justify=column.justify
            )
        for row in self.rows:
            cells = []
            for i, w in widths.items():
                cell = _wrap_text(row.cells[i], w, columns[i].breaks)
                details = self._details(row, spilled, w) if i == host else None
                if details:
                    cell = Text("\n").join([cell, details])
                cells.append(cell)
            table.add_row(*cells, style=row.style)
        return table, sum(widths.values()) + 2 * (len(widths) - 1)

    def _details(self, row: _Row, spilled: list[int], width: int) -> Text:
        parts: list[Text] = []
        for i in sorted(spilled):
            cell = row.cells[i]
            if not cell.plain.strip():
                continue
            label = self.columns[i].label
            parts.append(Text(f"{label} ", style="dim") + cell if label else cell.copy())
        lines: list[Text] = []
        for part in parts:
            if lines and _cell_len(lines[-1].plain + " · " + part.plain) <= width:
                lines[-1].append(" · ", style="dim")
                lines[-1].append_text(part)
            else:
                lines.append(part)
        return Text("\n").join(_wrap_text(line, width, " ") for line in lines)

    def print(self, out: Console) -> None:
        """Print to ``out``; wider than the console only if the kept columns need it."""
        table, needed = self.table(out.width)
        # On a very narrow terminal ids stay whole and the lines run over.
        out.width = max(out.width, needed)
        out.print(table)


def _shrink(
    widths: dict[int, int],
    which: list[int],
    floor: dict[int, int],
    fits: Callable[[dict[int, int]], bool],
) -> None:
    """Narrow the widest of ``which`` one cell at a time until ``fits`` or all at ``floor``."""
    while not fits(widths):
        candidates = [i for i in which if widths[i] > floor[i]]
        if not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1


def more_rows(shown: int, more: bool, offset: int, what: str = "rows") -> str | None:
    """
    The line under a list: ``50 shown, more exist; --limit/--offset`` when a page is full,
    ``no cases`` when it is empty; None otherwise.
    """
    start = f" from offset {offset}" if offset else ""
    if not shown:
        return f"no {what}{' at offset ' + str(offset) if offset else ''}"
    if more:
        return f"{shown} shown{start}, more exist; --limit/--offset"
    return None


# -- case history and clocks -------------------------------------------------------------


def _state(definition: WorkflowDef | None, name: str | None) -> str:
    if name is None:
        return ""
    title = definition.states[name].title if definition and name in definition.states else ""
    return f"{name} ({title})" if title else name


def timeline(entries: Iterable[HistoryEntry], definition: WorkflowDef | None = None) -> Table:
    tz = definition.timezone if definition else "Asia/Shanghai"
    table = Table(title=f"History ({esc(tz)})", show_lines=False)
    table.add_column("when", style="cyan", no_wrap=True)
    table.add_column("who", overflow="fold")
    table.add_column("event", overflow="fold")
    table.add_column("state", overflow="fold")
    table.add_column("details", overflow="fold")
    for e in entries:
        who = f"{e.actor_id} ({', '.join(e.actor_roles)})" if e.actor_roles else e.actor_id
        if e.kind == "clock":
            what, state, details = _clock_row(e.details)
            event = text(what, "magenta")
        else:
            event = text(e.event or e.kind)
            state = f"→ {_state(definition, e.to_state)}" if e.to_state != e.from_state else ""
            details = _details(e.details)
        table.add_row(
            local_time(e.at, tz), text(who), event, text(state), text(details, multiline=True)
        )
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
    return what, "", "; ".join(parts)


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


def clocks_table(views: Iterable[ClockView], tz: str, now: dt.datetime) -> Table:
    """A case's clocks, each with the status :func:`clock_status` judges at ``now``."""
    table = Table(title="Clocks")
    for column in ("clock", "status", "last day", f"due ({tz})", "days left", "ext.", "escalation"):
        table.add_column(esc(column))
    for v in views:
        status = status_text(*clock_status(v.state, now))
        if v.provisional:
            status.append(" (provisional)", style="yellow")
        table.add_row(
            text(v.name),
            status,
            v.last_day.isoformat() if v.last_day else "-",
            local_time(v.due_at, tz) if v.due_at else "-",
            "" if v.days_left is None else str(v.days_left),
            str(v.extensions),
            str(v.escalation_step),
        )
    return table
