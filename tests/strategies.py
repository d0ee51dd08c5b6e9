"""
Hypothesis strategies and a pure engine, shared by the tests of the pure core.

- :func:`workflows`: small valid workflow documents (a chain of states so every state is
  reachable and can be left, extra events between any states, guarded branches, roles,
  clocks running in, pausing in and stopping on states, warnings, escalations).
- :class:`PureEngine`: the planner driven without a database: a snapshot, the pending
  timers, and :func:`caseflow.pipeline.snapshot.after` to apply each plan. It runs the
  same deciders the engine runs (``decide``), so properties of plans are properties of
  the engine's behaviour.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from caseflow import Actor
from caseflow.context import Calendars
from caseflow.machine import CompiledWorkflow
from caseflow.orgs import OrgTree
from caseflow.pipeline import commands as c
from caseflow.pipeline.authz import authorise
from caseflow.pipeline.draft import Env
from caseflow.pipeline.planner import decide
from caseflow.pipeline.snapshot import Snapshot, after
from caseflow.records import Timer

if TYPE_CHECKING:
    from caseflow.definitions.model import WorkflowDef
    from caseflow.pipeline.plan import Plan

NAMES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"])
UNITS = st.sampled_from(["workdays", "days", "months", "hours"])


@st.composite
def durations(draw: st.DrawFn, most: int = 30) -> str:
    return f"{draw(st.integers(1, most))} {draw(UNITS)}"


@st.composite
def workflows(draw: st.DrawFn) -> dict[str, Any]:
    """A valid workflow document (as the YAML would hold it)."""
    count = draw(st.integers(2, 6))
    states = [f"s{i}" for i in range(count)]
    roles = sorted(draw(st.sets(NAMES, min_size=1, max_size=3)))
    doc_states: dict[str, Any] = {s: {} for s in states}
    doc_states[states[0]]["initial"] = True
    doc_states[states[-1]]["final"] = True
    if draw(st.booleans()):
        doc_states[states[1]]["title"] = draw(st.text("受理审批abc ", min_size=1, max_size=8))
    events: dict[str, Any] = {}
    for i, (here, there) in enumerate(itertools.pairwise(states)):
        events[f"go{i}"] = {"from": here, "to": there, "roles": [draw(st.sampled_from(roles))]}
    for j in range(draw(st.integers(0, 3))):
        here = draw(st.sampled_from(states[:-1]))
        there = draw(st.sampled_from(states))
        if draw(st.booleans()):
            events[f"extra{j}"] = {
                "from": here,
                "roles": roles[:1],
                "payload": {
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}},
                },
                "to": [{"to": there, "when": "payload.ok == true"}, {"to": states[-1]}],
            }
        else:
            events[f"extra{j}"] = {"from": here, "to": there, "roles": roles}
    clocks: dict[str, Any] = {}
    for k in range(draw(st.integers(0, 2))):
        runs = sorted(draw(st.sets(st.sampled_from(states[:-1]), min_size=1, max_size=2)))
        clock: dict[str, Any] = {"limit": draw(durations())}
        if draw(st.booleans()):
            clock["runs_in"] = runs
        else:
            clock["starts_on"] = {"enter": runs[:1]}
            clock["stops_on"] = {"enter": [states[-1]]}
        if draw(st.booleans()):
            clock["escalate"] = [{"after": "0 days", "notify": roles[:1]}]
        clocks[f"k{k}"] = clock
    doc: dict[str, Any] = {
        "workflow": "generated",
        "version": draw(st.integers(1, 9)),
        "roles": roles,
        "data": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        "states": doc_states,
        "events": events,
    }
    if clocks:
        doc["clocks"] = clocks
    return doc


START = dt.datetime(2026, 9, 21, 1, 0, tzinfo=dt.UTC)  # Mon 21 Sep 2026, 09:00 in Shanghai
SYSTEM = Actor.system("timer")


@dataclass
class PureEngine:
    """The planner without a database: one case, its snapshot and its pending timers."""

    definition: WorkflowDef
    now: dt.datetime = START
    snapshot: Snapshot = field(default_factory=lambda: Snapshot(None))
    timers: list[Timer] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    accepted: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.compiled = CompiledWorkflow(self.definition)
        self.calendar = Calendars().needed(self.definition)

    def env(self) -> Env:
        return Env(
            self.compiled,
            self.calendar,
            OrgTree(),
            {},
            frozenset({"operator"}),
            self.now,
            "c" * 29,
        )

    def run(self, command: c.Command) -> Plan:
        """Authorise, decide and apply a command (raises what the engine raises)."""
        env = self.env()
        authorise(command, self.snapshot, env)
        plan = decide(command, self.snapshot, env)
        self.apply(plan)
        return plan

    def apply(self, plan: Plan) -> None:
        self.plans.append(plan)
        if plan.timer is not None:
            self.timers = [t for t in self.timers if t.id != plan.timer.id]
        if not plan.writes_case:
            return
        self.accepted += 1
        self.snapshot = after(self.snapshot, plan)
        case_id = plan.case.id
        self.timers = [
            t for t in self.timers if not (t.clock in plan.cancel and t.kind != "notify")
        ]
        self.timers += [
            Timer(next(self._ids), case_id, s.kind, s.clock, s.step, s.due_at, "pending", 0,
                  s.provisional, s.payload)
            for s in plan.arm
        ]  # fmt: skip

    def start(self, actor: Actor) -> Plan:
        return self.run(c.Start(workflow=self.definition.name, actor=actor))

    def sweep(self) -> list[Plan]:
        """Every timer due now (clock effects only; notices and actions are delivered)."""
        done = []
        while True:
            due = sorted(
                (t for t in self.timers if t.due_at <= self.now and t.kind not in ("notify", "action")),
                key=lambda t: (t.due_at, t.id),
            )  # fmt: skip
            self.timers = [t for t in self.timers if t.kind not in ("notify", "action")]
            if not due:
                return done
            timer = due[0]
            assert self.snapshot.case is not None
            command = c.TimerDue(case_id=self.snapshot.case.id, timer=timer, actor=SYSTEM)
            done.append(self.run(command))
