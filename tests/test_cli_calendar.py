"""``caseflow calendar due/status/load``, driven through click's CliRunner on the command group."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from caseflow import Actor, Engine
from caseflow.cli import cli
from caseflow.cli.calendar import calendar_group
from caseflow.testing import MovableClock


def run(*args: str):
    """Invoke ``calendar <args>`` and return click's Result."""
    return CliRunner().invoke(calendar_group, list(args))


class TestDue:
    def test_json_output_is_exact(self):
        """20 workdays from Fri 25 Sep 2026 10:00 (Shanghai): last day Thu 29 Oct."""
        result = run("due", "--from", "2026-09-25T10:00", "--limit", "20 workdays", "--json")
        assert 0 == result.exit_code, result.output
        assert (
            '{"last_day": "2026-10-29", "due_at": "2026-10-30T00:00:00+08:00", '
            '"provisional": false}\n'
        ) == result.stdout

    def test_text_output(self):
        """The text form shows the last day, the due instant with its offset, provisional."""
        result = run("due", "--from", "2026-10-01T09:00", "--limit", "3 workdays")
        assert 0 == result.exit_code, result.output
        assert [
            "last day:    2026-10-10 (Sat)",
            "due at:      2026-10-11T00:00:00+08:00 (24:00 of the last day, Asia/Shanghai)",
            "provisional: no",
        ] == result.stdout.splitlines()

    def test_aware_from_is_converted_to_tz(self):
        """2026-09-29T16:00Z is already 30 Sep in Shanghai: 1 workday ends on 8 Oct."""
        result = run("due", "--from", "2026-09-29T16:00+00:00", "--limit", "1 workday", "--json")
        assert "2026-10-08" == json.loads(result.stdout)["last_day"]

    def test_pause(self):
        """--pause 2026-10-09:2026-10-13 removes three working days: 3 Nov."""
        result = run(
            "due",
            "--from",
            "2026-09-25T10:00",
            "--limit",
            "20 workdays",
            "--pause",
            "2026-10-09:2026-10-13",
            "--json",
        )
        assert "2026-11-03" == json.loads(result.stdout)["last_day"]

    def test_calendar_days_roll_past_national_day(self):
        """10 days from 22 Sep end on 2 Oct, a holiday: rolled to 8 Oct."""
        result = run("due", "--from", "2026-09-22", "--limit", "10 days", "--json")
        assert "2026-10-08" == json.loads(result.stdout)["last_day"]

    def test_weekdays_calendar_and_other_tz(self):
        """--calendar weekdays --tz Europe/Berlin: due at 00:00+02:00 after Wed 8 Jul."""
        result = run(
            "due",
            "--from",
            "2026-07-06T09:00",
            "--limit",
            "2 workdays",
            "--calendar",
            "weekdays",
            "--tz",
            "Europe/Berlin",
            "--json",
        )
        assert {
            "last_day": "2026-07-08",
            "due_at": "2026-07-09T00:00:00+02:00",
            "provisional": False,
        } == json.loads(result.stdout)

    def test_provisional_into_2027(self):
        """A period reaching into 2027 is provisional, and says so."""
        result = run("due", "--from", "2026-12-25T10:00", "--limit", "10 workdays")
        assert 0 == result.exit_code, result.output
        assert "last day:    2027-01-11 (Mon)" in result.stdout  # 元旦 1 Jan is a rest day
        assert "provisional: yes" in result.stdout

    def test_overlay_makes_2027_exact(self, tmp_path):
        """With an overlay making 1 Jan 2027 a holiday: 11 Jan, not provisional."""
        overlay = tmp_path / "cn-2027.yaml"
        overlay.write_text("years:\n  2027:\n    holidays: [2027-01-01]\n", encoding="utf-8")
        result = run(
            "due",
            "--from",
            "2026-12-25T10:00",
            "--limit",
            "10 workdays",
            "--overlay",
            str(overlay),
            "--json",
        )
        assert {
            "last_day": "2027-01-11",
            "due_at": "2027-01-12T00:00:00+08:00",
            "provisional": False,
        } == json.loads(result.stdout)

    def test_hours(self):
        """8 hours are elapsed time and say so."""
        result = run("due", "--from", "2026-10-01T10:00", "--limit", "8 hours")
        assert "due at:      2026-10-01T18:00:00+08:00 (elapsed time, Asia/Shanghai)" in (
            result.stdout
        )


class TestErrors:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--from", "2026-09-25", "--limit", "20 weeks"), "invalid duration '20 weeks'"),
            (("--from", "25/09/2026", "--limit", "3 workdays"), "'25/09/2026' is not a date/time"),
            (
                ("--from", "2026-09-25", "--limit", "3 workdays", "--calendar", "hk"),
                "unknown calendar 'hk'; known calendars:",
            ),
            (
                ("--from", "2026-09-25", "--limit", "3 workdays", "--tz", "Mars/Olympus"),
                "unknown time zone 'Mars/Olympus'",
            ),
            (
                ("--from", "2026-09-25", "--limit", "3 workdays", "--pause", "2026-10-09"),
                "is not a pause",
            ),
            (
                (
                    "--from",
                    "2026-09-25",
                    "--limit",
                    "3 workdays",
                    "--pause",
                    "2026-10-13:2026-10-09",
                ),
                "ends before it starts",
            ),
            (
                ("--from", "2026-09-25", "--limit", "3 workdays", "--pause", "2026-10-9:x"),
                "is not a date",
            ),
            (("--limit", "3 workdays"), "Missing option '--from'"),
        ],
    )
    def test_usage_errors_exit_2_without_traceback(self, args, message):
        """Bad input is a usage error: exit code 2, a clear message, no traceback."""
        result = run("due", *args)
        assert 2 == result.exit_code
        assert message in result.output
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)

    def test_bad_overlay_file(self, tmp_path):
        """A broken overlay file is a usage error naming the file."""
        overlay = tmp_path / "broken.yaml"
        overlay.write_text("years:\n  2027:\n    holidays: ['2027-02-30']\n", encoding="utf-8")
        result = run(
            "due", "--from", "2026-12-25", "--limit", "10 workdays", "--overlay", str(overlay)
        )
        assert 2 == result.exit_code
        assert "broken.yaml: years.2027.holidays[0]: '2027-02-30' is not a date" in result.output

    def test_missing_overlay_file(self, tmp_path):
        """A missing overlay file is refused by click before anything is computed."""
        result = run(
            "due",
            "--from",
            "2026-12-25",
            "--limit",
            "3 workdays",
            "--overlay",
            str(tmp_path / "no.yaml"),
        )
        assert 2 == result.exit_code
        assert "does not exist" in result.output


class TestCalendarStatusAndLoad:
    """A 20-workday limit started in December ends in 2027, for which there is no State
    Council notice yet: provisional (statutory days only) until the notice is loaded."""

    def test_status_then_load_reports_the_moved_deadline(self, db_url: str, tmp_path):
        clerk = Actor("window.li", {"window_clerk"}, "hainan/lingshui/service-centre")
        data = {"applicant": "张三", "matter": "食品经营许可证", "delivery": "window"}
        clock = MovableClock("2026-12-28T10:00")
        with Engine(db_url, clock=clock, auto_upgrade=True) as engine:
            case = engine.start("administrative_approval", data=data, actor=clerk)
        env = {"CASEFLOW_OPERATOR": "ops.wu"}
        shown = CliRunner().invoke(cli, ["calendar", "status", "--db", db_url, "--json"], env=env)
        assert shown.exit_code == 0, shown.output
        status = json.loads(shown.output)
        assert status["calendars"]["cn"]["2026"] == "official"
        assert status["calendars"]["cn"]["2027"] == "provisional"
        assert status["provisional_by_year"] == {"2027": {"clocks": 1, "cases": 1}}
        text = CliRunner().invoke(cli, ["calendar", "status", "--db", db_url], env=env).output
        assert "2027 provisional" in text
        assert "1 running clock(s) have a provisional deadline" in text

        notice = tmp_path / "cn-2027.yaml"  # a made-up notice: Fri 1 - Mon 4 Jan off
        notice.write_text(
            "years:\n  2027:\n    holidays: ['2027-01-01..2027-01-04']\n    workdays: []\n"
        )
        loaded = CliRunner().invoke(
            cli, ["calendar", "load", str(notice), "--db", db_url, "--json"], env=env
        )
        assert loaded.exit_code == 0, loaded.output
        (move,) = json.loads(loaded.output)["moves"]
        # 29-31 Dec, then 5 and 6 Jan: the window's last day moves from 5 Jan to 6 Jan
        assert move == {
            "case_id": case.id,
            "clock": "correction_window",
            "old_last_day": "2027-01-05",
            "new_last_day": "2027-01-06",
            "shift_days": 1,
            "provisional": False,
        }
        after = json.loads(
            CliRunner().invoke(cli, ["calendar", "status", "--db", db_url, "--json"]).output
        )
        assert after["calendars"]["cn"]["2027"] == "official"
        assert after["provisional_clocks"] == 0
