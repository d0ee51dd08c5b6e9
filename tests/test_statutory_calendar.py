"""
The ``cn`` provisional rule: the rest days the law fixes, for years without a schedule.

The law is 全国年节及纪念日放假办法 (State Council, 2024 revision, in force 1 January
2025): art. 2 lists the holidays for all citizens, art. 6 makes up (补假) on a working
day each of them that falls on a Saturday or Sunday. The make-up working days (调休) of
the State Council's yearly notice are not law and are never assumed.

Where each expected date comes from:

- 元旦 1 Jan, 劳动节 1-2 May, 国庆节 1-3 Oct: art. 2 itself.
- 除夕, 正月初一, 端午 (lunar 5/5), 中秋 (lunar 8/15): the published Chinese calendar,
  checked while writing these tests against two lunar libraries independent of the
  ``holidays`` package the plugin uses: ``lunardate`` 0.3.0 and ``lunar-python`` 1.4.8.
  Both give 2027: 初一 Sat 6 Feb (so 除夕, the day before, Fri 5 Feb), 端午 Wed 9 Jun,
  中秋 Wed 15 Sep; 2028: 初一 Wed 26 Jan, 端午 Sun 28 May, 中秋 Tue 3 Oct; 2039: 初一 Mon
  24 Jan, 端午 Fri 27 May, 中秋 Sun 2 Oct.
- 清明 (a solar term): ``chinese_calendar.get_solar_terms``, asserted live below
  (2027: Mon 5 Apr; 2028: Tue 4 Apr), and ``lunar-python``.
- Weekdays: Python's calendar.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import holidays
import pytest
from caseflow_cn_calendar import (
    ChineseCalendar,
    in_lieu_days,
    provisional_rest_days,
    statutory_holidays,
)
from caseflow_cn_calendar import statutory as statutory_module
from hypothesis import given
from hypothesis import strategies as st

D = dt.date
CN = ChineseCalendar()
RULE_YEARS = range(2025, 2101)  # the 2024 revision, while holidays has lunar tables


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` to ``last`` inclusive."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def statutory_set(year: int) -> set[dt.date]:
    """Every day of art. 2's holidays in ``year``."""
    return {day for dates in statutory_holidays(year).values() for day in dates}


class TestStatutoryHolidays:
    def test_2027_by_article_2(self):
        """放假办法 art. 2 in 2027: 元旦 Fri 1 Jan; 春节 除夕 Fri 5 Feb-初三 Mon 8 Feb; 清明 Mon 5 Apr; 劳动节 Sat 1-Sun 2 May; 端午 Wed 9 Jun; 中秋 Wed 15 Sep; 国庆 Fri 1-Sun 3 Oct."""
        expected = {
            "元旦": (D(2027, 1, 1),),
            "春节": (D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8)),
            "清明节": (D(2027, 4, 5),),
            "劳动节": (D(2027, 5, 1), D(2027, 5, 2)),
            "端午节": (D(2027, 6, 9),),
            "中秋节": (D(2027, 9, 15),),
            "国庆节": (D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)),
        }
        assert expected == statutory_holidays(2027)
        assert list(expected) == list(statutory_holidays(2027))  # art. 2's order

    def test_2027_weekdays(self):
        """The 2027 weekdays the in-lieu rule (art. 6) depends on, from Python's calendar."""
        named = [D(2027, 1, 1), D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8)]
        named += [D(2027, 4, 5), D(2027, 5, 1), D(2027, 5, 2), D(2027, 6, 9), D(2027, 9, 15)]
        named += [D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)]
        expected = ["Fri", "Fri", "Sat", "Sun", "Mon", "Mon", "Sat", "Sun", "Wed", "Wed"]
        expected += ["Fri", "Sat", "Sun"]
        assert expected == [d.strftime("%a") for d in named]

    def test_2028_by_article_2(self):
        """放假办法 art. 2 in 2028: 除夕 Tue 25 Jan, 清明 Tue 4 Apr, 端午 Sun 28 May, 中秋 Tue 3 Oct (also 国庆)."""
        expected = {
            "元旦": (D(2028, 1, 1),),
            "春节": (D(2028, 1, 25), D(2028, 1, 26), D(2028, 1, 27), D(2028, 1, 28)),
            "清明节": (D(2028, 4, 4),),
            "劳动节": (D(2028, 5, 1), D(2028, 5, 2)),
            "端午节": (D(2028, 5, 28),),
            "中秋节": (D(2028, 10, 3),),
            "国庆节": (D(2028, 10, 1), D(2028, 10, 2), D(2028, 10, 3)),
        }
        assert expected == statutory_holidays(2028)

    @pytest.mark.parametrize(("year", "expected"), [(2027, D(2027, 4, 5)), (2028, D(2028, 4, 4))])
    def test_qingming_is_the_solar_term(self, year, expected):
        """清明节 is 农历清明当日 (art. 2): chinese_calendar's solar-term formula agrees."""
        terms = chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 30))
        assert [expected] == [day for day, name in terms if name == "清明"]
        assert (expected,) == statutory_holidays(year)["清明节"]

    def test_qingming_agrees_with_chinese_calendar_2025_to_2100(self):
        """For every year the rule is computed for, 清明节 is chinese_calendar's 清明 (art. 2)."""
        disagree = [
            year
            for year in RULE_YEARS
            if [
                day
                for day, name in chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 30))
                if name == "清明"
            ]
            != list(statutory_holidays(year)["清明节"])
        ]
        assert [] == disagree

    def test_every_year_has_all_thirteen_days(self):
        """2025-2100: all seven holidays of art. 2, 13 days, 春节 four days in a row from 除夕."""
        for year in RULE_YEARS:
            found = statutory_holidays(year)
            spring = found["春节"]
            assert (7, 13) == (len(found), sum(len(v) for v in found.values())), year
            assert [spring[0] + dt.timedelta(days=n) for n in range(4)] == list(spring), year

    def test_years_before_the_2024_revision_are_refused(self):
        """2024 and before followed earlier revisions (e.g. 3-day 春节): ValueError."""
        with pytest.raises(ValueError, match="2024"):
            statutory_holidays(2024)

    def test_after_the_lunar_tables_only_fixed_dates(self):
        """2101: the holidays package has no lunar dates; the fixed-date holidays remain."""
        assert ["元旦", "劳动节", "国庆节"] == list(statutory_holidays(2101))


class TestInLieuDays:
    def test_2027_by_article_6(self):
        """放假办法 art. 6 in 2027: 春节 Sat 6/Sun 7 Feb -> Tue 9, Wed 10 Feb; 劳动节 -> Mon 3, Tue 4 May; 国庆 Sat 2/Sun 3 Oct -> Mon 4, Tue 5 Oct."""
        expected = (D(2027, 2, 9), D(2027, 2, 10), D(2027, 5, 3), D(2027, 5, 4))
        expected += (D(2027, 10, 4), D(2027, 10, 5))
        assert expected == in_lieu_days(2027)

    def test_2028_a_shared_weekday_is_not_made_up(self):
        """Art. 6 in 2028: 元旦 Sat -> Mon 3 Jan, 端午 Sun 28 May -> Mon 29 May, 国庆 Sun 1 Oct -> Wed 4 Oct; 中秋 on Tue 3 Oct (also 国庆) gets none."""
        assert (D(2028, 1, 3), D(2028, 5, 29), D(2028, 10, 4)) == in_lieu_days(2028)

    def test_2039_a_shared_sunday_is_made_up_twice(self):
        """Art. 6 in 2039: 中秋 and 国庆 both on Sun 2 Oct, 国庆 on Sat 1 Oct: Oct 4, 5 and 6 (each holiday counts)."""
        expected = (D(2039, 1, 3), D(2039, 1, 27), D(2039, 5, 3))  # 元旦 Sat, 除夕 Sun, 劳动节 Sun
        expected += (D(2039, 10, 4), D(2039, 10, 5), D(2039, 10, 6))
        assert expected == in_lieu_days(2039)

    def test_in_lieu_days_are_weekdays_of_the_year_that_are_not_holidays(self):
        """2025-2100: every in-lieu day (art. 6) is a working day of the same year, one per weekend holiday day."""
        for year in RULE_YEARS:
            lieu = in_lieu_days(year)
            entries = [d for v in statutory_holidays(year).values() for d in v]
            assert len(lieu) == len(set(lieu)) == sum(1 for d in entries if d.weekday() >= 5)
            assert [] == [d for d in lieu if d.year != year or d.weekday() >= 5], year
            assert set() == set(lieu) & statutory_set(year), year

    def test_agrees_with_the_holidays_packages_observed_days(self):
        """2025-2100: the days holidays marks 补假 (observed, SAT_SUN_TO_NEXT_WORKDAY) are art. 6's in-lieu days."""
        disagree = []
        for year in RULE_YEARS:
            with_observed = holidays.country_holidays("CN", years=year, observed=True)
            without = holidays.country_holidays("CN", years=year, observed=False)
            if tuple(sorted(set(with_observed) - set(without))) != in_lieu_days(year):
                disagree.append(year)
        assert [] == disagree

    def test_2025_and_2026_match_the_official_schedules(self):
        """The published 2025/2026 schedules give these in-lieu days off: 2 Jun 2025 (端午 Sat 31 May); 6 Apr, 4 May, 5 Oct 2026."""
        assert (D(2025, 6, 2),) == in_lieu_days(2025)
        assert (D(2026, 4, 6), D(2026, 5, 4), D(2026, 10, 5)) == in_lieu_days(2026)
        assert [] == [d for d in (D(2025, 6, 2), *in_lieu_days(2026)) if CN.is_workday(d)]


class TestProvisionalRule:
    def test_2027_weekday_rest_days(self):
        """The 13 weekdays of 2027 that are rest days by law alone (art. 2 on weekdays, art. 6)."""
        expected = [D(2027, 1, 1), D(2027, 2, 5), D(2027, 2, 8), D(2027, 2, 9), D(2027, 2, 10)]
        expected += [D(2027, 4, 5), D(2027, 5, 3), D(2027, 5, 4), D(2027, 6, 9), D(2027, 9, 15)]
        expected += [D(2027, 10, 1), D(2027, 10, 4), D(2027, 10, 5)]
        year = days(D(2027, 1, 1), D(2027, 12, 31))
        assert expected == [d for d in year if d.weekday() < 5 and not CN.provisional_is_workday(d)]
        assert frozenset(expected) == provisional_rest_days(2027)

    def test_no_make_up_working_day_is_invented(self):
        """Every Saturday and Sunday of 2027 is a rest day: 调休 is in the notice, not the law."""
        year = days(D(2027, 1, 1), D(2027, 12, 31))
        assert [] == [d for d in year if d.weekday() >= 5 and CN.provisional_is_workday(d)]

    def test_ordinary_weekdays_work(self):
        """Thu 11 Feb 2027 (after the in-lieu days) and Wed 6 Oct 2027 are working days."""
        assert (True, True) == (
            CN.provisional_is_workday(D(2027, 2, 11)),
            CN.provisional_is_workday(D(2027, 10, 6)),
        )

    def test_before_2025_monday_to_friday(self):
        """Earlier revisions are not modelled: Wed 1 Jan 2003 is a weekday like any other."""
        assert CN.provisional_is_workday(D(2003, 1, 1))

    def test_the_holidays_package_is_asked_once_per_year(self, monkeypatch):
        """The rule is built once per year and then looked up (period arithmetic asks per day)."""
        calls: list[int] = []
        real = holidays.country_holidays

        def counting(country, **kwargs):
            calls.append(kwargs["years"])
            return real(country, **kwargs)

        monkeypatch.setattr(statutory_module.holidays, "country_holidays", counting)
        calendar = ChineseCalendar()
        for day in [*days(D(2027, 1, 1), D(2027, 12, 31)), *days(D(2028, 1, 1), D(2028, 1, 31))]:
            calendar.provisional_is_workday(day)
        assert [2027, 2028] == calls

    @given(st.dates(min_value=D(2025, 1, 1), max_value=D(2100, 12, 31)))
    def test_a_statutory_day_is_never_a_working_day(self, day):
        """Art. 2's holidays (and every weekend day) are never counted as working days."""
        if day in statutory_set(day.year) or day.weekday() >= 5:
            assert not CN.provisional_is_workday(day)

    @given(st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 12, 31)))
    def test_official_years_rest_on_every_day_the_law_rests(self, day):
        """2025-2026 (official): a weekday the rule rests on is a rest day in chinese_calendar too."""
        if day.weekday() < 5 and not CN.provisional_is_workday(day):
            assert not chinese_calendar.is_workday(day)

    @pytest.mark.parametrize("year", [2025, 2026])
    def test_official_schedule_rests_on_every_statutory_day(self, year):
        """Every art. 2 holiday and art. 6 in-lieu day of 2025/2026 is a rest day in the published schedule."""
        law = sorted(statutory_set(year) | set(in_lieu_days(year)))
        assert [] == [d for d in law if chinese_calendar.is_workday(d)]
        assert [] == [d for d in law if CN.provisional_is_workday(d)]


class TestOfficialYears:
    def test_published_years(self):
        """chinesecalendar 1.11 has the schedules of 2004-2026 (2027 is published late in 2026)."""
        assert range(2004, 2027) == ChineseCalendar.official_years()

    def test_covers_year_matches_official_years(self):
        """covers_year is true exactly for the official years."""
        calendar = ChineseCalendar()
        official = ChineseCalendar.official_years()
        years = range(official.start - 2, official.stop + 2)
        assert [y in official for y in years] == [calendar.covers_year(y) for y in years]
