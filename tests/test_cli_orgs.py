"""``caseflow orgs load`` and ``caseflow orgs list``, driven through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseflow import Engine
from caseflow.cli import cli
from caseflow.cli.orgs import orgs_group

ROOT = Path(__file__).resolve().parent.parent
JIAOLING = ROOT / "workflows" / "orgs" / "jiaoling.yaml"


def run(*args: str):
    """Invoke ``orgs <args>`` and return click's Result."""
    return CliRunner().invoke(orgs_group, list(args))


@pytest.fixture
def db(db_url: str) -> str:
    """A database with the engine's schema (PostgreSQL is not upgraded implicitly)."""
    Engine(db_url, workflows=[], auto_upgrade=True).close()
    return db_url


class TestLoadAndList:
    def test_empty_then_loaded(self, db: str):
        """Nothing loaded: a hint; after `load`, the tree indented with levels and paths."""
        empty = run("list", "--db", db)
        assert (0, "no org units loaded: run `caseflow orgs load FILE`\n") == (
            empty.exit_code,
            empty.stdout,
        )
        assert [] == json.loads(run("list", "--db", db, "--json").stdout)
        loaded = run("load", str(JIAOLING), "--db", db)
        assert 0 == loaded.exit_code, loaded.output
        assert (
            f"loaded 23 org units from {JIAOLING}: "
            "1 county, 2 township, 1 community, 3 village, 6 grid, 10 department\n"
        ) == loaded.stdout
        listed = run("list", "--db", db)
        assert 0 == listed.exit_code, listed.output
        lines = listed.stdout.splitlines()
        assert [
            "蕉岭县  [county]  jiaoling",
            "  蕉城镇  [township]  jiaoling/jiaocheng",
            "    城北社区  [community]  jiaoling/jiaocheng/chengbei",
            "      城北社区第一网格  [grid]  jiaoling/jiaocheng/chengbei/grid-1",
        ] == lines[:4]
        assert "    九岭村  [village]  jiaoling/sanzhen/jiuling" in lines
        assert "      九岭村第一网格  [grid]  jiaoling/sanzhen/jiuling/grid-1" in lines
        assert "  县住房和城乡建设局  [department]  jiaoling/zhujian" in lines
        assert "    三圳镇综合行政执法队  [department]  jiaoling/sanzhen/zhifa" in lines
        assert (
            "23 units: 1 county, 2 township, 1 community, 3 village, 6 grid, 10 department"
            == lines[-1]
        )
        assert 24 == len(lines)

    def test_json_is_in_tree_order(self, db: str):
        """--json: one object per unit, every parent before its children, with depth."""
        assert 0 == run("load", str(JIAOLING), "--db", db).exit_code
        rows = json.loads(run("list", "--db", db, "--json").stdout)
        assert 23 == len(rows)
        assert {
            "path": "jiaoling",
            "name": "蕉岭县",
            "level": "county",
            "parent": None,
            "depth": 0,
        } == rows[0]
        seen: set[str] = set()
        for row in rows:
            assert row["parent"] is None or row["parent"] in seen
            assert row["path"].count("/") == row["depth"]
            seen.add(row["path"])
        grid = next(r for r in rows if r["path"] == "jiaoling/sanzhen/fangxin/grid-1")
        assert ("grid", "jiaoling/sanzhen/fangxin", "芳心村第一网格") == (
            grid["level"],
            grid["parent"],
            grid["name"],
        )

    def test_load_replaces_and_the_engine_sees_it(self, db: str, tmp_path: Path):
        """A second load replaces the tree; an engine opened afterwards has the new levels."""
        assert 0 == run("load", str(JIAOLING), "--db", db).exit_code
        small = tmp_path / "small.yaml"
        small.write_text(
            "zigui:\n  name: 秭归县\n  level: county\n  units:\n"
            "    maoping: {name: 茅坪镇, level: township}\n",
            encoding="utf-8",
        )
        result = run("load", str(small), "--db", db)
        assert f"loaded 2 org units from {small}: 1 county, 1 township\n" == result.stdout
        assert [
            "秭归县  [county]  zigui",
            "  茅坪镇  [township]  zigui/maoping",
            "2 units: 1 county, 1 township",
        ] == (run("list", "--db", db).stdout.splitlines())
        with Engine(db, workflows=[]) as engine:
            assert ("township", "zigui") == (
                engine.orgs.level("zigui/maoping"),
                engine.orgs.parent("zigui/maoping"),
            )
            assert "jiaoling" not in engine.orgs

    def test_bad_file_is_an_error_and_keeps_the_tree(self, db: str, tmp_path: Path):
        """A unit without a level: exit 1, one line naming the unit; the stored tree is unchanged."""
        assert 0 == run("load", str(JIAOLING), "--db", db).exit_code
        bad = tmp_path / "bad.yaml"
        bad.write_text("x:\n  level: county\n  units:\n    y: {name: 无级别}\n", encoding="utf-8")
        result = run("load", str(bad), "--db", db)
        assert 1 == result.exit_code
        assert f"error: {bad}: unit 'x/y' needs a mapping with a 'level'\n" == result.stderr
        assert 23 == len(json.loads(run("list", "--db", db, "--json").stdout))
        missing = run("load", str(tmp_path / "none.yaml"), "--db", db)
        assert 2 == missing.exit_code  # click: the path does not exist

    def test_registered_on_the_caseflow_command(self, db: str):
        """`caseflow orgs ...` is the same group."""
        result = CliRunner().invoke(cli, ["orgs", "load", str(JIAOLING), "--db", db])
        assert 0 == result.exit_code, result.output
        assert "23 units:" in CliRunner().invoke(cli, ["orgs", "list", "--db", db]).stdout


def test_postgres_without_schema_says_how_to_upgrade(pg_url: str):
    """An un-upgraded PostgreSQL database: one error line that names `caseflow db upgrade`."""
    result = run("list", "--db", pg_url)
    assert 1 == result.exit_code
    assert result.stderr.startswith("error: the database ")
    assert "caseflow db upgrade" in result.stderr
