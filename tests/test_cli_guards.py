"""
The CLI never guesses and never shows a traceback: a missing SQLite file is refused (only
`db upgrade` and `demo` create one), `db upgrade` says what it did in one line, operators
are named and checked, and every failure is one `error:` line; through the real CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseflow import Actor, Engine
from caseflow.cli import cli
from caseflow.store import schema as migrate
from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
CLERK = Actor("clerk-1", {"window_clerk"}, "hainan/lingshui/yingzhou")
DATA = {"applicant": "张三", "matter": "食品经营许可"}


def invoke(*args: str, env: dict[str, str | None] | None = None, stdin: str | None = None):
    base: dict[str, str | None] = {"CASEFLOW_DATABASE_URL": None, "CASEFLOW_OPERATOR": None}
    return CliRunner().invoke(cli, list(args), env={**base, **(env or {})}, input=stdin)


def one_error_line(result, code: int) -> str:
    """The result failed with ``code`` and printed exactly one line, ``error: ...``."""
    assert code == result.exit_code, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert 1 == len(lines), result.output
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, str]:
    """An SQLite database with one accepted case: (URL, case id)."""
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    with Engine(url, workflows=WORKFLOWS, clock=MovableClock("2026-09-21T09:00")) as engine:
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        engine.fire(case.id, "accept", actor=CLERK)
    return url, case.id


def history_of(url: str, case_id: str):
    with Engine(url, workflows=WORKFLOWS) as engine:
        return engine.get(case_id).version, engine.history(case_id)


class TestMissingDatabase:
    @pytest.mark.parametrize(
        "args",
        [
            ("cases", "list"),
            ("cases", "show", "x"),
            ("cases", "suspend", "x", "--reason", "r", "--operator", "ops"),
            ("cases", "retry", "--all-stuck", "--operator", "ops"),
            ("incidents", "list"),
            ("timers", "list"),
            ("timers", "fire-due"),
            ("worker",),
            ("votes", "show", "x"),
            ("report", "--since", "2026-01-01"),
            ("orgs", "list"),
            ("orgs", "load", str(ROOT / "workflows" / "orgs" / "jiaoling.yaml")),
            ("workflows", "list", "--db"),
            ("db", "current"),
        ],
    )
    def test_refused_and_not_created(self, tmp_path: Path, args: tuple[str, ...]):
        """A mistyped --db: one line naming the path and how to create it; exit 2; no file."""
        path = tmp_path / "typo.db"
        result = (
            invoke(*args, str(path)) if args[-1] == "--db" else invoke(*args, "--db", str(path))
        )
        line = one_error_line(result, 2)
        assert (
            f"error: no database at {path}; create one with `caseflow db upgrade --db {path}`"
            == line
        )
        assert not path.exists()

    def test_default_in_an_empty_folder(self, tmp_path: Path):
        """`caseflow cases show ID` in an empty folder no longer creates caseflow.db there."""
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        env.pop("CASEFLOW_DATABASE_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "caseflow", "cases", "show", "abc"],
            cwd=tmp_path, capture_output=True, text=True, env=env, check=False, timeout=120,
        )  # fmt: skip
        assert 2 == result.returncode
        assert "" == result.stdout
        assert (
            f"error: no database at caseflow.db ({tmp_path / 'caseflow.db'}); "
            "create one with `caseflow db upgrade --db caseflow.db`\n"
        ) == result.stderr
        assert [] == list(tmp_path.iterdir())

    def test_from_the_environment_and_as_url(self, tmp_path: Path):
        """CASEFLOW_DATABASE_URL and sqlite:/// URLs are checked the same way."""
        url = f"sqlite:///{tmp_path / 'env.db'}"
        line = one_error_line(invoke("cases", "list", env={"CASEFLOW_DATABASE_URL": url}), 2)
        assert line.startswith(f"error: no database at {tmp_path / 'env.db'}; ")
        assert line.endswith(f"`caseflow db upgrade --db {url}`")

    def test_db_upgrade_creates_it_then_commands_run(self, tmp_path: Path):
        """The way out the message names works: `db upgrade`, then the command."""
        path = str(tmp_path / "new.db")
        assert "(empty) -> " in invoke("db", "upgrade", "--db", path).output
        listed = invoke("cases", "list", "--db", path)
        assert (0, "no cases\n") == (listed.exit_code, listed.output)


class TestDbUpgrade:
    def test_unknown_revision(self, tmp_path: Path):
        """-r UNKNOWN: one line naming the newest revision, exit 2, and no file created."""
        path = tmp_path / "u.db"
        for revision in ("xyz", "+99"):
            line = one_error_line(invoke("db", "upgrade", "-r", revision, "--db", str(path)), 2)
            assert "Invalid value for '-r' / '--revision'" in line
            assert not path.exists()
        line = one_error_line(invoke("db", "upgrade", "-r", "xyz", "--db", str(path)), 2)
        assert f"unknown revision 'xyz' (the newest is {migrate.head()};" in line

    def test_already_current_and_older_target(self, tmp_path: Path):
        """No more "0005 -> 0005": the second upgrade says the schema is already current."""
        path = str(tmp_path / "u.db")
        head = migrate.head()
        assert (
            "schema upgraded: (empty) -> 0003\n"
            == invoke("db", "upgrade", "-r", "0003", "--db", path).output
        )
        assert f"schema upgraded: 0003 -> {head}\n" == invoke("db", "upgrade", "--db", path).output
        assert f"schema already current ({head})\n" == invoke("db", "upgrade", "--db", path).output
        at_head = invoke("db", "upgrade", "-r", "0003", "--db", path)
        assert f"schema already current ({head})\n" == at_head.output
        other = str(Path(path).with_name("v.db"))
        invoke("db", "upgrade", "-r", "0004", "--db", other)
        older = invoke("db", "upgrade", "-r", "0003", "--db", other)
        assert (0, "schema already at 0004, past 0003: nothing to upgrade\n") == (
            older.exit_code,
            older.output,
        )


class TestOperator:
    def test_says_as_whom_and_takes_the_default_from_the_environment(self, database):
        """CASEFLOW_OPERATOR is the default; --operator wins; the summary names the operator."""
        url, case_id = database
        env = {"CASEFLOW_OPERATOR": "ops-env"}
        suspended = invoke("cases", "suspend", case_id, "--reason", "abroad", "--db", url, env=env)
        assert (
            0,
            f"case {case_id}: suspended as operator ops-env; now accepted (suspended)\n",
        ) == (
            suspended.exit_code,
            suspended.output,
        )
        resumed = invoke("cases", "resume", case_id, "--reason", "back", "--operator", "ops-7",
                         "--db", url, env=env)  # fmt: skip
        assert "resumed as operator ops-7;" in resumed.output
        _, history = history_of(url, case_id)
        assert [("suspend", "ops-env"), ("resume", "ops-7")] == [
            (h.event, h.actor_id) for h in history if h.kind == "operator"
        ]

    @pytest.mark.parametrize(
        ("value", "why"),
        [
            ("", "operator must not be empty"),
            ("  ", "operator must not be empty"),
            ("ops\n7", "operator 'ops\\n7' contains control characters"),
            ("ops\x1b[31m", "operator 'ops\\x1b[31m' contains control characters"),
            (" ops", "operator ' ops' has leading or trailing spaces"),
            ("system", "operator 'system' is reserved for the engine's own actions"),
            ("system:timer", "operator 'system:timer' is reserved"),
            ("System:dispatcher", "operator 'System:dispatcher' is reserved"),
        ],
    )
    def test_refused_values(self, database, value: str, why: str):
        """Empty, control characters, the engine's own ids: refused (exit 2), nothing written."""
        url, case_id = database
        before, _ = history_of(url, case_id)
        for given in (["--operator", value], [] if value else None):  # "" in env means unset
            if given is None:
                continue
            env = {} if given else {"CASEFLOW_OPERATOR": value}
            result = invoke("cases", "suspend", case_id, "--reason", "r", *given, "--db", url,
                            env=env)  # fmt: skip
            line = one_error_line(result, 2)
            assert f"Invalid value for '--operator': {why}" in line
        assert before == history_of(url, case_id)[0]

    def test_fire_as_system_role_refused(self, database):
        """`--as system` is the engine's role: refused before anything is fired."""
        url, case_id = database
        line = one_error_line(
            invoke("cases", "fire", case_id, "start_review", "--as", "system", "--operator",
                   "ops", "--db", url), 2)  # fmt: skip
        assert "Invalid value for '--as': role 'system' is reserved" in line
        ok = invoke("cases", "fire", case_id, "start_review", "--as", "reviewer", "--operator",
                    "ops-7", "--db", url)  # fmt: skip
        assert (
            f"case {case_id}: start_review fired in role reviewer as operator ops-7;" in ok.output
        )

    def test_confirmations_name_the_operator(self, database):
        """move and cancel ask "... as operator X?" before acting."""
        url, case_id = database
        moved = invoke("cases", "move", case_id, "--to", "approved", "--reason", "paper",
                       "--operator", "ops-7", "--db", url, stdin="n\n")  # fmt: skip
        assert 1 == moved.exit_code
        assert (
            f"Move case {case_id} to 'approved' as operator ops-7, bypassing the workflow?"
            in moved.output
        )
        cancelled = invoke("cases", "cancel", case_id, "--reason", "x", "--operator", "ops-7",
                           "--db", url, stdin="n\n")  # fmt: skip
        assert f"Cancel case {case_id} as operator ops-7? This ends it." in cancelled.output
        assert "accepted" == Engine(url, workflows=WORKFLOWS).get(case_id).state


class TestErrors:
    @pytest.fixture
    def bad_files(self, tmp_path: Path) -> dict[str, str]:
        orgs = tmp_path / "orgs.yaml"
        orgs.write_text("a: {name: A}\n")  # no level
        overlay = tmp_path / "2030.yaml"
        overlay.write_text("years: {2030: {holidays: [not-a-date]}}\n")
        return {"orgs": str(orgs), "overlay": str(overlay)}

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("cases", "show", "nope"), "error: case 'nope' not found"),
            (("cases", "suspend", "nope", "--reason", "r", "--operator", "o"), "error: case 'nope' not found"),
            (("cases", "retry", "nope", "--operator", "o"), "error: case 'nope' not found"),
            (("cases", "fire", "nope", "accept", "--as", "window_clerk", "--operator", "o"), "error: case 'nope' not found"),
            (("cases", "migrate", "--workflow", "nope", "--from", "1", "--to", "2", "--yes", "--operator", "o"), "error: "),
            (("incidents", "show", "999"), "error: incident 999 not found"),
            (("votes", "show", "nope"), "error: case 'nope' not found"),
            (("report", "--since", "2026-02-01", "--until", "2026-01-01"), "error: empty period"),
            (("orgs", "load", "@orgs"), "error: "),
            (("calendar", "load", "@overlay"), "error: "),
        ],
    )  # fmt: skip
    def test_caseflow_errors_are_one_line(self, database, bad_files, args, message: str):
        """Every command reports the library's errors as one `error:` line, exit 1."""
        url, _ = database
        args = tuple(bad_files.get(a.removeprefix("@"), a) if a[0] == "@" else a for a in args)
        line = one_error_line(invoke(*args, "--db", url), 1)
        assert line.startswith(message), line

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("cases", "list", "--bogus"), "error: No such option '--bogus'"),
            (("nosuch",), "error: No such command 'nosuch'. (see `caseflow --help`)"),
            (("cases", "show"), "error: Missing argument 'CASE_ID'. (see `caseflow cases show --help`)"),
            (("cases", "list", "--limit", "0"), "error: Invalid value for '--limit'"),
        ],
    )  # fmt: skip
    def test_usage_errors_are_one_line(self, args, message: str):
        """click's usage errors: one `error:` line with where to look, exit 2."""
        assert one_error_line(invoke(*args), 2).startswith(message)

    def test_unexpected_error_is_one_line_unless_traceback(self, database, monkeypatch):
        """An unexpected exception: one line and the hint; --traceback shows the exception."""
        from caseflow import listing

        def boom(*_args, **_kwargs):
            raise RuntimeError("disk on fire\nsecond line \x1b[31m")

        monkeypatch.setattr(listing, "list_cases", boom)
        url, _ = database
        line = one_error_line(invoke("cases", "list", "--db", url), 1)
        assert (
            "error: unexpected RuntimeError: disk on fire second line \\x1b[31m; "
            "run with --traceback for details"
        ) == line
        shown = invoke("--traceback", "cases", "list", "--db", url)
        assert isinstance(shown.exception, RuntimeError)
        assert "error:" not in shown.output

    def test_real_process_traceback_only_when_asked(self, database, tmp_path: Path):
        """In a real process: the one line on stderr; with --traceback, Python's traceback."""
        url, _ = database
        script = (
            "import sys\n"
            "from caseflow import listing\n"
            "def boom(*a, **k): raise RuntimeError('disk on fire')\n"
            "listing.list_cases = boom\n"
            "from caseflow.cli import main\n"
            "sys.argv = ['caseflow', *sys.argv[1:]]\n"
            "main()\n"
        )
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                                  text=True, env=env, check=False, timeout=120, cwd=tmp_path)  # fmt: skip

        quiet = run("cases", "list", "--db", url)
        assert (1, "", "error: unexpected RuntimeError: disk on fire; run with --traceback for details\n") == (
            quiet.returncode, quiet.stdout, quiet.stderr,
        )  # fmt: skip
        loud = run("--traceback", "cases", "list", "--db", url)
        assert 1 == loud.returncode
        assert loud.stderr.startswith("Traceback (most recent call last):")
        assert loud.stderr.endswith("RuntimeError: disk on fire\n")
