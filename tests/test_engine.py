from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from caseflow import (
    Actor,
    CaseNotFound,
    ConcurrencyConflict,
    DataValidationError,
    DefinitionError,
    DuplicateBusinessKey,
    Engine,
    Forbidden,
    IdempotencyConflict,
    InvalidEvent,
    UnitCounts,
    WorkflowNotFound,
)

if TYPE_CHECKING:
    from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
CLERK = Actor("clerk-7", {"window_clerk"}, "hainan/haikou/longhua")
APPLICANT = Actor("zhang", {"applicant"}, "hainan/haikou/longhua")
REVIEWER = Actor("rev-1", {"reviewer"}, "hainan/haikou")
HEAD = Actor("head-1", {"agency_head"}, "hainan/haikou")
ISSUER = Actor("iss-1", {"issuing_clerk"}, "hainan/haikou/longhua")
DATA = {"applicant": "张三", "matter": "食品经营许可", "delivery": "window"}


def counts(engine: Engine) -> tuple[int, ...]:
    """Rows in (cases, transition history, idempotency keys, clocks, clock history, timers)."""
    queries = [
        "select count(*) from cf_cases",
        "select count(*) from cf_history where kind != 'clock'",
        "select count(*) from cf_idempotency",
        "select count(*) from cf_clocks",
        "select count(*) from cf_history where kind = 'clock'",
        "select count(*) from cf_timers",
    ]
    with engine.db.connect() as conn:
        return tuple(conn.execute(sa.text(q)).scalar_one() for q in queries)


def moves(engine: Engine, case_id: str):
    """The case's history without clock entries."""
    return [h for h in engine.history(case_id) if h.kind != "clock"]


class TestLifecycle:
    def test_approval_case_end_to_end(self, engine: Engine, clock: MovableClock):
        """A case runs from submission to collection and the applicant's rating; history
        records every step with its actor."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK, business_key="HK-1")
        assert ("submitted", "active", 1) == (case.state, case.status, case.version)
        assert "hainan/haikou/longhua" == case.org
        steps = [
            (CLERK, "accept", None),
            (REVIEWER, "start_review", None),
            (HEAD, "decide", {"decision": "approve"}),
            (ISSUER, "issue", {"certificate_no": "C-1"}),
            (ISSUER, "collect", None),
            (APPLICANT, "rate", {"satisfaction": "满意"}),
        ]
        for actor, event, payload in steps:
            clock.advance(hours=1)
            case = engine.fire(case.id, event, actor=actor, payload=payload)
        assert ("collected", "completed", 7) == (case.state, case.status, case.version)
        assert {
            **DATA,
            "decision": "approve",
            "certificate_no": "C-1",
            "satisfaction": "满意",
        } == case.data
        assert case == engine.get(case.id)
        history = moves(engine, case.id)
        assert [None, "accept", "start_review", "decide", "issue", "collect", "rate"] == [
            h.event for h in history
        ]
        assert ["clerk-7", "clerk-7", "rev-1", "head-1", "iss-1", "iss-1", "zhang"] == [
            h.actor_id for h in history
        ]
        assert [1, 2, 3, 4, 5, 6, 7] == [h.version for h in history]
        every = engine.history(case.id)  # clock lines too: numbered 1, 2, 3, ... in order
        assert list(range(1, len(every) + 1)) == [h.seq for h in every]
        assert {"payload": {"decision": "approve"}} == history[3].details
        assert history[3].at > history[2].at

    def test_branch_taken_from_payload(self, engine: Engine):
        """The rating branches to rejected when the data says so (a bad rating would open a
        rectification); a final state completes the case."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        for actor, event in [(CLERK, "accept"), (REVIEWER, "start_review")]:
            case = engine.fire(case.id, event, actor=actor)
        case = engine.fire(
            case.id,
            "reject",
            actor=HEAD,
            payload={"decision": "reject", "reason": "x", "remedy": "行政复议或行政诉讼"},
        )
        case = engine.fire(case.id, "rate", actor=APPLICANT, payload={"satisfaction": "基本满意"})
        assert ("rejected", "completed") == (case.state, case.status)
        with pytest.raises(InvalidEvent, match="is completed"):
            engine.fire(case.id, "issue", actor=ISSUER)

    def test_branch_from_case_data(self, engine: Engine):
        """issue goes to in_post when the case data asks for postal delivery."""
        case = engine.start(
            "administrative_approval", data={**DATA, "delivery": "post"}, actor=CLERK
        )
        for actor, event, payload in [
            (CLERK, "accept", None),
            (REVIEWER, "start_review", None),
            (HEAD, "decide", {"decision": "approve"}),
            (ISSUER, "issue", None),
        ]:
            case = engine.fire(case.id, event, actor=actor, payload=payload)
        assert "in_post" == case.state

    def test_available_events(self, engine: Engine):
        """Only events allowed in this state and for this actor's roles are offered."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        assert ["request_correction", "accept", "refuse"] == engine.available_events(case.id, CLERK)
        assert ["withdraw"] == engine.available_events(case.id, APPLICANT)
        assert [] == engine.available_events(case.id, REVIEWER)

    def test_queries(self, engine: Engine):
        """cases() filters by workflow, state, status and org (with or without sub-units)."""
        a = engine.start("administrative_approval", data=DATA, actor=CLERK)
        b = engine.start("administrative_approval", data=DATA, actor=CLERK, org="hainan/haikou")
        c = engine.start("administrative_approval", data=DATA, actor=CLERK, org="hainan/haikou_x")
        engine.fire(b.id, "accept", actor=CLERK)
        ids = lambda cs: [x.id for x in cs]  # noqa: E731
        assert [a.id, b.id, c.id] == ids(engine.cases(workflow="administrative_approval"))
        assert [b.id] == ids(engine.cases(state="accepted"))
        assert [a.id, b.id] == ids(engine.cases(org="hainan/haikou"))
        assert [b.id] == ids(engine.cases(org="hainan/haikou", include_sub_orgs=False))
        assert [] == ids(engine.cases(status="completed"))
        assert [b.id] == ids(engine.cases(limit=1, offset=1))


class TestRefusals:
    def test_wrong_role_is_forbidden_and_writes_nothing(self, engine: Engine):
        """Forbidden names the roles required; the case and its history are unchanged."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        before = counts(engine)
        with pytest.raises(Forbidden, match="requires one of the roles: window_clerk") as info:
            engine.fire(case.id, "accept", actor=APPLICANT)
        assert ("window_clerk",) == info.value.required_roles
        assert case == engine.get(case.id)
        assert before == counts(engine)

    def test_automatic_event_only_for_the_engine(self, engine: Engine):
        """Nobody fires an automatic event by hand, whatever their roles."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        with pytest.raises(Forbidden, match="automatic"):
            engine.fire(case.id, "deemed_accepted", actor=CLERK)
        assert (
            "accepted" == engine.fire(case.id, "deemed_accepted", actor=Actor.system("timer")).state
        )

    def test_wrong_state_and_unknown_event(self, engine: Engine):
        """Events not allowed in the state, or unknown, raise InvalidEvent naming them."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        with pytest.raises(InvalidEvent, match="cannot fire in state 'submitted'"):
            engine.fire(case.id, "start_review", actor=REVIEWER)
        with pytest.raises(InvalidEvent, match="did you mean 'accept'"):
            engine.fire(case.id, "acept", actor=CLERK)
        assert 1 == engine.get(case.id).version

    def test_bad_data_and_payload(self, engine: Engine):
        """Start data and merged payloads are validated against the workflow's schema."""
        with pytest.raises(DataValidationError, match="'matter' is a required property"):
            engine.start("administrative_approval", data={"applicant": "x"}, actor=CLERK)
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        with pytest.raises(DataValidationError, match="delivery"):
            engine.fire(
                case.id,
                "request_correction",
                actor=CLERK,
                payload={"missing_documents": ["a"], "delivery": "drone"},
            )
        with pytest.raises(DataValidationError, match="missing_documents"):
            engine.fire(case.id, "request_correction", actor=CLERK, payload={})
        assert (1, 1, 0, 1, 1, 1) == counts(engine)  # the 5-day correction window runs

    def test_unknown_case_and_workflow(self, engine: Engine):
        """Lookups name what is missing and are LookupErrors."""
        with pytest.raises(CaseNotFound, match="'nope'"):
            engine.get("nope")
        with pytest.raises(LookupError):
            engine.history("nope")
        with pytest.raises(WorkflowNotFound, match="'nothing'"):
            engine.start("nothing", actor=CLERK)

    def test_cases_counted_per_unit_with_their_lights(self, engine: Engine, clock):
        """Open (active and suspended) cases per unit (its own), and of those the warned and
        breached ones as `cases list` colours them, for a dashboard; finished cases are not
        open; ``org`` keeps a unit and its sub-units."""
        town, village = "hainan/haikou/longhua", "hainan/haikou/longhua/chengxi"
        villager = Actor("clerk-8", {"window_clerk"}, village)
        operator = Actor("ops", {"operator"}, "hainan")
        clock.set("2026-08-18T09:00")  # accepted Tue 18 Aug: 20 workdays end Tue 15 Sep,
        warned = engine.start("administrative_approval", data=DATA, actor=villager)
        engine.fire(warned.id, "accept", actor=villager)  # warned 3 workdays before
        clock.set("2026-09-01T09:00")  # Tue: the correction window ends Tue 8 Sep
        late = engine.start("administrative_approval", data=DATA, actor=CLERK)
        clock.set("2026-09-14T10:00")
        engine.start("administrative_approval", data=DATA, actor=CLERK)  # just submitted
        paused = engine.start("administrative_approval", data=DATA, actor=villager)
        engine.suspend(paused.id, actor=operator, reason="材料送检")
        done = engine.start("administrative_approval", data=DATA, actor=CLERK)
        engine.cancel(done.id, actor=operator, reason="申请人撤回")
        clock.set("2026-09-15T08:00")
        listed = {r.case.id: r.clock_status for r in engine.list_cases(org=town)}
        assert (listed[late.id], listed[warned.id]) == ("breached", "warned")
        assert engine.case_counts_by_org() == {
            town: UnitCounts(open=2, warned=0, breached=1),
            village: UnitCounts(open=2, warned=1, breached=0),
        }
        assert engine.case_counts_by_org(village) == {village: UnitCounts(2, 1, 0)}
        assert engine.case_counts_by_org("hainan/sanya") == {}

    def test_business_key_unique_per_workflow(self, engine: Engine):
        """A second case with the same business key is refused and nothing is written."""
        engine.start("administrative_approval", data=DATA, actor=CLERK, business_key="HK-9")
        with pytest.raises(DuplicateBusinessKey, match="business key 'HK-9'") as info:
            engine.start("administrative_approval", data=DATA, actor=CLERK, business_key="HK-9")
        assert ("administrative_approval", "HK-9") == (info.value.workflow, info.value.business_key)
        assert not isinstance(info.value, DataValidationError)
        assert (1, 1, 0, 1, 1, 1) == counts(engine)  # the 5-day correction window runs


class TestConcurrency:
    def test_stale_version_conflicts(self, db_url: str, clock: MovableClock):
        """Two engines acting on the same version: one wins, the other gets ConcurrencyConflict."""
        a = Engine(db_url, workflows=ROOT / "workflows", clock=clock, auto_upgrade=True)
        b = Engine(db_url, workflows=ROOT / "workflows", clock=clock)
        try:
            case = a.start("administrative_approval", data=DATA, actor=CLERK)
            a.fire(case.id, "accept", actor=CLERK, expected_version=1)
            with pytest.raises(ConcurrencyConflict) as info:
                b.fire(case.id, "refuse", actor=CLERK, expected_version=1)
            assert (case.id, 1) == (info.value.case_id, info.value.version)
            assert case.id in str(info.value)
            assert ["start", "accept"] == [h.event or h.kind for h in moves(b, case.id)]
        finally:
            a.close()
            b.close()

    def test_racing_threads_one_wins(self, db_url: str, clock: MovableClock):
        """Eight threads fire at the same version at once: exactly one transition is recorded."""
        engines = [
            Engine(db_url, workflows=ROOT / "workflows", clock=clock, auto_upgrade=True)
            for _ in range(2)
        ]
        try:
            case = engines[0].start("administrative_approval", data=DATA, actor=CLERK)
            barrier = threading.Barrier(8)
            results: list[str] = []

            def worker(i: int) -> None:
                barrier.wait()
                try:
                    engines[i % 2].fire(case.id, "accept", actor=CLERK, expected_version=1)
                    results.append("ok")
                except ConcurrencyConflict:
                    results.append("conflict")

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert ["conflict"] * 7 + ["ok"] == sorted(results)
            assert 2 == len(moves(engines[0], case.id))
            assert 2 == engines[1].get(case.id).version
        finally:
            for e in engines:
                e.close()


class TestIdempotency:
    def test_same_key_one_effect(self, engine: Engine):
        """Repeating start and fire with the same key returns the first result and writes nothing."""
        first = engine.start(
            "administrative_approval", data=DATA, actor=CLERK, idempotency_key="s-1"
        )
        again = engine.start(
            "administrative_approval", data=DATA, actor=CLERK, idempotency_key="s-1"
        )
        assert first == again
        fired = engine.fire(first.id, "accept", actor=CLERK, idempotency_key="f-1")
        before = counts(engine)
        repeat = engine.fire(first.id, "accept", actor=CLERK, idempotency_key="f-1")
        assert fired == repeat
        assert before == counts(engine)
        assert (1, 2, 2, 2, 3, 3) == before

    def test_a_key_is_scoped_to_its_case_and_to_its_workflow(self, engine: Engine):
        """The same key on another case is another request on that case: it moves, and the
        first case is not returned (nor readable through the key)."""
        one = engine.start("administrative_approval", data=DATA, actor=CLERK)
        two = engine.start("administrative_approval", data=DATA, actor=CLERK)
        first = engine.fire(one.id, "accept", actor=CLERK, idempotency_key="k")
        second = engine.fire(two.id, "accept", actor=CLERK, idempotency_key="k")
        assert (first.id, second.id) == (one.id, two.id)
        assert (first.state, second.state) == ("accepted", "accepted")
        # someone else's key is someone else's request (the actor is part of it): refused,
        # and nothing of the first result comes back
        nobody = Actor("guesser", set(), "hainan/haikou/longhua")
        with pytest.raises(IdempotencyConflict) as refused:
            engine.fire(one.id, "accept", actor=nobody, idempotency_key="k")
        assert "accepted" not in str(refused.value)
        with pytest.raises(Forbidden):
            engine.fire(one.id, "start_review", actor=nobody, idempotency_key="new")

    def test_the_same_key_for_another_request_is_a_conflict(self, engine: Engine):
        """A key reused with other data (start) or another event (fire) is refused, naming
        the key; nothing is written."""
        case = engine.start(
            "administrative_approval", data=DATA, actor=CLERK, idempotency_key="s-2"
        )
        other = {**DATA, "applicant": "李四"}
        with pytest.raises(IdempotencyConflict, match="s-2"):
            engine.start("administrative_approval", data=other, actor=CLERK, idempotency_key="s-2")
        engine.fire(case.id, "accept", actor=CLERK, idempotency_key="f-2")
        before = counts(engine)
        with pytest.raises(IdempotencyConflict, match="f-2"):
            engine.fire(case.id, "start_review", actor=REVIEWER, idempotency_key="f-2")
        assert before == counts(engine)
        assert engine.get(case.id).state == "accepted"


class TestDefinitionVersions:
    def test_changed_file_under_registered_version_is_refused(self, db_url: str, tmp_path: Path):
        """Once stored, a (name, version) cannot change content; a new version can be added."""
        src = (ROOT / "workflows" / "administrative_approval.yaml").read_text(encoding="utf-8")
        folder = tmp_path / "wf"
        folder.mkdir()
        path = folder / "approval.yaml"
        path.write_text(src, encoding="utf-8")
        first = Engine(db_url, workflows=folder, auto_upgrade=True)
        case = first.start("administrative_approval", data=DATA, actor=CLERK)
        first.close()
        path.write_text(src.replace("title: 已受理", "title: 已受理 (changed)"), encoding="utf-8")
        with pytest.raises(DefinitionError, match="already registered with different content"):
            Engine(db_url, workflows=folder)
        path.write_text(
            src.replace("version: 2", "version: 3").replace("title: 已受理", "title: 受理"),
            encoding="utf-8",
        )
        second = Engine(db_url, workflows=folder)
        try:
            assert 3 == second.workflow("administrative_approval").version
            moved = second.fire(case.id, "accept", actor=CLERK)
            assert 2 == moved.workflow_version
            new = second.start("administrative_approval", data=DATA, actor=CLERK)
            assert 3 == new.workflow_version
        finally:
            second.close()

    def test_running_case_keeps_its_version_after_file_removed(self, db_url: str, tmp_path: Path):
        """A case on the shipped version (2) keeps running from the stored definition when only
        version 3 is on disk."""
        src = (ROOT / "workflows" / "administrative_approval.yaml").read_text(encoding="utf-8")
        folder = tmp_path / "wf"
        folder.mkdir()
        (folder / "a.yaml").write_text(src, encoding="utf-8")
        with Engine(db_url, workflows=folder, auto_upgrade=True) as first:
            case = first.start("administrative_approval", data=DATA, actor=CLERK)
        v2 = src.replace("version: 2", "version: 3").replace(
            "accept: {from: submitted, to: accepted, roles: [window_clerk]}",
            "accept: {from: submitted, to: accepted, roles: [reviewer]}",
        )
        (folder / "a.yaml").write_text(v2, encoding="utf-8")
        with Engine(db_url, workflows=folder) as second:
            assert "accepted" == second.fire(case.id, "accept", actor=CLERK).state
            fresh = second.start("administrative_approval", data=DATA, actor=CLERK)
            with pytest.raises(Forbidden):
                second.fire(fresh.id, "accept", actor=CLERK)
