"""
Reports: what happened to the cases opened in a period, per org unit or per workflow.

For the cases *created* in ``[since, until)`` (the cohort), counted as of ``until``:

* **opened**, **closed** (completed or cancelled before ``until``) and **still open**
  (``opened - closed``: open at the end of the period);
* **on time** against the legal limit: of the clocks that stopped or breached before
  ``until``, those that stopped at or before their due time and never breached, per
  clock name and overall;
* **median days to close vs the median limit**, per clock name: ``started_at`` to
  ``stopped_at`` and ``started_at`` to ``due_at`` of the clocks stopped before ``until``
  (the limit as it ended up: pauses and extensions included);
* **escalations** by level (``details.level`` of the ``escalated`` clock entries) and
  the org moves they made (``from_org`` -> ``to_org``);
* **closed by final state**, with each final state's ``outcome`` from the workflow
  definition, and the **success rate**: closed in a ``success`` state over closed in a
  state with any outcome (seed 003's 93% mediation success is ``success_rate``; seed
  004's "resolved on the call" vs "handled by departments" is ``closed_in(state)``);
* **satisfaction** from case data ``satisfaction`` of the closed cases (the closing
  visit, 办结回访): the mean of the numbers, and the share of the strings that say
  satisfied.

A case counts where it is *now* (its ``org`` after any escalation moved it). Closing
time is the case's ``updated_at``: the engine does not change a closed case, except an
operator's reassign, which moves it. A clock row holds a clock's latest run: a clock that
restarted (moved up a level on breach) is judged on its last run, the breaches before it
show as escalations. Per-unit clocks of parallel work (``handling@water``) count under
their clock's name. The SQL is in :mod:`caseflow.store.reporting`: three GROUP BY
queries (cases, clocks, escalations) in one snapshot; this module adds up their rows.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from caseflow.errors import CaseflowError
from caseflow.orgs import OrgTree
from caseflow.store import orgs as org_rows
from caseflow.store import reporting
from caseflow.store.reporting import By, Scope

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from caseflow.engine import Engine

BY_VALUES: tuple[By, ...] = ("org", "workflow", "org_level")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class ClockFigures:
    """One clock name in one unit: on time against its limit, and median durations in days."""

    clock: str
    finished: int
    on_time: int
    stopped: int = 0
    median_days: float | None = None
    median_limit_days: float | None = None

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.finished)


@dataclass(frozen=True, slots=True)
class StateCount:
    """Cases completed in one final state, with the state's outcome."""

    workflow: str
    state: str
    outcome: str | None
    count: int


@dataclass(frozen=True, slots=True)
class LevelCount:
    level: int | None
    count: int


@dataclass(frozen=True, slots=True)
class OrgMove:
    from_org: str
    to_org: str
    count: int


_DERIVED = "still_open finished_clocks on_time on_time_rate successes with_outcome success_rate"


@dataclass(frozen=True, slots=True)
class ReportRow:
    """The figures of one unit (an org path, a workflow, an org level) or of the total."""

    key: str
    opened: int = 0
    closed: int = 0
    completed: int = 0
    cancelled: int = 0
    clocks: tuple[ClockFigures, ...] = ()
    final_states: tuple[StateCount, ...] = ()
    escalations: tuple[LevelCount, ...] = ()
    org_moves: tuple[OrgMove, ...] = ()
    satisfaction_mean: float | None = None
    satisfaction_n: int = 0
    satisfied_share: float | None = None
    satisfaction_texts: int = 0

    @property
    def still_open(self) -> int:
        return self.opened - self.closed

    @property
    def finished_clocks(self) -> int:
        return sum(c.finished for c in self.clocks)

    @property
    def on_time(self) -> int:
        return sum(c.on_time for c in self.clocks)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.finished_clocks)

    @property
    def successes(self) -> int:
        return sum(s.count for s in self.final_states if s.outcome == "success")

    @property
    def with_outcome(self) -> int:
        return sum(s.count for s in self.final_states if s.outcome is not None)

    @property
    def success_rate(self) -> float | None:
        return _rate(self.successes, self.with_outcome)

    @property
    def escalated(self) -> int:
        return sum(e.count for e in self.escalations)

    def clock(self, name: str) -> ClockFigures | None:
        return next((c for c in self.clocks if c.clock == name), None)

    def closed_in(self, state: str, workflow: str | None = None) -> int:
        """Cases closed in ``state`` (of ``workflow``, or of any workflow)."""
        return sum(
            s.count
            for s in self.final_states
            if s.state == state and (workflow is None or s.workflow == workflow)
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields and the derived figures (rates, sums), JSON-ready."""
        out = asdict(self)
        for clock, figures in zip(out["clocks"], self.clocks, strict=True):
            clock["on_time_rate"] = figures.on_time_rate
        out.update({name: getattr(self, name) for name in [*_DERIVED.split(), "escalated"]})
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """A report: its parameters, one row per unit (sorted), and the total over all units."""

    since: dt.datetime
    until: dt.datetime
    by: By
    depth: int | None
    workflow: str | None
    org: str | None
    include_sub_orgs: bool
    rows: tuple[ReportRow, ...]
    total: ReportRow

    def row(self, key: str) -> ReportRow:
        found = next((r for r in self.rows if r.key == key), None)
        if found is None:
            raise KeyError(key)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            **{k: getattr(self, k) for k in ("by", "depth", "workflow", "org", "include_sub_orgs")},
            "rows": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict(),
        }


@dataclass
class _Unit:
    """Running sums for one unit while the query rows are added up."""

    opened: int = 0
    closed: int = 0
    completed: int = 0
    cancelled: int = 0
    states: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)
    clocks: dict[str, ClockFigures] = field(default_factory=dict)
    #: the total's clocks: finished, on time, stopped, and the middle values' sums and counts
    sums: defaultdict[str, list[float]] = field(
        default_factory=lambda: defaultdict(lambda: [0] * 7)
    )
    levels: Counter[int | None] = field(default_factory=Counter)
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    score_sum: float = 0.0
    score_n: int = 0
    satisfied: int = 0
    texts: int = 0

    def freeze(self, key: str) -> ReportRow:
        figures = [self.clocks[n] for n in sorted(self.clocks)]
        for name, (finished, on_time, stopped, v, nv, w, nw) in sorted(self.sums.items()):
            med, limit = _round(v / nv if nv else None), _round(w / nw if nw else None)
            figures.append(
                ClockFigures(name, int(finished), int(on_time), int(stopped), med, limit)
            )
        return ReportRow(
            key=key,
            opened=self.opened,
            closed=self.closed,
            completed=self.completed,
            cancelled=self.cancelled,
            clocks=tuple(figures),
            final_states=tuple(
                StateCount(wf, state, outcome, n)
                for (wf, state, outcome), n in sorted(self.states.items(), key=_state_order)
            ),
            escalations=tuple(
                LevelCount(level, n)
                for level, n in sorted(self.levels.items(), key=lambda i: (i[0] is None, i[0]))
            ),
            org_moves=tuple(OrgMove(a, b, n) for (a, b), n in sorted(self.moves.items())),
            satisfaction_mean=self.score_sum / self.score_n if self.score_n else None,
            satisfaction_n=self.score_n,
            satisfied_share=_rate(self.satisfied, self.texts),
            satisfaction_texts=self.texts,
        )


def _state_order(item: tuple[tuple[str, str, str | None], int]) -> tuple[Any, ...]:
    (workflow, state, outcome), n = item
    return (workflow, -n, state, outcome or "")


def _round(value: float | None) -> float | None:
    """Six decimals (a tenth of a second): julianday and epoch arithmetic differ below that."""
    return None if value is None else round(value, 6)


def _figures(row: reporting.ClockRow) -> ClockFigures:
    med, limit = _round(row.median_days), _round(row.median_limit_days)
    return ClockFigures(row.clock, row.finished, row.on_time, row.stopped, med, limit)


def _instant(value: dt.datetime | dt.date, tz: str) -> dt.datetime:
    """Aware datetimes as given; a date is the start of that day in ``tz``."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tz))
    return dt.datetime(value.year, value.month, value.day, tzinfo=ZoneInfo(tz))


def report(
    engine: Engine,
    *,
    since: dt.datetime | dt.date,
    until: dt.datetime | dt.date,
    workflow: str | None = None,
    org: str | None = None,
    include_sub_orgs: bool = True,
    by: By = "org",
    depth: int | None = None,
    satisfied: Sequence[str] = ("satisfied",),
    tz: str = "Asia/Shanghai",
) -> Report:
    """
    Figures for the cases created in ``[since, until)``, one row per unit.

    Args:
        since, until: the period; a date means the start of that day in ``tz``.
        workflow: only this workflow's cases.
        org: only cases of this org unit (and, unless ``include_sub_orgs`` is False,
            of its sub-units).
        by: one row per ``"org"`` path, per ``"workflow"``, or per ``"org_level"``: the
            unit's level in the org tree (grid, village, township, ...), or for a unit
            the tree does not know, the depth of its path ("1" top, "2" below it, ...).
        depth: with ``by="org"``, roll org paths up to their first ``depth`` segments.
        satisfied: the ``satisfaction`` strings that count as satisfied.

    Raises:
        CaseflowError: a bad period, ``by`` or ``depth``.
    """
    start, end = _instant(since, tz), _instant(until, tz)
    if end <= start:
        raise CaseflowError(f"empty period: until ({end}) must be after since ({start})")
    if by not in BY_VALUES:
        raise CaseflowError(f"by must be one of {', '.join(BY_VALUES)}, not {by!r}")
    if depth is not None and (depth < 1 or by != "org"):
        raise CaseflowError("depth is a positive number of org path segments, with by='org'")
    scope = Scope(start, end, workflow, org, include_sub_orgs)
    with reporting.snapshot(engine.db) as conn:
        case_rows = reporting.case_counts(conn, scope, by, satisfied)
        clock_rows, overall = reporting.clock_rows(conn, scope, by, depth)
        escalation_rows = reporting.escalations(conn, scope, by)
        tree = OrgTree(org_rows.load_units(conn)) if by == "org_level" else OrgTree()
    outcome = _outcomes(engine)
    unit_of = reporting.unit_of(by, depth, tree)
    units: dict[str, _Unit] = defaultdict(_Unit)
    total = _Unit()
    for c in case_rows:
        for acc in (units[unit_of(c.key)], total):
            _add_cases(acc, c, outcome)
    for k in clock_rows:  # grouped by the report unit itself: medians do not add up
        units[str(k.key)].clocks[k.clock] = _figures(k)
    total.clocks = {k.clock: _figures(k) for k in overall}
    for e in escalation_rows:
        for acc in (units[unit_of(e.key)], total):
            acc.levels[e.level] += e.cases
            if e.from_org is not None and e.to_org is not None:
                acc.moves[e.from_org, e.to_org] += e.cases
    order = reporting.level_order(tree) if by == "org_level" else (lambda k: (0, k))
    return Report(
        since=start,
        until=end,
        by=by,
        depth=depth,
        workflow=workflow,
        org=org,
        include_sub_orgs=include_sub_orgs,
        rows=tuple(units[k].freeze(k) for k in sorted(units, key=order)),
        total=total.freeze("total"),
    )


def _add_cases(
    acc: _Unit, c: reporting.CaseCount, outcome: Callable[[str, int, str], str | None]
) -> None:
    acc.opened += c.cases
    if not c.closed:
        return
    acc.closed += c.cases
    acc.score_sum += c.satisfaction_sum or 0.0
    acc.score_n += c.satisfaction_n
    acc.satisfied += c.satisfied
    acc.texts += c.satisfaction_texts
    if c.status == "cancelled":
        acc.cancelled += c.cases
    else:
        acc.completed += c.cases
        acc.states[c.workflow, c.state, outcome(c.workflow, c.version, c.state)] += c.cases


def _outcomes(engine: Engine) -> Callable[[str, int, str], str | None]:
    """``outcome(workflow, version, state)`` from the definitions, each version loaded once."""
    cache: dict[tuple[str, int], dict[str, str | None]] = {}

    def outcome(workflow: str, version: int, state: str) -> str | None:
        found = cache.get((workflow, version))
        if found is None:
            try:
                states = engine.workflow(workflow, version).states
            except CaseflowError:  # a definition this process cannot load: no outcomes
                states = {}
            found = cache[workflow, version] = {n: s.outcome for n, s in states.items()}
        return found.get(state)

    return outcome
