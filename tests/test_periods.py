"""
Legal period arithmetic against the real 2026 Chinese calendar.

Every 2026 date asserted here was checked against ``chinese_calendar`` (see
``TestChineseCalendarFacts`` in test_calendars.py, which pins the facts relied on):
Spring Festival Feb 15-23 off, make-up Sat Feb 14 and Sat Feb 28; Labour Day May 1-5
off, make-up Sat May 9; Mid-Autumn Fri Sep 25-Sun Sep 27 off; National Day Oct 1-7 off,
make-up Sun Sep 20 and Sat Oct 10. 2027 is unknown to ``chinese_calendar``: periods
reaching into it use the ``cn`` provisional rule (weekends, the statutory holidays of
全国年节及纪念日放假办法 art. 2 and their in-lieu days under art. 6; the 2027 dates are
pinned and sourced in test_statutory_calendar.py) and are marked provisional.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from caseflow_cn_calendar import ChineseCalendar
from hypothesis import given
from hypothesis import strategies as st

from caseflow.abc import Calendar
from caseflow.clocks.calendars import (
    CalendarOverlay,
    OverlayCalendar,
    WeekdayCalendar,
    load_calendar,
    load_overlay,
)
from caseflow.clocks.durations import Duration, parse_duration
from caseflow.clocks.periods import Due, Remaining, after, compute_due, remaining, warn_at

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = ChineseCalendar()
WEEKDAYS = WeekdayCalendar()
D = dt.date


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An instant in Shanghai local time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(day: dt.date) -> dt.datetime:
    """24:00 of ``day`` in Shanghai, in UTC: 16:00 UTC the same date."""
    return dt.datetime(day.year, day.month, day.day, 16, 0, tzinfo=dt.UTC)


def due(text, start, calendar=CN, **kwargs):
    """compute_due with the duration written as an admin writes it."""
    return compute_due(start, parse_duration(text), calendar, **kwargs)


class FourDayWeek(Calendar):
    """Test calendar: no data for any day; its provisional rule is Monday-Thursday."""

    def covers(self, day: dt.date) -> bool:
        return False

    def is_workday(self, day: dt.date) -> bool:
        raise LookupError(day.isoformat())

    def provisional_is_workday(self, day: dt.date) -> bool:
        return day.weekday() < 4


class NoRule(FourDayWeek):
    """Test calendar whose provisional rule cannot answer (raises LookupError)."""

    def provisional_is_workday(self, day: dt.date) -> bool:
        raise LookupError(day.isoformat())


class TestWorkdays:
    def test_design_example_three_workdays_from_national_day(self):
        """3 workdays from Thu 1 Oct 2026 (a holiday) end on the make-up Sat 10 Oct."""
        assert Due(D(2026, 10, 10), end_of(D(2026, 10, 10)), provisional=False) == due(
            "3 workdays", at(2026, 10, 1, 9)
        )

    def test_start_on_rest_day_counts_from_the_next_working_day_as_day_one(self):
        """From Sat 26 Sep (rest day) 1 workday is Mon 28 Sep, not Tue 29 Sep."""
        assert D(2026, 9, 28) == due("1 workdays", at(2026, 9, 26, 15)).last_day

    def test_twenty_workdays_from_mid_autumn_friday(self):
        """20 workdays from Fri 25 Sep 10:00 skip Mid-Autumn, National Day, count Sat 10 Oct."""
        # Sep 28-30 (3), Oct 8-10 (6), Oct 12-16 (11), Oct 19-23 (16), Oct 26-29 (20).
        result = due("20 workdays", at(2026, 9, 25, 10))
        assert (D(2026, 10, 29), end_of(D(2026, 10, 29)), False) == (
            result.last_day,
            result.due_at,
            result.provisional,
        )

    def test_due_at_is_local_midnight_after_the_last_day(self):
        """due_at is 24:00 of the last day in Shanghai, i.e. 00:00+08:00 the next day, in UTC."""
        result = due("20 workdays", at(2026, 9, 25, 10))
        assert at(2026, 10, 30) == result.due_at
        assert dt.UTC == result.due_at.tzinfo

    def test_spring_festival(self):
        """From Fri 13 Feb: Sat 14 Feb (make-up) is day 1, Feb 15-23 off, day 5 is Fri 27 Feb."""
        assert D(2026, 2, 27) == due("5 workdays", at(2026, 2, 13, 9)).last_day
        assert D(2026, 2, 28) == due("6 workdays", at(2026, 2, 13, 9)).last_day

    def test_labour_day(self):
        """From Thu 30 Apr: May 1-5 off, May 6-8 are days 1-3, make-up Sat 9 May is day 4."""
        assert D(2026, 5, 8) == due("3 workdays", at(2026, 4, 30, 9)).last_day
        assert D(2026, 5, 9) == due("4 workdays", at(2026, 4, 30, 9)).last_day

    def test_make_up_sunday_before_national_day_counts(self):
        """From Fri 18 Sep, the make-up Sun 20 Sep is working day 1."""
        assert D(2026, 9, 20) == due("1 workdays", at(2026, 9, 18, 17)).last_day

    def test_start_date_is_taken_in_the_procedure_time_zone(self):
        """15:59 UTC on 29 Sep is still 29 Sep in Shanghai; 16:00 UTC is already 30 Sep."""
        before = dt.datetime(2026, 9, 29, 15, 59, tzinfo=dt.UTC)
        after_midnight = dt.datetime(2026, 9, 29, 16, 0, tzinfo=dt.UTC)
        assert D(2026, 9, 30) == due("1 workdays", before).last_day
        assert D(2026, 10, 8) == due("1 workdays", after_midnight).last_day

    def test_extension_is_counting_thirty(self):
        """20 workdays extended by 10 (行政许可法 art. 42) = 30 workdays = 10 more from day 20."""
        start = at(2026, 9, 25, 10)
        twenty = due("20 workdays", start)
        thirty = due("30 workdays", start)
        ten_more = due("10 workdays", twenty.due_at - dt.timedelta(hours=1))
        assert D(2026, 11, 12) == thirty.last_day
        assert thirty == ten_more
        assert thirty == after(twenty, Duration(10, "workdays"), CN)

    def test_zero_workdays_ends_at_the_end_of_the_start_day(self):
        """0 workdays: due at 24:00 of the start date itself."""
        assert Due(D(2026, 10, 1), end_of(D(2026, 10, 1)), provisional=False) == due(
            "0 workdays", at(2026, 10, 1, 9)
        )

    def test_other_time_zone(self):
        """In Berlin (CEST, +02:00) 24:00 of the last day is 22:00 UTC."""
        start = dt.datetime(2026, 7, 6, 9, tzinfo=ZoneInfo("Europe/Berlin"))
        result = due("2 workdays", start, WEEKDAYS, tz="Europe/Berlin")
        assert (
            Due(D(2026, 7, 8), dt.datetime(2026, 7, 8, 22, tzinfo=dt.UTC), provisional=False)
            == result
        )


class TestPauses:
    def test_pause_skips_working_days_including_a_make_up_day(self):
        """Expert review Oct 9-12 (pause 9..13) removes Fri 9, Sat 10 (make-up), Mon 12."""
        pauses = [(D(2026, 10, 9), D(2026, 10, 13))]
        assert D(2026, 11, 3) == due("20 workdays", at(2026, 9, 25, 10), pauses=pauses).last_day

    def test_pause_across_a_holiday_only_costs_its_working_days(self):
        """A pause Sep 30..Oct 9 covers National Day; only Sep 30 and Oct 8 were countable."""
        pauses = [(D(2026, 9, 30), D(2026, 10, 9))]
        assert D(2026, 11, 2) == due("20 workdays", at(2026, 9, 25, 10), pauses=pauses).last_day

    def test_pause_inside_a_holiday_changes_nothing(self):
        """Holidays are not counted anyway: a pause Oct 1..Oct 8 leaves the due date alone."""
        pauses = [(D(2026, 10, 1), D(2026, 10, 8))]
        assert due("20 workdays", at(2026, 9, 25, 10)) == due(
            "20 workdays", at(2026, 9, 25, 10), pauses=pauses
        )

    def test_empty_pause(self):
        """A pause (a, a) covers no day."""
        pauses = [(D(2026, 10, 9), D(2026, 10, 9))]
        assert D(2026, 10, 29) == due("20 workdays", at(2026, 9, 25, 10), pauses=pauses).last_day

    def test_days_period_extended_by_paused_days_as_it_grows(self):
        """7 days from Mon 1 Jun = Mon 8 Jun; pause Jun 3 extends to Jun 9, which is paused too."""
        pauses = [(D(2026, 6, 3), D(2026, 6, 4)), (D(2026, 6, 9), D(2026, 6, 10))]
        assert D(2026, 6, 10) == due("7 days", at(2026, 6, 1, 9), pauses=pauses).last_day

    def test_days_before_the_start_are_not_extension(self):
        """Only paused days after the start date count: pause May 28..Jun 3 adds just Jun 2."""
        pauses = [(D(2026, 5, 28), D(2026, 6, 3))]
        assert D(2026, 6, 9) == due("7 days", at(2026, 6, 1, 9), pauses=pauses).last_day

    def test_days_period_extended_then_rolled_forward(self):
        """10 days from Mon 1 Jun = Thu 11 Jun; 2 paused days make it Sat 13 Jun -> Mon 15 Jun."""
        pauses = [(D(2026, 6, 3), D(2026, 6, 5))]
        assert D(2026, 6, 15) == due("10 days", at(2026, 6, 1, 9), pauses=pauses).last_day

    def test_roll_forward_does_not_end_on_a_paused_day(self):
        """Last day Sat 13 Jun rolls forward; Mon 15 Jun is paused, so it ends Tue 16 Jun."""
        pauses = [(D(2026, 6, 15), D(2026, 6, 16))]
        assert D(2026, 6, 16) == due("12 days", at(2026, 6, 1, 9), pauses=pauses).last_day

    def test_hours_do_not_run_on_paused_days(self):
        """8 hours from Oct 8 20:00 with Oct 9 paused: 4 h on Oct 8, 4 h on Oct 10."""
        pauses = [(D(2026, 10, 9), D(2026, 10, 10))]
        result = due("8 hours", at(2026, 10, 8, 20), pauses=pauses)
        assert Due(D(2026, 10, 10), at(2026, 10, 10, 4), provisional=False) == result

    def test_pause_ending_before_it_starts_is_rejected(self):
        """A pause (b, a) with b after a is a caller bug: ValueError."""
        with pytest.raises(ValueError, match="ends before it starts"):
            due("3 workdays", at(2026, 10, 1), pauses=[(D(2026, 10, 9), D(2026, 10, 8))])


class TestCalendarDays:
    def test_last_day_in_national_day_rolls_to_october_8(self):
        """10 days from Tue 22 Sep = Fri 2 Oct (holiday) -> Thu 8 Oct (民法典 art. 203)."""
        assert D(2026, 10, 8) == due("10 days", at(2026, 9, 22, 11)).last_day

    def test_last_day_on_make_up_saturday_does_not_roll(self):
        """10 days from Wed 30 Sep = Sat 10 Oct, a make-up working day: it stays."""
        assert D(2026, 10, 10) == due("10 days", at(2026, 9, 30, 11)).last_day

    def test_last_day_on_make_up_sunday_does_not_roll(self):
        """10 days from Thu 10 Sep = Sun 20 Sep, a make-up working day: it stays."""
        assert D(2026, 9, 20) == due("10 days", at(2026, 9, 10, 11)).last_day

    def test_last_day_on_plain_weekend_rolls_to_monday(self):
        """5 days from Mon 1 Jun = Sat 6 Jun -> Mon 8 Jun."""
        assert D(2026, 6, 8) == due("5 days", at(2026, 6, 1, 11)).last_day

    def test_last_day_in_spring_festival_rolls_past_it(self):
        """5 days from Tue 10 Feb = Sun 15 Feb; Feb 15-23 off -> Tue 24 Feb."""
        assert D(2026, 2, 24) == due("5 days", at(2026, 2, 10, 11)).last_day

    def test_correction_window_counts_calendar_days_when_written_so(self):
        """5 days from Mon 27 Apr = Sat 2 May, in Labour Day -> Wed 6 May."""
        assert D(2026, 5, 6) == due("5 days", at(2026, 4, 27, 11)).last_day


class TestMonths:
    def test_january_31_plus_one_month_is_february_28(self):
        """No 31 Feb: the month's last day, Sat 28 Feb 2026, a make-up workday (no roll)."""
        assert Due(D(2026, 2, 28), end_of(D(2026, 2, 28)), provisional=False) == due(
            "1 month", at(2026, 1, 31, 10)
        )

    def test_march_31_plus_one_month_is_april_30(self):
        """31 Mar + 1 month = Thu 30 Apr (art. 202)."""
        assert D(2026, 4, 30) == due("1 month", at(2026, 3, 31, 10)).last_day

    def test_mediation_month_ending_on_national_day_rolls(self):
        """1 Sep + 1 month = 1 Oct (holiday) -> Thu 8 Oct."""
        assert D(2026, 10, 8) == due("1 month", at(2026, 9, 1, 10)).last_day

    def test_leap_year(self):
        """31 Jan 2028 + 1 month = Tue 29 Feb 2028 (weekday calendar)."""
        assert D(2028, 2, 29) == due("1 month", at(2028, 1, 31), WEEKDAYS).last_day

    def test_twelve_months_into_an_unknown_year(self):
        """28 Feb 2026 + 12 months = Sun 28 Feb 2027 -> Mon 1 Mar 2027, provisional."""
        result = due("12 months", at(2026, 2, 28))
        assert (D(2027, 3, 1), True) == (result.last_day, result.provisional)


class TestHours:
    def test_hours_are_elapsed_time_with_no_roll_forward(self):
        """8 hours from 1 Oct 10:00 end 1 Oct 18:00, a holiday: hours do not roll."""
        assert Due(D(2026, 10, 1), at(2026, 10, 1, 18), provisional=False) == due(
            "8 hours", at(2026, 10, 1, 10)
        )

    def test_last_day_is_the_local_date_of_due_at(self):
        """30 hours from 1 Oct 20:00 end 3 Oct 02:00 local (2 Oct 18:00 UTC)."""
        result = due("30 hours", at(2026, 10, 1, 20))
        assert (D(2026, 10, 3), dt.datetime(2026, 10, 2, 18, tzinfo=dt.UTC)) == (
            result.last_day,
            result.due_at,
        )


class TestProvisional:
    def test_the_calendars_provisional_rule_decides_uncovered_days(self):
        """4 workdays from Mon 4 Jan 2027 under a Monday-Thursday rule: Mon 11 Jan, provisional."""
        assert Due(D(2027, 1, 11), end_of(D(2027, 1, 11)), provisional=True) == due(
            "4 workdays", at(2027, 1, 4, 9), FourDayWeek()
        )

    def test_a_rule_that_cannot_answer_falls_back_to_monday_friday(self):
        """A provisional rule raising LookupError never fails a deadline: Mon-Fri, Fri 8 Jan."""
        assert Due(D(2027, 1, 8), end_of(D(2027, 1, 8)), provisional=True) == due(
            "4 workdays", at(2027, 1, 4, 9), NoRule()
        )

    def test_period_into_2027_skips_new_years_day_provisionally(self):
        """10 workdays from Fri 25 Dec 2026: 元旦 Fri 1 Jan 2027 is off (放假办法 art. 2) -> Mon 11 Jan."""
        # Dec 28-31 (4), Jan 1 元旦, Jan 4-8 (9), Jan 11 (10).
        assert Due(D(2027, 1, 11), end_of(D(2027, 1, 11)), provisional=True) == due(
            "10 workdays", at(2026, 12, 25, 10)
        )

    def test_twenty_workdays_from_15_december_2026(self):
        """20 workdays (行政许可法 art. 42) from Tue 15 Dec 2026 end Wed 13 Jan 2027, provisional."""
        # Dec 16-18 (3), Dec 21-25 (8), Dec 28-31 (12), Jan 1 元旦 off (放假办法 art. 2),
        # Jan 4-8 (17), Jan 11-13 (20). Monday-Friday alone would have said Tue 12 Jan.
        assert Due(D(2027, 1, 13), end_of(D(2027, 1, 13)), provisional=True) == due(
            "20 workdays", at(2026, 12, 15, 10)
        )

    def test_overlay_for_2027_makes_it_exact(self):
        """With admin data making 1 Jan 2027 a holiday: 11 Jan, no longer provisional."""
        calendar = OverlayCalendar(CN, [CalendarOverlay(2027, frozenset({D(2027, 1, 1)}))])
        assert Due(D(2027, 1, 11), end_of(D(2027, 1, 11)), provisional=False) == due(
            "10 workdays", at(2026, 12, 25, 10), calendar
        )

    def test_overlay_make_up_workday_counts(self):
        """An admin make-up Sat 9 Jan 2027 (test data) is day 10: due 9 Jan."""
        overlay = CalendarOverlay(2027, frozenset({D(2027, 1, 1)}), frozenset({D(2027, 1, 9)}))
        calendar = OverlayCalendar(CN, [overlay])
        assert Due(D(2027, 1, 9), end_of(D(2027, 1, 9)), provisional=False) == due(
            "10 workdays", at(2026, 12, 25, 10), calendar
        )

    def test_days_period_ending_in_2027(self):
        """10 days from 22 Dec 2026 = 元旦 Fri 1 Jan 2027 rolls to Mon 4 Jan (民法典 art. 203)."""
        # Provisional by the statutory rule (放假办法 art. 2); exact with the overlay.
        calendar = OverlayCalendar(CN, [CalendarOverlay(2027, frozenset({D(2027, 1, 1)}))])
        assert Due(D(2027, 1, 4), end_of(D(2027, 1, 4)), provisional=True) == due(
            "10 days", at(2026, 12, 22, 10)
        )
        assert Due(D(2027, 1, 4), end_of(D(2027, 1, 4)), provisional=False) == due(
            "10 days", at(2026, 12, 22, 10), calendar
        )

    def test_only_classified_days_matter(self):
        """4 workdays from 25 Dec 2026 end on Thu 31 Dec: 2027 never looked at."""
        assert Due(D(2026, 12, 31), end_of(D(2026, 12, 31)), provisional=False) == due(
            "4 workdays", at(2026, 12, 25, 10)
        )

    def test_far_future_never_raises(self):
        """Years with no data anywhere still compute by the statutory rule, marked provisional."""
        # Fri 1 Jan 2100 is the uncounted start day; Jan 4-6 are days 1-3.
        result = due("3 workdays", at(2100, 1, 1))
        assert (D(2100, 1, 6), True) == (result.last_day, result.provisional)

    def test_past_the_lunar_tables_never_raises(self):
        """2101 (no lunar dates known): 元旦 Sat 1 Jan 2101 still made up on Mon 3 Jan (art. 6)."""
        result = due("3 workdays", at(2101, 1, 1))
        assert (D(2101, 1, 6), True) == (result.last_day, result.provisional)

    def test_paused_uncovered_days_are_not_classified(self):
        """Days skipped by a pause are never classified, so they cannot make it provisional."""
        # chinese_calendar starts in 2004: Wed 31 Dec 2003 is unknown, 1 Jan 2004 a holiday.
        pauses = [(D(2003, 12, 31), D(2004, 1, 1))]
        assert Due(D(2004, 1, 2), end_of(D(2004, 1, 2)), provisional=False) == due(
            "1 workdays", at(2003, 12, 30), pauses=pauses
        )
        assert Due(D(2003, 12, 31), end_of(D(2003, 12, 31)), provisional=True) == due(
            "1 workdays", at(2003, 12, 30)
        )


class TestStatutoryRule2027:
    """
    Periods across 2027's statutory holidays, by the cn provisional rule.

    The rest days are weekends, the holidays of 全国年节及纪念日放假办法 art. 2 and, for
    those on a weekend, the in-lieu weekday of art. 6. 2027 dates (sources in
    test_statutory_calendar.py): 元旦 Fri 1 Jan; 春节 除夕 Fri 5 Feb to 初三 Mon 8 Feb, in
    lieu of Sat 6 and Sun 7: Tue 9 and Wed 10 Feb; 清明 Mon 5 Apr; 劳动节 Sat 1 and Sun 2
    May, in lieu Mon 3 and Tue 4 May; 端午 Wed 9 Jun; 中秋 Wed 15 Sep; 国庆 Fri 1, Sat 2 and
    Sun 3 Oct, in lieu Mon 4 and Tue 5 Oct. No make-up working day (调休) is assumed.
    """

    def test_spring_festival(self):
        """3 workdays (行政许可法 art. 82) from Thu 4 Feb 2027: Feb 5-10 off (art. 2, 6) -> Mon 15 Feb."""
        # Feb 11 (1), Feb 12 (2), Feb 15 (3); Monday-Friday alone would say Tue 9 Feb.
        assert Due(D(2027, 2, 15), end_of(D(2027, 2, 15)), provisional=True) == due(
            "3 workdays", at(2027, 2, 4, 9)
        )

    def test_qingming(self):
        """1 workday from Fri 2 Apr 2027: 清明 Mon 5 Apr is off (art. 2) -> Tue 6 Apr."""
        assert D(2027, 4, 6) == due("1 workdays", at(2027, 4, 2, 9)).last_day

    def test_labour_day_on_a_weekend_is_made_up(self):
        """1 workday from Fri 30 Apr 2027: May 1-2 fall on the weekend, made up May 3-4 (art. 6) -> Wed 5 May."""
        assert D(2027, 5, 5) == due("1 workdays", at(2027, 4, 30, 9)).last_day

    def test_dragon_boat(self):
        """1 workday from Tue 8 Jun 2027: 端午 Wed 9 Jun is off (art. 2) -> Thu 10 Jun."""
        assert D(2027, 6, 10) == due("1 workdays", at(2027, 6, 8, 9)).last_day

    def test_mid_autumn(self):
        """1 workday from Tue 14 Sep 2027: 中秋 Wed 15 Sep is off (art. 2) -> Thu 16 Sep."""
        assert D(2027, 9, 16) == due("1 workdays", at(2027, 9, 14, 9)).last_day

    def test_national_day(self):
        """3 workdays from Thu 30 Sep 2027: Oct 1-3 off, Oct 4-5 in lieu (art. 2, 6) -> Fri 8 Oct."""
        assert Due(D(2027, 10, 8), end_of(D(2027, 10, 8)), provisional=True) == due(
            "3 workdays", at(2027, 9, 30, 9)
        )

    def test_days_period_ending_on_a_holiday_rolls_past_the_in_lieu_days(self):
        """10 days from Tue 21 Sep 2027 = 国庆 Fri 1 Oct: rolls to Wed 6 Oct (民法典 art. 203; art. 6)."""
        assert Due(D(2027, 10, 6), end_of(D(2027, 10, 6)), provisional=True) == due(
            "10 days", at(2027, 9, 21, 9)
        )

    def test_month_period_ending_on_new_years_eve(self):
        """1 month from Tue 5 Jan 2027 = 除夕 Fri 5 Feb (民法典 art. 202): rolls to Thu 11 Feb (art. 203)."""
        assert Due(D(2027, 2, 11), end_of(D(2027, 2, 11)), provisional=True) == due(
            "1 month", at(2027, 1, 5, 9)
        )

    def test_remaining_skips_the_spring_festival(self):
        """On Mon 1 Feb 2027, 7 working days are left up to Mon 15 Feb (Feb 1-4, 11, 12, 15)."""
        deadline = due("3 workdays", at(2027, 2, 4, 9))
        assert Remaining(7, "workdays", overdue=False, provisional=True) == remaining(
            deadline, at(2027, 2, 1, 9), CN
        )

    def test_warning_skips_national_day(self):
        """3 workdays before Fri 8 Oct 2027 is Thu 30 Sep: the warning is at its 24:00."""
        deadline = due("3 workdays", at(2027, 9, 30, 9))
        assert end_of(D(2027, 9, 30)) == warn_at(deadline, Duration(3, "workdays"), CN)

    def test_overlay_loaded_for_2027_replaces_the_rule(self, tmp_path):
        """With a 2027 overlay file (test data, not the real notice), the make-up Sat 9 Oct counts: Mon 11 Oct, exact."""
        path = tmp_path / "cn-2027.yaml"
        path.write_text(
            'years:\n  2027:\n    holidays: ["2027-10-01..2027-10-07"]\n'
            "    workdays: [2027-09-26, 2027-10-09]\n",
            encoding="utf-8",
        )
        calendar = load_calendar("cn", load_overlay(path))
        # Oct 8 (1), Sat Oct 9 make-up (2), Mon Oct 11 (3).
        assert Due(D(2027, 10, 11), end_of(D(2027, 10, 11)), provisional=False) == due(
            "3 workdays", at(2027, 9, 30, 9), calendar
        )

    def test_overlay_for_2027_leaves_2028_to_the_rule(self):
        """Past a 2027 overlay, 2028 uses cn's rule: 元旦 Sat 1 Jan 2028 made up on Mon 3 Jan (art. 6)."""
        calendar = OverlayCalendar(CN, [CalendarOverlay(2027)])
        # Thu 30 Dec 2027 start: Fri 31 Dec (1), Mon 3 Jan in lieu, Tue 4 Jan (2).
        assert Due(D(2028, 1, 4), end_of(D(2028, 1, 4)), provisional=True) == due(
            "2 workdays", at(2027, 12, 30, 9), calendar
        )


class TestValidation:
    def test_naive_start_is_rejected(self):
        """A start without a time zone is ambiguous: ValueError."""
        naive = dt.datetime(2026, 10, 1)  # noqa: DTZ001 - naive on purpose
        with pytest.raises(ValueError, match="timezone-aware"):
            compute_due(naive, Duration(3, "workdays"), CN)

    def test_negative_duration_is_rejected(self):
        """Durations built by hand with a negative amount are refused."""
        with pytest.raises(ValueError, match="negative"):
            compute_due(at(2026, 10, 1), Duration(-1, "days"), CN)


class TestWarnAt:
    def test_three_workdays_before(self):
        """Due Thu 29 Oct: warn at 24:00 Mon 26 Oct, leaving Oct 27, 28, 29."""
        twenty = due("20 workdays", at(2026, 9, 25, 10))
        assert end_of(D(2026, 10, 26)) == warn_at(twenty, Duration(3, "workdays"), CN)

    def test_workdays_before_across_a_holiday(self):
        """Due Sat 10 Oct: 3 workdays before is Wed 30 Sep (Oct 1-7 off), leaving 8, 9, 10 Oct."""
        three = due("3 workdays", at(2026, 10, 1, 9))
        assert end_of(D(2026, 9, 30)) == warn_at(three, Duration(3, "workdays"), CN)

    def test_days_before(self):
        """Due Thu 8 Oct: 2 days before is 24:00 Tue 6 Oct."""
        ten = due("10 days", at(2026, 9, 22, 11))
        assert end_of(D(2026, 10, 6)) == warn_at(ten, Duration(2, "days"), CN)

    def test_months_before_clamps(self):
        """Last day 31 Mar minus 1 month is 28 Feb (same-day clamp)."""
        deadline = Due(D(2026, 3, 31), end_of(D(2026, 3, 31)), provisional=False)
        assert end_of(D(2026, 2, 28)) == warn_at(deadline, Duration(1, "months"), CN)

    def test_hours_before(self):
        """Hours are subtracted from due_at."""
        deadline = due("20 workdays", at(2026, 9, 25, 10))
        assert at(2026, 10, 29, 20) == warn_at(deadline, Duration(4, "hours"), CN)

    def test_zero_is_due_at(self):
        """Nothing before: the warning is the deadline."""
        deadline = due("20 workdays", at(2026, 9, 25, 10))
        assert deadline.due_at == warn_at(deadline, Duration(0, "workdays"), CN)


class TestAfter:
    def test_two_workdays_after_due(self):
        """Due Thu 29 Oct; escalate after 2 workdays: Fri 30 Oct, Mon 2 Nov -> 24:00 2 Nov."""
        deadline = due("20 workdays", at(2026, 9, 25, 10))
        assert Due(D(2026, 11, 2), end_of(D(2026, 11, 2)), provisional=False) == after(
            deadline, Duration(2, "workdays"), CN
        )

    def test_after_across_national_day(self):
        """Due Wed 30 Sep; 2 workdays after skips Oct 1-7: Fri 9 Oct."""
        deadline = Due(D(2026, 9, 30), end_of(D(2026, 9, 30)), provisional=False)
        assert D(2026, 10, 9) == after(deadline, Duration(2, "workdays"), CN).last_day

    def test_zero_of_anything_is_the_due_itself(self):
        """after: 0 days / 0 workdays / 0 hours is the breach moment itself."""
        deadline = due("8 hours", at(2026, 10, 1, 10))
        for unit in ("days", "workdays", "months", "hours"):
            assert deadline is after(deadline, Duration(0, unit), CN)

    def test_hours_after(self):
        """Hours are added to due_at."""
        deadline = due("20 workdays", at(2026, 9, 25, 10))
        assert at(2026, 10, 30, 2) == after(deadline, Duration(2, "hours"), CN).due_at

    def test_provisional_is_kept(self):
        """A provisional due stays provisional after an escalation delay."""
        deadline = due("10 workdays", at(2026, 12, 25, 10))
        assert after(deadline, Duration(1, "days"), CN).provisional

    def test_after_into_unknown_year_becomes_provisional(self):
        """1 workday after Thu 31 Dec 2026 skips 元旦 Fri 1 Jan 2027 (放假办法 art. 2): Mon 4 Jan."""
        deadline = Due(D(2026, 12, 31), end_of(D(2026, 12, 31)), provisional=False)
        assert Due(D(2027, 1, 4), end_of(D(2027, 1, 4)), provisional=True) == after(
            deadline, Duration(1, "workdays"), CN
        )


class TestRemaining:
    DEADLINE = Due(D(2026, 10, 29), end_of(D(2026, 10, 29)), provisional=False)

    def test_working_days_left_include_today(self):
        """On Mon 26 Oct, 26-29 Oct are left: 4 working days."""
        assert Remaining(4, "workdays", overdue=False, provisional=False) == remaining(
            self.DEADLINE, at(2026, 10, 26, 10), CN
        )

    def test_last_day(self):
        """On the last day one working day (today) is left."""
        assert Remaining(1, "workdays", overdue=False, provisional=False) == remaining(
            self.DEADLINE, at(2026, 10, 29, 23, 59), CN
        )

    def test_across_national_day(self):
        """On Wed 30 Sep with due Sat 10 Oct: 30 Sep, 8, 9, 10 Oct are left."""
        deadline = due("3 workdays", at(2026, 10, 1, 9))
        assert 4 == remaining(deadline, at(2026, 9, 30, 9), CN).amount

    def test_overdue(self):
        """At due_at the case is overdue; Fri 30 Oct is -1, Sat 31 Oct still -1, Mon 2 Nov -2."""
        assert Remaining(-1, "workdays", overdue=True, provisional=False) == remaining(
            self.DEADLINE, at(2026, 10, 30), CN
        )
        assert -1 == remaining(self.DEADLINE, at(2026, 10, 31, 12), CN).amount
        assert -2 == remaining(self.DEADLINE, at(2026, 11, 2, 12), CN).amount

    def test_overdue_on_rest_day_right_after(self):
        """Due Fri 6 Nov; on Sat 7 Nov it is overdue by 0 working days: overdue tells."""
        deadline = Due(D(2026, 11, 6), end_of(D(2026, 11, 6)), provisional=False)
        assert Remaining(0, "workdays", overdue=True, provisional=False) == remaining(
            deadline, at(2026, 11, 7, 9), CN
        )

    def test_calendar_days(self):
        """Days and months periods count calendar days: 1 Oct to 8 Oct is 8 days."""
        deadline = due("10 days", at(2026, 9, 22, 11))
        assert Remaining(8, "days", overdue=False, provisional=False) == remaining(
            deadline, at(2026, 10, 1), CN, unit="days"
        )
        assert Remaining(-2, "days", overdue=True, provisional=False) == remaining(
            deadline, at(2026, 10, 10), CN, unit="months"
        )

    def test_hours(self):
        """Whole hours left, rounded down; negative once overdue."""
        deadline = due("8 hours", at(2026, 10, 1, 10))
        assert Remaining(2, "hours", overdue=False, provisional=False) == remaining(
            deadline, at(2026, 10, 1, 15, 30), CN, unit="hours"
        )
        assert Remaining(-1, "hours", overdue=True, provisional=False) == remaining(
            deadline, at(2026, 10, 1, 18, 30), CN, unit="hours"
        )

    def test_naive_now_is_rejected(self):
        """now must be aware."""
        with pytest.raises(ValueError, match="timezone-aware"):
            remaining(self.DEADLINE, dt.datetime(2026, 10, 1), CN)  # noqa: DTZ001


# --- properties ------------------------------------------------------------------------

# Hypothesis takes naive bounds and attaches the time zone itself.
starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(SHANGHAI),
)
small = st.integers(min_value=0, max_value=60)


def classify(day: dt.date) -> bool:
    """What the period code must have decided for ``day``: cn data, else cn's provisional rule."""
    return CN.is_workday(day) if CN.covers(day) else CN.provisional_is_workday(day)


class TestProperties:
    @given(start=starts, amount=small)
    def test_one_more_workday_is_strictly_later(self, start, amount):
        """N+1 workdays always end strictly after N workdays."""
        shorter = compute_due(start, Duration(amount, "workdays"), CN)
        longer = compute_due(start, Duration(amount + 1, "workdays"), CN)
        assert shorter.due_at < longer.due_at

    @given(start=starts, amount=st.integers(min_value=1, max_value=60))
    def test_last_day_of_a_workday_period_is_a_workday(self, start, amount):
        """The last day of N >= 1 workdays is a working day, after the start date."""
        result = compute_due(start, Duration(amount, "workdays"), CN)
        assert classify(result.last_day)
        assert result.last_day > start.date()

    @given(
        start=starts,
        duration=st.one_of(
            st.builds(Duration, st.integers(min_value=1, max_value=60), st.just("days")),
            st.builds(Duration, st.integers(min_value=1, max_value=12), st.just("months")),
            st.builds(Duration, st.integers(min_value=1, max_value=60), st.just("workdays")),
        ),
    )
    def test_day_periods_end_on_a_workday_at_16_utc(self, start, duration):
        """Day, month and workday periods end on a working day at 16:00 UTC (24:00 Shanghai)."""
        result = compute_due(start, duration, CN)
        assert classify(result.last_day)
        assert result.last_day > start.date()
        assert (dt.time(16, 0), dt.UTC) == (result.due_at.time(), result.due_at.tzinfo)
        assert result.due_at.date() == result.last_day

    @given(start=starts, first=small, second=small)
    def test_extension_is_additive(self, start, first, second):
        """Counting N+M workdays equals counting M more from the N-th day."""
        whole = compute_due(start, Duration(first + second, "workdays"), CN)
        parts = after(
            compute_due(start, Duration(first, "workdays"), CN), Duration(second, "workdays"), CN
        )
        assert (whole.last_day, whole.due_at) == (parts.last_day, parts.due_at)

    @given(start=starts, amount=st.integers(min_value=1, max_value=40), before=small)
    def test_warning_leaves_exactly_n_workdays(self, start, amount, before):
        """At warn_at(N workdays), remaining() reports N working days (when N fits)."""
        deadline = compute_due(start, Duration(amount, "workdays"), CN)
        warning = warn_at(deadline, Duration(before, "workdays"), CN)
        assert warning <= deadline.due_at
        if warning < deadline.due_at:
            assert before == remaining(deadline, warning, CN).amount

    @given(start=starts, amount=st.integers(min_value=1, max_value=60))
    def test_provisional_iff_the_period_reaches_an_unknown_year(self, start, amount):
        """Workday periods are provisional exactly when they reach past 2026."""
        result = compute_due(start, Duration(amount, "workdays"), CN)
        assert (result.last_day.year >= 2027) == result.provisional
