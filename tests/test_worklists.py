"""
Worklists, claims, hand-overs, messages and child cases (call activities), on SQLite and
PostgreSQL: what a clerk's screen and a host's integration rely on.
"""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from caseflow import Actor, Engine, Forbidden, InvalidEvent
from caseflow.cli import cli
from caseflow.definitions.loader import load_text
from caseflow.errors import DefinitionError, MessageNotCorrelated
from caseflow.services.dispatch import start_child
from caseflow.services.sweeper import SweepReport
from caseflow.testing import MovableClock
from tests.test_races import together

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PERMIT = """
workflow: permit
version: 1
title: permit
org_scope: true
roles: [clerk, inspector, head, supervisor]
data:
  type: object
  properties:
    applicant: {type: string}
    site: {type: string}
    inspector: {type: string}
    paid: {type: boolean}
states:
  submitted: {initial: true}
  reviewing: {assignee: {role: head, unit: county/town-a}}
  inspecting:
    call:
      workflow: inspection
      data: {site: data.site, requested_by: data.applicant, note: "on site"}
      on_success: inspected
      on_failure: rejected_on_site
  awaiting_fee: {}
  granted: {final: true, outcome: success}
  refused: {final: true, outcome: failure}
clocks:
  decision:
    limit: 20 days
    runs_in: [submitted, reviewing, inspecting, awaiting_fee]
    warn_before: 5 days
events:
  accept: {from: submitted, to: reviewing, roles: [clerk]}
  review: {from: reviewing, to: inspecting, roles: [head]}
  inspected: {from: inspecting, to: awaiting_fee, automatic: true}
  rejected_on_site: {from: inspecting, to: refused, automatic: true}
  fee_paid: {from: awaiting_fee, to: granted, roles: [clerk], message: fee_paid}
  withdraw: {from: [submitted, awaiting_fee], to: refused, roles: [clerk]}
"""

INSPECTION = """
workflow: inspection
version: 1
title: inspection
org_scope: true
roles: [inspector]
data:
  type: object
  required: [site]
  properties:
    site: {type: string}
    requested_by: {type: string}
    note: {type: string}
states:
  scheduled: {initial: true}
  passed: {final: true, outcome: success}
  failed: {final: true, outcome: failure}
events:
  pass: {from: scheduled, to: passed, roles: [inspector]}
  fail: {from: scheduled, to: failed, roles: [inspector]}
  fee_paid: {from: scheduled, to: passed, roles: [inspector], message: fee_paid}
"""

UNIT = "county/town-a"
OTHER = "county/town-b"
CLERK_A = Actor("clerk-a", {"clerk"}, UNIT)
CLERK_B = Actor("clerk-b", {"clerk"}, UNIT)
CLERK_OTHER = Actor("clerk-c", {"clerk"}, OTHER)
HEAD = Actor("head-1", {"head"}, UNIT)
CLERK_AS_HEAD = Actor("clerk-a", {"clerk"}, UNIT)
SUPERVISOR = Actor("sup-1", {"supervisor"}, "county")
INSPECTOR = Actor("insp-1", {"inspector"}, UNIT)
BANK = Actor("bank-gateway", {"clerk"}, "county")


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "permit.yaml").write_text(textwrap.dedent(PERMIT), encoding="utf-8")
    (folder / "inspection.yaml").write_text(textwrap.dedent(INSPECTION), encoding="utf-8")
    return folder


@pytest.fixture
def eng(db_url: str, flows: Path) -> Iterator[Engine]:
    clock = MovableClock("2026-09-21T09:00")
    engine = Engine(db_url, workflows=flows, clock=clock, auto_upgrade=True)
    yield engine
    engine.close()


def start(eng: Engine, org: str = UNIT, key: str | None = None, **data: object) -> str:
    data = {"applicant": "张三", "site": "九岭村", **data}
    intake = Actor("intake", {"clerk"}, org)
    return eng.start("permit", data=data, org=org, actor=intake, business_key=key).id


class TestWorklist:
    def test_a_clerk_sees_the_cases_of_their_states_and_unit_most_urgent_first(self, eng: Engine):
        first = start(eng)
        eng.clock.advance(days=18)  # type: ignore[attr-defined]  # first now in its warning window
        second = start(eng)
        start(eng, org=OTHER)  # another town's case
        eng.fire_due()
        ids = [r.case.id for r in eng.worklist(CLERK_B)]
        assert ids == [first, second]  # warned before running
        assert eng.worklist(CLERK_OTHER)
        assert all(r.case.org == OTHER for r in eng.worklist(CLERK_OTHER))
        assert eng.worklist(HEAD) == []  # no event of `submitted` is a head's
        assert eng.worklist(INSPECTOR) == []

    def test_a_breached_case_comes_before_a_warned_one_and_counts_say_so(self, eng: Engine):
        late = start(eng)  # 20 days from 22 Sep: ends 11 Oct, a Sunday -> 12 Oct (art. 203)
        eng.clock.advance(days=10)  # type: ignore[attr-defined]
        warned = start(eng)  # 1 Oct: ends 21 Oct, warned from 17 Oct
        eng.clock.advance(days=16)  # type: ignore[attr-defined]  # 17 Oct
        eng.fire_due()
        rows = eng.worklist(CLERK_A)
        assert [r.case.id for r in rows][:2] == [late, warned]
        assert rows[0].clock_status == "breached"
        assert eng.worklist_counts(CLERK_A) == {("permit", "submitted"): (2, 1)}

    def test_task_counts_per_unit_for_a_dashboard_include_claimed_cases(self, eng: Engine):
        a1, _ = start(eng), start(eng)
        start(eng, org=OTHER)
        eng.claim(a1, actor=CLERK_A)
        assert eng.task_counts(["clerk"]) == {
            (UNIT, "permit", "submitted"): (2, 0),
            (OTHER, "permit", "submitted"): (1, 0),
        }
        assert eng.task_counts(["clerk"], org=OTHER) == {(OTHER, "permit", "submitted"): (1, 0)}
        assert eng.task_counts(["inspector"]) == {}

    def test_a_claim_takes_the_case_off_the_other_clerks_list(self, eng: Engine):
        case_id = start(eng)
        claimed = eng.claim(case_id, actor=CLERK_A)
        assert claimed.assignee == "clerk-a"
        assert [r.case.id for r in eng.worklist(CLERK_A)] == [case_id]
        assert eng.worklist(CLERK_B) == []
        assert [r.case.id for r in eng.worklist(SUPERVISOR)] == [case_id]  # sees every task
        lines = [h for h in eng.history(case_id) if h.kind == "task"]
        assert lines[-1].details == {"action": "claimed", "to": "clerk-a"}

    def test_two_clerks_claiming_at_once_one_wins(self, eng: Engine):
        case_id = start(eng)
        other = Engine(eng.ctx.db.engine.url.render_as_string(hide_password=False),
                       workflows=eng.registry, clock=eng.clock)  # fmt: skip
        try:
            results = together(
                lambda: eng.claim(case_id, actor=CLERK_A),
                lambda: other.claim(case_id, actor=CLERK_B),
            )
        finally:
            other.close()
        won = [r for r in results if not isinstance(r, Exception)]
        lost = [r for r in results if isinstance(r, Exception)]
        assert len(won) == 1
        assert len(lost) == 1
        assert isinstance(lost[0], InvalidEvent)
        assert eng.get(case_id).assignee == won[0].assignee  # type: ignore[union-attr]
        assert f"already claimed by {won[0].assignee!r}" in str(lost[0])  # type: ignore[union-attr]

    def test_delegate_release_and_assign_follow_who_holds_the_case(self, eng: Engine):
        case_id = start(eng)
        eng.claim(case_id, actor=CLERK_A)
        with pytest.raises(Forbidden, match="only the case's assignee"):
            eng.release(case_id, actor=CLERK_B)
        with pytest.raises(Forbidden, match="supervisor"):
            eng.assign(case_id, "clerk-b", actor=CLERK_A)
        assert eng.delegate(case_id, "clerk-b", actor=CLERK_A).assignee == "clerk-b"
        assert [r.case.id for r in eng.worklist(CLERK_B)] == [case_id]
        assert eng.release(case_id, actor=CLERK_B).assignee is None
        assert eng.assign(case_id, "clerk-a", actor=SUPERVISOR).assignee == "clerk-a"
        with pytest.raises(InvalidEvent, match="already claimed"):
            eng.claim(case_id, actor=CLERK_B)
        actions = [h.details["action"] for h in eng.history(case_id) if h.kind == "task"]
        assert actions == ["claimed", "delegated", "released", "assigned"]

    def test_a_clerk_cannot_claim_outside_their_states_or_unit(self, eng: Engine):
        case_id = start(eng)
        with pytest.raises(Forbidden, match="does not work on cases in state 'submitted'"):
            eng.claim(case_id, actor=HEAD)
        with pytest.raises(Forbidden, match="outside their unit"):
            eng.claim(case_id, actor=CLERK_OTHER)

    def test_leaving_the_state_ends_the_claim_and_an_assignee_role_limits_the_list(
        self, eng: Engine
    ):
        case_id = start(eng)
        eng.claim(case_id, actor=CLERK_A)
        case = eng.fire(case_id, "accept", actor=CLERK_A)
        assert case.state == "reviewing"
        assert case.assignee is None
        assert [r.case.id for r in eng.worklist(HEAD)] == [case_id]
        assert eng.worklist(CLERK_A) == []
        county_head = Actor("head-0", {"head"}, "county")  # may act (org scope), not its task
        assert eng.worklist(county_head) == []
        with pytest.raises(Forbidden, match="does not work on cases in state 'reviewing'"):
            eng.claim(case_id, actor=county_head)

    def test_filters_and_pages(self, eng: Engine):
        made = [start(eng) for _ in range(5)]
        page = eng.worklist(CLERK_A, limit=2, offset=2)
        assert [r.case.id for r in page] == [r.case.id for r in eng.worklist(CLERK_A)][2:4]
        assert set(made) == {r.case.id for r in eng.worklist(CLERK_A, workflow="permit")}
        assert eng.worklist(CLERK_A, state="awaiting_fee") == []


class TestMessages:
    def _to_fee(self, eng: Engine, key: str) -> str:
        case_id = start(eng, key=key)
        eng.fire(case_id, "accept", actor=CLERK_A)
        eng.fire(case_id, "review", actor=HEAD)
        eng.fire_due()
        (child,) = eng.children(case_id)
        eng.fire(child.id, "pass", actor=INSPECTOR)
        eng.fire_due()
        assert eng.get(case_id).state == "awaiting_fee"
        return case_id

    def test_a_message_fires_the_event_on_the_case_with_that_key_once(self, eng: Engine):
        case_id = self._to_fee(eng, "SQ-2026-001")
        done = eng.message("fee_paid", "SQ-2026-001", actor=BANK, message_id="pay-77")
        assert done.id == case_id
        assert done.state == "granted"
        again = eng.message("fee_paid", "SQ-2026-001", actor=BANK, message_id="pay-77")
        assert again.version == done.version  # the first result, nothing fired twice
        assert [h.event for h in eng.history(case_id)].count("fee_paid") == 1

    def test_a_message_no_case_takes_names_the_key(self, eng: Engine):
        start(eng, key="SQ-2026-002")  # still submitted: fee_paid is not possible yet
        with pytest.raises(MessageNotCorrelated, match=r"SQ-2026-002.*no case takes it"):
            eng.message("fee_paid", "SQ-2026-002", actor=BANK)
        with pytest.raises(MessageNotCorrelated):
            eng.message("fee_paid", "no-such-key", actor=BANK)

    def test_a_message_two_cases_could_take_is_refused_and_names_both(self, eng: Engine):
        permit = self._to_fee(eng, "SQ-2026-005")
        other = eng.start(
            "inspection", data={"site": "x"}, org=UNIT, actor=INSPECTOR, business_key="SQ-2026-005"
        ).id
        with pytest.raises(MessageNotCorrelated, match="2 cases could take it") as caught:
            eng.message("fee_paid", "SQ-2026-005", actor=BANK, message_id="pay-78")
        assert set(caught.value.candidates) == {permit, other}
        assert eng.get(permit).state == "awaiting_fee"  # nothing fired

    def test_fire_by_key(self, eng: Engine):
        case_id = start(eng, key="SQ-2026-003")
        assert eng.fire_by_key("permit", "SQ-2026-003", "accept", actor=CLERK_A).id == case_id
        with pytest.raises(MessageNotCorrelated, match="no permit case has this business key"):
            eng.fire_by_key("permit", "SQ-2026-404", "accept", actor=CLERK_A)


class TestChildCases:
    def _inspecting(self, eng: Engine) -> str:
        case_id = start(eng)
        eng.fire(case_id, "accept", actor=CLERK_A)
        eng.fire(case_id, "review", actor=HEAD)
        return case_id

    def test_entering_a_call_state_starts_one_linked_child_with_the_parents_data(self, eng: Engine):
        parent = self._inspecting(eng)
        report = eng.fire_due()
        assert report.fired["child_start"] == 1
        (child,) = eng.children(parent)
        assert child.workflow == "inspection"
        assert child.parent_id == parent
        assert child.data == {"site": "九岭村", "requested_by": "张三", "note": "on site"}
        assert child.org == UNIT
        assert eng.fire_due().total == 0  # not started twice
        started = [h.details for h in eng.history(parent) if h.kind == "call"]
        assert started[-1]["child"] == child.id
        assert eng.history(child.id)[0].details["parent_id"] == parent  # linked both ways

    def test_the_childs_outcome_moves_the_waiting_parent(self, eng: Engine):
        parent = self._inspecting(eng)
        eng.fire_due()
        (child,) = eng.children(parent)
        eng.fire(child.id, "fail", actor=INSPECTOR)
        eng.fire_due()
        assert eng.get(parent).state == "refused"

    def test_a_start_retried_after_a_lost_lease_makes_no_second_child(self, eng: Engine):
        parent = self._inspecting(eng)
        (timer,) = [t for t in eng.timers() if t.kind == "child_start"]
        sweeper = eng.sweeper()

        report = SweepReport()
        start_child(sweeper, timer, report)
        start_child(sweeper, timer, report)  # the same timer again: a second worker
        assert len(eng.children(parent)) == 1
        assert report.fired["child_start"] == 1
        assert report.skipped == 1

    def test_cancelling_the_parent_cancels_the_running_child(self, eng: Engine):
        parent = self._inspecting(eng)
        eng.fire_due()
        (child,) = eng.children(parent)
        eng.cancel(parent, actor=Actor("op", {"operator"}, "county"), reason="applicant withdrew")
        eng.fire_due()
        assert eng.get(child.id).status == "cancelled"
        assert eng.get(parent).status == "cancelled"


class TestWorklistCommand:
    def test_caseflow_worklist_lists_and_counts_a_clerks_cases(self, db_url: str, flows: Path):
        with Engine(db_url, workflows=flows, auto_upgrade=True) as eng:
            mine = start(eng)
            taken = start(eng)
            eng.claim(taken, actor=CLERK_B)
        base = ["--db", db_url, "--workflows", str(flows), "--operator", "clerk-a"]
        args = ["worklist", *base, "--as", "clerk", "--unit", UNIT]
        runner = CliRunner()
        listed = runner.invoke(cli, [*args, "--json"], env={"COLUMNS": "200"})
        assert listed.exit_code == 0, listed.output
        assert [r["id"] for r in json.loads(listed.output)] == [mine]
        shown = runner.invoke(cli, args, env={"COLUMNS": "200"})
        assert mine in shown.output
        assert taken not in shown.output
        shown_case = runner.invoke(cli, ["cases", "show", mine, "--db", db_url, "--json"])
        assert json.loads(shown_case.output)["children"] == []
        counted = runner.invoke(cli, [*args, "--counts"])
        assert counted.output.strip() == "permit submitted: 1"
        by_org = runner.invoke(cli, ["worklist", *base, "--as", "clerk", "--org", UNIT, "--json"])
        assert [r["id"] for r in json.loads(by_org.output)] == [mine]  # a clerk of UNIT
        refused = runner.invoke(cli, ["worklist", *base, "--as", "system"])
        assert refused.exit_code == 2
        assert "reserved for the engine" in refused.output


class TestWorkRows:
    def test_a_row_names_the_state_the_actors_events_and_workdays_left(self, eng: Engine):
        case_id = start(eng)  # Mon 21 Sep 2026: decision ends Sun 11 Oct -> Mon 12 Oct
        eng.clock.advance(days=4)  # type: ignore[attr-defined]  # Fri 25 Sep (中秋节)
        (row,) = eng.worklist(CLERK_A)
        assert row.case.id == case_id
        assert row.events == ("accept", "withdraw")
        assert row.clock is not None
        assert row.clock.last_day.isoformat() == "2026-10-12"
        assert row.clock.days_left == 17
        # in the limit's unit, today included while it is still ahead (25 Sep .. 12 Oct)
        assert (row.clock.left, row.clock.left_unit) == (18, "days")
        assert row.to_dict()["clock"]["left_unit"] == "days"
        assert row.state_title == ""

    def test_a_workday_clock_counts_working_days_left_across_national_day(self, make_engine, clock):
        eng = make_engine()
        clerk = Actor("window.li", {"window_clerk"}, "hainan/lingshui/service-centre")
        reviewer = Actor("review.wang", {"reviewer"}, "hainan/lingshui/market-bureau")
        clock.set("2026-09-28T09:00")
        data = {"applicant": "王五", "matter": "小餐饮登记", "delivery": "window"}
        case = eng.start("administrative_approval", data=data, actor=clerk)
        eng.fire(case.id, "accept", actor=clerk)  # 20 workdays (行政许可法 art. 42)
        (row,) = [r for r in eng.worklist(reviewer) if r.case.id == case.id]
        assert row.clock is not None
        assert row.clock.left_unit == "workdays"
        # counted from 29 Sep (民法典 art. 201): 29-30 Sep, 8-9 Oct, Sat 10 Oct (调休 make-up
        # day), then five a week: Oct 1-7 is the National Day holiday
        assert row.clock.last_day.isoformat() == "2026-10-30"
        assert row.clock.left == 21  # today is a working day still ahead
        assert row.clock.days_left == 32
        assert "start_review" in row.events


class TestCallDefinitions:
    """A call's child data must read what the parent declares: a typo is a load error."""

    def _load(self, data: str):
        text = textwrap.dedent(PERMIT).replace(
            'data: {site: data.site, requested_by: data.applicant, note: "on site"}', data
        )
        return load_text(text, "permit.yaml")

    def test_the_shipped_shape_loads(self):
        assert (
            self._load("data: {site: data.site, ticket: case.business_key}")
            .states["inspecting"]
            .call
            is not None
        )

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ("data: {site: data.sight}", "the call reads data.sight, which the data schema"),
            ("data: {site: case.title}", "a call reads only case.business_key, case.id, case.org"),
            ("data: {site: [1, 2]}", "a literal value is a string, number or boolean"),
        ],
    )
    def test_a_misread_field_is_refused_with_its_position(self, data, message):
        with pytest.raises(DefinitionError) as caught:
            self._load(data)
        (found,) = caught.value.problems
        problem = str(found)
        assert "permit.yaml:" in problem
        assert "permit.yaml:20:" in problem  # the line of the call's data
        assert "state 'inspecting'" in problem
        assert message in problem
