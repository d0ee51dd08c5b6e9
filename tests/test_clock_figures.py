"""
Figures people read off a clock, in the pure core (no database): an extension granted
while the clock is paused shows its new last day at once (行政许可法 art. 42 with art. 45),
and an hour-based clock's pauses count exact time, not whole days.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from zoneinfo import ZoneInfo

from caseflow_cn_calendar import ChineseCalendar
from hypothesis import given
from hypothesis import strategies as st

from caseflow import Actor, Engine
from caseflow.clocks import runtime
from caseflow.clocks.durations import Duration
from caseflow.clocks.periods import compute_due
from caseflow.definitions.dump import dump_text
from caseflow.definitions.loader import load_text
from caseflow.testing import MovableClock

CN = ChineseCalendar()
TZ = "Asia/Shanghai"
ZONE = ZoneInfo(TZ)

FLOW = load_text(
    textwrap.dedent(
        """
        workflow: figures
        version: 1
        roles: [clerk]
        states:
          open: {initial: true}
          review: {}
          experts: {}
          done: {final: true}
        events:
          review: {from: open, to: review, roles: [clerk]}
          experts: {from: review, to: experts, roles: [clerk]}
          back: {from: experts, to: review, roles: [clerk]}
          finish: {from: [review, experts], to: done, roles: [clerk]}
        clocks:
          decision:
            limit: 20 workdays
            starts_on: {enter: review}
            paused_in: [experts]
            stops_on: {enter: [done]}
            extension: {by: 10 workdays, times: 1, roles: [clerk]}
          answer:
            limit: 8 hours
            starts_on: {enter: review}
            paused_in: [experts]
            stops_on: {enter: [done]}
        """
    )
)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE)


def move(clocks, entered: str, now: dt.datetime):
    plan = runtime.on_transition(FLOW, clocks, event=None, entered=entered, now=now, calendar=CN)
    return {**clocks, **plan.changed}


class TestExtensionWhilePaused:
    def test_the_new_last_day_shows_at_once(self):
        # accepted Mon 14 Sep 2026; 20 workdays would end Fri 16 Oct (National Day skipped)
        clocks = move({}, "review", local("2026-09-14T10:00"))
        assert clocks["decision"].last_day == dt.date(2026, 10, 16)
        # expert review from Mon 21 Sep (art. 45: not counted), extended on Wed 23 Sep
        clocks = move(clocks, "experts", local("2026-09-21T09:00"))
        paused = clocks["decision"]
        assert paused.phase == "paused"
        spec = FLOW.clocks["decision"]
        extended, timers = runtime.extend(spec, paused, CN, TZ, local("2026-09-23T15:00"))
        assert timers == []  # nothing is armed while paused
        # if it resumed now, 21-22 Sep not counted: 15-18 Sep, Sun 20 Sep (a make-up day),
        # 23-24 Sep (25 Sep is 中秋), 28-30 Sep, 8-9 Oct, Sat 10 Oct (make-up), 12-16 Oct,
        # 19-20 Oct: 20 workdays; then 10 more -> Tue 3 Nov
        assert extended.last_day == dt.date(2026, 11, 3)
        assert extended.extensions == 1
        # resuming on that day gives the same last day; resuming later, a later one
        same = move({"decision": extended, "answer": clocks["answer"]}, "review",
                    local("2026-09-23T16:00"))  # fmt: skip
        assert same["decision"].last_day == dt.date(2026, 11, 3)
        later = move({"decision": extended, "answer": clocks["answer"]}, "review",
                     local("2026-09-28T16:00"))  # fmt: skip
        assert later["decision"].last_day > dt.date(2026, 11, 3)


class TestExactPausesForHours:
    def test_an_hour_clock_pauses_for_the_exact_time(self):
        clocks = move({}, "review", local("2026-09-14T09:00"))
        assert clocks["answer"].due_at == local("2026-09-14T17:00")
        clocks = move(clocks, "experts", local("2026-09-14T10:15"))
        assert isinstance(clocks["answer"].pauses[-1][0], dt.datetime)  # an instant
        assert isinstance(clocks["decision"].pauses[-1][0], dt.date)  # a day
        clocks = move(clocks, "review", local("2026-09-14T11:45"))
        # paused 1 h 30 min: due 18:30 the same day, not a whole day later
        assert clocks["answer"].due_at == local("2026-09-14T18:30")

    @given(
        st.integers(min_value=1, max_value=72),
        st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 600)), min_size=0, max_size=4),
    )
    def test_due_is_start_plus_hours_plus_the_paused_time(self, hours, raw):
        start = local("2026-09-30T20:00")  # across National Day: hours ignore holidays
        pauses, cursor = [], start
        for gap, length in raw:
            begin = cursor + dt.timedelta(minutes=gap)
            end = begin + dt.timedelta(minutes=length)
            pauses.append((begin, end))
            cursor = end
        found = compute_due(start, Duration(hours, "hours"), CN, TZ, pauses=pauses)
        # only the pauses that begin before the (growing) due instant count
        due = start + dt.timedelta(hours=hours)
        for begin, end in pauses:
            if begin < due:
                due += end - begin
        assert found.due_at == due.astimezone(dt.UTC)


class TestStored:
    """The same figures after a round trip through SQLite and PostgreSQL."""

    def test_exact_pauses_and_a_paused_extension_survive_storage(self, db_url, tmp_path):
        (tmp_path / "figures.yaml").write_text(dump_text(FLOW), encoding="utf-8")
        clock = MovableClock("2026-09-14T09:00")
        clerk = Actor("clerk-1", {"clerk"})
        with Engine(db_url, workflows=tmp_path, clock=clock, auto_upgrade=True) as eng:
            case = eng.start("figures", actor=clerk)
            eng.fire(case.id, "review", actor=clerk)
            clock.set("2026-09-14T10:15")
            eng.fire(case.id, "experts", actor=clerk)
            view = eng.extend_clock(case.id, "decision", actor=clerk, reason="专家评审")
            assert view.status == "paused"
            assert view.last_day is not None
            clock.set("2026-09-14T11:45")
            eng.fire(case.id, "back", actor=clerk)
            answer = next(c for c in eng.clocks(case.id) if c.name == "answer")
            assert answer.due_at == local("2026-09-14T18:30")
