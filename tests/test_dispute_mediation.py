"""
People's mediation of disputes (矛盾纠纷调处, seeds 003 and 000) on the Jiaoling org tree.

"小事不出网格、大事不出村镇": a dispute is mediated at the lowest level that can settle it
and goes one level up on breach; a serious or major one starts at the village or the
township. Past the limit only with both parties' recorded consent; judicial confirmation
within 30 days of the day the agreement took effect (人民调解法 art. 33). Every date was checked against chinese_calendar for
2026: Qingming Mon 6 Apr off; Labour Day Fri 1 May to Tue 5 May off, Sat 9 May a make-up
workday; Dragon Boat Fri 19 Jun off; Sun 20 Sep a make-up workday, Mid-Autumn Fri 25 Sep
off; National Day Thu 1 Oct to Wed 7 Oct off, Sat 10 Oct a make-up workday. The start
day is never counted; a calendar-day or month period whose last day is a rest day ends
on the next working day; 24:00 of a last day is stored as 00:00 of the next day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from caseflow import Actor, DataValidationError, Forbidden, InvalidEvent
from caseflow.reports import report

ROOT = Path(__file__).resolve().parent.parent
ORGS = ROOT / "workflows" / "orgs" / "jiaoling.yaml"
SH = ZoneInfo("Asia/Shanghai")

COUNTY = "jiaoling"
SANZHEN = "jiaoling/sanzhen"
JIULING = "jiaoling/sanzhen/jiuling"
JIULING_GRID = "jiaoling/sanzhen/jiuling/grid-1"
FANGXIN = "jiaoling/sanzhen/fangxin"
FANGXIN_GRID = "jiaoling/sanzhen/fangxin/grid-1"
JIAOCHENG = "jiaoling/jiaocheng"
XIAXING = "jiaoling/jiaocheng/xiaxing"

GRID_WORKER = Actor("jiuling.grid1", {"grid_worker"}, JIULING_GRID)
FANGXIN_GRID_WORKER = Actor("fangxin.grid1", {"grid_worker"}, FANGXIN_GRID)
FANGXIN_DIRECTOR = Actor("fangxin.director", {"committee_director"}, FANGXIN)
FANGXIN_MEDIATOR = Actor("fangxin.mediator", {"mediator"}, FANGXIN)
SANZHEN_CENTRE = Actor("sanzhen.centre", {"centre_staff"}, SANZHEN)
SANZHEN_MEDIATOR = Actor("sanzhen.mediator", {"mediator"}, SANZHEN)
JIAOCHENG_CENTRE = Actor("jiaocheng.centre", {"centre_staff"}, JIAOCHENG)
JIAOCHENG_MEDIATOR = Actor("jiaocheng.mediator", {"mediator"}, JIAOCHENG)
XIAXING_MEDIATOR = Actor("xiaxing.mediator", {"mediator"}, XIAXING)
XIAXING_DIRECTOR = Actor("xiaxing.director", {"committee_director"}, XIAXING)
COUNTY_DIRECTOR = Actor("county.director", {"committee_director"}, COUNTY)
COUNTY_MEDIATOR = Actor("county.mediator", {"mediator"}, COUNTY)
HOTLINE = Actor("12345.agent07", {"hotline_agent"}, COUNTY)
PARTY = Actor("zhang.san", {"party"})

PARTIES = [{"name": "张三", "phone": "139-0000-0001"}, {"name": "李四"}]


def data(channel: str, summary: str = "两户因宅基地边界的排水沟发生争执", **extra) -> dict:
    return {"channel": channel, "parties": PARTIES, "summary": summary, **extra}


def midnight(day: str) -> dt.datetime:
    """00:00 of ``day`` in Shanghai (24:00 of the day before), as the UTC instant stored."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=SH).astimezone(dt.UTC)


def clock_of(engine, case_id: str, name: str):
    return next(c for c in engine.clocks(case_id) if c.name == name)


def transitions(engine, case_id: str) -> list[tuple[str | None, str | None, str]]:
    return [
        (h.event, h.to_state, h.actor_id) for h in engine.history(case_id) if h.kind == "transition"
    ]


def sent_for(notifier, case_id: str) -> list[tuple[tuple[str, ...], str]]:
    return [(n["roles"], n["org"]) for n in notifier.sent if n["case_id"] == case_id]


@pytest.fixture
def fresh(make_engine):
    """Make a new Engine on the test's database, as a restarted host would (the tree is stored)."""
    assert 23 == make_engine().load_orgs(ORGS)
    return make_engine


def to_mediating(
    engine,
    clock,
    when: str,
    *,
    intake: Actor,
    assigner: Actor,
    mediator: str,
    channel: str,
    org: str | None = None,
    **extra,
):
    clock.set(when)
    case = engine.start("dispute_mediation", data=data(channel, **extra), actor=intake, org=org)
    engine.fire(
        case.id, "classify", actor=assigner, payload={"category": "邻里纠纷", "severity": "minor"}
    )
    return engine.fire(case.id, "assign", actor=assigner, payload={"mediator": mediator})


class TestSettledInTheGrid:
    def test_small_matter_stays_in_the_grid(self, fresh, clock):
        """Intake Tue 28 Apr: 5 grid workdays skip Labour Day -> Fri 8 May; agreed Thu 7 May, closed."""
        engine = fresh()
        clock.set("2026-04-28T09:00")
        case = engine.start("dispute_mediation", data=data("grid"), actor=GRID_WORKER)
        assert (JIULING_GRID, "received", "grid") == (case.org, case.state, case.data["channel"])
        mediation = clock_of(engine, case.id, "mediation")
        # Apr 29, Apr 30, (May 1-5 off), May 6, 7, 8
        assert (dt.date(2026, 5, 8), midnight("2026-05-09"), "grid") == (
            mediation.last_day,
            mediation.due_at,
            mediation.state.level,
        )
        engine.fire(
            case.id,
            "classify",
            actor=GRID_WORKER,
            payload={"category": "邻里纠纷", "severity": "minor"},
        )
        engine.fire(case.id, "assign", actor=GRID_WORKER, payload={"mediator": GRID_WORKER.id})
        clock.set("2026-05-06T15:00")
        engine = fresh()
        session = {
            "held_on": "2026-05-06",
            "summary": "现场查看排水沟走向",
            "attendees": ["张三", "李四"],
        }
        engine.fire(case.id, "record_session", actor=GRID_WORKER, payload={"session": session})
        clock.set("2026-05-07T10:00")
        agreement = {
            "signed_on": "2026-05-07",
            "effective_on": "2026-05-07",
            "terms": "共同出资疏通排水沟，沟界以界桩为准",
            "form": "written",
        }
        case = engine.fire(case.id, "agree", actor=GRID_WORKER, payload={"agreement": agreement})
        assert ("agreement", session) == (case.state, case.data["session"])
        assert "stopped" == clock_of(engine, case.id, "mediation").status
        window = clock_of(engine, case.id, "confirmation_window")
        assert (dt.date(2026, 6, 8), "running") == (
            window.last_day,
            window.status,
        )  # Sat 6 Jun -> Mon 8 Jun
        case = engine.fire(
            case.id, "start_follow_up", actor=GRID_WORKER
        )  # the parties do not apply
        assert dt.date(2026, 5, 22) == clock_of(engine, case.id, "follow_up").last_day
        clock.set("2026-05-11T10:00")
        engine = fresh()
        case = engine.fire(
            case.id, "close", actor=GRID_WORKER, payload={"performance": "performed"}
        )
        assert ("settled", "completed", JIULING_GRID, 0) == (
            case.state,
            case.status,
            case.org,
            case.escalation_level,
        )
        assert "success" == engine.workflow("dispute_mediation").states[case.state].outcome
        assert [
            ("classify", "classified"),
            ("assign", "mediating"),
            ("record_session", "mediating"),
            ("agree", "agreement"),
            ("start_follow_up", "follow_up"),
            ("close", "settled"),
        ] == [(e, s) for e, s, _ in transitions(engine, case.id)]
        assert {
            "mediation": "stopped",
            "confirmation_window": "stopped",
            "follow_up": "stopped",
        } == {c.name: c.status for c in engine.clocks(case.id)}
        clock.set("2026-07-01T00:00")
        assert 0 == engine.fire_due().total


class TestEscalationOnBreach:
    def test_grid_then_village_then_township(self, fresh, clock, notifier):
        """Grid 5 workdays (Sun 20 Sep works) -> village 10 workdays over National Day -> township 1 month."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-09-16T09:00",
            intake=FANGXIN_GRID_WORKER,
            assigner=FANGXIN_GRID_WORKER,
            mediator=FANGXIN_GRID_WORKER.id,
            channel="grid",
        )
        # Sep 17, 18, Sun 20 (make-up), 21, 22
        assert dt.date(2026, 9, 22) == clock_of(engine, case.id, "mediation").last_day
        clock.set("2026-09-22T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-09-23T00:00")
        assert 1 == engine.fire_due().fired["breach"]
        engine = fresh()
        moved = engine.get(case.id)
        assert (FANGXIN, 1, "mediating") == (moved.org, moved.escalation_level, moved.state)
        village = clock_of(engine, case.id, "mediation")
        # restarted 23 Sep: 24, 28, 29, 30, (1-7 Oct off), 8, 9, Sat 10, 12, 13, 14
        assert (dt.date(2026, 10, 14), "running", "village") == (
            village.last_day,
            village.status,
            village.state.level,
        )
        assert [(("committee_director",), FANGXIN)] == sent_for(notifier, case.id)
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(
                case.id,
                "record_session",
                actor=FANGXIN_GRID_WORKER,
                payload={"session": {"held_on": "2026-09-23", "summary": "x"}},
            )
        assert [] == engine.available_events(case.id, FANGXIN_GRID_WORKER)
        clock.set("2026-09-24T09:00")
        engine.fire(
            case.id, "assign", actor=FANGXIN_DIRECTOR, payload={"mediator": FANGXIN_MEDIATOR.id}
        )
        clock.set("2026-09-28T15:00")
        engine.fire(
            case.id,
            "record_session",
            actor=FANGXIN_MEDIATOR,
            payload={"session": {"held_on": "2026-09-28", "summary": "村调委会主持，双方各执一词"}},
        )
        assert (
            dt.date(2026, 10, 14) == clock_of(engine, case.id, "mediation").last_day
        )  # sessions do not restart it
        clock.set("2026-10-15T00:00")
        engine.fire_due()
        engine = fresh()
        moved = engine.get(case.id)
        assert (SANZHEN, 2) == (moved.org, moved.escalation_level)
        township = clock_of(engine, case.id, "mediation")
        # 1 month from 15 Oct: Sun 15 Nov -> Mon 16 Nov
        assert (dt.date(2026, 11, 16), "township") == (township.last_day, township.state.level)
        assert [(("committee_director",), FANGXIN), (("committee_director",), SANZHEN)] == sent_for(
            notifier, case.id
        )
        clock.set("2026-10-16T09:00")
        engine.fire(
            case.id, "assign", actor=SANZHEN_CENTRE, payload={"mediator": SANZHEN_MEDIATOR.id}
        )
        clock.set("2026-10-30T11:00")
        agreement = {
            "signed_on": "2026-10-30",
            "effective_on": "2026-10-30",
            "terms": "重新砌筑排水沟，费用各半",
        }
        case = engine.fire(
            case.id, "agree", actor=SANZHEN_MEDIATOR, payload={"agreement": agreement}
        )
        assert "agreement" == case.state
        escalations = [
            h.details for h in engine.history(case.id) if h.details.get("action") == "escalated"
        ]
        assert [(1, FANGXIN_GRID, FANGXIN, "village"), (2, FANGXIN, SANZHEN, "township")] == [
            (e["level"], e["from_org"], e["to_org"], e["org_level"]) for e in escalations
        ]
        clock.set("2026-11-17T00:00")  # the township's month would have ended: the clock is stopped
        assert 0 == engine.fire_due().total
        assert SANZHEN == engine.get(case.id).org
        # nobody applied for judicial confirmation: 30 days from 30 Oct, Sun 29 Nov -> Mon 30 Nov
        assert dt.date(2026, 11, 30) == clock_of(engine, case.id, "confirmation_window").last_day
        clock.set("2026-12-01T00:00")
        engine.fire_due()
        assert ("confirmation_window_closed", "follow_up", "system:timer") == transitions(
            engine, case.id
        )[-1]
        assert dt.date(2026, 12, 16) == clock_of(engine, case.id, "follow_up").last_day
        clock.set("2026-12-03T10:00")
        case = engine.fire(
            case.id, "close", actor=SANZHEN_MEDIATOR, payload={"performance": "performed"}
        )
        assert ("settled", SANZHEN, 2) == (case.state, case.org, case.escalation_level)

    def test_at_the_county_not_settled_is_referred_out(self, fresh, clock, notifier):
        """No agreement at the township (escalate by hand) -> county 1 month -> refer_out: failure."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-11-02T09:00",
            intake=JIAOCHENG_CENTRE,
            assigner=JIAOCHENG_CENTRE,
            mediator=JIAOCHENG_MEDIATOR.id,
            channel="township",
        )
        assert dt.date(2026, 12, 2) == clock_of(engine, case.id, "mediation").last_day
        clock.set("2026-11-20T10:00")
        case = engine.fire(
            case.id,
            "escalate",
            actor=JIAOCHENG_MEDIATOR,
            payload={"reason": "涉及多户，镇级调解不成"},
        )
        assert (COUNTY, 1, "classified") == (case.org, case.escalation_level, case.state)
        moves = [h.details for h in engine.history(case.id) if h.event == "escalate"]
        assert [JIAOCHENG, COUNTY] == [moves[0]["from_org"], moves[0]["to_org"]]
        restarted = clock_of(engine, case.id, "mediation")
        # 1 month from 20 Nov: Sun 20 Dec -> Mon 21 Dec
        assert (dt.date(2026, 12, 21), "county") == (restarted.last_day, restarted.state.level)
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(case.id, "assign", actor=JIAOCHENG_CENTRE, payload={"mediator": "x"})
        engine.fire(
            case.id, "assign", actor=COUNTY_DIRECTOR, payload={"mediator": COUNTY_MEDIATOR.id}
        )
        with pytest.raises(InvalidEvent, match="top unit"):
            engine.fire(
                case.id, "escalate", actor=COUNTY_MEDIATOR, payload={"reason": "仍调解不成"}
            )
        clock.set("2026-12-21T23:59")
        assert 0 == engine.fire_due().total
        clock.set("2026-12-22T00:00")
        engine.fire_due()
        engine = fresh()
        final = engine.get(case.id)
        assert ("not_mediated", "completed", COUNTY) == (final.state, final.status, final.org)
        assert ("refer_out", "not_mediated", "system:timer") == transitions(engine, case.id)[-1]
        assert "failure" == engine.workflow("dispute_mediation").states["not_mediated"].outcome
        assert "at top" in [
            h.details.get("action") for h in engine.history(case.id) if h.kind == "clock"
        ]
        assert [] == sent_for(notifier, case.id)  # moved by hand; at the top nobody above to tell


CONSENT_A = {"given_on": "2026-03-26", "form": "written", "by": "张三"}
CONSENT_B = {"given_on": "2026-03-30", "form": "oral", "by": "李四"}


class TestConsentedExtension:
    def test_each_side_consents_then_the_month_is_extended(self, fresh, clock, notifier):
        """
        LOCAL RULES (DESIGN §2, after 人民调解工作若干规定 art. 33: 一般在一个月内调结):
        past the month only with both parties' consent, each side's recorded as data.
        Referred by 12345 to the township Mon 2 Mar 2026: 1 month ends Thu 2 Apr. One
        side consents Thu 26 Mar: nothing can be extended yet. The other side consents
        Mon 30 Mar: the case is consented, its limit is extended_mediation (from the same
        start, the same last day), and one extension by a month ends Sat 2 May, a holiday,
        so Wed 6 May (民法典 art. 203); the parties are told.
        """
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-03-02T09:00",
            intake=HOTLINE,
            assigner=SANZHEN_CENTRE,
            mediator=SANZHEN_MEDIATOR.id,
            channel="hotline",
            org=SANZHEN,
            hotline_ticket="12345-2026-000318",
        )
        assert (SANZHEN, "hotline", "12345-2026-000318") == (
            case.org,
            case.data["channel"],
            case.data["hotline_ticket"],
        )
        assert HOTLINE.id == engine.history(case.id)[0].actor_id
        assert dt.date(2026, 4, 2) == clock_of(engine, case.id, "mediation").last_day
        clock.set("2026-03-26T10:00")
        before = engine.get(case.id)
        with pytest.raises(DataValidationError):
            engine.fire(case.id, "consent_to_extend", actor=SANZHEN_MEDIATOR, payload={})
        with pytest.raises(DataValidationError, match="form"):
            engine.fire(
                case.id,
                "consent_to_extend",
                actor=SANZHEN_MEDIATOR,
                payload={"consent_a": {"given_on": "2026-03-26"}},
            )
        assert before == engine.get(case.id)
        case = engine.fire(
            case.id, "consent_to_extend", actor=SANZHEN_MEDIATOR, payload={"consent_a": CONSENT_A}
        )
        assert ("mediating", CONSENT_A) == (case.state, case.data["consent_a"])
        with pytest.raises(InvalidEvent, match="cannot be extended"):
            engine.extend_clock(case.id, "mediation", actor=SANZHEN_MEDIATOR, reason="一方同意")
        with pytest.raises(InvalidEvent, match="no clock 'extended_mediation'"):
            engine.extend_clock(
                case.id, "extended_mediation", actor=SANZHEN_MEDIATOR, reason="一方同意"
            )
        clock.set("2026-03-30T10:00")
        case = engine.fire(
            case.id, "consent_to_extend", actor=SANZHEN_MEDIATOR, payload={"consent_b": CONSENT_B}
        )
        assert "consented" == case.state
        assert "stopped" == clock_of(engine, case.id, "mediation").status
        consented = clock_of(engine, case.id, "extended_mediation")
        assert (dt.date(2026, 4, 2), clock_of(engine, case.id, "mediation").state.started_at) == (
            consented.last_day,
            consented.state.started_at,
        )
        with pytest.raises(Forbidden, match="mediator, committee_director"):
            engine.extend_clock(
                case.id, "extended_mediation", actor=SANZHEN_CENTRE, reason="双方同意"
            )
        with pytest.raises(InvalidEvent, match="needs a reason"):
            engine.extend_clock(case.id, "extended_mediation", actor=SANZHEN_MEDIATOR, reason="")
        engine = fresh()
        extended = engine.extend_clock(
            case.id,
            "extended_mediation",
            actor=SANZHEN_MEDIATOR,
            reason="双方当事人同意延长调解期限 (张三 2026-03-26 书面, 李四 2026-03-30 口头)",
        )
        assert (dt.date(2026, 5, 6), midnight("2026-05-07"), 1) == (
            extended.last_day,
            extended.due_at,
            extended.extensions,
        )
        with pytest.raises(InvalidEvent, match="already extended 1"):
            engine.extend_clock(
                case.id, "extended_mediation", actor=SANZHEN_MEDIATOR, reason="再次延长"
            )
        engine.fire_due()
        told = [n for n in notifier.sent if n["case_id"] == case.id]
        assert [(("party",), SANZHEN)] == [(n["roles"], n["org"]) for n in told]
        assert "2026-05-06" in told[0]["message"]
        clock.set("2026-04-03T00:00")  # the month is over, the extension is not
        assert 0 == engine.fire_due().total
        assert (SANZHEN, 0) == (engine.get(case.id).org, engine.get(case.id).escalation_level)
        clock.set("2026-04-20T10:00")
        session = {"held_on": "2026-04-20", "summary": "双方就赔偿数额达成一致"}
        case = engine.fire(
            case.id, "record_session", actor=SANZHEN_MEDIATOR, payload={"session": session}
        )
        assert "consented" == case.state  # sessions keep it consented
        agreement = {"signed_on": "2026-04-20", "effective_on": "2026-04-20", "terms": "分期赔偿"}
        case = engine.fire(
            case.id, "agree", actor=SANZHEN_MEDIATOR, payload={"agreement": agreement}
        )
        assert ("agreement", "stopped") == (
            case.state,
            clock_of(engine, case.id, "extended_mediation").status,
        )

    def test_one_side_only_the_month_runs_out(self, fresh, clock, notifier):
        """Only one side consented: at 24:00 on Thu 2 Apr 2026 the township's month is over
        and the dispute goes up to the county (人民调解工作若干规定 art. 33)."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-03-02T09:00",
            intake=SANZHEN_CENTRE,
            assigner=SANZHEN_CENTRE,
            mediator=SANZHEN_MEDIATOR.id,
            channel="township",
        )
        engine.fire(
            case.id, "consent_to_extend", actor=SANZHEN_MEDIATOR, payload={"consent_b": CONSENT_B}
        )
        clock.set("2026-04-03T00:00")
        engine.fire_due()
        moved = engine.get(case.id)
        assert (COUNTY, 1, "mediating") == (moved.org, moved.escalation_level, moved.state)

    def test_extended_month_runs_out_and_moves_up(self, fresh, clock, notifier):
        """Both sides at once; the extension ends on Wed 6 May 2026: at 24:00 the case goes
        to the county, whose month starts 7 May and ends Sun 7 Jun, so Mon 8 Jun."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-03-02T09:00",
            intake=SANZHEN_CENTRE,
            assigner=SANZHEN_CENTRE,
            mediator=SANZHEN_MEDIATOR.id,
            channel="township",
        )
        engine.fire(
            case.id,
            "consent_to_extend",
            actor=SANZHEN_MEDIATOR,
            payload={"consent_a": CONSENT_A, "consent_b": CONSENT_B},
        )
        engine.extend_clock(
            case.id, "extended_mediation", actor=SANZHEN_MEDIATOR, reason="双方同意延期"
        )
        clock.set("2026-05-07T00:00")
        engine.fire_due()
        moved = engine.get(case.id)
        assert (COUNTY, 1) == (moved.org, moved.escalation_level)
        county = clock_of(engine, case.id, "extended_mediation")
        assert (dt.date(2026, 6, 8), 0) == (county.last_day, county.extensions)
        assert (("committee_director",), COUNTY) in sent_for(notifier, case.id)


class TestConfirmationWindow:
    def test_counts_from_when_the_agreement_took_effect(self, fresh, clock):
        """
        人民调解法 art. 33: judicial confirmation may be applied for within 30 days from
        the day the agreement took effect (art. 29: when the last party signed and the
        committee sealed it), not from when it was recorded. Effective Fri 29 May 2026,
        recorded Wed 3 Jun: 30 days end Sun 28 Jun, so Mon 29 Jun (民法典 art. 203), not
        Fri 3 Jul.
        """
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-05-25T09:00",
            intake=XIAXING_MEDIATOR,
            assigner=XIAXING_DIRECTOR,
            mediator=XIAXING_MEDIATOR.id,
            channel="village",
        )
        clock.set("2026-06-03T10:00")
        agreement = {
            "signed_on": "2026-05-28",
            "effective_on": "2026-05-29",
            "terms": "退还多占宅基地 0.3 米",
            "form": "written",
        }
        engine.fire(case.id, "agree", actor=XIAXING_MEDIATOR, payload={"agreement": agreement})
        window = clock_of(engine, case.id, "confirmation_window")
        assert (midnight("2026-05-29"), dt.date(2026, 6, 29)) == (
            window.state.started_at,
            window.last_day,
        )
        started = [
            h.details
            for h in engine.history(case.id)
            if h.details.get("clock") == "confirmation_window"
        ]
        assert "payload.agreement.effective_on" == started[0]["since"]
        clock.set("2026-06-30T00:00")
        engine.fire_due()
        assert ("confirmation_window_closed", "follow_up", "system:timer") == transitions(
            engine, case.id
        )[-1]

    def test_effective_date_is_checked(self, fresh, clock):
        """The effective date is required, not in the future, and not before intake (Mon 25
        May 2026); a refused agreement writes nothing."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-05-25T09:00",
            intake=XIAXING_MEDIATOR,
            assigner=XIAXING_DIRECTOR,
            mediator=XIAXING_MEDIATOR.id,
            channel="village",
        )
        clock.set("2026-06-03T10:00")
        before = engine.get(case.id)
        for effective, match in [
            (None, "effective_on"),
            ("2026-06-04", "in the future"),
            ("2026-05-22", "before the case began"),
            ("29 May", "effective_on"),
        ]:
            agreement = {"signed_on": "2026-05-29", "terms": "x"}
            if effective is not None:
                agreement["effective_on"] = effective
            with pytest.raises(DataValidationError, match=match):
                engine.fire(
                    case.id, "agree", actor=XIAXING_MEDIATOR, payload={"agreement": agreement}
                )
        assert before == engine.get(case.id)
        agreement = {"signed_on": "2026-05-25", "effective_on": "2026-05-25", "terms": "x"}
        case = engine.fire(
            case.id, "agree", actor=XIAXING_MEDIATOR, payload={"agreement": agreement}
        )
        assert dt.date(2026, 6, 24) == clock_of(engine, case.id, "confirmation_window").last_day


class TestStartLevel:
    def test_a_major_dispute_starts_at_the_township(self, fresh, clock):
        """
        "大事不出村镇": a grid worker records a major dispute on Mon 28 Sep 2026; it starts
        at the township (三圳镇), never in the grid, with the township's month (to Wed 28
        Oct); the grid worker cannot act on it, the township's centre can.
        """
        engine = fresh()
        clock.set("2026-09-28T09:00")
        case = engine.start(
            "dispute_mediation",
            data=data("grid", "两村因山林权属争执，涉及三十余户", severity="major"),
            actor=GRID_WORKER,
        )
        assert (SANZHEN, "received") == (case.org, case.state)
        start = engine.history(case.id)[0].details
        assert (JIULING_GRID, SANZHEN, "start_level") == (
            start["from_org"],
            start["to_org"],
            start["why"],
        )
        mediation = clock_of(engine, case.id, "mediation")
        assert (dt.date(2026, 10, 28), "township") == (mediation.last_day, mediation.state.level)
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.fire(case.id, "classify", actor=GRID_WORKER, payload={"category": "山林土地"})
        case = engine.fire(
            case.id, "classify", actor=SANZHEN_CENTRE, payload={"category": "山林土地"}
        )
        assert (SANZHEN, "classified") == (case.org, case.state)

    def test_a_serious_dispute_starts_at_the_village(self, fresh, clock):
        """A serious dispute recorded in 九岭村's grid on Mon 28 Sep 2026 starts at 九岭村:
        10 village workdays skip National Day, count Sat 10 Oct, end Fri 16 Oct."""
        engine = fresh()
        clock.set("2026-09-28T09:00")
        case = engine.start(
            "dispute_mediation", data=data("grid", severity="serious"), actor=GRID_WORKER
        )
        mediation = clock_of(engine, case.id, "mediation")
        assert (JIULING, dt.date(2026, 10, 16), "village") == (
            case.org,
            mediation.last_day,
            mediation.state.level,
        )

    def test_a_minor_dispute_stays_where_it_was_reported(self, fresh, clock):
        """小事不出网格: minor (or not yet classified) stays in the grid: 5 workdays from Mon
        28 Sep 2026 end on Sat 10 Oct, a make-up workday (Sep 29, 30, Oct 8, 9, 10)."""
        engine = fresh()
        clock.set("2026-09-28T09:00")
        for extra in ({"severity": "minor"}, {}):
            case = engine.start("dispute_mediation", data=data("grid", **extra), actor=GRID_WORKER)
            assert (JIULING_GRID, dt.date(2026, 10, 10)) == (
                case.org,
                clock_of(engine, case.id, "mediation").last_day,
            )


class TestJudicialConfirmation:
    def test_confirmed_then_follow_up_visit(self, fresh, clock, notifier):
        """Agreement Tue 9 Jun (window to Thu 9 Jul); applied 16 Jun; confirmed 30 Jun; 回访 by Wed 15 Jul."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-06-01T09:00",
            intake=XIAXING_MEDIATOR,
            assigner=XIAXING_DIRECTOR,
            mediator=XIAXING_MEDIATOR.id,
            channel="village",
        )
        assert (XIAXING, dt.date(2026, 6, 15)) == (
            case.org,
            clock_of(engine, case.id, "mediation").last_day,
        )
        clock.set("2026-06-09T10:00")
        engine.fire(
            case.id,
            "agree",
            actor=XIAXING_MEDIATOR,
            payload={
                "agreement": {
                    "signed_on": "2026-06-09",
                    "effective_on": "2026-06-09",
                    "terms": "返还借款三万元",
                }
            },
        )
        assert dt.date(2026, 7, 9) == clock_of(engine, case.id, "confirmation_window").last_day
        clock.set("2026-06-16T09:00")
        with pytest.raises(DataValidationError, match="applied_on"):
            engine.fire(
                case.id, "apply_confirmation", actor=PARTY, payload={"court": "蕉岭县人民法院"}
            )
        case = engine.fire(
            case.id,
            "apply_confirmation",
            actor=PARTY,
            payload={"court": "蕉岭县人民法院", "applied_on": "2026-06-16"},
        )
        assert ("court_review", "stopped") == (
            case.state,
            clock_of(engine, case.id, "confirmation_window").status,
        )
        clock.set("2026-06-30T10:00")
        engine = fresh()
        case = engine.fire(
            case.id,
            "court_ruled",
            actor=XIAXING_MEDIATOR,
            payload={"ruling": "confirmed", "ruling_no": "(2026)民特12号"},
        )
        assert "follow_up" == case.state
        follow = clock_of(engine, case.id, "follow_up")
        assert (dt.date(2026, 7, 15), midnight("2026-07-13")) == (
            follow.last_day,
            follow.state.warn_at,
        )
        clock.set(
            "2026-07-10T00:00"
        )  # the window would have closed now: it stopped on the application
        assert 0 == engine.fire_due().total
        clock.set("2026-07-13T00:00")
        assert 1 == engine.fire_due().fired["warn"]
        assert [(("mediator", "grid_worker"), XIAXING)] == sent_for(notifier, case.id)
        clock.set("2026-07-14T16:00")
        case = engine.fire(
            case.id, "close", actor=XIAXING_MEDIATOR, payload={"performance": "performed"}
        )
        assert ("settled", "confirmed", "performed") == (
            case.state,
            case.data["ruling"],
            case.data["performance"],
        )
        assert [
            "classify",
            "assign",
            "agree",
            "apply_confirmation",
            "court_ruled",
            "close",
        ] == [e for e, _, _ in transitions(engine, case.id)]

    def test_not_confirmed_mediate_again(self, fresh, clock):
        """人民调解法 art. 33: an agreement the court does not confirm may be mediated anew: a fresh clock."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-06-01T09:00",
            intake=XIAXING_MEDIATOR,
            assigner=XIAXING_DIRECTOR,
            mediator=XIAXING_MEDIATOR.id,
            channel="village",
        )
        engine.fire(
            case.id,
            "agree",
            actor=XIAXING_MEDIATOR,
            payload={
                "agreement": {"signed_on": "2026-06-01", "effective_on": "2026-06-01", "terms": "x"}
            },
        )
        engine.fire(
            case.id,
            "apply_confirmation",
            actor=XIAXING_MEDIATOR,
            payload={"court": "蕉岭县人民法院", "applied_on": "2026-06-02"},
        )
        clock.set("2026-06-12T10:00")
        case = engine.fire(
            case.id, "court_ruled", actor=XIAXING_MEDIATOR, payload={"ruling": "refused"}
        )
        assert "mediating" == case.state
        again = clock_of(engine, case.id, "mediation")
        # 10 village workdays from Fri 12 Jun: 15, 16, 17, 18, (19 off), 22, 23, 24, 25, 26, 29
        assert (dt.date(2026, 6, 29), "running") == (again.last_day, again.status)


class TestAuthorisation:
    def test_wrong_unit_or_role_is_forbidden_and_writes_nothing(self, fresh, clock):
        """芳心村's committee cannot act on a 九岭村 grid case; a party cannot record an agreement."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-04-28T09:00",
            intake=GRID_WORKER,
            assigner=GRID_WORKER,
            mediator=GRID_WORKER.id,
            channel="grid",
        )
        history = engine.history(case.id)
        for actor, event, payload, match in [
            (
                FANGXIN_MEDIATOR,
                "agree",
                {
                    "agreement": {
                        "signed_on": "2026-04-28",
                        "effective_on": "2026-04-28",
                        "terms": "x",
                    }
                },
                "outside their unit",
            ),
            (FANGXIN_DIRECTOR, "assign", {"mediator": "fangxin.mediator"}, "outside their unit"),
            (
                PARTY,
                "agree",
                {
                    "agreement": {
                        "signed_on": "2026-04-28",
                        "effective_on": "2026-04-28",
                        "terms": "x",
                    }
                },
                "requires one of the roles",
            ),
            (
                HOTLINE,
                "record_session",
                {"session": {"held_on": "2026-04-28", "summary": "x"}},
                "requires one of the roles",
            ),
        ]:
            with pytest.raises(Forbidden, match=match):
                engine.fire(case.id, event, actor=actor, payload=payload)
        with pytest.raises(Forbidden, match="automatic"):
            engine.fire(case.id, "refer_out", actor=GRID_WORKER)
        assert case == engine.get(case.id)
        assert history == engine.history(case.id)
        assert [] == engine.available_events(case.id, FANGXIN_MEDIATOR)
        # the village above the grid may act: 九岭村's mediator takes it over
        jiuling = Actor("jiuling.mediator", {"mediator"}, JIULING)
        assert "record_session" in engine.available_events(case.id, jiuling)

    def test_extension_from_another_unit_is_forbidden(self, fresh, clock):
        """A mediator of 芳心村 cannot extend a 九岭村 case's clock, consented or not (as they
        cannot fire its events)."""
        engine = fresh()
        case = to_mediating(
            engine,
            clock,
            "2026-04-28T09:00",
            intake=GRID_WORKER,
            assigner=GRID_WORKER,
            mediator=GRID_WORKER.id,
            channel="grid",
        )
        both = {"given_on": "2026-04-28", "form": "written"}
        engine.fire(
            case.id,
            "consent_to_extend",
            actor=GRID_WORKER,
            payload={"consent_a": both, "consent_b": both},
        )
        with pytest.raises(Forbidden, match="outside their unit"):
            engine.extend_clock(
                case.id, "extended_mediation", actor=FANGXIN_MEDIATOR, reason="双方同意"
            )


class TestSuccessRate:
    def test_success_rate_from_final_states(self, fresh, clock):
        """14 settled and 1 ended at a party's request: 14/15 = 93.3%, as Jiaoling's "93% and more"."""
        engine = fresh()
        clock.set("2026-03-02T09:00")
        grids = [JIULING_GRID, "jiaoling/sanzhen/jiuling/grid-2", FANGXIN_GRID]
        sites = [grids[i % 3] for i in range(10)] + ["jiaoling/jiaocheng/chengbei/grid-1"] * 5
        for i, site in enumerate(sites):
            worker = Actor(f"gw{i}", {"grid_worker"}, site)
            case = to_mediating(
                engine,
                clock,
                "2026-03-02T09:00",
                intake=worker,
                assigner=worker,
                mediator=worker.id,
                channel="grid",
            )
            if i == 14:
                engine.fire(
                    case.id,
                    "terminate",
                    actor=PARTY,
                    payload={"reason": "一方当事人要求终止调解，拟起诉"},
                )
                continue
            engine.fire(
                case.id,
                "agree",
                actor=worker,
                payload={
                    "agreement": {
                        "signed_on": "2026-03-02",
                        "effective_on": "2026-03-02",
                        "terms": "当场赔礼道歉",
                    }
                },
            )
            engine.fire(case.id, "start_follow_up", actor=worker)
            engine.fire(case.id, "close", actor=worker, payload={"performance": "performed"})
        definition = engine.workflow("dispute_mediation")
        closed = engine.cases(workflow="dispute_mediation", status="completed")
        outcomes = Counter(definition.states[c.state].outcome for c in closed)
        assert {"success": 14, "failure": 1} == dict(outcomes)
        assert 0.93 <= outcomes["success"] / sum(outcomes.values())
        figures = report(
            engine,
            since=dt.date(2026, 3, 1),
            until=dt.date(2026, 4, 1),
            workflow="dispute_mediation",
            by="org",
            depth=2,
        )
        assert (15, 14, 1, pytest.approx(14 / 15)) == (
            figures.total.closed,
            figures.total.closed_in("settled"),
            figures.total.closed_in("not_mediated"),
            figures.total.success_rate,
        )
        assert {JIAOCHENG: pytest.approx(0.8), SANZHEN: 1.0} == {
            r.key: r.success_rate for r in figures.rows
        }
