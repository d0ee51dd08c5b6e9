"""
Listings an operator reads at 80 and 100 columns: `cases list`, `incidents list` and
`timers list` keep every id whole and copyable, keep their main columns, and say when
there is more than one page; `cases list` and `cases show` agree on a clock's status.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from caseflow import Actor, Engine
from caseflow.cli import cases as cases_cli
from caseflow.cli import cli
from caseflow.store import incidents as incident_rows
from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
ORG = "hainan/lingshui/service-centre/window-3"
CLERK = Actor("clerk-1", {"window_clerk"}, ORG)
DATA = {"applicant": "张三", "matter": "食品经营许可"}
ERROR = "ConnectionError: the SMS gateway at sms.example.gov.cn refused the connection (503)"


class Many:
    """61 cases, every second accepted (91 timers), an incident on each."""

    def __init__(self, root: Path) -> None:
        self.db = f"sqlite:///{root / 'many.db'}"
        clock = MovableClock("2026-09-01T09:00")
        self.ids: list[str] = []
        with Engine(self.db, workflows=WORKFLOWS, clock=clock) as engine:
            for i in range(61):
                case = engine.start("administrative_approval", data=DATA, actor=CLERK)
                if i % 2:
                    engine.fire(case.id, "accept", actor=CLERK)
                self.ids.append(case.id)
            with engine.db.begin() as conn:
                for case_id in self.ids:
                    incident_rows.open_incident(
                        conn, case_id, 0, "notify_applicant", ERROR, 3, clock.now()
                    )

    def run(self, *args: str, columns: int):
        env = {"COLUMNS": str(columns), "FORCE_COLOR": None, "CASEFLOW_DATABASE_URL": None}
        result = CliRunner().invoke(cli, [*args, "--db", self.db], env=env)
        assert 0 == result.exit_code, result.output
        return result.stdout


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Many:
    return Many(tmp_path_factory.mktemp("many"))


def rows(out: str, ids: list[str]) -> dict[str, list[str]]:
    """Each id's block of lines: the line with the id whole, and the lines up to the next."""
    lines = out.splitlines()
    starts = {}
    for n, line in enumerate(lines):
        for word in line.split():
            if word in ids:
                starts[word] = n
    order = sorted(starts.items(), key=lambda kv: kv[1])
    blocks = {}
    for (case_id, n), (_, end) in zip(order, [*order[1:], ("", len(lines))], strict=True):
        blocks[case_id] = lines[n:end]
    return blocks


def column_text(block: list[str], full: str) -> str:
    """The pieces of ``full`` in a row's block, in order, joined: ``full`` if never cut."""
    return "".join(w for line in block for w in line.split() if len(w) > 1 and w in full)


def words(block: list[str]) -> set[str]:
    return {w for line in block for w in line.split()}


@pytest.mark.parametrize("columns", [80, 100])
class TestWidths:
    def test_cases_list(self, many: Many, columns: int):
        """Ids whole on their line; workflow, state, org kept (wrapped only at _ and /)."""
        out = many.run("cases", "list", columns=columns)
        lines = out.splitlines()
        assert all(cell_len(line) <= columns for line in lines), out
        assert "…" not in out
        header = " ".join(lines[:3])
        for column in ("id", "workflow", "state", "org"):
            assert column in header.split()
        blocks = rows(out, many.ids)
        assert many.ids[:50] == list(blocks)  # oldest first, one page, every id whole
        for n, case_id in enumerate(many.ids[:50]):
            block = blocks[case_id]
            state = "accepted" if n % 2 else "submitted"
            assert state in block[0].split()  # on the id's own line
            found = words(block)
            # wrapped at "_", "/" or spaces only: the pieces, in order, are the whole value
            assert "administrative_approvalv2" == column_text(block, "administrative_approval v2")
            assert ORG == column_text(block, ORG)
            assert "2026-09-01" in found  # the updated day, in its column or under the id
        assert "50 shown, more exist; --limit/--offset" == lines[-1]

    def test_cases_list_last_page(self, many: Many, columns: int):
        """--offset past the first page: the rest, and no "more exist"."""
        out = many.run("cases", "list", "--offset", "50", columns=columns)
        assert many.ids[50:] == list(rows(out, many.ids))
        assert "more exist" not in out

    def test_incidents_list(self, many: Many, columns: int):
        """Incident and case ids whole; the error wraps at spaces, never mid-word."""
        out = many.run("incidents", "list", "--limit", "50", columns=columns)
        lines = out.splitlines()
        assert all(cell_len(line) <= columns for line in lines), out
        blocks = rows(out, many.ids)
        assert many.ids[:50] == list(blocks)
        for block in blocks.values():
            assert "notify_" in block[0]  # the action, wrapped at _ if at all
            assert set(ERROR.split()) <= words(block)  # every word of the error, whole
        assert "50 shown, more exist; --limit/--offset" == lines[-1]
        rest = many.run("incidents", "list", "--limit", "50", "--offset", "50", columns=columns)
        assert many.ids[50:] == list(rows(rest, many.ids))

    def test_timers_list(self, many: Many, columns: int):
        """Timer and case ids whole; kind, clock and due time kept; 50 of 91 shown."""
        out = many.run("timers", "list", "--limit", "50", columns=columns)
        lines = out.splitlines()
        assert all(cell_len(line) <= columns for line in lines), out
        timer_rows = [line for line in lines if re.match(r"^\d+\s+[0-9a-f]{29}\s", line)]
        assert 50 == len(timer_rows)
        assert {line.split()[1] for line in timer_rows} <= set(many.ids)
        assert {line.split()[2] for line in timer_rows} <= {"warn", "breach"}
        assert {line.split()[3] for line in timer_rows} <= {"correction_window", "decision"}
        assert all(re.search(r"\s2026-\d\d-\d\d 00:00", line) for line in timer_rows)
        assert "50 shown, more exist; --limit/--offset" == lines[-1]
        rest = many.run("timers", "list", "--limit", "50", "--offset", "50", columns=columns)
        assert 41 == len([ln for ln in rest.splitlines() if re.match(r"^\d+\s+[0-9a-f]{29}\s", ln)])
        assert "more exist" not in rest


class TestClockStatusAgreement:
    @pytest.fixture
    def held(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        """The CLI on an SQLite file with one accepted case, its engine's clock held."""
        db = f"sqlite:///{tmp_path / 'c.db'}"
        clock = MovableClock("2026-09-21T09:00")

        def opener(url: str = db, workflows: tuple[str, ...] = (), *_a: object, **_k: object):
            return Engine(url, workflows=list(workflows) or WORKFLOWS, clock=clock)

        monkeypatch.setattr(cases_cli, "open_engine", opener)

        def invoke(*args: str) -> str:
            result = CliRunner().invoke(cli, [*args, "--db", db], env={"COLUMNS": "200"})
            assert 0 == result.exit_code, result.output
            return result.stdout

        with opener() as engine:
            case = engine.start("administrative_approval", data=DATA, actor=CLERK)
            engine.fire(case.id, "accept", actor=CLERK)  # decision: 20 workdays, to 26 Oct
        return invoke, clock, opener, case.id

    def test_past_due_is_breached_in_both_until_swept(self, held):
        """
        Past due, not swept: list "breached", show "breached (not yet swept)"; after the
        worker's sweep both say "breached".
        """
        invoke, clock, opener, case_id = held
        clock.set("2026-11-02T09:00")
        assert "breached" == json.loads(invoke("cases", "list", "--json"))[0]["clock_status"]
        assert re.search(rf"{case_id}\s.*\sbreached\b", invoke("cases", "list"))
        shown = invoke("cases", "show", case_id)
        assert re.search(r"│ decision\s+│ breached \(not yet swept\)\s+│ 2026-10-26", shown)
        clocks = json.loads(invoke("cases", "show", case_id, "--json"))["clocks"]
        decision = next(c for c in clocks if c["name"] == "decision")
        assert ("breached", True) == (decision["status"], decision["not_yet_swept"])
        with opener() as engine:
            engine.fire_due()
        shown = invoke("cases", "show", case_id)
        assert re.search(r"│ decision\s+│ breached\s+│ 2026-10-26", shown)
        assert "not yet swept" not in shown
        assert "breached" == json.loads(invoke("cases", "list", "--json"))[0]["clock_status"]

    def test_warning_window_is_warned_in_both(self, held):
        """In the warning window before the sweep: list "warned", show "warned (not yet swept)"."""
        invoke, clock, _, case_id = held
        clock.set("2026-10-22T09:00")  # within 3 workdays of the last day, 26 Oct
        assert "warned" == json.loads(invoke("cases", "list", "--json"))[0]["clock_status"]
        assert "warned (not yet swept)" in invoke("cases", "show", case_id)
