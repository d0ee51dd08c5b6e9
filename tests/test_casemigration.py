"""Moving running cases between workflow versions: mapping, clocks, batches, dry runs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from caseflow import Actor, InvalidEvent, WorkflowNotFound
from caseflow.listing import running_counts

if TYPE_CHECKING:
    from pathlib import Path

V1 = """\
workflow: permit
version: 1
roles: [clerk]
data: {type: object}
states:
  received: {initial: true}
  checking: {}
  legacy_review: {}
  decided: {final: true}
events:
  check: {from: received, to: checking, roles: [clerk]}
  review: {from: checking, to: legacy_review, roles: [clerk]}
  decide: {from: [checking, legacy_review], to: decided, roles: [clerk]}
clocks:
  intake: {limit: 5 workdays, runs_in: [received]}
  check: {limit: 10 workdays, runs_in: [checking, legacy_review]}
  legacy: {limit: 3 workdays, runs_in: [legacy_review]}
"""

# intake shorter, check longer, legacy gone; review and audit are new
V2 = """\
workflow: permit
version: 2
roles: [clerk]
data:
  type: object
  properties:
    applicant: {type: string}
states:
  received: {initial: true}
  checking: {}
  expert_review: {}
  decided: {final: true}
events:
  check: {from: received, to: checking, roles: [clerk]}
  review: {from: checking, to: expert_review, roles: [clerk]}
  decide: {from: [checking, expert_review], to: decided, roles: [clerk]}
clocks:
  intake: {limit: 3 workdays, runs_in: [received]}
  check: {limit: 15 workdays, runs_in: [checking, expert_review]}
  review: {limit: 5 workdays, runs_in: [expert_review]}
  audit: {limit: 20 workdays, runs_in: [checking]}
"""

CLERK = Actor("clerk-1", {"clerk"})
OPS = Actor("ops-1", {"operator"})
MAP = {"legacy_review": "expert_review"}


@pytest.fixture
def permits(make_engine, tmp_path: Path):
    (tmp_path / "v1.yaml").write_text(V1)
    (tmp_path / "v2.yaml").write_text(V2)
    return make_engine(workflows=[tmp_path / "v1.yaml", tmp_path / "v2.yaml"])


def make(engine, *events, data=None):
    case = engine.start("permit", actor=CLERK, version=1, data=data or {})
    for event in events:
        engine.fire(case.id, event, actor=CLERK)
    return case.id


def clocks_of(engine, case_id):
    return {c.name: (c.status, c.last_day) for c in engine.clocks(case_id)}


def snapshot(engine, case_id):
    """Everything a migration may touch."""
    return (
        engine.get(case_id),
        engine.clocks(case_id),
        engine.history(case_id),
        sorted((t.id, t.due_at) for t in engine.timers(limit=1000) if t.case_id == case_id),
    )


@pytest.fixture
def mix(permits, clock):
    """Cases started on Mon 21 Sep 2026, one per situation; migrated on Tue 22 Sep."""
    cases = {
        "received": make(permits),
        "checking": make(permits, "check"),
        "legacy": make(permits, "check", "review"),
        "suspended": make(permits, "check"),
        "done": make(permits, "check", "decide"),
    }
    permits.suspend(cases["suspended"], actor=OPS, reason="applicant abroad")
    clock.set("2026-09-22T09:00")
    return cases


class TestMigrate:
    def test_clocks_recomputed_under_the_new_definition(self, permits, clock, mix):
        """Shorter, longer, vanished and new clocks; a suspended case keeps its clocks paused."""
        assert {("permit", 1): 4} == running_counts(permits)
        report = permits.migrate_cases("permit", 1, 2, mapping=MAP, actor=OPS, reason="v2 rules")
        assert {("permit", 2): 4} == running_counts(permits)
        assert 4 == len(report.moved)
        assert [] == report.refused
        d = dt.date
        assert {"intake": ("running", d(2026, 9, 24))} == clocks_of(permits, mix["received"])
        assert {
            "intake": ("stopped", d(2026, 9, 29)),
            "check": ("running", d(2026, 10, 19)),  # 15 instead of 10 working days
            "audit": ("running", d(2026, 10, 27)),  # new: 20 working days from 22 Sep
        } == clocks_of(permits, mix["checking"])
        assert {
            "intake": ("stopped", d(2026, 9, 29)),
            "check": ("running", d(2026, 10, 19)),
            "legacy": ("stopped", d(2026, 9, 24)),
            "review": ("running", d(2026, 9, 30)),
        } == clocks_of(permits, mix["legacy"])
        paused = clocks_of(permits, mix["suspended"])
        assert ("paused", "paused") == (paused["check"][0], paused["audit"][0])
        for key in ("received", "checking", "legacy", "suspended"):
            case = permits.get(mix[key])
            assert 2 == case.workflow_version
        assert ("expert_review", "suspended") == (
            permits.get(mix["legacy"]).state,
            permits.get(mix["suspended"]).status,
        )
        assert 1 == permits.get(mix["done"]).workflow_version  # completed cases stay
        clock.set("2026-09-24T09:00")  # suspended 21-23 Sep: not counted
        permits.resume(mix["suspended"], actor=OPS, reason="back")
        assert {
            "intake": ("stopped", d(2026, 9, 29)),
            "check": ("running", d(2026, 10, 21)),
            "audit": ("running", d(2026, 10, 28)),
        } == clocks_of(permits, mix["suspended"])

    def test_timers_follow_and_one_history_entry_per_case(self, permits, mix):
        """Old breach timers are cancelled, new ones armed; one 'migrate' entry per case."""
        before = {k: len(permits.history(v)) for k, v in mix.items()}
        permits.migrate_cases("permit", 1, 2, mapping=MAP, actor=OPS, reason="v2 rules")
        due = sorted(
            (t.clock, t.due_at.date().isoformat())
            for t in permits.timers(limit=100)
            if t.case_id == mix["legacy"]
        )
        assert [("check", "2026-10-19"), ("review", "2026-09-30")] == due
        for key, case_id in mix.items():
            history = permits.history(case_id)
            added = history[before[key] :]
            if key == "done":
                assert [] == added
                continue
            [entry] = added
            assert ("operator", "migrate", "ops-1") == (entry.kind, entry.event, entry.actor_id)
            assert (1, 2, "v2 rules") == (
                entry.details["from_version"],
                entry.details["to_version"],
                entry.details["reason"],
            )
        entry = permits.history(mix["legacy"])[-1]
        assert ("legacy_review", "expert_review") == (entry.from_state, entry.to_state)
        assert [("check", "rescheduled"), ("legacy", "stopped"), ("review", "started")] == [
            (n["clock"], n["action"]) for n in entry.details["clocks"]
        ]
        # the new version's events work on the moved case
        assert "decided" == permits.fire(mix["legacy"], "decide", actor=CLERK).state

    def test_dry_run_writes_nothing(self, permits, mix):
        """A dry run reports what would move and what is refused; the database is unchanged."""
        before = {k: snapshot(permits, v) for k, v in mix.items()}
        report = permits.migrate_cases("permit", 1, 2, mapping=MAP, actor=OPS, dry_run=True)
        assert report.dry_run
        assert {
            ("received", "received"): 1,
            ("checking", "checking"): 2,
            ("legacy_review", "expert_review"): 1,
        } == report.moves()
        assert [False] == [b.committed for b in report.batches]
        assert before == {k: snapshot(permits, v) for k, v in mix.items()}

    def test_vanished_state_without_mapping_is_refused(self, permits, mix):
        """No mapping for a state v2 lacks: that case is refused and its batch held back."""
        before = {k: snapshot(permits, v) for k, v in mix.items()}
        report = permits.migrate_cases("permit", 1, 2, mapping={}, actor=OPS)
        [refused] = report.refused
        assert (mix["legacy"], "legacy_review") == (refused.case_id, refused.state)
        assert "does not exist in v2: map it (--map legacy_review=STATE)" in refused.reason
        assert [] == report.moved
        assert sorted([mix["received"], mix["checking"], mix["suspended"]]) == sorted(
            report.held_back
        )
        assert before == {k: snapshot(permits, v) for k, v in mix.items()}

    def test_a_refused_case_holds_back_only_its_batch(self, permits, clock):
        """batch=2: the batch with the refused case is untouched; the others are moved."""
        ids = [
            make(permits),
            make(permits),
            make(permits, "check", "review"),  # refused: no mapping
            make(permits),  # same batch: held back
            make(permits, "check"),
            make(permits),
        ]
        assert ids == sorted(ids)  # time-ordered ids: batches follow creation
        before = {i: snapshot(permits, i) for i in ids}
        report = permits.migrate_cases("permit", 1, 2, mapping={}, actor=OPS, batch=2)
        assert [(2, 2, 0, True), (2, 0, 1, False), (2, 2, 0, True)] == [
            (b.cases, b.moved, b.refused, b.committed) for b in report.batches
        ]
        assert [ids[3]] == report.held_back
        assert [2, 2, 1, 1, 2, 2] == [permits.get(i).workflow_version for i in ids]
        for i in ids[2:4]:
            assert before[i] == snapshot(permits, i)
        again = permits.migrate_cases("permit", 1, 2, mapping=MAP, actor=OPS, batch=2)
        assert sorted(ids[2:4]) == sorted(m.case_id for m in again.moved)

    def test_other_refusals(self, permits, mix):
        """A mapping to a missing or final state, and data v2's schema rejects."""
        bad_data = make(permits, data={"applicant": 123})
        report = permits.migrate_cases(
            "permit",
            1,
            2,
            mapping={"legacy_review": "nowhere", "checking": "decided"},
            actor=OPS,
            batch=1,
        )
        reasons = {r.case_id: r.reason for r in report.refused}
        assert "mapped to 'nowhere', which v2 does not have" in reasons[mix["legacy"]]
        assert "'decided' is a final state in v2" in reasons[mix["checking"]]
        assert "does not fit v2" in reasons[bad_data]
        assert "applicant: 123 is not of type 'string'" in reasons[bad_data]
        assert [mix["received"]] == [m.case_id for m in report.moved]

    def test_bad_requests(self, permits):
        """Same version, unknown version, a mapping from a state v1 lacks, a zero batch."""
        with pytest.raises(InvalidEvent, match="both v1"):
            permits.migrate_cases("permit", 1, 1, mapping={}, actor=OPS)
        with pytest.raises(WorkflowNotFound):
            permits.migrate_cases("permit", 1, 3, mapping={}, actor=OPS)
        with pytest.raises(InvalidEvent, match="does not have: lgacy_review"):
            permits.migrate_cases("permit", 1, 2, mapping={"lgacy_review": "x"}, actor=OPS)
        with pytest.raises(InvalidEvent, match="batch"):
            permits.migrate_cases("permit", 1, 2, mapping={}, actor=OPS, batch=0)

    def test_a_case_changed_meanwhile_redoes_the_batch(self, permits, mix, monkeypatch):
        """A case whose row moved on between read and write: the batch is redone, not half-written."""
        import dataclasses

        from caseflow.store import snapshot

        real = snapshot.load_heads
        calls = []

        def stale_once(conn, ids):
            found = real(conn, ids)
            calls.append(len(found))
            if len(calls) == 1:  # the first read sees an old version of the first case
                head = found[ids[0]]
                old = dataclasses.replace(head.case, version=head.case.version - 1)
                found[ids[0]] = dataclasses.replace(head, case=old)
            return found

        monkeypatch.setattr(snapshot, "load_heads", stale_once)
        report = permits.migrate_cases("permit", 1, 2, mapping=MAP, actor=OPS)
        assert [4, 4] == calls  # read, conflict, read again, done
        assert 4 == len(report.moved)
        assert [True] == [b.committed for b in report.batches]
        migrate_entries = [
            h for c in mix.values() for h in permits.history(c) if h.event == "migrate"
        ]
        assert 4 == len(migrate_entries)
