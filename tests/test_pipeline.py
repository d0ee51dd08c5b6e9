"""
The pipeline's pure core, without a database: the planner, the clock runtime's timer
decisions, authorisation, idempotency scopes, and properties over random event sequences.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from strategies import START, PureEngine, workflows

from caseflow import Actor, ConcurrencyConflict, DataValidationError, Forbidden, InvalidEvent
from caseflow.definitions.dump import dump_text
from caseflow.definitions.loader import load_text
from caseflow.definitions.registry import load_paths
from caseflow.machine import CompiledWorkflow
from caseflow.pipeline import commands as c
from caseflow.pipeline.runner import fingerprint, scope_of

ROOT = Path(__file__).resolve().parent.parent
APPROVAL = next(d for d in load_paths([ROOT / "workflows"]) if d.name == "administrative_approval")
CLERK = Actor("clerk", {"window_clerk"}, "hainan/haikou")
REVIEWER = Actor("rev", {"reviewer"})
HEAD = Actor("head", {"agency_head"})
OPS = Actor("ops", {"operator"})
DATA = {"applicant": "张三", "matter": "食品经营许可"}
CLOCK_TIMERS = {"warn", "breach", "escalate"}


def approval(now: dt.datetime = START) -> PureEngine:
    engine = PureEngine(APPROVAL, now)
    engine.run(c.Start(workflow=APPROVAL.name, data=DATA, actor=CLERK))
    return engine


def fire(engine: PureEngine, event: str, actor: Actor, payload=None):
    assert engine.snapshot.case is not None
    return engine.run(
        c.Fire(case_id=engine.snapshot.case.id, event=event, payload=payload, actor=actor)
    )


class TestPlanner:
    def test_a_transition_is_one_version_and_numbered_lines(self):
        """accept: one version more, the transition and its clock lines numbered in order."""
        engine = approval()
        assert 2 == engine.snapshot.history_count  # start + the correction window started
        plan = fire(engine, "accept", CLERK)
        assert 2 == plan.case.version
        assert [3, 4, 5] == [e.seq for e in plan.entries]
        assert {2} == {e.version for e in plan.entries}
        assert ["transition", "clock", "clock"] == [e.kind for e in plan.entries]
        assert {"correction_window"} == plan.cancel
        assert {("warn", "decision"), ("breach", "decision")} == {
            (t.kind, t.clock) for t in plan.arm
        }

    def test_refused_command_plans_nothing(self):
        """A wrong role is refused before anything is decided: no plan, no write."""
        engine = approval()
        with pytest.raises(Forbidden, match="window_clerk"):
            fire(engine, "accept", REVIEWER)
        assert 1 == len(engine.plans)

    def test_stale_version_is_a_conflict(self):
        """expected_version that is not the snapshot's: ConcurrencyConflict names both."""
        engine = approval()
        assert engine.snapshot.case is not None
        command = c.Fire(
            case_id=engine.snapshot.case.id, event="accept", actor=CLERK, expected_version=7
        )
        with pytest.raises(ConcurrencyConflict) as info:
            engine.run(command)
        assert (engine.snapshot.case.id, 7) == (info.value.case_id, info.value.version)

    def test_operator_actions_need_an_operator_role(self):
        """suspend as a clerk is Forbidden and names the operator role; as ops it pauses."""
        engine = approval()
        assert engine.snapshot.case is not None
        case_id = engine.snapshot.case.id
        with pytest.raises(Forbidden, match="operator") as info:
            engine.run(c.Suspend(case_id=case_id, reason="court", actor=CLERK))
        assert ("operator",) == info.value.required_roles
        plan = engine.run(c.Suspend(case_id=case_id, reason="court", actor=OPS))
        assert ("suspended", "operator") == (plan.case.status, plan.entries[0].kind)
        assert "paused" == engine.snapshot.clocks["correction_window"].phase

    def test_a_host_role_named_system_is_not_the_engine(self):
        """An actor holding a role called 'system' cannot fire automatic events."""
        engine = approval()
        with pytest.raises(Forbidden, match="automatic"):
            fire(engine, "deemed_accepted", Actor("idp-user", {"system"}))


class TestTimerEffects:
    def test_late_sweep_dates_the_breach_at_its_due_time(self):
        """Worker down until 1 Dec: deemed acceptance (行政许可法 art. 32) is dated at the
        correction window's due time, not at the sweep, and the decision clock counts from
        the receipt of the application (when the correction window started)."""
        engine = approval()
        due = engine.snapshot.clocks["correction_window"].due_at
        assert due is not None
        engine.now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
        engine.sweep()
        case = engine.snapshot.case
        assert case is not None
        assert "accepted" == case.state
        deemed = next(e for p in engine.plans for e in p.entries if e.event == "deemed_accepted")
        assert (due, engine.now) == (deemed.at, deemed.recorded_at)
        decision = engine.snapshot.clocks["decision"]
        assert engine.snapshot.clocks["correction_window"].started_at == decision.started_at
        assert decision.breached_at is not None  # its own limit has long passed too

    def test_a_warning_swept_after_its_limit_is_not_sent(self):
        """The yellow warning comes due after the red: recorded as late, no notification."""
        engine = approval()
        fire(engine, "accept", CLERK)
        engine.now = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
        plans = engine.sweep()
        warned = [e for p in plans for e in p.entries if e.details.get("action") == "warned"]
        assert [True] == [w.details.get("late") for w in warned]
        warn_plan = next(p for p in plans if any(e in warned for e in p.entries))
        assert [] == [t for t in warn_plan.arm if t.kind == "notify"]

    def test_warning_in_time_tells_who_acts(self):
        """Swept on time, the warning notifies the clock's warn_notify roles."""
        engine = approval()
        fire(engine, "accept", CLERK)
        warn_at = engine.snapshot.clocks["decision"].warn_at
        assert warn_at is not None
        engine.now = warn_at + dt.timedelta(minutes=5)
        plans = engine.sweep()
        notices = [t for p in plans for t in p.arm if t.kind == "notify"]
        assert [["reviewer", "agency_head"]] == [t.payload["roles"] for t in notices]


class TestIdempotencyScopes:
    def test_scopes_are_per_case_and_command_and_per_workflow(self):
        """The same key means different things on two cases, and on start per workflow."""
        a = c.Fire(case_id="A", event="accept", actor=CLERK, idempotency_key="k")
        b = c.Fire(case_id="B", event="accept", actor=CLERK, idempotency_key="k")
        s = c.Start(workflow="administrative_approval", actor=CLERK, idempotency_key="k")
        assert ["fire:A", "fire:B", "start:administrative_approval"] == [
            scope_of(x) for x in (a, b, s)
        ]

    def test_fingerprint_sees_the_request(self):
        """Another event, payload or actor under the same key is another request."""
        base = c.Fire(case_id="A", event="accept", actor=CLERK)
        same = c.Fire(case_id="A", event="accept", actor=CLERK)
        other = c.Fire(case_id="A", event="refuse", actor=CLERK)
        who = c.Fire(case_id="A", event="accept", actor=REVIEWER)
        assert fingerprint(base) == fingerprint(same)
        assert len({fingerprint(base), fingerprint(other), fingerprint(who)}) == 3


def _available(engine: PureEngine) -> list[tuple[str, Actor]]:
    case = engine.snapshot.case
    assert case is not None
    if case.status != "active":
        return []
    out = []
    for event in engine.definition.events.values():
        if case.state in event.sources and not event.automatic:
            out.append((event.name, Actor("u", set(event.roles))))
    return out


@st.composite
def runs(draw: st.DrawFn, definition=APPROVAL) -> PureEngine:
    """A case driven by a random sequence of allowed events, waits and sweeps."""
    engine = PureEngine(definition)
    engine.run(c.Start(workflow=definition.name, data=DATA, actor=CLERK))
    for _ in range(draw(st.integers(0, 10))):
        if draw(st.booleans()):
            engine.now += dt.timedelta(hours=draw(st.integers(1, 24 * 40)))
            engine.sweep()
            continue
        choices = _available(engine)
        if not choices:
            break
        event, actor = draw(st.sampled_from(choices))
        payload = draw(st.sampled_from([None, {"decision": "approve"}, {"decision": "reject"}]))
        if event == "request_correction":
            payload = {"missing_documents": ["身份证"]}
        given = payload if event in ("decide", "request_correction") else None
        with contextlib.suppress(InvalidEvent, DataValidationError):  # refused: no change
            fire(engine, event, actor, given)
    return engine


class TestProperties:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(runs())
    def test_version_counts_the_accepted_commands(self, engine: PureEngine):
        """version == number of commands that changed the case (start included)."""
        assert engine.snapshot.case is not None
        assert engine.accepted == engine.snapshot.case.version

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(runs())
    def test_history_is_numbered_one_two_three(self, engine: PureEngine):
        """Every line of every plan, in order: seq 1, 2, 3, ... without gaps or repeats."""
        seqs = [e.seq for p in engine.plans for e in p.entries]
        assert list(range(1, len(seqs) + 1)) == seqs

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(runs())
    def test_no_timer_for_a_stopped_clock(self, engine: PureEngine):
        """A plan never arms a warn/breach/escalate timer for a clock it leaves stopped."""
        for plan in engine.plans:
            after = {s.name: s for s, _ in plan.clocks}
            for timer in plan.arm:
                if timer.kind in CLOCK_TIMERS and timer.clock in after:
                    assert "running" == after[timer.clock].phase, (timer, after[timer.clock])

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(runs())
    def test_effects_are_never_dated_in_the_future(self, engine: PureEngine):
        """A line's effective time is at or before when it was recorded."""
        for plan in engine.plans:
            for entry in plan.entries:
                assert entry.recorded_at is not None
                assert entry.at <= entry.recorded_at


class TestDefinitionRoundTrip:
    def test_shipped_workflows_survive(self):
        """Every shipped workflow, dumped and loaded again, is the same definition."""
        for definition in load_paths([ROOT / "workflows"]):
            again = load_text(dump_text(definition), "dumped.yaml")
            assert _same(definition, again), definition.name

    @settings(max_examples=80, deadline=None)
    @given(workflows())
    def test_generated_workflows_survive(self, document):
        """load(dump(d)) == d for generated workflows."""
        import io

        text = io.StringIO()
        YAML(typ="safe", pure=True).dump(document, text)
        definition = load_text(text.getvalue(), "generated.yaml")
        assert _same(definition, load_text(dump_text(definition), "dumped.yaml"))


class TestTargets:
    @settings(max_examples=80, deadline=None)
    @given(workflows(), st.booleans())
    def test_looked_up_targets_are_the_machines(self, document, ok):
        """An event whose first branch is unguarded lands where the transitions machine
        would send it, from every state it fires from (guarded ones still go through it)."""
        import io

        text = io.StringIO()
        YAML(typ="safe", pure=True).dump(document, text)
        compiled = CompiledWorkflow(load_text(text.getvalue(), "generated.yaml"))
        context = {"data": {}, "payload": {"ok": ok}, "actor": {}}
        for event in compiled.definition.events.values():
            for state in event.sources:
                assert compiled.target(state, event, context) == compiled.target(
                    state, event, context, lookup=False
                ), (event.name, state)

    def test_an_event_from_a_state_it_does_not_fire_from_is_refused(self):
        """The lookup never answers for a state outside the event's sources."""
        compiled = next(
            CompiledWorkflow(d)
            for d in load_paths([ROOT / "workflows"])
            if d.name == "administrative_approval"
        )
        accept = compiled.definition.events["accept"]
        with pytest.raises(InvalidEvent, match="cannot fire in state 'approved'"):
            compiled.target("approved", accept, {"data": {}, "payload": {}, "actor": {}})


def _same(a, b) -> bool:
    skip = {"content_hash", "source", "source_file"}
    return all(getattr(a, f) == getattr(b, f) for f in type(a).model_fields if f not in skip)
