"""
``bpmnlint`` (the npm package, ``bpmnlint:recommended`` rules) on the BPMN export.

Installed by ``npm ci --prefix tests/bpmnlint --no-audit --no-fund`` (``.ci/run`` does
it). Without it the tests skip with that command as the reason; under ``CI=true`` they
fail instead. Warnings count as failures too (``--max-warnings=0``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseflow.cli import cli
from caseflow.definitions.loader import load_text
from caseflow.export.graph import bpmn

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "workflows").glob("*.y*ml"))
LINT_DIR = ROOT / "tests" / "bpmnlint"
BPMNLINT = LINT_DIR / "node_modules" / ".bin" / "bpmnlint"
INSTALL = "npm ci --prefix tests/bpmnlint --no-audit --no-fund"

# The drawing's rarer cases: a wait state, a timer that fires two events, a state left
# only by two clocks' events, a per-item clock, a branched event fired by a clock.
RARE = """\
workflow: rare
version: 1
roles: [r]
states:
  intake: {initial: true}
  posted: {}
  review: {}
  stuck: {}
  work:
    parallel: {items: payload.units, report_roles: [r], on_complete: all_done, clock: unit_limit}
  done: {final: true}
  dropped: {final: true}
events:
  post: {from: intake, to: posted, roles: [r]}
  posted_out:
    from: posted
    automatic: true
    to:
      - {to: review, when: "data.review == true"}
      - {to: done}
  decide: {from: review, to: done, roles: [r]}
  late: {from: review, to: stuck, automatic: true}
  later: {from: review, to: dropped, automatic: true}
  unstick: {from: stuck, to: work, automatic: true}
  give_up: {from: stuck, to: dropped, automatic: true}
  all_done: {from: work, to: done, automatic: true}
clocks:
  posted: {limit: 1 month, runs_in: [posted], on_breach: {fire: posted_out}}
  review_limit:
    limit: 8 hours
    runs_in: [review]
    on_breach: {fire: late}
    escalate: [{after: 1 hour, fire: later}]
  stuck_a: {limit: 1 workday, runs_in: [stuck], on_breach: {fire: unstick}}
  stuck_b: {limit: 2 days, runs_in: [stuck], on_breach: {fire: give_up}}
  unit_limit: {limit: 3 workdays, per_item: true}
"""

# A task with two unconditional flows out: bpmnlint must say no-implicit-split.
SPLIT = """\
<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"
    targetNamespace="urn:test">
  <bpmn:process id="P" isExecutable="false">
    <bpmn:startEvent id="S" name="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:task id="T" name="task">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:task>
    <bpmn:endEvent id="E1" name="one"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="E2" name="two"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T" />
    <bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="E1" />
    <bpmn:sequenceFlow id="f3" sourceRef="T" targetRef="E2" />
  </bpmn:process>
</bpmn:definitions>
"""


def bpmnlint_binary(binary: Path = BPMNLINT) -> Path:
    """The installed bpmnlint; skips without it, or fails under ``CI=true``."""
    if not binary.exists():
        reason = f"bpmnlint is not installed ({binary} is missing): run `{INSTALL}`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI=true requires it")
        pytest.skip(reason)
    return binary


def run_bpmnlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(bpmnlint_binary()),
            "--config",
            str(LINT_DIR / ".bpmnlintrc"),
            "--max-warnings=0",
            str(path),
        ],
        cwd=LINT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


class TestBpmnlint:
    """Every shipped workflow's BPMN passes bpmnlint's recommended rules, warnings too."""

    def test_setup(self):
        """The config extends bpmnlint:recommended; the package is pinned and locked."""
        assert {"extends": "bpmnlint:recommended"} == json.loads(
            (LINT_DIR / ".bpmnlintrc").read_text(encoding="utf-8")
        )
        package = json.loads((LINT_DIR / "package.json").read_text(encoding="utf-8"))
        version = package["devDependencies"]["bpmnlint"]
        lock = json.loads((LINT_DIR / "package-lock.json").read_text(encoding="utf-8"))
        assert version == lock["packages"]["node_modules/bpmnlint"]["version"]
        ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
        assert "tests/bpmnlint/node_modules/" in ignored

    @pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
    def test_shipped_workflow(self, path: Path, tmp_path: Path):
        """`workflows graph --format bpmn FILE` output: bpmnlint exits 0, no warnings."""
        bpmnlint_binary()
        out = tmp_path / f"{path.stem}.bpmn"
        result = CliRunner().invoke(
            cli,
            ["workflows", "graph", str(path), "--format", "bpmn", "-o", str(out)],
            catch_exceptions=False,
        )
        assert 0 == result.exit_code, result.output
        lint = run_bpmnlint(out)
        assert 0 == lint.returncode, f"bpmnlint {out.name}:\n{lint.stdout}{lint.stderr}"

    def test_rare_timers(self, tmp_path: Path):
        """The drawing's rarer cases pass as well."""
        out = tmp_path / "rare.bpmn"
        out.write_text(bpmn(load_text(RARE)), encoding="utf-8")
        lint = run_bpmnlint(out)
        assert 0 == lint.returncode, f"bpmnlint {out.name}:\n{lint.stdout}{lint.stderr}"

    def test_the_linter_finds_problems(self, tmp_path: Path):
        """A sanity check of the setup: an implicit split fails, and the output says so."""
        out = tmp_path / "split.bpmn"
        out.write_text(SPLIT, encoding="utf-8")
        lint = run_bpmnlint(out)
        assert 0 != lint.returncode
        assert "no-implicit-split" in lint.stdout

    @pytest.mark.parametrize(
        ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
    )
    def test_missing_install(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
    ):
        """Without node_modules: a failure under CI=true, else a skip; both say how to install."""
        monkeypatch.setenv("CI", ci)
        with pytest.raises(outcome, match="npm ci --prefix tests/bpmnlint --no-audit --no-fund"):
            bpmnlint_binary(tmp_path / "missing" / "bpmnlint")
