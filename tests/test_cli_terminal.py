"""
Terminal safety: whatever is stored (actor ids, orgs, case data, comments, reasons, errors,
titles, voter ids) reaches the operator's terminal as text, never as rich markup or as
escape sequences; through the real CLI on a real SQLite file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from caseflow import Actor, Engine
from caseflow.cli import cli
from caseflow.store import incidents as incident_rows
from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
#: Colour, reset, a rich closing tag, an OSC window title, a C1 CSI and a bidi override.
EVIL = "\x1b[31mred\x1b[0m[/]\x1b]0;pwned\x07\x9b2J\u202e"
#: How the CLI shows it: every control character as a visible escape, the markup as text.
SHOWN = "\\x1b[31mred\\x1b[0m[/]\\x1b]0;pwned\\x07\\x9b2J\\u202e"
#: What must never be printed: C0 (but newline), DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

TINY_VOTE = """\
workflow: tiny_vote
version: 1
title: "tiny \\e[31mvote[/]"
roles: [clerk, vote_clerk]
data: {type: object}
states:
  open: {initial: true}
  voting:
    title: "voting \\e]0;x\\a"
    vote:
      electorate: {data: voters}
      rule: {preset: representative_meeting}
      ballot: open
      clerk_roles: [vote_clerk]
      on_pass: adopt
      on_fail: reject
      on_no_quorum: reject
  adopted: {final: true}
  rejected: {final: true}
events:
  start_vote: {from: open, to: voting, roles: [clerk]}
  adopt: {from: voting, to: adopted, automatic: true}
  reject: {from: voting, to: rejected, automatic: true}
"""
ORGS = """\
evil:
  name: "县\\e[31m[/]"
  level: county
  units:
    sub:
      name: "网格\\e]0;x\\a"
      level: grid
"""


class Hostile:
    """A database whose every operator-visible value carries markup and escape sequences."""

    def __init__(self, root: Path) -> None:
        self.db = f"sqlite:///{root / 'hostile.db'}"
        self.workflows = root / "wf"
        self.workflows.mkdir()
        for source in WORKFLOWS.glob("*.yaml"):
            (self.workflows / source.name).write_text(source.read_text(encoding="utf-8"))
        (self.workflows / "tiny_vote.yaml").write_text(TINY_VOTE)
        (root / "orgs.yaml").write_text(ORGS)
        clock = MovableClock("2026-09-21T09:00")
        with Engine(self.db, workflows=self.workflows, clock=clock) as engine:
            # The API refuses control characters in ids and org paths, so hostile ones are
            # written into the rows afterwards, as an older version or a direct write could.
            clerk = Actor("clerk", {"window_clerk"}, "evil/sub")
            case = engine.start(
                "administrative_approval",
                data={"applicant": "张三" + EVIL, "matter": "[bold]m[/bold]" + EVIL},
                actor=clerk,
                org="evil/plain",
            )
            engine.fire(case.id, "accept", actor=clerk, comment="comment" + EVIL)
            engine.suspend(case.id, actor=Actor("ops", {"operator"}), reason="why" + EVIL)
            with engine.db.begin() as conn:
                incident_rows.open_incident(
                    conn, case.id, 0, "notify", "boom" + EVIL, 3, clock.now()
                )
            vote = engine.start(
                "tiny_vote", data={"voters": ["v1", "v2"]}, actor=Actor("c", {"clerk"})
            )
            engine.fire(vote.id, "start_vote", actor=Actor("c", {"clerk"}))
            engine.cast_ballot(vote.id, "yes", actor=Actor("k", {"vote_clerk"}), voter="v1")
            with engine.db.begin() as conn:
                for sql, values in (
                    ("update cf_cases set org = :v where id = :c", {"v": "evil/" + EVIL}),
                    ("update cf_clocks set org = null where case_id = :c", {}),
                    (
                        "update cf_history set actor_id = :v where case_id = :c "
                        "and actor_id = 'clerk'",
                        {"v": "clerk" + EVIL},
                    ),
                    (
                        "update cf_history set actor_id = :v where case_id = :c "
                        "and actor_id = 'ops'",
                        {"v": "ops" + EVIL},
                    ),
                ):
                    conn.execute(sa.text(sql), {"c": case.id, **values})
                for table in ("cf_vote_electorate", "cf_vote_attendance", "cf_ballots"):
                    conn.execute(
                        sa.text(f"update {table} set voter = :v where voter = 'v1'"),
                        {"v": "v1" + EVIL},
                    )
            engine.load_orgs(root / "orgs.yaml")  # after the cases: their orgs are not in it
        self.case, self.vote = case.id, vote.id

    def run(self, *args: str, verbose: bool = False):
        options = ["--db", self.db, "--workflows", str(self.workflows)]
        env = {"FORCE_COLOR": None, "TERM": "xterm", "COLUMNS": "400"}  # wide: nothing wraps
        return CliRunner().invoke(cli, [*(["-v"] if verbose else []), *args, *options], env=env)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    return Hostile(tmp_path_factory.mktemp("hostile"))


def safe(result) -> str:
    """The output, checked: exit 0 and not one raw control character."""
    assert 0 == result.exit_code, result.output
    found = RAW.findall(result.output)
    assert not found, f"raw control characters {found!r} in {result.output!r}"
    return result.output


class TestCasesShow:
    def test_markup_and_escapes_are_shown_as_text(self, hostile: Hostile):
        """`[/]` no longer crashes rich; escapes are visible, as text, in every part."""
        out = safe(hostile.run("cases", "show", hostile.case))
        joined = out
        assert f"clerk{SHOWN}" in joined  # who (history)
        assert f"evil/{SHOWN}" in joined  # org (header)
        assert f"comment{SHOWN}" in joined  # comment (history)
        assert f"why{SHOWN}" in joined  # reason (history)
        assert f"boom{SHOWN}" in joined  # incident error
        # Case data is JSON: control characters are JSON escapes, markup is text.
        assert (
            '"applicant": "张三\\u001b[31mred\\u001b[0m[/]\\u001b]0;pwned\\u0007\\u009b2J\\u202e"'
            in out
        )
        assert '"[bold]m[/bold]' in out

    def test_json_is_the_same_data_with_escapes(self, hostile: Hostile):
        """--json: valid JSON carrying the stored value exactly; nothing raw on the terminal."""
        out = safe(hostile.run("cases", "show", hostile.case, "--json"))
        data = json.loads(out)
        assert "张三" + EVIL == data["data"]["applicant"]
        assert {"comment" + EVIL} == {
            h["details"].get("comment") for h in data["history"] if h["event"] == "accept"
        }


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("cases", "list"), f"evil/{SHOWN}"),
        (("cases", "list", "--json"), None),
        (("incidents", "list"), f"boom{SHOWN}"),
        (("incidents", "list", "--json"), None),
        (("incidents", "show", "1"), f"boom{SHOWN}"),
        (("timers", "list"), None),
        (("votes", "show", "VOTE"), f"v1{SHOWN}"),
        (("votes", "show", "VOTE", "--json"), None),
        (("report", "--since", "2026-09-01", "--until", "2026-10-01"), f"evil/{SHOWN}"),
        (("report", "--since", "2026-09-01", "--json"), None),
        (("workflows", "list"), "tiny \\x1b[31mvote[/]"),
    ],
)
def test_every_listing_escapes(hostile: Hostile, args: tuple[str, ...], shown: str | None):
    """Each command that prints stored values shows them as visible escapes, never raw."""
    args = tuple(hostile.vote if a == "VOTE" else a for a in args)
    out = safe(hostile.run(*args))
    if shown is not None:
        assert shown in out
    if "--json" in args:
        json.loads(out)


class TestOtherOutput:
    def test_orgs_list(self, hostile: Hostile):
        """The org tree's names as text."""
        result = CliRunner().invoke(cli, ["orgs", "list", "--db", hostile.db])
        out = safe(result)
        assert "县\\x1b[31m[/]  [county]  evil" in out
        assert "  网格\\x1b]0;x\\x07  [grid]  evil/sub" in out

    def test_operator_summaries_and_errors(self, hostile: Hostile):
        """What an operator command prints about the case, and an error naming a bad id."""
        out = safe(hostile.run("cases", "reassign", hostile.case, "--user", "u-1",
                               "--reason", "r", "--operator", "ops-1"))  # fmt: skip
        assert f"reassigned to org evil/{SHOWN}, u-1 as operator ops-1" in out
        refused = hostile.run("cases", "reassign", hostile.case, "--user", "u" + EVIL,
                              "--reason", "r", "--operator", "ops-1")  # fmt: skip
        assert 1 == refused.exit_code
        assert not RAW.search(refused.output)
        assert "assignee: contains a control character" in refused.output
        missing = hostile.run("cases", "show", "id" + EVIL)
        assert 1 == missing.exit_code
        assert not RAW.search(missing.output)
        assert missing.output.startswith("error: case_id: contains a control character")

    def test_verbose_log_lines(self, hostile: Hostile):
        """`caseflow -v` still logs the library's transitions (to stderr), cleaned."""
        result = hostile.run("cases", "resume", hostile.case, "--reason", "r", "--operator", "o")
        assert 0 == result.exit_code, result.output
        logged = hostile.run(
            "cases", "fire", hostile.case, "start_review", "--as", "reviewer", verbose=True
        )
        out = safe(logged)
        assert "event_name='start_review'" in out  # the library's line for the event
