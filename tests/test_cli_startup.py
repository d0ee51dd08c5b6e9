"""
Start-up: `caseflow --help` and `caseflow COMMAND --help` load click and the CLI's own
modules, not the engine, SQLAlchemy, Alembic, jsonschema or transitions (checked by
module, not by the clock: the timing depends on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What a help screen must not import: the storage, migration, schema and state machine
#: libraries and the engine; rich, structlog, pydantic and ruamel too (no output, no YAML).
HEAVY = (
    "sqlalchemy",
    "alembic",
    "jsonschema",
    "transitions",
    "caseflow.engine",
    "rich",
    "structlog",
    "pydantic",
    "ruamel",
)
HELP_SCREENS = [
    ["--help"],
    ["cases", "--help"],
    ["cases", "list", "--help"],
    ["cases", "retry", "--help"],
    ["incidents", "list", "--help"],
    ["timers", "list", "--help"],
    ["worker", "--help"],
    ["calendar", "due", "--help"],
    ["votes", "show", "--help"],
    ["orgs", "list", "--help"],
    ["report", "--help"],
    ["workflows", "validate", "--help"],
    ["db", "upgrade", "--help"],
    ["demo", "--help"],
]
# Runs the CLI's help screens in a fresh interpreter and prints what got imported. The
# package `caseflow` is registered without running its __init__ (which imports the
# Engine for `from caseflow import Engine`), so this measures the CLI's own imports.
PROBE = """\
import json, sys, types
pkg = types.ModuleType("caseflow")
pkg.__path__ = [sys.argv[1]]
sys.modules["caseflow"] = pkg
from caseflow.cli import cli
codes = [cli.main(args, prog_name="caseflow", standalone_mode=False) for args in json.loads(sys.argv[2])]
print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
"""


def heavy_in(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def probe(screens: list[list[str]]) -> tuple[list[int], list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "caseflow"), json.dumps(screens)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert 0 == result.returncode, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    return found["codes"], found["modules"]


class TestHelpImports:
    def test_help_screens_import_no_engine(self):
        """Every help screen, in one process: none imports the engine or its libraries."""
        codes, modules = probe(HELP_SCREENS)
        assert [0] * len(HELP_SCREENS) == codes
        assert [] == heavy_in(modules)
        assert "click" in modules

    def test_a_command_loads_only_its_own_module(self):
        """`cases list --help` imports the cases module, not the other commands'."""
        _, modules = probe([["cases", "list", "--help"]])
        commands = sorted(m for m in modules if m.startswith("caseflow.cli."))
        assert ["caseflow.cli.cases", "caseflow.cli.common"] == commands

    def test_entry_point(self):
        """`python -X importtime caseflow --help`: the real entry point, the package included."""
        bare = subprocess.run(
            [sys.executable, "-c", "import caseflow, json, sys; print(json.dumps(sorted(sys.modules)))"],
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        # the package's names are lazy: `import caseflow` alone loads no engine
        assert not heavy_in(json.loads(bare.stdout))
        script = Path(sys.executable).with_name("caseflow")
        result = subprocess.run(
            [sys.executable, "-X", "importtime", str(script), "--help"],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert 0 == result.returncode, result.stderr
        assert "Usage: caseflow" in result.stdout
        imported = [
            line.rsplit("|", 1)[-1].strip()
            for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        ]
        assert [] == heavy_in(imported)


class TestSpelledOutConstants:
    def test_match_the_library(self):
        """Choices the CLI spells out to stay import-light agree with the library's."""
        from caseflow.cli import calendar, report
        from caseflow.clocks.periods import DEFAULT_TZ
        from caseflow.reports import BY_VALUES

        assert BY_VALUES == report.BY_VALUES
        assert DEFAULT_TZ == calendar.DEFAULT_TZ
