"""
The supervision console in a real browser: Debian's chromium, driven by playwright-core
(npm, ``tests/browser``; it downloads no browser), against ``caseflow serve`` started on
loopback with a database seeded through the library.

Needs ``apt-get install chromium`` and ``npm ci --prefix tests/browser`` (``.ci/run``
does both). Without them the tests skip with that reason; under ``CI=true`` they fail.
Screenshots are kept in ``tests/artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from server_support import REVIEWER, SUPER, seed, serve_process, workflow_dirs, write_tokens

from caseflow import Engine
from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
BROWSER_DIR = ROOT / "tests" / "browser"
DRIVER = BROWSER_DIR / "console.mjs"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
INSTALL = "apt-get install -y chromium && npm ci --prefix tests/browser --no-audit --no-fund"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing"
    if shutil.which("node") is None:
        return "node is missing"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "tests/browser/node_modules (playwright-core) is missing"
    return None


@pytest.fixture(scope="module")
def console_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One browser session through the console; what it saw, and the seeded ids."""
    missing = _missing()
    if missing is not None:
        reason = f"{missing}; install with `{INSTALL}`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (CI=true runs the browser tests)")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("console")
    db = f"sqlite:///{folder / 'caseflow.db'}"
    workflows = workflow_dirs(folder)
    now = dt.datetime.now(dt.UTC)
    clock = MovableClock(now)
    with Engine(db, workflows=workflows, clock=clock) as engine:
        seeded = seed(engine, clock, now)
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    profile = folder / "chromium-profile"
    profile.mkdir()
    with serve_process(db, write_tokens(folder), workflows, folder / "serve.log") as base:
        args = {
            "base": base,
            "token": SUPER,
            "case": seeded.breached,
            "org": seeded.breached_org,
            "vote": seeded.vote,
            "worker": REVIEWER,
            "claim": seeded.breached,
            "out": str(ARTIFACTS),
            "profile": str(profile),
        }
        done = subprocess.run(
            ["node", str(DRIVER), json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
            cwd=ROOT,
        )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    (ARTIFACTS / "seen.json").write_text(json.dumps(seen, ensure_ascii=False, indent=2))
    assert "failure" not in seen, seen["failure"]
    return {"seen": seen, "seeded": seeded}


RED = "rgb(220, 38, 38)"


class TestConsoleInABrowser:
    def test_it_needs_no_network_and_logs_no_error(self, console_run):
        """Every script is served by caseflow (nothing else was asked for); no page errors."""
        seen = console_run["seen"]
        assert seen["external"] == []
        assert seen["errors"] == []
        assert seen["steps"]["login_page"] == "/console/login"

    def test_the_breached_case_lights_its_unit_red(self, console_run):
        """九岭村 shows a red lamp with one breached case; its township and county too."""
        steps = console_run["seen"]["steps"]
        assert console_run["seeded"].breached_org == "jiaoling/sanzhen/jiuling"
        assert steps["unit_light"] == "red"
        assert steps["unit_lamp_colour"] == RED
        assert steps["unit_breached"] == "1"
        assert steps["lights"]["jiaoling/sanzhen"] == "red"
        assert steps["lights"]["jiaoling"] == "red"
        assert steps["lights"]["jiaoling/jiaocheng/chengbei"] == "yellow"
        assert steps["lights"]["jiaoling/sanzhen/fangxin"] == "green"

    def test_the_breached_case_is_red_in_the_overdue_list(self, console_run):
        """The overdue list has the case, marked red."""
        steps = console_run["seen"]["steps"]
        assert steps["overdue_row_class"] == "light-red"
        assert steps["overdue_lamp_colour"] == RED

    def test_the_case_page_shows_timeline_clocks_and_the_diagram(self, console_run):
        """The timeline has the breach; the decision clock is breached; Mermaid drew the
        workflow with the current state highlighted."""
        steps = console_run["seen"]["steps"]
        assert steps["timeline"][0] == "start"
        assert "accept" in steps["timeline"]
        assert "clock decision breached" in steps["timeline"]
        decision = next(c for c in steps["clocks"] if c["clock"] == "decision")
        assert decision["status"] == "breached"
        assert decision["last_day"]
        assert int(decision["workdays_left"]) < 0
        assert steps["diagram"] == "rendered"
        assert steps["diagram_svg"] == 1
        assert steps["diagram_current"] == 1
        assert "后台分类审批" in steps["diagram_text"]
        assert steps["current_state"].endswith("under_review")

    def test_the_ranking_chart_and_the_vote_page(self, console_run):
        """Chart.js drew the month's ranking; the vote page shows attendance and quorum."""
        steps = console_run["seen"]["steps"]
        assert steps["chart_drawn"] is True
        assert steps["ranking_rows"] >= 1
        assert steps["vote_present"].startswith("11")
        assert "≥ 10" in steps["vote_present"]
        assert steps["vote_status"] == "open"

    def test_a_reviewer_claims_a_case_from_their_worklist(self, console_run):
        """The reviewer's worklist: the breached case first and red, then the warned one;
        the claim button swaps in "claimed by you" without leaving the page, and a reload
        still shows it."""
        steps = console_run["seen"]["steps"]
        seeded = console_run["seeded"]
        assert steps["worklist_cases"] == [seeded.breached, seeded.warned, seeded.running[0]]
        assert steps["worklist_lights"] == ["red", "yellow", "green"]
        assert steps["worklist_lamp_colour"] == RED
        assert steps["worklist_left"].startswith("超期")
        assert "workdays" in steps["worklist_left"]
        assert steps["claim_buttons"] == 3
        assert "claimed by you" in steps["claimed_text"]
        assert steps["claimed_assignee"] == "review.wang"
        assert steps["claim_page"] == "/console/worklist"
        assert steps["claim_buttons_after"] == 2
        assert "claimed by you" in steps["reloaded_text"]

    def test_screenshots_are_kept(self, console_run):
        """Each page's screenshot is saved as a test artefact."""
        del console_run
        names = sorted(p.name for p in ARTIFACTS.glob("*.png"))
        assert names == [
            "01-dashboard.png",
            "02-overdue.png",
            "03-case.png",
            "04-ranking.png",
            "05-vote.png",
            "06-worklist.png",
        ]
