"""
Reports: what happened in a period, per org unit or per workflow.

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
  satisfied (by default 非常满意, 满意 and 基本满意, and ``satisfied`` and
  ``basically_satisfied`` of the workflows that record codes: :data:`SATISFIED`).

What *ended* in the period, whenever the case was opened (:attr:`ReportRow.period`, a
monthly report's "办结" figures): the cases **closed** in ``[since, until)`` (completed
or cancelled), by final state with the success rate, their satisfaction, and the
**clocks that stopped** in the period, on time or not, with their medians.

The **ratings** of the period (政务服务"好差评", :attr:`ReportRow.rating`): the rating
windows (the clock ``rating_window`` of the shipped workflows) that closed in the period,
rated or not: the **good-rating rate** (非常满意, 满意, 基本满意 of those rated), the
**unrated rate** (of the windows), and the **rectification rate**: of the bad ratings
(不满意, 非常不满意), those whose rectification (the clock ``rectification``) was answered
by ``until``, and how many in time.

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
    from collections.abc import Callable, Collection, Sequence

    from caseflow.engine import Engine

BY_VALUES: tuple[By, ...] = ("org", "workflow", "org_level")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class ClockFigures:
    """
    One clock name in one unit: on time against its limit, and median durations in days.

    A *window* (``window``) is a period whose running out is a normal end, not lateness:
    its breach fires an event and does nothing else (a rating window that closes unrated
    cases, a publicity period, a sendback or judicial-confirmation window, the correction
    window whose expiry is a deemed acceptance). Its figures are here, but the row's
    on-time totals leave it out.
    """

    clock: str
    finished: int
    on_time: int
    stopped: int = 0
    median_days: float | None = None
    median_limit_days: float | None = None
    window: bool = False

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
#: The ``satisfaction`` texts the satisfied share counts unless told otherwise.
SATISFIED: tuple[str, ...] = ("非常满意", "满意", "基本满意", "satisfied", "basically_satisfied")
GOOD_RATINGS = reporting.GOOD_RATINGS
BAD_RATINGS = reporting.BAD_RATINGS


def _clock_sums(clocks: tuple[ClockFigures, ...]) -> tuple[int, int]:
    """Finished and on time, over the limits (not the windows)."""
    limits = [c for c in clocks if not c.window]
    return sum(c.finished for c in limits), sum(c.on_time for c in limits)


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """
    What ended in the period, whenever the case was opened: the cases closed in it and
    the clocks that stopped in it (``finished`` = stopped in the period).

    .. versionadded:: 0.2
    """

    closed: int = 0
    completed: int = 0
    cancelled: int = 0
    clocks: tuple[ClockFigures, ...] = ()
    final_states: tuple[StateCount, ...] = ()
    satisfaction_mean: float | None = None
    satisfaction_n: int = 0
    satisfied_share: float | None = None
    satisfaction_texts: int = 0

    @property
    def finished_clocks(self) -> int:
        return _clock_sums(self.clocks)[0]

    @property
    def on_time(self) -> int:
        return _clock_sums(self.clocks)[1]

    @property
    def on_time_rate(self) -> float | None:
        finished, on_time = _clock_sums(self.clocks)
        return _rate(on_time, finished)

    @property
    def successes(self) -> int:
        return sum(s.count for s in self.final_states if s.outcome == "success")

    @property
    def with_outcome(self) -> int:
        return sum(s.count for s in self.final_states if s.outcome is not None)

    @property
    def success_rate(self) -> float | None:
        return _rate(self.successes, self.with_outcome)

    def clock(self, name: str) -> ClockFigures | None:
        return next((c for c in self.clocks if c.clock == name), None)

    def closed_in(self, state: str, workflow: str | None = None) -> int:
        """Cases closed in the period in ``state`` (of ``workflow``, or of any workflow)."""
        return sum(
            s.count
            for s in self.final_states
            if s.state == state and (workflow is None or s.workflow == workflow)
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for clock, figures in zip(out["clocks"], self.clocks, strict=True):
            clock["on_time_rate"] = figures.on_time_rate
        names = "finished_clocks on_time on_time_rate successes with_outcome success_rate"
        out.update({name: getattr(self, name) for name in names.split()})
        return out


@dataclass(frozen=True, slots=True)
class RatingFigures:
    """
    好差评 in the period: the rating windows that closed in it (``offered``), rated or not;
    good and bad ratings (GB/T 39735-2020's five levels); bad ones whose rectification
    was answered by the end of the period, and in time.

    .. versionadded:: 0.2
    """

    offered: int = 0
    rated: int = 0
    good: int = 0
    bad: int = 0
    rectified: int = 0
    rectified_on_time: int = 0

    @property
    def unrated(self) -> int:
        return self.offered - self.rated

    @property
    def good_rate(self) -> float | None:
        """好评率: good ratings of those rated."""
        return _rate(self.good, self.rated)

    @property
    def unrated_rate(self) -> float | None:
        """Windows that closed without a rating, of all that closed."""
        return _rate(self.unrated, self.offered)

    @property
    def rectification_rate(self) -> float | None:
        """差评整改率: bad ratings whose rectification was answered, of the bad ratings."""
        return _rate(self.rectified, self.bad)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        names = "unrated good_rate unrated_rate rectification_rate"
        out.update({name: getattr(self, name) for name in names.split()})
        return out


@dataclass(frozen=True, slots=True)
class ChildFigures:
    """
    The child cases (call activities: a 12345 request handed to mediation, a grid event
    referred for approval) that the unit's cases started, and how they ended: ``succeeded``
    and ``failed`` by the outcome of their final state, ``cancelled``, or still ``open``.

    .. versionadded:: 0.2
    """

    started: int = 0
    open: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def success_rate(self) -> float | None:
        """Children that ended in success, of those that ended with an outcome."""
        return _rate(self.succeeded, self.succeeded + self.failed)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "success_rate": self.success_rate}


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
    #: What ended in the period, whenever opened (.. versionadded:: 0.2).
    period: PeriodFigures = field(default_factory=PeriodFigures)
    #: 好差评 in the period (.. versionadded:: 0.2).
    rating: RatingFigures = field(default_factory=RatingFigures)
    #: The child cases the unit's cases started (.. versionadded:: 0.2).
    children: ChildFigures = field(default_factory=ChildFigures)

    @property
    def still_open(self) -> int:
        return self.opened - self.closed

    @property
    def finished_clocks(self) -> int:
        """The clocks finished, windows left out (see :class:`ClockFigures`)."""
        return _clock_sums(self.clocks)[0]

    @property
    def on_time(self) -> int:
        return _clock_sums(self.clocks)[1]

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
        out["period"] = self.period.to_dict()
        out["rating"] = self.rating.to_dict()
        out["children"] = self.children.to_dict()
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
class _Cases:
    """Running sums of one cohort's cases in one unit."""

    opened: int = 0
    closed: int = 0
    completed: int = 0
    cancelled: int = 0
    states: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)
    clocks: dict[str, ClockFigures] = field(default_factory=dict)
    score_sum: float = 0.0
    score_n: int = 0
    satisfied: int = 0
    texts: int = 0

    def final_states(self) -> tuple[StateCount, ...]:
        return tuple(
            StateCount(wf, state, outcome, n)
            for (wf, state, outcome), n in sorted(self.states.items(), key=_state_order)
        )

    def satisfaction(self) -> dict[str, Any]:
        return {
            "satisfaction_mean": self.score_sum / self.score_n if self.score_n else None,
            "satisfaction_n": self.score_n,
            "satisfied_share": _rate(self.satisfied, self.texts),
            "satisfaction_texts": self.texts,
        }


@dataclass
class _Unit(_Cases):
    """Running sums for one unit while the query rows are added up."""

    levels: Counter[int | None] = field(default_factory=Counter)
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    period: _Cases = field(default_factory=_Cases)
    #: started, open, succeeded, failed, cancelled (ChildFigures' order)
    children: list[int] = field(default_factory=lambda: [0] * 5)
    #: offered, rated, good, bad, rectified, rectified on time (RatingFigures' fields)
    rating: list[int] = field(default_factory=lambda: [0] * 6)

    def freeze(self, key: str) -> ReportRow:
        period = self.period
        return ReportRow(
            key=key,
            opened=self.opened,
            closed=self.closed,
            completed=self.completed,
            cancelled=self.cancelled,
            clocks=tuple(self.clocks[n] for n in sorted(self.clocks)),
            final_states=self.final_states(),
            escalations=tuple(
                LevelCount(level, n)
                for level, n in sorted(self.levels.items(), key=lambda i: (i[0] is None, i[0]))
            ),
            org_moves=tuple(OrgMove(a, b, n) for (a, b), n in sorted(self.moves.items())),
            **self.satisfaction(),
            period=PeriodFigures(
                closed=period.closed,
                completed=period.completed,
                cancelled=period.cancelled,
                clocks=tuple(period.clocks[n] for n in sorted(period.clocks)),
                final_states=period.final_states(),
                **period.satisfaction(),
            ),
            rating=RatingFigures(*self.rating),
            children=ChildFigures(*self.children),
        )


def _state_order(item: tuple[tuple[str, str, str | None], int]) -> tuple[Any, ...]:
    (workflow, state, outcome), n = item
    return (workflow, -n, state, outcome or "")


def _round(value: float | None) -> float | None:
    """Six decimals (a tenth of a second): julianday and epoch arithmetic differ below that."""
    return None if value is None else round(value, 6)


def _figures(row: reporting.ClockRow, windows: Collection[str]) -> ClockFigures:
    med, limit = _round(row.median_days), _round(row.median_limit_days)
    return ClockFigures(
        row.clock, row.finished, row.on_time, row.stopped, med, limit, row.clock in windows
    )


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
    satisfied: Sequence[str] = SATISFIED,
    tz: str = "Asia/Shanghai",
    rating_clock: str = "rating_window",
    rectification_clock: str = "rectification",
    windows: Collection[str] | None = None,
) -> Report:
    """
    Figures for the cases created in ``[since, until)``, and for what closed in it (the
    closed cases, the stopped clocks, the ratings), one row per unit.

    Args:
        since, until: the period; a date means the start of that day in ``tz``.
        workflow: only this workflow's cases.
        org: only cases of this org unit (and, unless ``include_sub_orgs`` is False,
            of its sub-units).
        by: one row per ``"org"`` path, per ``"workflow"``, or per ``"org_level"``: the
            unit's level in the org tree (grid, village, township, ...), or for a unit
            the tree does not know, the depth of its path ("1" top, "2" below it, ...).
        depth: with ``by="org"``, roll org paths up to their first ``depth`` segments.
        satisfied: the ``satisfaction`` strings that count as satisfied (default
            :data:`SATISFIED`: 非常满意, 满意, 基本满意 and the codes ``satisfied``,
            ``basically_satisfied``).
        rating_clock, rectification_clock: the clocks of the rating stage (好差评): the
            window in which a case can be rated, and the rectification of a bad rating.
        windows: the clock names whose running out is a normal end (their figures are
            kept, the on-time totals leave them out); default: of the workflows reported
            on, every clock whose breach fires an event and does nothing else.

    .. versionchanged:: 0.2
       ``period`` and ``rating`` figures; 基本满意 and 非常满意 count as satisfied.

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
        closed_rows = reporting.case_counts(conn, scope, by, satisfied, "ended")
        ended_rows, ended_overall = reporting.clock_rows(conn, scope, by, depth, "ended")
        rating_rows = reporting.rating_counts(conn, scope, by, rating_clock, rectification_clock)
        child_rows = reporting.child_counts(conn, scope, by)
        versions = reporting.workflow_versions(conn, scope)
        tree = OrgTree(org_rows.load_units(conn)) if by == "org_level" else OrgTree()
    outcome = _outcomes(engine)
    if windows is None:
        windows = _windows(engine, versions)
    unit_of = reporting.unit_of(by, depth, tree)
    units: dict[str, _Unit] = defaultdict(_Unit)
    total = _Unit()
    for c in case_rows:
        for acc in (units[unit_of(c.key)], total):
            _add_cases(acc, c, outcome)
    for k in clock_rows:  # grouped by the report unit itself: medians do not add up
        units[str(k.key)].clocks[k.clock] = _figures(k, windows)
    total.clocks = {k.clock: _figures(k, windows) for k in overall}
    for c in closed_rows:
        for acc in (units[unit_of(c.key)], total):
            _add_cases(acc.period, c, outcome)
    for k in ended_rows:
        units[str(k.key)].period.clocks[k.clock] = _figures(k, windows)
    total.period.clocks = {k.clock: _figures(k, windows) for k in ended_overall}
    for r in rating_rows:
        for acc in (units[unit_of(r.key)], total):
            acc.rating = [a + b for a, b in zip(acc.rating, r[1:], strict=True)]
    for child in child_rows:
        done = child.status == "completed"
        ended = outcome(child.workflow, child.version, child.state) if done else None
        slot = {"success": 2, "failure": 3}.get(
            ended or "", 4 if child.status == "cancelled" else 1
        )
        for acc in (units[unit_of(child.key)], total):
            acc.children[0] += child.cases
            acc.children[slot] += child.cases
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
    acc: _Cases, c: reporting.CaseCount, outcome: Callable[[str, int, str], str | None]
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


def _windows(engine: Engine, versions: Sequence[tuple[str, int]]) -> frozenset[str]:
    """Clocks whose breach only fires an event, in the definitions of these versions."""
    found: set[str] = set()
    for workflow, version in versions:
        try:
            clocks = engine.workflow(workflow, version).clocks.values()
        except CaseflowError:  # a definition this process cannot load: no windows
            continue
        found |= {
            c.name
            for c in clocks
            if c.on_breach_fire
            and not (c.on_breach_notify or c.escalate or c.on_breach_move_up or c.per_item)
        }
    return frozenset(found)


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
