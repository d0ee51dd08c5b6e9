from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseflow.cli import cli
from caseflow.store import schema as migrate

ROOT = Path(__file__).resolve().parent.parent
BROKEN = """\
workflow: broken
version: 1
roles: [clerk]
states:
  start: {initial: true}
  middle: {}
  island: {}
  done: {final: true}
events:
  go: {from: start, to: midle, roles: [clerk]}
  finish:
    from: middle
    to:
      - {to: done, when: "payload.ok == = true"}
      - {to: done}
    roles: [boss]
"""


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"}  # any terminal
    env.pop("CASEFLOW_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "caseflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


class TestDemo:
    def test_demo_runs_a_case_to_completion(self, tmp_path: Path):
        """`caseflow demo` writes a SQLite file in the current directory and prints a timeline."""
        result = run_cli("demo", cwd=tmp_path)
        assert 0 == result.returncode, result.stderr
        out = " ".join(result.stdout.split())  # undo rich's line wrapping
        assert ": delivered (completed)" in out
        for step in ("request_correction", "accept", "decide", "deliver", "2026-10-12 11:00"):
            assert step in out
        # The second case shows a legal deadline and what its breach does.
        assert "the window ends at 24:00 of 2026-10-09" in out
        assert "the case is now accepted (deemed accepted)" in out
        assert "deemed_accepted" in out
        # The sixth: a deadline in 2027 is provisional until that year's notice is loaded.
        assert "window ends at 24:00 of 2027-01-05: provisional" in out
        assert "moves from 2027-01-05 to 2027-01-06 (+1 day), now official" in out
        assert (tmp_path / "caseflow-demo.db").is_file()
        assert str(tmp_path / "caseflow-demo.db") in result.stdout.replace("\n", "")


class TestValidate:
    def test_every_problem_listed_without_traceback(self, tmp_path: Path):
        """validate exits 1 and lists each problem as file:line:col; no traceback."""
        bad = tmp_path / "broken.yaml"
        bad.write_text(BROKEN)
        dup = tmp_path / "dup.yaml"
        dup.write_text("workflow: d\nversion: 1\nversion: 2\n")
        syntax = tmp_path / "syntax.yaml"
        syntax.write_text("workflow: [unclosed\n")
        result = run_cli("workflows", "validate", str(bad), str(dup), str(syntax), cwd=tmp_path)
        assert 1 == result.returncode
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert f"{bad}:10:25: event 'go': unknown state 'midle' (did you mean 'middle'?)" in lines
        assert any(line.startswith(f"{bad}:14:26: event 'finish': invalid guard") for line in lines)
        assert f"{bad}:16:13: event 'finish': role 'boss' is not declared in 'roles'" in lines
        assert any(
            line.startswith(f"{dup}:3:1: YAML error") and "duplicate key" in line for line in lines
        )
        assert any(line.startswith(f"{syntax}:2:1: YAML error") for line in lines)

    def test_unreachable_state_reported(self, tmp_path: Path):
        """An unreachable state fails validation with its position."""
        fixed = (
            BROKEN.replace("midle", "middle")
            .replace("== = true", "== true")
            .replace("[boss]", "[clerk]")
        )
        path = tmp_path / "island.yaml"
        path.write_text(fixed)
        result = run_cli("workflows", "validate", str(path), cwd=tmp_path)
        assert 1 == result.returncode
        assert (
            f"{path}:7:3: state 'island': unreachable from the initial state 'start'"
            in result.stderr
        )

    def test_shipped_workflows_are_valid(self, tmp_path: Path):
        """Every shipped workflow validates cleanly (exit 0)."""
        result = run_cli("workflows", "validate", str(ROOT / "workflows"), cwd=tmp_path)
        assert 0 == result.returncode, result.stderr
        assert "administrative_approval v2" in result.stdout


class TestCases:
    def test_list_and_show(self, tmp_path: Path):
        """cases list/show read what the demo wrote, as tables and as JSON."""
        runner = CliRunner()
        db = str(tmp_path / "d.db")
        assert 0 == runner.invoke(cli, ["demo", "--db", db]).exit_code
        listed = runner.invoke(cli, ["cases", "list", "--db", db, "--json"])
        assert 0 == listed.exit_code, listed.output
        cases = json.loads(listed.output)
        # the delivered case, the deemed acceptance, three on the reviewers' worklist, and
        # the one submitted in December with its deadline in 2027
        states = sorted(c["state"] for c in cases)
        assert states == ["accepted"] * 4 + ["delivered", "submitted"]
        assert [c["assignee"] for c in cases].count("review.wang") == 1  # the claimed one
        delivered = next(c for c in cases if c["state"] == "delivered")
        shown = runner.invoke(cli, ["cases", "show", delivered["id"], "--db", db, "--json"])
        detail = json.loads(shown.output)
        moves = [h for h in detail["history"] if h["kind"] not in ("clock", "notice")]
        assert 11 == len(moves)
        assert ["post.liu", "zhang.san"] == [m["actor"] for m in moves[-2:]]  # delivered, rated
        assert ["notice"] == [h["kind"] for h in detail["history"] if h["kind"] == "notice"]

    def test_unknown_case_is_one_line_error(self, tmp_path: Path):
        """A missing case prints `error: ...` and exits 1."""
        db = str(tmp_path / "e.db")
        assert 0 == CliRunner().invoke(cli, ["db", "upgrade", "--db", db]).exit_code
        result = CliRunner().invoke(cli, ["cases", "show", "nope", "--db", db])
        assert 1 == result.exit_code
        assert "error: case 'nope' not found\n" == result.output


class TestDb:
    @pytest.mark.parametrize("kind", ["sqlite", "postgres"])
    def test_upgrade_and_current(self, kind: str, tmp_path: Path, request: pytest.FixtureRequest):
        """db upgrade brings an empty database to head; db current says so."""
        url = (
            f"sqlite:///{tmp_path / 'u.db'}"
            if kind == "sqlite"
            else request.getfixturevalue("pg_url")
        )
        runner = CliRunner()
        before = runner.invoke(cli, ["db", "current", "--db", url])
        if kind == "sqlite":  # only `db upgrade` creates the file
            assert (2, f"error: no database at {tmp_path / 'u.db'}; ") == (
                before.exit_code,
                before.output[: len(f"error: no database at {tmp_path / 'u.db'}; ")],
            )
        else:
            assert "(no caseflow tables)" in before.output
        up = runner.invoke(cli, ["db", "upgrade", "--db", url])
        assert 0 == up.exit_code, up.output
        assert f"(empty) -> {migrate.head()}" in up.output
        after = runner.invoke(cli, ["db", "current", "--db", url])
        assert "up to date" in after.output
        again = runner.invoke(cli, ["db", "upgrade", "--db", url])
        assert (0, f"schema already current ({migrate.head()})\n") == (
            again.exit_code,
            again.output,
        )

    def test_sql_mode(self):
        """db upgrade --sql prints DDL without touching a database."""
        result = CliRunner().invoke(
            cli, ["db", "upgrade", "--sql", "--db", "postgresql://x@nowhere/db"]
        )
        assert 0 == result.exit_code, result.output
        assert "CREATE TABLE cf_history" in result.output


class TestTimersCli:
    def test_list_fire_due_calendar_load_and_recompute(self, tmp_path: Path):
        """The operator sees due timers, fires them once, loads 2027 data and fixes deadlines."""
        from caseflow import Actor, Engine
        from caseflow.testing import MovableClock

        db = f"sqlite:///{tmp_path / 't.db'}"
        clerk = Actor("c", {"window_clerk"}, "a/b")
        data = {"applicant": "a", "matter": "m"}
        with Engine(
            db, workflows=ROOT / "workflows", clock=MovableClock("2026-03-02T09:00")
        ) as eng:
            old = eng.start("administrative_approval", data=data, actor=clerk)
        with Engine(
            db, workflows=ROOT / "workflows", clock=MovableClock("2026-12-28T09:00")
        ) as eng:
            late = eng.start("administrative_approval", data=data, actor=clerk)
        runner = CliRunner()
        listed = json.loads(runner.invoke(cli, ["timers", "list", "--db", db, "--json"]).output)
        plain = runner.invoke(cli, ["timers", "list", "--db", db]).output
        # the March case's correction window ran out on 9 Mar; nobody swept since
        assert "sweep: oldest due timer waiting" in plain
        assert "is `caseflow worker` running?" in plain
        assert [(old.id, "breach", False), (late.id, "breach", True)] == [
            (t["case_id"], t["kind"], t["provisional"]) for t in listed
        ]
        assert "2026-03-09T16:00:00+00:00" == listed[0]["due_at"]
        fired = runner.invoke(cli, ["timers", "fire-due", "--db", db])
        # deemed accepted on 9 Mar (its due time), so the decision clock ran from 9 Mar
        # and its warning, breach and both escalation steps are long due too
        assert "fired: breach 2, escalate 2, notify 2, warn 1;" in fired.output
        assert (
            "fired: nothing due;" in runner.invoke(cli, ["timers", "fire-due", "--db", db]).output
        )
        shown = json.loads(
            runner.invoke(cli, ["cases", "show", old.id, "--db", db, "--json"]).output
        )
        assert "accepted" == shown["state"]
        overlay = tmp_path / "2027.yaml"
        overlay.write_text("years:\n  2027:\n    holidays: ['2027-01-01']\n")
        loaded = runner.invoke(
            cli, ["calendar", "load", str(overlay), "--db", db, "--operator", "ops-1"]
        )
        assert 0 == loaded.exit_code, loaded.output
        assert "loaded calendar data for 2027" in loaded.output
        # the notice agrees with the statutory rule here: exact now, the same last day
        assert "recomputed 1 provisional deadline(s) as operator ops-1: 0 moved, 1 unchanged" in (
            loaded.output
        )
        again = runner.invoke(cli, ["timers", "recompute", "--db", db, "--operator", "ops-1"])
        assert "recomputed 0 provisional deadline(s)" in again.output
        shown = json.loads(
            runner.invoke(cli, ["cases", "show", late.id, "--db", db, "--json"]).output
        )
        window = next(c for c in shown["clocks"] if c["name"] == "correction_window")
        assert ("2027-01-05", False) == (window["last_day"], window["provisional"])
        assert "ops-1" == shown["history"][-1]["actor"]


class TestWorkflowsListWithDatabase:
    def test_running_cases_per_version(self, tmp_path: Path):
        """workflows list --db counts the active and suspended cases of each stored version."""
        from caseflow import Actor, Engine

        db = f"sqlite:///{tmp_path / 'w.db'}"
        with Engine(db, workflows=ROOT / "workflows") as eng:
            clerk = Actor("c", {"window_clerk"}, "a/b")
            for _ in range(2):
                eng.start(
                    "administrative_approval", data={"applicant": "a", "matter": "m"}, actor=clerk
                )
        out = CliRunner().invoke(cli, ["workflows", "list", "--db", db, "--json"])
        assert 0 == out.exit_code, out.output
        counts = {(e["workflow"], e["version"]): e["cases"] for e in json.loads(out.output)}
        assert 2 == counts[("administrative_approval", 2)]
        assert 0 == counts[("hotline_request", 2)]
