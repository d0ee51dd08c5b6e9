"""Org trees and calendar files get the workflow loader's protections."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseflow.cli import cli
from caseflow.clocks.calendars import load_overlay
from caseflow.errors import DefinitionError
from caseflow.orgs import OrgUnit, parse_tree, read_tree

ROOT = Path(__file__).resolve().parent.parent
JIAOLING = ROOT / "workflows" / "orgs" / "jiaoling.yaml"
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def write(tmp_path: Path, text: str | bytes, name: str = "tree.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def tree_error(path: Path) -> str:
    with pytest.raises(DefinitionError) as info:
        read_tree(path)
    return str(info.value)


class TestReadTree:
    def test_the_sample_tree(self):
        """The shipped tree reads as before: 23 units, the county first."""
        units = read_tree(JIAOLING)
        assert 23 == len(units)
        assert OrgUnit("jiaoling", "蕉岭县", "county", None) == units[0]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "x:\n  level: county\n  units: &u\n    y: {level: township, units: *u}\n",
                "4:33: alias *u refers to a node that contains it (a recursive alias)",
            ),
            (
                "x: {level: county, units: {y: {level: town}}\n",
                "2:1: YAML error: while parsing a flow mapping expected ',' or '}', but got "
                "'<stream end>'",
            ),
            (
                BOMB,
                "6:8: alias *e expands the document past 100,000 values (aliases repeated "
                "inside aliases?)",
            ),
            (
                "x: " + "{level: county, units: {y: " * 40 + "{level: grid}" + "}}" * 40 + "\n",
                "1:842: nested deeper than 64 levels: flatten the structure",
            ),
            (
                "x: !!python/name:os.system\n",
                "1:4: the YAML tag !!python/name:os.system is not "
                "allowed: write a plain value (quote it to make it a string)",
            ),
        ],
    )
    def test_bad_files_are_positioned(self, tmp_path: Path, text: str, message: str):
        """Syntax errors, recursive aliases, bombs, deep trees and tags: file:line:col."""
        path = write(tmp_path, text)
        assert f"{path}:{message}" == tree_error(path)

    def test_gbk_tree(self, tmp_path: Path):
        """A GBK-encoded tree says to save it as UTF-8."""
        path = write(tmp_path, "x: {name: 蕉岭县, level: county}\n".encode("gbk"))
        assert tree_error(path).startswith(f"{path}:1:11: not UTF-8 (byte 0xbd): it looks GBK")

    def test_deep_trees_do_not_recurse(self):
        """parse_tree walks without recursion: 3,000 levels fail on the path length only."""
        tree: dict[str, object] = {}
        current = tree
        for _ in range(3000):
            below: dict[str, object] = {}
            current["a"] = {"level": "grid", "units": below}
            current = below
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(200)
        try:
            with pytest.raises(DefinitionError, match="its path is longer than 500"):
                parse_tree(tree)
            assert 200 == len(parse_tree(_chain(200)))
        finally:
            sys.setrecursionlimit(limit)

    @pytest.mark.parametrize(
        ("tree", "message"),
        [
            ({"a/b": {"level": "county"}}, "unit 'a/b': a unit's key is one path segment, no '/'"),
            ({"a": {"level": "x" * 51}}, "unit 'a': 'level' must be 1 to 50 characters"),
            (
                {"a": {"level": "county", "name": "n" * 201}},
                "unit 'a': 'name' must be text of at most 200 characters",
            ),
            (
                {"a": {"level": "county", "units": ["b"]}},
                "unit 'a': 'units' must be a mapping of units",
            ),
        ],
    )
    def test_what_the_columns_hold(self, tree: dict[str, object], message: str):
        """Keys, levels, names and children are checked before anything is stored."""
        with pytest.raises(DefinitionError) as info:
            parse_tree(tree, "t.yaml")
        assert f"t.yaml: {message}" == str(info.value)


def _chain(depth: int) -> dict[str, object]:
    tree: dict[str, object] = {}
    current = tree
    for _ in range(depth):
        below: dict[str, object] = {}
        current["a"] = {"level": "grid", "units": below}
        current = below
    return tree


class TestOrgsLoadCommand:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "x:\n  level: county\n  units: [\n",
                "4:1: YAML error: while parsing a flow node "
                "expected the node content, but found '<stream end>'",
            ),
            (
                "x: &x {level: county, units: {y: *x}}\n",
                "1:34: alias *x refers to a node that contains it (a recursive alias)",
            ),
            (
                "x: " + "[" * 100 + "]" * 100 + "\n",
                "1:68: nested deeper than 64 levels: flatten the structure",
            ),
        ],
    )
    def test_one_line_and_no_traceback(self, tmp_path: Path, text: str, message: str):
        """`caseflow orgs load` on a broken file: exit 1, one error line at file:line:col."""
        path = write(tmp_path, text)
        db = str(tmp_path / "o.db")
        assert 0 == CliRunner().invoke(cli, ["db", "upgrade", "--db", db]).exit_code
        result = CliRunner().invoke(cli, ["orgs", "load", str(path), "--db", db])
        assert (1, f"error: {path}:{message}\n") == (result.exit_code, result.stderr)


class TestCalendarFiles:
    def test_yaml_protections(self, tmp_path: Path):
        """Bombs, recursive aliases and tags in calendar data are positioned problems."""
        bomb = write(tmp_path, BOMB, "bomb.yaml")
        with pytest.raises(DefinitionError) as info:
            load_overlay(bomb)
        assert (
            f"{bomb}:6:8: alias *e expands the document past 100,000 values (aliases repeated "
            "inside aliases?)"
        ) == str(info.value)
        tagged = write(tmp_path, "years: {2027: {holidays: [!!binary aGk=]}}\n", "tag.yaml")
        with pytest.raises(DefinitionError, match=r"tag\.yaml:1:27: the YAML tag !!binary"):
            load_overlay(tagged)

    def test_impossible_date_is_positioned(self, tmp_path: Path):
        """2027-13-01 is refused where it is written."""
        path = write(tmp_path, "years:\n  2027:\n    holidays: [2027-13-01]\n", "c.yaml")
        with pytest.raises(DefinitionError) as info:
            load_overlay(path)
        assert f"{path}:3:16: not valid YAML: invalid date: month must be in 1..12" == str(
            info.value
        )

    def test_deep_json(self, tmp_path: Path):
        """JSON nested past the bound is refused before json.loads could recurse."""
        path = write(tmp_path, '{"years": ' + "[" * 100_000 + "]" * 100_000 + "}", "c.json")
        with pytest.raises(DefinitionError) as info:
            load_overlay(path)
        assert f"{path}:1:74: nested deeper than 64 levels" == str(info.value)

    def test_calendar_load_command(self, tmp_path: Path):
        """`caseflow calendar load` on a recursive alias: one error line, exit 1."""
        path = write(tmp_path, "years: &y {2027: *y}\n", "c.yaml")
        db = str(tmp_path / "c.db")
        assert 0 == CliRunner().invoke(cli, ["db", "upgrade", "--db", db]).exit_code
        result = CliRunner().invoke(cli, ["calendar", "load", str(path), "--db", db])
        assert (
            1,
            f"error: {path}:1:18: alias *y refers to a node that contains it (a recursive alias)\n",
        ) == (result.exit_code, result.stderr)
