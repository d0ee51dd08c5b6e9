from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from caseflow.definitions.loader import load_file, load_text, plain, read_yaml
from caseflow.export import catalog
from caseflow.export.diff import diff
from caseflow.export.graph import bpmn, dot, mermaid, render
from caseflow.export.lint import clock_coverage, lint
from caseflow.export.schema import DESCRIPTIONS, SHIPPED_PATH, schema_text, workflow_schema

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "workflows").glob("*.y*ml"))
MODELINE = "# yaml-language-server: $schema=../schema/workflow.schema.json"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}

# One workflow that trips every lint check once (line numbers matter to the tests).
LINT_ME = """\
workflow: lint_me
version: 1
roles: [clerk]
states:
  start: {initial: true}
  idle: {}
  waiting: {}
  loop_a: {}
  loop_b: {}
  done: {final: true}
events:
  begin: {from: start, to: idle, roles: [clerk]}
  wait: {from: idle, to: waiting, roles: [clerk]}
  orphan: {from: waiting, to: done, automatic: true}
  loop: {from: idle, to: loop_a, roles: [clerk]}
  spin: {from: loop_a, to: loop_b, roles: [clerk]}
  spin_back: {from: loop_b, to: loop_a, roles: [clerk]}
  route:
    from: waiting
    roles: [clerk]
    to:
      - {to: done, when: "1 == 1"}
      - {to: loop_a}
  pick:
    from: start
    roles: [clerk]
    to:
      - {to: idle, when: "data.x == 1"}
      - {to: waiting, when: "data.x  ==  1"}
      - {to: done, when: "false"}
      - {to: done}
clocks:
  intake: {limit: 5 days, runs_in: [start]}
  forever: {limit: 3 days, starts_on: {enter: loop_a}}
  long: {limit: 10 days, starts_on: {enter: waiting}}
"""


def shipped(path: Path):
    return load_file(path)


def ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


class TestSchema:
    def test_shipped_schema_is_current(self):
        """schema/workflow.schema.json is exactly what the code generates (never stale)."""
        shipped_text = (ROOT / SHIPPED_PATH).read_text(encoding="utf-8")
        assert schema_text() == shipped_text, (
            "schema/workflow.schema.json is stale: run "
            "`caseflow workflows schema --output schema/workflow.schema.json`"
        )

    def test_is_a_valid_draft_2020_12_schema(self):
        """The schema is itself valid, names its draft, and has an $id and a title."""
        schema = workflow_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "https://json-schema.org/draft/2020-12/schema" == schema["$schema"]
        assert schema["$id"]
        assert schema["title"]
        assert {"workflow", "version", "states", "events", "clocks"} <= set(schema["properties"])
        for section in ("states", "events", "clocks"):
            assert "$ref" in schema["properties"][section]["additionalProperties"]

    def test_descriptions_name_real_fields(self):
        """Every description in schema.py names a field the models have (none go stale)."""
        schema = workflow_schema()
        stale = [
            f"{name}.{prop}"
            for name, props in DESCRIPTIONS.items()
            for prop in props
            if prop
            and prop not in (schema if name == "Header" else schema["$defs"][name])["properties"]
        ]
        assert [] == stale
        core = schema["$defs"]["Clock"]["properties"]["limit"]
        assert "e.g. '5 workdays'" in core["description"]

    @pytest.mark.parametrize("path", SHIPPED, ids=ids(SHIPPED))
    def test_shipped_workflow_validates(self, path: Path):
        """Every shipped workflow validates against the schema."""
        validator = jsonschema.Draft202012Validator(workflow_schema())
        data = plain(read_yaml(path.read_text(encoding="utf-8"), str(path)))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert [] == errors

    @pytest.mark.parametrize("path", SHIPPED, ids=ids(SHIPPED))
    def test_shipped_workflow_names_the_schema(self, path: Path):
        """Every shipped workflow's first line points editors at the schema."""
        assert MODELINE == path.read_text(encoding="utf-8").splitlines()[0]

    def test_rejects_what_the_loader_rejects(self):
        """Unknown keys, bad durations and missing fields fail, each at its path."""
        validator = jsonschema.Draft202012Validator(workflow_schema())
        bad = {
            "workflow": "Bad",
            "version": 0,
            "states": {"a": {"initial": True, "titel": "x"}},
            "events": {"go": {"to": "a", "roles": ["r"]}},
            "clocks": {"c": {"limit": "5 weekdays", "runs_in": ["a"]}},
        }
        paths = sorted(tuple(map(str, e.absolute_path)) for e in validator.iter_errors(bad))
        assert [
            ("clocks", "c", "limit"),
            ("events", "go"),
            ("states", "a"),
            ("version",),
            ("workflow",),
        ] == paths

    def test_accepts_what_the_loader_accepts(self):
        """An empty state (`name:`) and a capitalised unit load, so the schema allows them."""
        text = (
            "workflow: w\nversion: 1\nroles: [r]\nstates:\n  a: {initial: true}\n  b:\n"
            "  c: {final: true}\nevents:\n  go: {from: a, to: b, roles: [r]}\n"
            "  end: {from: b, to: c, roles: [r]}\nclocks:\n  k: {limit: 5 Workdays, runs_in: [a]}\n"
        )
        load_text(text)
        validator = jsonschema.Draft202012Validator(workflow_schema())
        assert [] == list(validator.iter_errors(plain(read_yaml(text, "w.yaml"))))


class TestMermaid:
    @pytest.mark.parametrize("path", SHIPPED, ids=ids(SHIPPED))
    def test_structure(self, path: Path, tmp_path: Path):
        """Initial and final markers, every event with its roles, guards, and clock notes."""
        definition = shipped(path)
        text = mermaid(definition)
        lines = [line.strip() for line in text.splitlines()]
        assert "stateDiagram-v2" == lines[3]
        assert f"[*] --> {definition.initial_state}" in lines
        for name, state in definition.states.items():
            assert (f"{name} --> [*]" in lines) == state.final
        for event in definition.events.values():
            roles = f"[{', '.join(event.roles)}]"
            label = f"{event.name} (automatic)" if event.automatic else f"{event.name} {roles}"
            assert any(line.endswith(f" : {label}") for line in lines), event.name
            for branch in event.branches:
                if branch.when is not None:
                    guard = _mm(branch.when.source.strip())
                    assert any(line.endswith(f" --> {branch.to} : {guard}") for line in lines)
        for clock in definition.clocks.values():
            assert any(line.startswith(f"clock {clock.name}: {clock.limit}") for line in lines)
        notes = sum(line.startswith("note right of ") for line in lines)
        assert notes == lines.count("end note") > 0 or not definition.clocks
        for line in lines:  # Mermaid ends a label at ':' or ';': only entity codes remain
            if "-->" in line and " : " in line:
                label = re.sub(r"#\w+;", "", line.split(" : ", 1)[1])
                assert not re.search("[:;]", label), line
        mmdc = shutil.which("mmdc")
        if mmdc:  # render for real when mermaid-cli is installed; never fetched here
            (tmp_path / "g.mmd").write_text(text, encoding="utf-8")
            result = subprocess.run(
                [mmdc, "-i", str(tmp_path / "g.mmd"), "-o", str(tmp_path / "g.svg")],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            assert 0 == result.returncode, result.stderr

    def test_awkward_names_and_labels_are_escaped(self):
        """Mermaid keywords as state names get safe ids; ':' ';' '#' in labels are entities."""
        text = """\
workflow: odd
version: 1
roles: [r]
states:
  default: {initial: true, title: "a: b; c"}
  end: {}
  done: {final: true}
events:
  go: {from: default, to: end, roles: [r]}
  fin:
    from: end
    roles: [r]
    to:
      - {to: done, when: "data.note == 'x;y#z'"}
      - {to: done}
"""
        out = mermaid(load_text(text))
        assert 'state "default" as s0_default' in out
        assert 'state "end" as s1_end' in out
        assert "s0_default : a#58; b#59; c" in out
        assert "done : data.note == 'x#59;y#35;z'" in out
        assert "\n    default" not in out


def _mm(text: str) -> str:
    codes = {"#": "#35;", ":": "#58;", ";": "#59;", '"': "#quot;", "<": "#lt;", ">": "#gt;"}
    return "".join(codes.get(c, c) for c in text)


def _dot_binary() -> str:
    found = shutil.which("dot")
    if found is None:
        reason = "Graphviz `dot` is not installed (apt-get install graphviz)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI=true requires it")
        pytest.skip(reason)
    return found


class TestDot:
    @pytest.mark.parametrize("path", SHIPPED, ids=ids(SHIPPED))
    def test_renders_with_graphviz(self, path: Path):
        """The DOT output renders with `dot`; finals are double circles, clocks are notes."""
        definition = shipped(path)
        text = dot(definition)
        assert text.startswith("digraph ")
        for name, state in definition.states.items():
            node = next(line for line in text.splitlines() if line.startswith(f'  "{name}" ['))
            assert ("doublecircle" in node) == state.final
        for clock in definition.clocks.values():
            assert f'"__clock__{clock.name}" [shape=note' in text
        result = subprocess.run(
            [_dot_binary(), "-Tsvg"], input=text, capture_output=True, text=True, check=False
        )
        assert 0 == result.returncode, result.stderr
        assert "<svg" in result.stdout
        assert "Warning" not in result.stderr


class TestBpmn:
    @pytest.mark.parametrize("path", SHIPPED, ids=ids(SHIPPED))
    def test_process_and_diagram(self, path: Path):
        """One process; every state and event; a DI shape per node and an edge per flow."""
        definition = shipped(path)
        root = ET.fromstring(bpmn(definition).encode())  # noqa: S314 - our own output
        assert f"{{{NS['bpmn']}}}definitions" == root.tag
        processes = root.findall("bpmn:process", NS)
        assert 1 == len(processes)
        process = processes[0]
        elements = {el.get("id"): el for el in process}
        assert len(elements) == len(process), "ids are unique"
        tags = {i: el.tag.split("}")[1] for i, el in elements.items()}
        by_name = {el.get("name"): tags[i] for i, el in elements.items()}
        for name, state in definition.states.items():
            tag = by_name[f"{state.title} ({name})" if state.title else name]
            assert tag in (("endEvent",) if state.final else ("userTask", "task"))
        flows = process.findall("bpmn:sequenceFlow", NS)
        for event in definition.events.values():
            assert any((f.get("name") or "").startswith(event.name + " ") for f in flows)
        for flow in flows:
            assert flow.get("sourceRef") in elements
            assert flow.get("targetRef") in elements
        for gateway in process.findall("bpmn:exclusiveGateway", NS):
            out = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
            assert gateway.get("default") in {f.get("id") for f in out}
            guarded = [f for f in out if f.get("id") != gateway.get("default")]
            assert all(f.find("bpmn:conditionExpression", NS) is not None for f in guarded)
        for timer in process.findall("bpmn:boundaryEvent", NS):
            assert tags[timer.get("attachedToRef")] in ("userTask", "task")
            assert timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text
            assert timer.find("bpmn:documentation", NS).text.startswith("clock ")
        assert len(process.findall("bpmn:boundaryEvent", NS)) >= len(definition.clocks)
        plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
        assert process.get("id") == plane.get("bpmnElement")
        shapes = {s.get("bpmnElement"): s for s in plane.findall("bpmndi:BPMNShape", NS)}
        edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}
        nodes = [i for i, t in tags.items() if t != "sequenceFlow"]
        assert sorted(nodes) == sorted(shapes)
        assert sorted(f.get("id") for f in flows) == sorted(edges)
        for shape in shapes.values():
            bounds = shape.find("dc:Bounds", NS)
            assert min(int(bounds.get("width")), int(bounds.get("height"))) > 0
        for edge in edges.values():
            assert len(edge.findall("di:waypoint", NS)) >= 2

    def test_clock_breach_flows_from_its_timer(self):
        """An automatic event a clock fires leaves from that clock's boundary timer."""
        definition = load_file(ROOT / "workflows" / "administrative_approval.yaml")
        root = ET.fromstring(bpmn(definition).encode())  # noqa: S314 - our own output
        process = root.find("bpmn:process", NS)
        flow = next(
            f
            for f in process.findall("bpmn:sequenceFlow", NS)
            if f.get("name") == "deemed_accepted (automatic)"
        )
        timer = process.find(f"bpmn:boundaryEvent[@id='{flow.get('sourceRef')}']", NS)
        assert "State_submitted" == timer.get("attachedToRef")
        assert "true" == timer.get("cancelActivity")

    def test_render_rejects_unknown_format(self):
        """render() names the formats it knows."""
        definition = load_text(LINT_ME)
        with pytest.raises(ValueError, match="mermaid, dot, bpmn"):
            render(definition, "svg")


class TestLint:
    def test_each_check_with_its_position(self):
        """Every check fires once on LINT_ME, at file:line:col of the element."""
        found = [
            (w.line, w.column, w.code, w.element) for w in lint(load_text(LINT_ME, "lint.yaml"))
        ]
        assert [
            (6, 3, "CF101", "state 'idle'"),
            (14, 3, "CF102", "event 'orphan'"),
            (23, 9, "CF105", "event 'route'"),
            (29, 9, "CF105", "event 'pick'"),
            (30, 9, "CF105", "event 'pick'"),
            (34, 3, "CF103", "clock 'forever'"),
            (35, 3, "CF104", "clock 'long'"),
        ] == found
        first = str(lint(load_text(LINT_ME, "lint.yaml"))[0])
        assert first.startswith("lint.yaml:6:3: warning CF101 [unclocked-state] state 'idle': ")

    def test_ignore_by_code_or_name_and_by_comment(self):
        """--ignore takes codes or names; `# lint: ignore[...]` silences one line."""
        definition = load_text(LINT_ME)
        codes = {w.code for w in lint(definition, ignore=["CF105", "clock-never-stops"])}
        assert {"CF101", "CF102", "CF104"} == codes
        text = LINT_ME.replace("  idle: {}", "  idle: {}  # lint: ignore[CF101]")
        text = text.replace("automatic: true}", "automatic: true}  # lint: ignore")
        assert {"CF103", "CF104", "CF105"} == {w.code for w in lint(load_text(text))}

    @pytest.mark.parametrize("path", SHIPPED, ids=ids(SHIPPED))
    def test_shipped_workflows_have_no_mistakes(self, path: Path):
        """Shipped workflows may have unclocked states, but nothing CF102-CF105 reports."""
        warnings = [str(w) for w in lint(shipped(path)) if w.code != "CF101"]
        assert [] == warnings

    def test_clock_coverage_follows_the_runtime(self):
        """A starts_on/stops_on clock runs from its start to its stop, pauses where told."""
        definition = load_file(ROOT / "workflows" / "administrative_approval.yaml")
        cov = clock_coverage(definition, definition.clocks["decision"])
        assert ("accepted", "under_review") == cov.running
        assert ("expert_review",) == cov.paused
        assert cov.can_stop
        window = clock_coverage(definition, definition.clocks["correction_window"])
        assert ("submitted",) == window.running


class TestDiff:
    def test_added_removed_changed(self):
        """Changed fields show old and new; elements added and removed are listed."""
        old = load_text(LINT_ME, "v1.yaml")
        new_text = (
            LINT_ME.replace("version: 1", "version: 2")
            .replace("intake: {limit: 5 days", "intake: {limit: 7 days")
            .replace("  long: {limit: 10 days, starts_on: {enter: waiting}}\n", "")
            .replace("  done: {final: true}", "  done: {final: true, title: 完成}")
            .replace("  loop: {", "  hurry: {from: idle, to: done, roles: [clerk]}\n  loop: {")
        )
        result = diff(old, load_text(new_text, "v2.yaml"))
        assert [
            ("state", "done", "changed"),
            ("event", "hurry", "added"),
            ("clock", "intake", "changed"),
            ("clock", "long", "removed"),
        ] == [(c.kind, c.name, c.how) for c in result.changes]
        assert [
            "~ state done: changed",
            "    title:  -> 完成",
            "+ event hurry: added",
            "~ clock intake: changed",
            "    limit: 5 days -> 7 days",
            "- clock long: removed",
        ] == result.lines()
        as_json = result.to_json()
        assert 2 == as_json["new"]["version"]
        assert {"limit": {"old": "5 days", "new": "7 days"}} == as_json["changes"][2]["fields"]
        json.dumps(as_json)

    def test_identical(self):
        """The same definition twice has no differences."""
        definition = load_text(LINT_ME)
        assert diff(definition, definition).identical


class TestCatalog:
    def test_rows_and_counts_hook(self):
        """catalog() sorts by name and version; counts fill `cases`, absent ones are 0."""
        v1 = load_text(LINT_ME, "a.yaml")
        v2 = load_text(LINT_ME.replace("version: 1", "version: 2"), "b.yaml")
        rows = catalog([v2, v1])
        assert [("lint_me", 1), ("lint_me", 2)] == [(r.name, r.version) for r in rows]
        assert [None, None] == [r.cases for r in rows]
        assert v1.content_hash[:12] == rows[0].short_hash
        counted = catalog([v1, v2], counts={("lint_me", 2): 7})
        assert [0, 7] == [r.cases for r in counted]
        assert 7 == counted[1].to_json()["cases"]
