"""Calendars: the built-in weekdays, the ``cn`` plugin, admin overlays and lookup by name."""

from __future__ import annotations

import datetime as dt
import json
from importlib.metadata import EntryPoint

import chinese_calendar
import pytest
from caseflow_cn_calendar import ChineseCalendar

from caseflow.abc import Calendar
from caseflow.clocks import calendars
from caseflow.clocks.calendars import (
    CalendarOverlay,
    OverlayCalendar,
    WeekdayCalendar,
    load_calendar,
    load_overlay,
    year_status,
)
from caseflow.errors import DefinitionError

D = dt.date


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` to ``last`` inclusive."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


class FirstHalfOf2027(Calendar):
    """Test calendar: data for Jan-Jun 2027 only (Monday-Friday); no provisional rule."""

    def covers(self, day: dt.date) -> bool:
        return day.year == 2027 and day.month <= 6

    def is_workday(self, day: dt.date) -> bool:
        return day.weekday() < 5


class FourDayWeek(Calendar):
    """Test calendar: covers nothing; its provisional rule is Monday-Thursday."""

    def covers(self, day: dt.date) -> bool:
        return False

    def is_workday(self, day: dt.date) -> bool:
        raise LookupError(day.isoformat())

    def provisional_is_workday(self, day: dt.date) -> bool:
        return day.weekday() < 4


class TestCalendarDefaults:
    def test_provisional_rule_defaults_to_monday_to_friday(self):
        """Without an override, Mon 4-Fri 8 Jan 2027 work and Sat 9-Sun 10 rest."""
        week = days(D(2027, 1, 4), D(2027, 1, 10))
        calendar = FirstHalfOf2027()
        assert [True, True, True, True, True, False, False] == [
            calendar.provisional_is_workday(d) for d in week
        ]

    def test_covers_year_needs_every_day(self):
        """The default covers_year asks covers() for each day: a half-covered 2027 is not."""
        calendar = FirstHalfOf2027()
        assert (False, False) == (calendar.covers_year(2027), calendar.covers_year(2026))

    def test_covers_year_of_a_fully_covered_year(self):
        """An overlay year is covered as a whole, even over a base that knows nothing."""
        calendar = OverlayCalendar(FourDayWeek(), [CalendarOverlay(2027)])
        assert (True, False) == (calendar.covers_year(2027), calendar.covers_year(2028))


class TestChineseCalendarFacts:
    """The 2026 facts the period tests rely on, straight from chinese_calendar."""

    @pytest.mark.parametrize(
        ("first", "last"),
        [
            (D(2026, 2, 15), D(2026, 2, 23)),  # Spring Festival
            (D(2026, 5, 1), D(2026, 5, 5)),  # Labour Day
            (D(2026, 9, 25), D(2026, 9, 27)),  # Mid-Autumn
            (D(2026, 10, 1), D(2026, 10, 7)),  # National Day
        ],
    )
    def test_holidays_2026(self, first, last):
        """Every day of these 2026 holidays is a rest day."""
        assert [] == [d for d in days(first, last) if chinese_calendar.is_workday(d)]

    def test_make_up_workdays_2026(self):
        """The 2026 weekend working days are exactly Jan 4, Feb 14, Feb 28, May 9, Sep 20, Oct 10."""
        expected = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9)]
        expected += [D(2026, 9, 20), D(2026, 10, 10)]
        weekend_workdays = [
            d
            for d in days(D(2026, 1, 1), D(2026, 12, 31))
            if d.weekday() >= 5 and chinese_calendar.is_workday(d)
        ]
        assert expected == weekend_workdays

    def test_2027_is_unknown_to_the_library(self):
        """chinese_calendar raises NotImplementedError for 2027 (hence provisional periods)."""
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(D(2027, 1, 4))


class TestChineseCalendarPlugin:
    def test_is_a_calendar_named_cn(self):
        """The plugin implements the Calendar ABC under the name cn."""
        calendar = ChineseCalendar()
        assert (True, "cn") == (isinstance(calendar, Calendar), calendar.name)

    def test_agrees_with_the_library_for_all_of_2026(self):
        """is_workday is chinese_calendar.is_workday on every covered day."""
        calendar = ChineseCalendar()
        year = days(D(2026, 1, 1), D(2026, 12, 31))
        assert [chinese_calendar.is_workday(d) for d in year] == [
            calendar.is_workday(d) for d in year
        ]

    def test_make_up_day_and_holiday(self):
        """Sat 10 Oct 2026 is a working day, Thu 1 Oct 2026 is not."""
        calendar = ChineseCalendar()
        assert (True, False) == (
            calendar.is_workday(D(2026, 10, 10)),
            calendar.is_workday(D(2026, 10, 1)),
        )

    def test_covers_only_years_with_data(self):
        """2004-2026 are covered; 2003 and 2027 are not, and covers() never raises."""
        calendar = ChineseCalendar()
        covered = [calendar.covers(D(y, 6, 1)) for y in (2003, 2004, 2026, 2027, 2100)]
        assert [False, True, True, False, False] == covered

    def test_coverage_is_cached_per_year(self, monkeypatch):
        """The library is asked once per year, whether it knows the year or not."""
        calls: list[int] = []
        real = chinese_calendar.get_workdays

        def counting(start, end, **kwargs):
            calls.append(start.year)
            return real(start, end, **kwargs)

        monkeypatch.setattr(chinese_calendar, "get_workdays", counting)
        calendar = ChineseCalendar()
        for day in [*days(D(2027, 1, 1), D(2027, 1, 10)), *days(D(2026, 10, 1), D(2026, 10, 12))]:
            calendar.covers(day)
            if calendar.covers(day):
                calendar.is_workday(day)
        assert [2027, 2026] == calls

    def test_uncovered_day_raises_lookup_error(self):
        """is_workday on an uncovered day raises LookupError, as the ABC documents."""
        with pytest.raises(LookupError, match="2027"):
            ChineseCalendar().is_workday(D(2027, 1, 4))

    def test_registered_entry_point(self):
        """load_calendar('cn') finds the installed plugin through its entry point."""
        assert ChineseCalendar is type(load_calendar("cn"))


class TestWeekdayCalendar:
    def test_monday_to_friday(self):
        """Mon-Fri work, Sat-Sun rest, holidays or not."""
        week = days(D(2026, 9, 28), D(2026, 10, 4))
        calendar = WeekdayCalendar()
        assert [True, True, True, True, True, False, False] == [
            calendar.is_workday(d) for d in week
        ]

    def test_covers_everything(self):
        """Every day is covered."""
        assert WeekdayCalendar().covers(D(2999, 12, 31))


class TestCalendarOverlay:
    def test_holidays_and_make_up_days(self):
        """Weekday and not a holiday, or a listed make-up working day."""
        overlay = CalendarOverlay(2027, frozenset({D(2027, 1, 1)}), frozenset({D(2027, 1, 9)}))
        calendar = OverlayCalendar(ChineseCalendar(), [overlay])
        week = days(D(2027, 1, 1), D(2027, 1, 10))
        expected = [False, False, False, True, True, True, True, True, True, False]
        assert expected == [calendar.is_workday(d) for d in week]

    def test_overlay_year_becomes_covered(self):
        """2027 is covered with an overlay; 2028 still is not."""
        calendar = OverlayCalendar(ChineseCalendar(), [CalendarOverlay(2027)])
        assert (True, False) == (calendar.covers(D(2027, 5, 1)), calendar.covers(D(2028, 5, 1)))

    def test_base_wins_where_it_has_data(self):
        """An overlay cannot contradict the published schedule of a year the base covers."""
        overlay = CalendarOverlay(2026, holidays=frozenset({D(2026, 10, 10)}))
        calendar = OverlayCalendar(ChineseCalendar(), [overlay])
        assert calendar.is_workday(D(2026, 10, 10))

    def test_uncovered_day_raises_lookup_error(self):
        """Outside base and overlays, is_workday raises LookupError."""
        calendar = OverlayCalendar(ChineseCalendar(), [CalendarOverlay(2027)])
        with pytest.raises(LookupError):
            calendar.is_workday(D(2028, 1, 3))

    def test_keeps_the_base_name(self):
        """The wrapped calendar is still called by its base's name."""
        assert "cn" == OverlayCalendar(ChineseCalendar(), []).name

    def test_two_overlays_for_one_year_are_refused(self):
        """A year given twice is ambiguous: ValueError."""
        with pytest.raises(ValueError, match="2027"):
            OverlayCalendar(WeekdayCalendar(), [CalendarOverlay(2027), CalendarOverlay(2027)])

    def test_date_outside_the_year_is_refused(self):
        """An overlay's dates must lie in its year."""
        with pytest.raises(ValueError, match="outside 2027"):
            CalendarOverlay(2027, holidays=frozenset({D(2028, 1, 1)}))

    def test_date_both_holiday_and_workday_is_refused(self):
        """A day cannot be both a holiday and a make-up working day."""
        with pytest.raises(ValueError, match="both"):
            CalendarOverlay(2027, frozenset({D(2027, 1, 2)}), frozenset({D(2027, 1, 2)}))

    def test_provisional_rule_is_the_bases(self):
        """Outside its overlays, an OverlayCalendar uses its base's provisional rule."""
        calendar = OverlayCalendar(FourDayWeek(), [CalendarOverlay(2027)])
        friday = D(2028, 1, 7)
        assert (False, False) == (calendar.covers(friday), calendar.provisional_is_workday(friday))

    def test_weekday_calendar_covers_every_year(self):
        """WeekdayCalendar covers every year (cheaply, without asking day by day)."""
        assert (True, True) == (
            WeekdayCalendar().covers_year(1900),
            WeekdayCalendar().covers_year(2999),
        )


OVERLAY_YAML = """\
# admin test data, not the published 2027 schedule
years:
  2027:
    holidays: [2027-01-01, "2027-10-01..2027-10-07"]
    workdays: [2027-10-09]
  "2028":
    holidays: ["2028-01-01"]
"""


class TestLoadOverlay:
    def test_yaml_with_dates_and_ranges(self, tmp_path):
        """Unquoted dates, quoted dates, inclusive ranges and quoted years all load."""
        path = tmp_path / "cn-2027.yaml"
        path.write_text(OVERLAY_YAML, encoding="utf-8")
        expected = [
            CalendarOverlay(
                2027,
                frozenset({D(2027, 1, 1), *days(D(2027, 10, 1), D(2027, 10, 7))}),
                frozenset({D(2027, 10, 9)}),
            ),
            CalendarOverlay(2028, frozenset({D(2028, 1, 1)})),
        ]
        assert expected == load_overlay(path)

    def test_json(self, tmp_path):
        """The same shape as JSON."""
        path = tmp_path / "cn-2027.json"
        document = {"years": {"2027": {"holidays": ["2027-01-01"], "workdays": []}}}
        path.write_text(json.dumps(document), encoding="utf-8")
        assert [CalendarOverlay(2027, frozenset({D(2027, 1, 1)}))] == load_overlay(str(path))

    def test_year_with_no_lists(self, tmp_path):
        """A year with nothing under it is Monday-Friday with no holidays, but covered."""
        path = tmp_path / "o.yaml"
        path.write_text("years:\n  2027:\n", encoding="utf-8")
        assert [CalendarOverlay(2027)] == load_overlay(path)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("holidays: []\n", "one key, 'years'"),
            ("years: []\n", "'years' must map"),
            ("years: {}\n", "'years' must map"),
            ("years:\n  27:\n    holidays: []\n", "four digits"),
            ("years:\n  2027: [2027-01-01]\n", "years.2027: must be a mapping"),
            ("years:\n  2027:\n    holiday: []\n", "unknown key(s) holiday"),
            ("years:\n  2027:\n    holidays: 2027-01-01\n", "must be a list"),
            (
                "years:\n  2027:\n    holidays: [2027-13-01]\n",
                "invalid date: month must be in 1..12",
            ),
            (
                "years:\n  2027:\n    holidays: ['2027-02-30']\n",
                "years.2027.holidays[0]: '2027-02-30'",
            ),
            ("years:\n  2027:\n    holidays: [20270101]\n", "is not a date"),
            ("years:\n  2027:\n    holidays: ['2027-1-1']\n", "'2027-1-1' is not a date"),
            ("years:\n  2027:\n    holidays: ['2027-10-07..2027-10-01']\n", "ends before"),
            ("years:\n  2027:\n    holidays: [2027-01-01 10:00:00]\n", "time of day"),
            ("years:\n  2027:\n    holidays: [2028-01-01]\n", "outside 2027"),
            (
                "years:\n  2027:\n    holidays: [2027-01-02]\n    workdays: [2027-01-02]\n",
                "both",
            ),
            ("years:\n  2027: {}\n  2027: {}\n", "not valid YAML:"),
            ("years: [unclosed\n", "not valid YAML:"),
            ("", "one key, 'years'"),
        ],
    )
    def test_bad_files_raise_definition_error_naming_the_file(self, tmp_path, text, message):
        """Each problem is a DefinitionError with the file name and what is wrong."""
        path = tmp_path / "bad.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DefinitionError) as info:
            load_overlay(path)
        assert str(path) in str(info.value)
        assert message in str(info.value)

    def test_bad_json(self, tmp_path):
        """Malformed JSON is a DefinitionError too."""
        path = tmp_path / "bad.json"
        path.write_text("{years", encoding="utf-8")
        with pytest.raises(DefinitionError, match=r"bad\.json: not valid JSON"):
            load_overlay(path)

    def test_missing_file(self, tmp_path):
        """A missing file is a DefinitionError naming it."""
        with pytest.raises(DefinitionError, match=r"missing\.yaml: cannot read"):
            load_overlay(tmp_path / "missing.yaml")


class NotACalendar:
    """Something an entry point might wrongly name."""


class TestLoadCalendar:
    @staticmethod
    def _entry_points(monkeypatch, *points: EntryPoint) -> None:
        def fake(*, group: str) -> list[EntryPoint]:
            assert "caseflow.calendars" == group
            return list(points)

        monkeypatch.setattr(calendars, "entry_points", fake)

    def test_weekdays_without_entry_points(self, monkeypatch):
        """weekdays is built in: it works with no entry points installed."""
        self._entry_points(monkeypatch)
        assert WeekdayCalendar is type(load_calendar("weekdays"))

    def test_weekdays_through_the_entry_point(self):
        """caseflow registers weekdays in its own pyproject."""
        assert WeekdayCalendar is type(load_calendar("weekdays"))

    def test_unknown_name_lists_the_known_ones(self, monkeypatch):
        """LookupError names the calendar asked for and every known name."""
        self._entry_points(
            monkeypatch,
            EntryPoint("cn", "caseflow_cn_calendar:ChineseCalendar", "caseflow.calendars"),
        )
        with pytest.raises(
            LookupError, match=r"unknown calendar 'hk'; known calendars: cn, weekdays"
        ):
            load_calendar("hk")

    def test_only_the_named_entry_point_is_loaded(self, monkeypatch):
        """Loading is lazy: a broken plugin does not stop others from loading."""
        self._entry_points(
            monkeypatch,
            EntryPoint("broken", "no_such_module_for_caseflow:Thing", "caseflow.calendars"),
            EntryPoint("cn", "caseflow_cn_calendar:ChineseCalendar", "caseflow.calendars"),
        )
        assert ChineseCalendar is type(load_calendar("cn"))
        with pytest.raises(ImportError):
            load_calendar("broken")

    def test_entry_point_must_name_a_calendar_class(self, monkeypatch):
        """An entry point naming something else is a TypeError, not a silent misuse."""
        self._entry_points(
            monkeypatch, EntryPoint("odd", f"{__name__}:NotACalendar", "caseflow.calendars")
        )
        with pytest.raises(TypeError, match=r"does not name a caseflow\.abc\.Calendar subclass"):
            load_calendar("odd")

    def test_instance_is_returned_as_is(self):
        """An instance passes straight through."""
        calendar = ChineseCalendar()
        assert calendar is load_calendar(calendar)

    def test_instance_with_overlays_is_wrapped(self):
        """With overlays, the calendar is wrapped in an OverlayCalendar."""
        calendar = ChineseCalendar()
        loaded = load_calendar(calendar, [CalendarOverlay(2027, frozenset({D(2027, 1, 1)}))])
        assert isinstance(loaded, OverlayCalendar)
        assert (calendar, False, True) == (
            loaded.base,
            loaded.is_workday(D(2027, 1, 1)),
            loaded.covers(D(2027, 1, 1)),
        )

    def test_name_with_overlays(self, tmp_path):
        """cn plus an overlay file covers 2027."""
        path = tmp_path / "o.yaml"
        path.write_text(OVERLAY_YAML, encoding="utf-8")
        loaded = load_calendar("cn", load_overlay(path))
        assert (True, False, True) == (
            loaded.covers(D(2027, 10, 4)),
            loaded.is_workday(D(2027, 10, 4)),
            loaded.is_workday(D(2027, 10, 9)),
        )

    def test_not_a_calendar_instance(self):
        """Passing something that is not a Calendar is a TypeError."""
        with pytest.raises(TypeError):
            load_calendar(NotACalendar())


class TestYearStatus:
    def test_cn_official_through_2026(self):
        """cn: 2004-2026 are published (chinesecalendar 1.11); 2003 and 2027 are not."""
        status = year_status(ChineseCalendar(), [2027, 2026, 2004, 2003])
        assert {
            2003: "provisional",
            2004: "official",
            2026: "official",
            2027: "provisional",
        } == status
        assert [2003, 2004, 2026, 2027] == list(status)

    def test_an_overlay_makes_its_year_official(self):
        """An admin overlay for 2027 (caseflow calendar load) makes 2027 official, not 2028."""
        calendar = OverlayCalendar(ChineseCalendar(), [CalendarOverlay(2027)])
        assert {2026: "official", 2027: "official", 2028: "provisional"} == year_status(
            calendar, range(2026, 2029)
        )

    def test_weekdays_are_always_official(self):
        """The weekday calendar has data for every year."""
        assert {2027: "official", 2100: "official"} == year_status(WeekdayCalendar(), [2100, 2027])

    def test_partly_covered_year_is_provisional(self):
        """A year the calendar covers only in part is provisional."""
        assert {2027: "provisional"} == year_status(FirstHalfOf2027(), [2027, 2027])
