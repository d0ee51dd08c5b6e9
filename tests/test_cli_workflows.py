from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseflow import Engine
from caseflow.cli import cli
from caseflow.definitions.loader import load_file
from caseflow.export.schema import schema_text

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
APPROVAL = WORKFLOWS / "administrative_approval.yaml"
SMALL = """\
workflow: small
version: {version}
title: {title}
roles: [clerk]
states:
  open: {{initial: true}}
  waiting: {{}}
  done: {{final: true}}
events:
  start: {{from: open, to: waiting, roles: [clerk]}}
  finish: {{from: waiting, to: done, roles: [clerk]}}
clocks:
  handle: {{limit: {limit}, runs_in: [open]}}
"""


def run(*args: str):
    return CliRunner().invoke(cli, ["workflows", *args], catch_exceptions=False)


def write(path: Path, version: int = 1, title: str = "Small", limit: str = "5 days") -> Path:
    path.write_text(SMALL.format(version=version, title=title, limit=limit), encoding="utf-8")
    return path


class TestSchema:
    def test_prints_and_writes_the_schema(self, tmp_path: Path):
        """`schema` prints the generated schema; --output writes the same text."""
        printed = run("schema")
        assert 0 == printed.exit_code
        assert schema_text() == printed.stdout
        out = tmp_path / "s.json"
        assert 0 == run("schema", "--output", str(out)).exit_code
        assert schema_text() == out.read_text(encoding="utf-8")

    def test_check_passes_on_the_shipped_schema_and_fails_when_stale(self, tmp_path: Path):
        """--check is the CI guard: 0 for the shipped file, 1 with a hint for a stale one."""
        ok = run("schema", "--check", str(ROOT / "schema" / "workflow.schema.json"))
        assert 0 == ok.exit_code, ok.output
        stale = tmp_path / "old.json"
        stale.write_text("{}\n")
        result = run("schema", "--check", str(stale))
        assert 1 == result.exit_code
        assert result.stderr.startswith(f"error: {stale} is stale: run `caseflow workflows schema")


class TestGraph:
    @pytest.mark.parametrize("fmt", ["mermaid", "dot", "bpmn"])
    def test_by_name_and_by_file(self, fmt: str):
        """A workflow is drawn by name (from --workflows) or by file, in every format."""
        by_name = run(
            "graph", "administrative_approval", "--format", fmt, "--workflows", str(WORKFLOWS)
        )
        by_file = run("graph", str(APPROVAL), "--format", fmt)
        assert 0 == by_name.exit_code, by_name.output
        assert by_name.stdout == by_file.stdout
        head = {"mermaid": "---", "dot": "digraph ", "bpmn": "<?xml"}[fmt]
        assert by_name.stdout.startswith(head)

    def test_output_file(self, tmp_path: Path):
        """--output writes the drawing and says so on stderr."""
        out = tmp_path / "g.bpmn"
        result = run("graph", str(APPROVAL), "--format", "bpmn", "-o", str(out))
        assert 0 == result.exit_code
        assert out.read_text(encoding="utf-8").startswith("<?xml")
        assert f"wrote {out}" in result.stderr

    def test_unknown_workflow_is_one_line_error(self):
        """An unknown name is `error: ...` on one line, exit 1, listing the known ones."""
        result = run("graph", "nope", "--workflows", str(WORKFLOWS))
        assert 1 == result.exit_code
        lines = result.stderr.strip().splitlines()
        assert 1 == len(lines)
        assert lines[0].startswith("error: workflow 'nope' is not registered; known workflows: ")
        assert "Traceback" not in result.output

    def test_broken_file_lists_its_problems(self, tmp_path: Path):
        """A file that does not load: its problems as file:line:col, then one error line."""
        bad = write(tmp_path / "bad.yaml")
        bad.write_text(bad.read_text().replace("to: done", "to: gone"))
        result = run("graph", str(bad))
        assert 1 == result.exit_code
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith(f"{bad}:11:")
        assert "unknown state 'gone'" in lines[0]
        assert "error: 1 problem in workflow definition" == lines[-1]


class TestLint:
    def test_warnings_exit_zero_strict_exits_one(self, tmp_path: Path):
        """Warnings alone exit 0; --strict makes them exit 1; --ignore drops a check."""
        path = write(tmp_path / "small.yaml")
        result = run("lint", str(path))
        assert 0 == result.exit_code
        assert [
            f"{path}:7:3: warning CF101 [unclocked-state] state 'waiting': no clock runs here: "
            "a case can wait in this state without a time limit"
        ] == result.stdout.splitlines()
        assert "1 warning\n" == result.stderr
        assert 1 == run("lint", "--strict", str(path)).exit_code
        quiet = run("lint", "--strict", "--ignore", "unclocked-state", str(path))
        assert 0 == quiet.exit_code
        assert "" == quiet.stdout

    def test_json_and_folders(self, tmp_path: Path):
        """A folder is expanded; --json gives one object per warning with its position."""
        write(tmp_path / "a.yaml")
        write(tmp_path / "b.yaml", version=2)
        result = run("lint", "--json", str(tmp_path))
        assert 0 == result.exit_code
        rows = json.loads(result.stdout)
        assert [("a.yaml", 7, 3, "CF101"), ("b.yaml", 7, 3, "CF101")] == [
            (Path(r["file"]).name, r["line"], r["column"], r["code"]) for r in rows
        ]
        assert "unclocked-state" == rows[0]["check"]

    def test_shipped_workflows_lint_without_errors(self):
        """The shipped workflows load and lint with exit 0 (warnings are advice)."""
        result = run("lint", str(WORKFLOWS))
        assert 0 == result.exit_code, result.output

    def test_broken_file_and_unknown_check_exit_one(self, tmp_path: Path):
        """A file that does not load is an error (exit 1), as is an unknown --ignore."""
        bad = tmp_path / "bad.yaml"
        bad.write_text("workflow: [unclosed\n")
        result = run("lint", str(bad))
        assert 1 == result.exit_code
        assert result.stderr.startswith(f"{bad}:2:1: YAML error")
        unknown = run("lint", "--ignore", "CF999", str(APPROVAL))
        assert 1 == unknown.exit_code
        assert unknown.stderr.startswith("error: unknown check 'CF999'; known: CF101, ")


class TestDiff:
    def test_two_files(self, tmp_path: Path):
        """Two files: a readable list of changes, or --json."""
        a = write(tmp_path / "a.yaml")
        b = write(tmp_path / "b.yaml", version=2, title="Smaller", limit="7 days")
        result = run("diff", str(a), str(b))
        assert 0 == result.exit_code, result.output
        lines = result.stdout.splitlines()
        assert lines[0].startswith("--- small v1 (")
        assert lines[1].startswith("+++ small v2 (")
        assert [
            "~ header: changed",
            "    title: Small -> Smaller",
            "~ clock handle: changed",
            "    limit: 5 days -> 7 days",
        ] == lines[2:]
        as_json = json.loads(run("diff", "--json", str(a), str(b)).stdout)
        assert [("workflow", "header"), ("clock", "handle")] == [
            (c["kind"], c["name"]) for c in as_json["changes"]
        ]
        same = run("diff", str(a), str(a))
        assert "no differences" == same.stdout.splitlines()[-1]

    def test_stored_versions_from_the_database(self, tmp_path: Path):
        """NAME V1 V2 --db reads both versions as the engine stored them."""
        db = str(tmp_path / "d.db")
        for version, limit in ((1, "5 days"), (2, "9 days")):
            folder = tmp_path / f"v{version}"
            folder.mkdir()
            write(folder / "small.yaml", version=version, limit=limit)
            Engine(db, workflows=folder).close()
        result = run("diff", "small", "1", "2", "--db", db)
        assert 0 == result.exit_code, result.output
        assert "    limit: 5 days -> 9 days" in result.stdout.splitlines()
        missing = run("diff", "small", "1", "3", "--db", db)
        assert 1 == missing.exit_code
        assert "error: workflow 'small' version 3 is not registered\n" == missing.stderr

    def test_usage_errors(self, tmp_path: Path):
        """Wrong arity, a non-numeric version, no --db, or no database: one error line, exit 2."""
        env_free = CliRunner(env={"CASEFLOW_DATABASE_URL": None})
        cases = [
            (["diff", "a"], "error: give two files (A B)"),
            (
                ["diff", "small", "one", "2", "--db", "x.db"],
                "error: version must be a whole number",
            ),
            (["diff", "small", "1", "2"], "error: NAME V1 V2 reads stored versions: give --db"),
            (
                ["diff", "small", "1", "2", "--db", str(tmp_path / "none.db")],
                "error: no database at",
            ),
        ]
        for args, expected in cases:
            result = env_free.invoke(cli, ["workflows", *args])
            assert 2 == result.exit_code, args
            assert result.stderr.startswith(expected), result.stderr
        assert not (tmp_path / "none.db").exists()


class TestList:
    def test_table_and_json(self, tmp_path: Path):
        """list shows name, version, short hash and title; --json the full hash and file."""
        write(tmp_path / "a.yaml")
        write(tmp_path / "b.yaml", version=2, title="Second")
        table = run("list", "--workflows", str(tmp_path))
        assert 0 == table.exit_code, table.output
        assert "Second" in table.stdout
        rows = json.loads(run("list", "--workflows", str(tmp_path), "--json").stdout)
        assert [("small", 1, "Small"), ("small", 2, "Second")] == [
            (r["workflow"], r["version"], r["title"]) for r in rows
        ]
        assert rows[0]["content_hash"][:12] in table.stdout
        assert rows[0]["cases"] is None
        assert str(tmp_path / "a.yaml") == rows[0]["file"]

    def test_shipped_by_default(self):
        """Without --workflows, the shipped workflows are listed."""
        result = CliRunner(env={"CASEFLOW_WORKFLOWS": None}).invoke(
            cli, ["workflows", "list", "--json"]
        )
        names = {r["workflow"] for r in json.loads(result.stdout)}
        assert {load_file(p).name for p in WORKFLOWS.glob("*.yaml")} == names

    def test_same_version_changed_content_is_an_error(self, tmp_path: Path):
        """Two files with one (name, version) and different content: error, exit 1."""
        write(tmp_path / "a.yaml")
        write(tmp_path / "b.yaml", title="Changed")
        result = run("list", "--workflows", str(tmp_path))
        assert 1 == result.exit_code
        assert result.stderr.startswith("error: workflow 'small' version 1 is defined twice")


class TestValidateStillWorks:
    def test_validate(self, tmp_path: Path):
        """The existing `validate` command is unchanged."""
        shutil.copy(APPROVAL, tmp_path / "a.yaml")
        result = run("validate", str(tmp_path))
        assert 0 == result.exit_code
        assert "ok (administrative_approval v2" in result.stdout

    def test_validate_with_db_names_a_file_changed_under_a_registered_version(
        self, db_url: str, tmp_path: Path
    ):
        folder = tmp_path / "flows"
        folder.mkdir()
        write(folder / "small.yaml")
        Engine(db_url, workflows=folder, auto_upgrade=True).close()  # registers small v1
        assert 0 == run("validate", str(folder), "--db", db_url).exit_code
        write(folder / "small.yaml", title="Small, edited")  # same version, new content
        result = CliRunner().invoke(cli, ["workflows", "validate", str(folder), "--db", db_url])
        assert result.exit_code == 1
        assert "workflow 'small' version 1 is registered in the database with different" in (
            result.stderr
        )
        assert "new 'version:'" in result.stderr
        write(folder / "small.yaml", version=2, title="Small, edited")
        assert 0 == run("validate", str(folder), "--db", db_url).exit_code

    def test_validate_with_a_missing_database_says_so(self, tmp_path: Path):
        write(tmp_path / "small.yaml")
        missing = tmp_path / "nope.db"
        result = CliRunner().invoke(
            cli, ["workflows", "validate", str(tmp_path), "--db", str(missing)]
        )
        assert result.exit_code == 2
        assert "no database at" in result.stderr
        assert not missing.exists()
