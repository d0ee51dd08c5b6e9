"""caseflow.testing: the helpers host applications use in their own tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from caseflow import Actor, Engine, Forbidden
from caseflow.testing import MovableClock, Start, Step, run_scenario, temporary_engine

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
CLERK = Actor("clerk-1", {"window_clerk"}, "hainan/haikou")
REVIEWER = Actor("rev-1", {"reviewer"})
HEAD = Actor("head-1", {"agency_head"})
ISSUER = Actor("iss-1", {"issuing_clerk"})
DATA = {"applicant": "张三", "matter": "食品经营许可", "delivery": "window"}
START = Start("administrative_approval", CLERK, data=DATA)
REJECTION = {"decision": "reject", "reason": "条件不符", "remedy": "行政复议或行政诉讼"}


class TestTemporaryEngine:
    def test_sqlite_file_removed_afterwards(self):
        """The engine runs on a SQLite file in a temporary folder that is gone afterwards."""
        with temporary_engine(workflows=WORKFLOWS, clock="2026-09-21T09:00") as engine:
            assert isinstance(engine, Engine)
            path = Path(engine.db.url.database or "")
            assert path.is_file()
            case = engine.start("administrative_approval", data=DATA, actor=CLERK)
            assert dt.datetime(2026, 9, 21, 1, tzinfo=dt.UTC) == case.created_at
        assert not path.exists()
        assert not path.parent.exists()

    def test_clock_is_movable(self):
        """Without a clock the engine gets a MovableClock at the current time."""
        before = dt.datetime.now(dt.UTC)
        with temporary_engine(workflows=WORKFLOWS) as engine:
            assert isinstance(engine.clock, MovableClock)
            assert before <= engine.clock.now() <= dt.datetime.now(dt.UTC)
            mine = MovableClock("2027-01-04T09:00")
        with temporary_engine(workflows=WORKFLOWS, clock=mine) as engine:
            assert mine is engine.clock

    def test_engine_options_pass_through(self):
        """Options such as actions= reach the Engine."""
        sentinel = object()
        with temporary_engine(workflows=WORKFLOWS, logger=sentinel) as engine:
            assert sentinel is engine.log


class TestRunScenario:
    def test_path_asserted_and_case_returned(self):
        """Steps as Step objects and tuples; the path includes the start state."""
        with temporary_engine(workflows=WORKFLOWS, clock="2026-09-21T09:00") as engine:
            case = run_scenario(
                engine,
                START,
                [
                    Step(CLERK, "accept"),
                    (REVIEWER, "start_review"),
                    (HEAD, "decide", {"decision": "approve"}, {"days": 2}),
                    Step(ISSUER, "issue", expect="ready_for_pickup"),
                ],
                path=["submitted", "accepted", "under_review", "approved", "ready_for_pickup"],
            )
            assert ("ready_for_pickup", "approve") == (case.state, case.data["decision"])
            assert case == engine.get(case.id)
            assert dt.datetime(2026, 9, 23, 1, tzinfo=dt.UTC) == case.updated_at

    def test_clock_advance_sweeps_due_timers(self):
        """A wait step past the correction window: the breach fires deemed_accepted."""
        with temporary_engine(workflows=WORKFLOWS, clock="2026-09-21T09:00") as engine:
            case = run_scenario(
                engine,
                {"workflow": "administrative_approval", "actor": CLERK, "data": DATA},
                [
                    Step(None, None, advance=dt.timedelta(days=8)),
                    Step(None, None, advance={"days": 1}),
                ],
                path=["submitted", "accepted"],  # 5 working days end on Tue 29 Sep (中秋, 国庆)
            )
            assert "deemed_accepted" in [h.event for h in engine.history(case.id)]

    def test_existing_case_by_id(self):
        """A case id continues an existing case; the path has one state per step."""
        with temporary_engine(workflows=WORKFLOWS, clock="2026-09-21T09:00") as engine:
            case = engine.start("administrative_approval", data=DATA, actor=CLERK)
            refusal = {"reason": "不属于本机关职权", "remedy": "向有关行政机关申请"}
            applicant = Actor("zhang", {"applicant"})
            done = run_scenario(
                engine,
                case.id,
                [(CLERK, "refuse", refusal), (applicant, "rate", {"satisfaction": "满意"})],
                path=["rating", "not_accepted"],
            )
            assert "completed" == done.status

    def test_mismatch_names_the_step_and_path(self):
        """A wrong expectation fails with the step, the expected and the actual state."""
        with temporary_engine(workflows=WORKFLOWS, clock="2026-09-21T09:00") as engine:
            with pytest.raises(AssertionError) as info:
                run_scenario(
                    engine,
                    START,
                    [
                        (CLERK, "accept"),
                        (REVIEWER, "start_review"),
                        Step(HEAD, "reject", REJECTION, expect="approved"),
                    ],
                )
            assert (
                "step 3 (reject by head-1): expected state 'approved', got 'rating'; "
                "path: submitted -> accepted -> under_review -> rating"
            ) == str(info.value)
            with pytest.raises(AssertionError, match="expected path submitted -> collected"):
                run_scenario(engine, START, [(CLERK, "accept")], path=["submitted", "collected"])

    def test_engine_errors_propagate(self):
        """A forbidden step raises the engine's own error, not an assertion."""
        with temporary_engine(workflows=WORKFLOWS, clock="2026-09-21T09:00") as engine:
            with pytest.raises(Forbidden, match="window_clerk"):
                run_scenario(engine, START, [(REVIEWER, "accept")])
            with pytest.raises(TypeError, match="a step is"):
                run_scenario(engine, START, [(CLERK,)])
