"""
The supervision figures the console shows (电子监察 亮灯, 按时办结排名), from library calls:

- :func:`unit_lights`: per org unit (its sub-units included) the open cases, and of those
  the ones whose worst clock is warned (yellow, 预警) or breached (red, 超期) now, as
  ``caseflow cases list`` colours them: :meth:`caseflow.Engine.case_counts_by_org`, two
  GROUP BYs per page load (reading every open and every warned or breached case took
  about 1.5 s at 100,000 cases on SQLite).
- :func:`ranking`: units by on-time rate for a month, from the same report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from caseflow.orgs import within
from caseflow.reports import report

if TYPE_CHECKING:
    from caseflow.engine import Engine
    from caseflow.orgs import OrgTree
    from caseflow.reports import ReportRow

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class UnitLight:
    """One unit of the tree with its counts, sub-units included."""

    path: str
    name: str
    level: str | None
    depth: int
    open: int = 0
    warned: int = 0
    breached: int = 0
    known: bool = True
    children: list[str] = field(default_factory=list)

    @property
    def light(self) -> str:
        """``red`` (a breach), ``yellow`` (a warning), ``green`` (open cases), ``grey``."""
        if self.breached:
            return "red"
        if self.warned:
            return "yellow"
        return "green" if self.open else "grey"


def unit_lights(engine: Engine, root: str | None = None) -> list[UnitLight]:
    """The units under ``root`` (every unit when None), depth first, with their counts."""
    counts = engine.case_counts_by_org(root)
    tree = engine.orgs
    units: dict[str, UnitLight] = {}

    def unit(path: str) -> UnitLight:
        found = units.get(path)
        if found is None:
            known = tree.get(path)
            found = units[path] = UnitLight(
                path=path,
                name=known.name if known else (path.rsplit("/", 1)[-1] or "(无单位 no unit)"),
                level=known.level if known else None,
                depth=0,
                known=known is not None,
            )
        return found

    for u in tree:
        if root is None or within(u.path, root):
            unit(u.path)
    for org, n in counts.items():
        chain = tree.chain(org) if org else [org]
        for path in chain:
            if root is not None and not within(path, root):
                break
            item = unit(path)
            item.open += n.open
            item.warned += n.warned
            item.breached += n.breached
    return _depth_first(units, tree, root)


def _depth_first(units: dict[str, UnitLight], tree: OrgTree, root: str | None) -> list[UnitLight]:
    parents: dict[str, str | None] = {}
    for path in units:
        up = None if path == root else tree.parent(path)
        while up is not None and up not in units:
            up = tree.parent(up)
        parents[path] = up
    for path, up in sorted(parents.items()):
        if up is not None:
            units[up].children.append(path)
    out: list[UnitLight] = []
    stack = [(p, 0) for p in sorted((p for p, up in parents.items() if up is None), reverse=True)]
    while stack:
        path, depth = stack.pop()
        item = units[path]
        item.depth = depth
        out.append(item)
        stack.extend((c, depth + 1) for c in reversed(item.children))
    return out


@dataclass(frozen=True, slots=True)
class Rank:
    place: int
    row: ReportRow
    name: str


def month_bounds(month: str | None, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """``2026-11`` (default: this month in Asia/Shanghai) as [first day, next month's)."""
    if month:
        first = dt.date.fromisoformat(f"{month}-01")
    else:
        today = now.astimezone(TZ).date()
        first = today.replace(day=1)
    after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, after


def ranking(
    engine: Engine, first: dt.date, after: dt.date, *, root: str | None, depth: int | None
) -> list[Rank]:
    """Units by on-time rate in the month (units with no finished clock last)."""
    figures = report(engine, since=first, until=after, org=root or None, by="org", depth=depth)
    rows = sorted(
        figures.rows,
        key=lambda r: (r.on_time_rate is None, -(r.on_time_rate or 0.0), -r.finished_clocks, r.key),
    )
    tree = engine.orgs
    out = []
    for n, row in enumerate(rows, 1):
        known = tree.get(row.key)
        out.append(Rank(n, row, known.name if known else row.key))
    return out
