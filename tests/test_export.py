from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from caseflow.clocks.durations import Duration, parse_duration
from caseflow.definitions.loader import load_file, load_text, plain, read_yaml
from caseflow.export import catalog
from caseflow.export.diff import diff
from caseflow.export.durations import duration_label, iso8601
from caseflow.export.graph import CASEFLOW_NS, bpmn, dot, mermaid, render
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
    "caseflow": "urn:caseflow:bpmn",
}
ISO_8601 = re.compile(r"P(\d+[DM]|T\d+H)")

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
data: {type: object, properties: {x: {type: integer}}}
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
            limit = duration_label(clock.limit)
            assert any(line.startswith(f"clock {clock.name}: {limit}") for line in lines)
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


# Timers the shipped workflows do not have: a wait state (left only by its clock), a
# timer firing two events that leave its state, a state left only by two clocks' events,
# a per-item clock on a parallel state.
TIMERS = """\
workflow: timers
version: 1
roles: [r]
states:
  intake: {initial: true}
  posted: {title: 公示}
  review: {}
  stuck: {}
  work:
    parallel: {items: payload.units, report_roles: [r], on_complete: all_done, clock: unit_limit}
  done: {final: true}
events:
  post: {from: intake, to: posted, roles: [r]}
  posted_out: {from: posted, to: review, automatic: true}
  decide: {from: review, to: done, roles: [r]}
  late: {from: review, to: stuck, automatic: true}
  later: {from: review, to: done, automatic: true}
  unstick: {from: stuck, to: work, automatic: true}
  give_up: {from: stuck, to: done, automatic: true}
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


def _tree(definition) -> tuple[ET.Element, ET.Element]:
    root = ET.fromstring(bpmn(definition).encode())  # noqa: S314 - our own output
    return root, root.find("bpmn:process", NS)


def _tag(element: ET.Element) -> str:
    return element.tag.split("}")[1]


class TestBpmn:
    """The BPMN export: the process the lint rules want, timers in ISO 8601, and a diagram."""

    @pytest.mark.parametrize("path", [*SHIPPED, None], ids=[*ids(SHIPPED), "timers"])
    def test_process_and_diagram(self, path: Path | None):
        """One process; every state and event; a DI shape per node and an edge per flow."""
        definition = shipped(path) if path else load_text(TIMERS)
        root, process = _tree(definition)
        assert f"{{{NS['bpmn']}}}definitions" == root.tag
        assert 1 == len(root.findall("bpmn:process", NS))
        elements = {el.get("id"): el for el in process}
        assert len(elements) == len(process), "ids are unique"
        tags = {i: _tag(el) for i, el in elements.items()}
        flows = process.findall("bpmn:sequenceFlow", NS)
        for name, state in definition.states.items():
            node = elements[f"State_{name}"]
            assert (node.get("name") or "").startswith(
                f"{state.title} ({name})" if state.title else name
            )
            if state.final:
                assert "endEvent" == tags[node.get("id")]
            else:
                assert tags[node.get("id")] in ("userTask", "task", "intermediateCatchEvent")
        assert 1 == list(tags.values()).count("startEvent")

        def says(flow: ET.Element, text: str) -> bool:
            doc = flow.find("bpmn:documentation", NS)
            return (flow.get("name") or "").startswith(text) or (
                doc is not None and doc.text.startswith(text)
            )

        for event in definition.events.values():
            assert any(says(f, event.name + " ") for f in flows), event.name
        for flow in flows:
            assert flow.get("sourceRef") in elements
            assert flow.get("targetRef") in elements
        outgoing = {i: [f for f in flows if f.get("sourceRef") == i] for i in elements}
        incoming = {i: [f for f in flows if f.get("targetRef") == i] for i in elements}

        def conditional(flow: ET.Element) -> bool:
            return flow.find("bpmn:conditionExpression", NS) is not None

        for i, tag in tags.items():  # bpmnlint's recommended rules, for runs without node
            if tag == "sequenceFlow":
                continue
            out, into = outgoing[i], incoming[i]
            if tag == "exclusiveGateway":
                assert (len(into) > 1) != (len(out) > 1), f"{i} joins or forks, not both"
                default = elements[i].get("default")
                assert default is None or default in {f.get("id") for f in out}
                if len(out) > 1:
                    assert elements[i].get("name"), f"{i}: a forking gateway is labelled"
                    assert all(conditional(f) or f.get("id") == default for f in out), i
                continue
            assert len(into) <= 1, f"{i}: no implicit join"
            assert sum(not conditional(f) for f in out) <= 1, f"{i}: no implicit split"
            assert out or tag == "endEvent", f"{i}: no implicit end"
            assert into or tag in ("startEvent", "boundaryEvent"), f"{i}: no implicit start"
            for flow in out:  # a label only where it says which way (superfluous-label)
                assert not flow.get("name") or conditional(flow), flow.get("id")
        keys = [
            (
                f.get("sourceRef"),
                f.get("targetRef"),
                getattr(f.find("bpmn:conditionExpression", NS), "text", ""),
            )
            for f in flows
        ]
        assert len(keys) == len(set(keys)), "no duplicate sequence flows"
        timers = [el for el in process if _tag(el) in ("boundaryEvent", "intermediateCatchEvent")]
        for timer in timers:
            if _tag(timer) == "boundaryEvent":
                assert tags[timer.get("attachedToRef")] in ("userTask", "task")
            duration = timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text
            assert ISO_8601.fullmatch(duration), duration
            assert timer.find("bpmn:documentation", NS).text.startswith("clock ")
            limits = timer.findall("bpmn:extensionElements/caseflow:limit", NS)
            assert limits
            assert duration == iso8601(
                Duration(int(limits[0].get("amount")), limits[0].get("unit"))
            )
        timed = {t.find("bpmn:extensionElements/caseflow:limit", NS).get("clock") for t in timers}
        assert set(definition.clocks) == timed, "every clock has a timer"
        plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
        assert process.get("id") == plane.get("bpmnElement")
        shapes = {s.get("bpmnElement"): s for s in plane.findall("bpmndi:BPMNShape", NS)}
        edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}
        nodes = [i for i, t in tags.items() if t != "sequenceFlow"]
        assert sorted(nodes) == sorted(shapes)
        assert sorted(f.get("id") for f in flows) == sorted(edges)
        boxes = {}
        for node_id, shape in shapes.items():
            bounds = shape.find("dc:Bounds", NS)
            x, y, w, h = (int(bounds.get(k)) for k in ("x", "y", "width", "height"))
            assert min(w, h) > 0
            boxes[node_id] = (x, y, x + w, y + h)
        for a, (ax, ay, ax2, ay2) in boxes.items():  # no-overlapping-elements
            for b, (bx, by, bx2, by2) in boxes.items():
                hosts = {elements[a].get("attachedToRef"), elements[b].get("attachedToRef")}
                if a < b and not {a, b} & hosts:
                    assert ax2 < bx or bx2 < ax or ay2 < by or by2 < ay, (a, b)
        for edge in edges.values():
            points = edge.findall("di:waypoint", NS)
            assert len(points) >= 2
            for p, q in itertools.pairwise(points):  # orthogonal
                assert p.get("x") == q.get("x") or p.get("y") == q.get("y"), edge.get("id")

    def test_clock_breach_flows_from_its_timer(self):
        """An automatic event a clock fires leaves from that clock's boundary timer."""
        _, process = _tree(load_file(ROOT / "workflows" / "administrative_approval.yaml"))
        flow = next(
            f
            for f in process.findall("bpmn:sequenceFlow", NS)
            if f.find("bpmn:documentation", NS) is not None
            and f.find("bpmn:documentation", NS).text.startswith("deemed_accepted (automatic)")
        )
        assert flow.get("name") is None, "the timer's name says what it fires"
        timer = process.find(f"bpmn:boundaryEvent[@id='{flow.get('sourceRef')}']", NS)
        assert "State_submitted" == timer.get("attachedToRef")
        assert "true" == timer.get("cancelActivity")
        assert "correction_window: 5 workdays → deemed_accepted" == timer.get("name")
        assert "Join_accepted" == flow.get("targetRef")

    def test_events_leave_through_gateways(self):
        """Several events leave a task through a gateway; each flow says which one fired."""
        _, process = _tree(load_file(ROOT / "workflows" / "administrative_approval.yaml"))
        flows = {f.get("id"): f for f in process.findall("bpmn:sequenceFlow", NS)}
        choice = process.find("bpmn:exclusiveGateway[@id='Choice_under_review']", NS)
        assert "which event?" == choice.get("name")
        out = [f for f in flows.values() if f.get("sourceRef") == "Choice_under_review"]
        assert {
            ("withdraw [applicant]", "event == 'withdraw'", "Join_withdrawn"),
            ("send_to_experts [reviewer]", "event == 'send_to_experts'", "State_expert_review"),
            ("decide [agency_head]", "event == 'decide'", "State_approved"),
            ("reject [agency_head]", "event == 'reject'", "Join_rating"),
        } == {
            (f.get("name"), f.find("bpmn:conditionExpression", NS).text, f.get("targetRef"))
            for f in out
        }
        issue = process.find("bpmn:exclusiveGateway[@id='Gateway_issue_approved']", NS)
        post, window = (f for f in flows.values() if f.get("sourceRef") == issue.get("id"))
        assert "data.delivery == 'post'" == post.find("bpmn:conditionExpression", NS).text
        assert window.get("id") == issue.get("default")
        assert "else" == window.get("name")
        single = flows["Flow_issue_approved"]  # approved's one event: straight out
        assert ("State_approved", "Gateway_issue_approved") == (
            single.get("sourceRef"),
            single.get("targetRef"),
        )
        assert "event == 'issue'" == single.find("bpmn:conditionExpression", NS).text
        join = [f for f in flows.values() if f.get("targetRef") == "Join_withdrawn"]
        assert 4 == len(join)
        assert ["Flow_withdrawn_join"] == [
            f.get("id") for f in flows.values() if f.get("sourceRef") == "Join_withdrawn"
        ]

    def test_working_days_are_nominal_days_with_the_rule_beside(self):
        """Workdays: timeDuration P{n}D, the rule in a caseflow:limit and in the docs."""
        _, process = _tree(load_file(ROOT / "workflows" / "administrative_approval.yaml"))
        timer = process.find("bpmn:boundaryEvent[@id='Timer_correction_window_submitted']", NS)
        assert "P5D" == timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text
        limit = timer.find("bpmn:extensionElements/caseflow:limit", NS)
        assert f"{{{CASEFLOW_NS}}}limit" == limit.tag
        assert {
            "clock": "correction_window",
            "amount": "5",
            "unit": "workdays",
            "calendar": "cn",
        } == limit.attrib
        doc = timer.find("bpmn:documentation", NS).text
        assert "working days of the 'cn' calendar" in doc
        assert "timeDuration P5D is nominal" in doc
        _, mediation = _tree(load_file(ROOT / "workflows" / "dispute_mediation.yaml"))
        timer = mediation.find("bpmn:boundaryEvent[@id='Timer_mediation_mediating']", NS)
        assert "P1M" == timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text
        assert [
            ("", "1", "months"),
            ("grid", "5", "workdays"),
            ("village", "10", "workdays"),
            ("community", "10", "workdays"),
        ] == [
            (x.get("level", ""), x.get("amount"), x.get("unit"))
            for x in timer.findall("bpmn:extensionElements/caseflow:limit", NS)
        ]

    def test_timers_the_shipped_workflows_lack(self):
        """A wait state, a timer firing two events, two clocks only, a per-item clock."""
        _, process = _tree(load_text(TIMERS))
        els = {el.get("id"): el for el in process}
        flows = process.findall("bpmn:sequenceFlow", NS)

        def after(node: str) -> list[tuple[str | None, str | None]]:
            return [
                (f.get("name"), f.get("targetRef")) for f in flows if f.get("sourceRef") == node
            ]

        posted = els["State_posted"]  # nobody acts: the case waits for the clock
        assert "intermediateCatchEvent" == _tag(posted)
        assert "公示 (posted): 1 month" == posted.get("name")
        assert "P1M" == posted.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text
        assert [(None, "State_review")] == after("State_posted")
        timer = els["Timer_review_limit_review"]  # fires late and later: a gateway
        assert "review_limit: 8 hours → late, later" == timer.get("name")
        assert "PT8H" == timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text
        assert "calendar" not in timer.find("bpmn:extensionElements/caseflow:limit", NS).attrib
        assert [(None, "Choice_Timer_review_limit_review")] == after(timer.get("id"))
        assert {("late (automatic)", "State_stuck"), ("later (automatic)", "Join_done")} == set(
            after("Choice_Timer_review_limit_review")
        )
        assert [("decide [r]", "Join_done")] == after("State_review")
        # stuck: two clocks, no other way out: their events leave the task itself
        assert "task" == _tag(els["State_stuck"])
        assert [(None, "Choice_stuck")] == after("State_stuck")
        for clock in ("stuck_a", "stuck_b"):
            stuck = els[f"Timer_{clock}_stuck"]
            assert "false" == stuck.get("cancelActivity")
            assert [(None, f"Overdue_{clock}_stuck")] == after(stuck.get("id"))
            assert f"{clock} overdue" == els[f"Overdue_{clock}_stuck"].get("name")
        unit = els["Timer_unit_limit_work"]  # per item, on the parallel state
        assert "unit_limit: 3 workdays per work item" == unit.get("name")
        assert "runs in: work (per work item)" in unit.find("bpmn:documentation", NS).text
        assert "State_work" == unit.get("attachedToRef")

    def test_render_rejects_unknown_format(self):
        """render() names the formats it knows."""
        definition = load_text(LINT_ME)
        with pytest.raises(ValueError, match="mermaid, dot, bpmn"):
            render(definition, "svg")


class TestDurationLabels:
    """Durations read "1 workday", "2 months" in every drawing; ISO 8601 in BPMN timers."""

    @pytest.mark.parametrize(
        ("text", "label", "iso"),
        [
            ("1 workday", "1 workday", "P1D"),
            ("5 workdays", "5 workdays", "P5D"),
            ("1 day", "1 day", "P1D"),
            ("0 days", "0 days", "P0D"),
            ("30 days", "30 days", "P30D"),
            ("1 month", "1 month", "P1M"),
            ("2 months", "2 months", "P2M"),
            ("1 hour", "1 hour", "PT1H"),
            ("8 hours", "8 hours", "PT8H"),
        ],
    )
    def test_label_and_iso(self, text: str, label: str, iso: str):
        """Singular for exactly 1, plural otherwise; workdays as nominal days in ISO 8601."""
        duration = parse_duration(text)
        assert label == duration_label(duration)
        assert iso == iso8601(duration)

    @pytest.mark.parametrize("fmt", ["mermaid", "dot", "bpmn"])
    def test_no_plural_after_one(self, fmt: str):
        """No drawing of a shipped workflow says "1 workdays" or "1 months"."""
        for path in SHIPPED:
            text = render(shipped(path), fmt)
            assert not re.search(r"\b1 (workdays|days|months|hours)\b", text), path.stem
        assistance = render(shipped(ROOT / "workflows" / "assisted_service.yaml"), fmt)
        assert "intake_limit: 1 workday" in assistance
        mediation = render(shipped(ROOT / "workflows" / "dispute_mediation.yaml"), fmt)
        assert "mediation: 1 month; grid: 5 workdays" in mediation
        assert "extension: 1 x 1 month" in mediation


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
