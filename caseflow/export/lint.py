"""
Warnings about workflows that load but probably do not mean what they say.

``caseflow workflows validate`` refuses broken files; these checks only warn. Each
warning has a code, so a reviewed exception can be ignored (``--ignore CF101``):

- ``CF101 unclocked-state``: in a workflow with clocks, a state where a case can wait
  with no clock running or paused (final states, states left only by automatic events
  and states holding a vote with ``closes_after`` are exempt);
- ``CF102 unfired-automatic``: an automatic event nothing fires: no clock breach or
  escalation, no vote names it, or the clock that does is never on in its states;
- ``CF103 clock-never-stops``: once started, no reachable transition stops the clock
  (no ``stops_on`` match, no leaving ``runs_in``, no final state);
- ``CF104 clock-runs-to-end``: a clock with neither ``runs_in`` nor ``stops_on`` runs
  until the case ends;
- ``CF105 dead-branch``: a branch that is never taken: after an always-true guard,
  with an always-false guard, or repeating an earlier branch's guard;
- ``CF106 undeclared-field``: a guard reads a field no schema declares because the
  schema there declares no properties (or allows any), e.g. ``payload.x`` on an event
  without a payload schema and with no ``x`` in ``data:``, so a typo would go unnoticed.
  (Where the schema does list properties, reading any other name is a load error.)

A reviewed warning can also be silenced where it points, with a YAML comment on that
line: ``# lint: ignore`` (every check) or ``# lint: ignore[CF101]``.

The clock analysis follows :mod:`caseflow.clocks.runtime` over the event graph
(guards are not evaluated: every branch is assumed possible).
"""

from __future__ import annotations

import ast
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from caseflow.definitions.loader import Reporter, read_yaml

if TYPE_CHECKING:
    from collections.abc import Iterable

    from caseflow.definitions.loader import Path_
    from caseflow.definitions.model import ClockDef, EventDef, WorkflowDef

#: Warning codes and their names; ``--ignore`` takes either.
CHECKS: dict[str, str] = {
    "CF101": "unclocked-state",
    "CF102": "unfired-automatic",
    "CF103": "clock-never-stops",
    "CF104": "clock-runs-to-end",
    "CF105": "dead-branch",
    "CF106": "undeclared-field",
}
Phase = Literal["off", "running", "paused"]
_GUARD_ROOTS = frozenset({"data", "payload", "actor"})
_SUPPRESS = re.compile(r"#\s*lint:\s*ignore(?:\[([^\]]*)\])?")


@dataclass(frozen=True)
class LintWarning:
    """One warning: where, which check, which element, and what is suspicious."""

    file: str
    line: int
    column: int
    code: str
    element: str
    message: str

    @property
    def check(self) -> str:
        return CHECKS[self.code]

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}:{self.column}: warning {self.code} "
            f"[{self.check}] {self.element}: {self.message}"
        )


@dataclass(frozen=True)
class Coverage:
    """Where a clock can be on, and whether anything can stop it once it is."""

    running: tuple[str, ...]
    paused: tuple[str, ...]
    can_stop: bool

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.running, *self.paused)))


def clock_coverage(definition: WorkflowDef, clock: ClockDef) -> Coverage:
    """States in which ``clock`` can be running or paused, following the clock runtime."""
    trig_start, trig_stop = clock.starts_on, clock.stops_on

    def final(state: str) -> bool:
        return definition.states[state].final

    def starts(event: str | None, entered: str) -> bool:
        if entered in clock.runs_in:
            return True
        return trig_start is not None and (
            entered in trig_start.enter or event in trig_start.events
        )

    def stops(event: str, entered: str) -> bool:
        if final(entered):
            return True
        if trig_stop is not None and (entered in trig_stop.enter or event in trig_stop.events):
            return True
        return bool(clock.runs_in) and entered not in (*clock.runs_in, *clock.paused_in)

    def phase_in(state: str) -> Phase:
        return "paused" if state in clock.paused_in else "running"

    leaving: dict[str, list[EventDef]] = {}
    for event in definition.events.values():
        for source in event.sources:
            leaving.setdefault(source, []).append(event)
    init = definition.initial_state
    first: Phase = phase_in(init) if not final(init) and starts(None, init) else "off"
    seen: set[tuple[str, Phase]] = {(init, first)}
    queue = deque(seen)
    can_stop = False
    while queue:
        state, phase = queue.popleft()
        for event in leaving.get(state, ()):
            for target in dict.fromkeys(event.targets):
                nxt: Phase
                if phase != "off" and stops(event.name, target):
                    nxt, can_stop = "off", True
                elif phase == "off":
                    on = not final(target) and starts(event.name, target)
                    nxt = phase_in(target) if on else "off"
                else:
                    nxt = phase_in(target)
                if (target, nxt) not in seen:
                    seen.add((target, nxt))
                    queue.append((target, nxt))
    order = list(definition.states)
    return Coverage(
        running=tuple(s for s in order if (s, "running") in seen),
        paused=tuple(s for s in order if (s, "paused") in seen),
        can_stop=can_stop,
    )


def automatic_firers(definition: WorkflowDef) -> dict[str, list[tuple[str, str | None]]]:
    """For each event some element fires: (who fires it, the clock's name or None)."""
    fired: dict[str, list[tuple[str, str | None]]] = {}

    def add(event: str | None, who: str, clock: str | None = None) -> None:
        if event:
            fired.setdefault(event, []).append((who, clock))

    for clock in definition.clocks.values():
        add(clock.on_breach_fire, f"clock {clock.name!r} on breach", clock.name)
        add(clock.on_breach_at_top, f"clock {clock.name!r} at the top", clock.name)
        for i, step in enumerate(clock.escalate):
            add(step.fire, f"clock {clock.name!r} escalation step {i + 1}", clock.name)
    for state in definition.states.values():
        if state.parallel is not None:
            add(state.parallel.on_complete, f"the parallel work in {state.name!r}")
        if (vote := state.vote) is not None:
            for event in dict.fromkeys((vote.on_pass, vote.on_fail, vote.on_no_quorum)):
                add(event, f"the vote in {state.name!r}")
        if (call := state.call) is not None:
            for result in dict.fromkeys((call.on_success, call.on_failure)):
                add(result, f"the {call.workflow} case that {state.name!r} starts")
    return fired


def constant_guard(source: str) -> bool | None:
    """The value of a guard that reads no data, payload or actor; None if it does."""
    from caseflow.definitions.expr import Guard  # noqa: PLC0415 - parse only when asked

    tree = ast.parse(source.strip(), mode="eval")
    if any(isinstance(n, ast.Name) and n.id in _GUARD_ROOTS for n in ast.walk(tree)):
        return None
    try:
        return Guard.parse(source).evaluate({})
    except (TypeError, ValueError, KeyError):
        return None


class _Collector:
    def __init__(self, definition: WorkflowDef, ignore: Iterable[str]) -> None:
        self.file = definition.source_file or f"<{definition.name} v{definition.version}>"
        root = read_yaml(definition.source, self.file) if definition.source else None
        self.reporter = Reporter(self.file, root)
        skip = set(ignore)
        self.enabled = {c for c, n in CHECKS.items() if c not in skip and n not in skip}
        self.lines = definition.source.splitlines()
        self.found: list[LintWarning] = []

    def add(self, code: str, path: Path_, element: str, message: str, *, key: bool) -> None:
        if code not in self.enabled:
            return
        line, column = self.reporter.position(path, key=key)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if (m := _SUPPRESS.search(text)) and (
            m[1] is None or {code, CHECKS[code]} & {c.strip() for c in m[1].split(",")}
        ):
            return
        self.found.append(LintWarning(self.file, line, column, code, element, message))


def lint(definition: WorkflowDef, ignore: Iterable[str] = ()) -> list[LintWarning]:
    """Every warning for a loaded definition, by position; ``ignore`` codes or names."""
    out = _Collector(definition, ignore)
    coverage = {name: clock_coverage(definition, c) for name, c in definition.clocks.items()}
    covered = {s for cov in coverage.values() for s in cov.active}
    for state in definition.states.values():
        leaving = [e for e in definition.events.values() if state.name in e.sources]
        timed_vote = state.vote is not None and state.vote.closes_after is not None
        waypoint = bool(leaving) and all(e.automatic for e in leaving)
        per_unit = state.parallel is not None and state.parallel.clock is not None
        exempt = state.final or waypoint or timed_vote or per_unit or state.name in covered
        if definition.clocks and not exempt:
            out.add(
                "CF101",
                ("states", state.name),
                f"state {state.name!r}",
                "no clock runs here: a case can wait in this state without a time limit",
                key=True,
            )
    firers = automatic_firers(definition)
    for event in definition.events.values():
        if event.automatic:
            _check_fired(out, event, firers.get(event.name, []), coverage)
        _check_branches(out, event)
        _check_fields(out, definition, event)
    for name, clock in definition.clocks.items():
        cov = coverage[name]
        path: Path_ = ("clocks", name)
        if cov.active and not cov.can_stop:
            out.add(
                "CF103",
                path,
                f"clock {name!r}",
                "never stops once started: no reachable state or event stops it "
                "and no final state can be reached",
                key=True,
            )
        elif not clock.runs_in and clock.stops_on is None and not clock.per_item:
            out.add(
                "CF104",
                path,
                f"clock {name!r}",
                "has neither 'runs_in' nor 'stops_on': it runs until the case ends",
                key=True,
            )
    return sorted(out.found, key=lambda w: (w.line, w.column, w.code))


def _check_fired(
    out: _Collector,
    event: EventDef,
    firers: list[tuple[str, str | None]],
    coverage: dict[str, Coverage],
) -> None:
    path: Path_ = ("events", event.name)
    element = f"event {event.name!r}"
    if not firers:
        out.add(
            "CF102",
            path,
            element,
            "is automatic but nothing fires it: no clock's on_breach or escalate, "
            "no vote, parallel join or call activity names it",
            key=True,
        )
        return
    live = [
        who
        for who, clock in firers
        if clock is None or set(coverage[clock].active) & set(event.sources)
    ]
    if not live:
        names = ", ".join(who for who, _ in firers)
        out.add(
            "CF102",
            path,
            element,
            f"is fired only by {names}, which is never on in its 'from' states "
            f"({', '.join(event.sources)})",
            key=True,
        )


def _check_fields(out: _Collector, definition: WorkflowDef, event: EventDef) -> None:
    from caseflow.definitions.guardcheck import guard_issues  # noqa: PLC0415

    for i, branch in enumerate(event.branches):
        if branch.when is None:
            continue
        issues = guard_issues(branch.when.source, definition.data_schema, event.payload_schema)
        for issue in issues:
            if not issue.error:
                out.add(
                    "CF106",
                    ("events", event.name, "to", i, "when"),
                    f"event {event.name!r}",
                    f"{issue.message} (at column {issue.column} of the guard)",
                    key=False,
                )


def _check_branches(out: _Collector, event: EventDef) -> None:
    if len(event.branches) < 2:
        return
    element = f"event {event.name!r}"
    seen: dict[str, int] = {}
    for i, branch in enumerate(event.branches):
        if branch.when is None:
            continue
        path: Path_ = ("events", event.name, "to", i)
        text = " ".join(branch.when.source.split())
        value = constant_guard(branch.when.source)
        if text in seen:
            out.add(
                "CF105",
                path,
                element,
                f"branch {i + 1} is never taken: branch {seen[text] + 1} has the same guard",
                key=False,
            )
        elif value is False:
            out.add(
                "CF105",
                path,
                element,
                f"branch {i + 1} is never taken: its guard {text!r} is always false",
                key=False,
            )
        seen.setdefault(text, i)
        if value is True:
            out.add(
                "CF105",
                ("events", event.name, "to", i + 1),
                element,
                f"branch {i + 2} and later are never taken: "
                f"the guard of branch {i + 1}, {text!r}, is always true",
                key=False,
            )
            return
