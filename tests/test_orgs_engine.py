"""Org units: scope, escalation up the tree on breach, referral, parallel handling by units."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import TYPE_CHECKING

import pytest

from caseflow import Actor, Engine, Forbidden
from caseflow.errors import DataValidationError, InvalidEvent
from caseflow.orgs import OrgTree, parse_tree

if TYPE_CHECKING:
    from pathlib import Path

TREE = """\
jiaoling:
  name: 蕉岭县
  level: county
  units:
    changtan:
      name: 长潭镇
      level: township
      units:
        xinxiang:
          name: 新乡村
          level: village
          units:
            grid-3: {name: 第三网格, level: grid}
        dongshan:
          name: 东山村
          level: village
      units_dept: null
"""

WORKFLOW = textwrap.dedent("""\
    workflow: small_dispute
    version: 1
    calendar: cn
    org_scope: true
    public_roles: [citizen]
    roles: [citizen, mediator, dispatcher, department]
    data:
      type: object
      properties:
        departments: {type: array, items: {type: string}}
    states:
      mediating: {initial: true}
      joint: {parallel: {items: payload.departments, report_roles: [department], on_complete: joined, clock: dept_limit}}
      settled: {final: true, outcome: success}
      litigation: {final: true, outcome: failure}
    events:
      settle: {from: mediating, to: settled, roles: [mediator]}
      escalate: {from: mediating, to: mediating, roles: [mediator], org: parent}
      refer: {from: mediating, to: mediating, roles: [dispatcher], org: payload}
      hand_out: {from: mediating, to: joint, roles: [dispatcher]}
      joined: {from: joint, to: settled, automatic: true}
      to_court: {from: mediating, to: litigation, automatic: true}
      complain: {from: mediating, to: mediating, roles: [citizen]}
    clocks:
      mediation:
        limit: 1 month
        runs_in: [mediating]
        by_level:
          grid: {limit: 5 workdays}
          village: {limit: 10 workdays}
        on_breach: {move_up: true, at_top: to_court, notify: [mediator]}
      dept_limit:
        limit: 5 workdays
        per_item: true
        warn_before: 1 workdays
        warn_notify: [department]
        escalate:
          - {after: 0 days, to_org: parent, notify: [dispatcher]}
    """)
GRID = "jiaoling/changtan/xinxiang/grid-3"


@pytest.fixture
def engine(db_url: str, tmp_path: Path, clock, notifier):
    folder = tmp_path / "wf"
    folder.mkdir()
    (folder / "d.yaml").write_text(WORKFLOW, encoding="utf-8")
    tree = tmp_path / "orgs.yaml"
    tree.write_text(TREE.replace("      units_dept: null\n", ""), encoding="utf-8")
    eng = Engine(db_url, workflows=folder, clock=clock, notifier=notifier, auto_upgrade=True)
    assert 5 == eng.load_orgs(tree)
    yield eng
    eng.close()


def start(engine: Engine, clock, when: str = "2026-09-21T09:00"):
    clock.set(when)
    return engine.start("small_dispute", data={}, actor=Actor("m", {"mediator"}, GRID))


class TestOrgTree:
    def test_parse_and_navigate(self):
        """Nested units get paths, levels and parents; chains run to the top."""
        tree = OrgTree(
            parse_tree({"a": {"level": "county", "units": {"b": {"level": "township"}}}})
        )
        assert "township" == tree.level("a/b")
        assert ["a/b", "a"] == tree.chain("a/b")
        assert tree.parent("a") is None

    def test_bad_tree(self):
        """A unit without a level is named in the error."""
        from caseflow.errors import DefinitionError

        with pytest.raises(DefinitionError, match="'a/b'"):
            parse_tree({"a": {"level": "county", "units": {"b": {"name": "x"}}}})


class TestScope:
    def test_other_village_is_forbidden(self, engine: Engine, clock):
        """A mediator of Dongshan village cannot act on a Xinxiang grid case; nothing written."""
        case = start(engine, clock)
        other = Actor("m2", {"mediator"}, "jiaoling/changtan/dongshan")
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(case.id, "settle", actor=other)
        assert case == engine.get(case.id)
        assert [] == engine.available_events(case.id, other)
        town = Actor("t", {"mediator"}, "jiaoling/changtan")
        assert "settled" == engine.fire(case.id, "settle", actor=town).state

    def test_public_roles_are_not_scoped(self, engine: Engine, clock):
        """A citizen (public role) acts wherever they live."""
        case = start(engine, clock)
        assert (
            "mediating"
            == engine.fire(case.id, "complain", actor=Actor("c", {"citizen"}, "x")).state
        )


class TestLevels:
    def test_breach_moves_up_and_restarts_with_the_level_limit(
        self, engine: Engine, clock, notifier
    ):
        """Grid 5 workdays -> village 10 workdays -> township 1 month -> county (top): to court."""
        case = start(engine, clock)  # Mon 21 Sep; Fri 25 Sep is Mid-Autumn
        mediation = next(c for c in engine.clocks(case.id) if c.name == "mediation")
        assert dt.date(2026, 9, 29) == mediation.last_day
        clock.set("2026-09-30T00:00")
        engine.fire_due()
        moved = engine.get(case.id)
        assert ("jiaoling/changtan/xinxiang", 1) == (moved.org, moved.escalation_level)
        mediation = next(c for c in engine.clocks(case.id) if c.name == "mediation")
        # restarted at village level on 30 Sep: 10 workdays skip National Day -> 20 Oct
        assert (dt.date(2026, 10, 20), "running") == (mediation.last_day, mediation.status)
        assert ("mediator",) == notifier.sent[-1]["roles"]
        assert "jiaoling/changtan/xinxiang" == notifier.sent[-1]["org"]
        clock.set("2026-10-21T00:00")
        engine.fire_due()
        assert "jiaoling/changtan" == engine.get(case.id).org
        clock.set("2026-11-22T00:00")  # 1 month from 21 Oct: 21 Nov is a Saturday -> Mon 23 Nov
        assert 0 == engine.fire_due().fired["breach"]
        clock.set("2026-11-24T00:00")
        engine.fire_due()
        assert ("jiaoling", 3) == (engine.get(case.id).org, engine.get(case.id).escalation_level)
        clock.set("2027-01-01T00:00")
        engine.fire_due()
        final = engine.get(case.id)
        assert ("litigation", "completed") == (final.state, final.status)
        actions = [h.details.get("action") for h in engine.history(case.id) if h.kind == "clock"]
        assert 3 == actions.count("escalated")
        assert "at top" in actions

    def test_manual_escalation_and_referral(self, engine: Engine, clock):
        """org: parent moves up one level; org: payload refers to a named unit."""
        case = start(engine, clock)
        case = engine.fire(case.id, "escalate", actor=Actor("m", {"mediator"}, GRID))
        assert ("jiaoling/changtan/xinxiang", 1) == (case.org, case.escalation_level)
        moves = [h.details for h in engine.history(case.id) if h.event == "escalate"]
        assert [{"from_org": GRID, "to_org": "jiaoling/changtan/xinxiang"}] == moves
        dispatcher = Actor("d", {"dispatcher"}, "jiaoling/changtan")
        with pytest.raises(DataValidationError, match="unknown org unit"):
            engine.fire(case.id, "refer", actor=dispatcher, payload={"org": "nowhere"})
        case = engine.fire(
            case.id, "refer", actor=dispatcher, payload={"org": "jiaoling/changtan/dongshan"}
        )
        assert "jiaoling/changtan/dongshan" == case.org
        assert "org" not in case.data
        county = Actor("c", {"mediator"}, "jiaoling")
        top = engine.fire(case.id, "escalate", actor=county)
        top = engine.fire(top.id, "escalate", actor=county)
        with pytest.raises(InvalidEvent, match="top unit"):
            engine.fire(top.id, "escalate", actor=county)


class TestParallel:
    def test_two_departments_one_late(self, engine: Engine, clock, notifier):
        """Both must report; the late one is reminded (催办) and its supervisor told (督办)."""
        case = start(engine, clock, "2026-11-02T09:00")
        dispatcher = Actor("d", {"dispatcher"}, "jiaoling/changtan")
        depts = ["jiaoling/changtan/xinxiang", "jiaoling/changtan/dongshan"]
        case = engine.fire(case.id, "hand_out", actor=dispatcher, payload={"departments": depts})
        assert "joint" == case.state
        item_clocks = {c.name: c for c in engine.clocks(case.id) if "@" in c.name}
        assert {f"dept_limit@{d}" for d in depts} == set(item_clocks)
        assert dt.date(2026, 11, 9) == item_clocks[f"dept_limit@{depts[0]}"].last_day
        with pytest.raises(Forbidden, match="cannot report"):
            engine.report_item(case.id, depts[0], actor=Actor("x", {"department"}, depts[1]))
        engine.report_item(
            case.id,
            depts[0],
            actor=Actor("x", {"department"}, depts[0]),
            result={"done": "repaired"},
        )
        clock.set("2026-11-09T00:00")
        engine.fire_due()
        assert {"roles": ("department",), "org": depts[1]} == {
            k: notifier.sent[-1][k] for k in ("roles", "org")
        }
        clock.set("2026-11-10T00:00")
        engine.fire_due()
        assert {"roles": ("dispatcher",), "org": "jiaoling/changtan"} == {
            k: notifier.sent[-1][k] for k in ("roles", "org")
        }
        assert "joint" == engine.get(case.id).state
        case = engine.report_item(case.id, depts[1], actor=Actor("y", {"department"}, depts[1]))
        assert "settled" == case.state
        items = engine.work_items(case.id)
        assert {depts[0]: ("done", "x"), depts[1]: ("done", "y")} == {
            i.item: (i.status, i.closed_by) for i in items
        }
