"""
Draw a workflow: Mermaid ``stateDiagram-v2``, Graphviz DOT, or BPMN 2.0 XML with DI.

Every drawing shows the same facts: initial and final states; each event as an edge
``event [roles]`` (``(automatic)`` when the engine fires it); branched events through a
choice point whose edges carry the guards (the default ``else``); each clock with its
limit, where it runs (computed as the clock runtime would:
:func:`caseflow.export.lint.clock_coverage`) and pauses, and what a breach does.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import deque
from typing import TYPE_CHECKING

from caseflow.export.lint import automatic_firers, clock_coverage

if TYPE_CHECKING:
    from caseflow.definitions.model import ClockDef, EventDef, WorkflowDef

FORMATS = ("mermaid", "dot", "bpmn")
_MERMAID_RESERVED = frozenset(
    {"state", "note", "class", "classdef", "end", "direction", "scale", "hide", "style"}
)
# Entity codes survive Mermaid's lexer, which ends a label at ':' or ';'.
_MM_ESCAPES = {"#": "#35;", ":": "#58;", ";": "#59;", '"': "#quot;", "<": "#lt;", ">": "#gt;"}


def render(definition: WorkflowDef, fmt: str) -> str:
    """The drawing of ``definition`` in ``fmt`` (one of :data:`FORMATS`)."""
    drawers = {"mermaid": mermaid, "dot": dot, "bpmn": bpmn}
    if fmt not in drawers:
        msg = f"unknown graph format {fmt!r}; use one of {', '.join(FORMATS)}"
        raise ValueError(msg)
    return drawers[fmt](definition)


def event_label(event: EventDef) -> str:
    """``event [role, role]``, or ``event (automatic)``."""
    if event.automatic:
        return f"{event.name} (automatic)"
    return f"{event.name} [{', '.join(event.roles)}]"


def branch_labels(event: EventDef) -> list[str]:
    """One label per branch: its guard, ``else`` for the default."""
    return [" ".join(b.when.source.split()) if b.when else "else" for b in event.branches]


def clock_lines(definition: WorkflowDef, clock: ClockDef) -> list[str]:
    """The lines of a clock's note: limit, where it runs and pauses, what a breach does."""
    cov = clock_coverage(definition, clock)
    limit = str(clock.limit) + "".join(f"; {lvl}: {d}" for lvl, d in clock.by_level.items())
    lines = [f"clock {clock.name}: {limit}", f"runs in: {', '.join(cov.running) or '-'}"]
    lines += [f"paused in: {', '.join(cov.paused)}"] if cov.paused else []
    if (ext := clock.extension) is not None:
        lines.append(f"extension: {ext.times} x {ext.by} [{', '.join(ext.roles)}]")
    breach = [f"fire {clock.on_breach_fire}"] if clock.on_breach_fire else []
    breach += [f"notify {', '.join(clock.on_breach_notify)}"] if clock.on_breach_notify else []
    breach += ["move up a level"] if clock.on_breach_move_up else []
    breach += [f"at the top fire {clock.on_breach_at_top}"] if clock.on_breach_at_top else []
    lines += [f"on breach: {'; '.join(breach)}"] if breach else []
    for step in clock.escalate:
        acts = [f"notify {', '.join(step.notify)}"] if step.notify else []
        acts += [f"to {step.to_org} org"] if step.to_org else []
        acts += [f"fire {step.fire}"] if step.fire else []
        lines.append(f"escalate after {step.after}: {', '.join(acts)}")
    return lines


def _state_text(definition: WorkflowDef, name: str) -> str:
    state = definition.states[name]
    extra = " (vote)" if state.vote is not None else ""
    return f"{state.title}{extra}" if state.title else extra.strip()


def _mm(text: str) -> str:
    return re.sub(r'[#:;"<>]', lambda m: _MM_ESCAPES[m[0]], " ".join(text.split()))


def _mermaid_ids(names: list[str]) -> dict[str, str]:
    """Names as Mermaid ids; names its lexer would misread get a safe id."""
    ids: dict[str, str] = {}
    for i, name in enumerate(names):
        low = name.lower()
        if re.fullmatch(r"[A-Za-z_]\w*", name, flags=re.ASCII) is None or (
            low in _MERMAID_RESERVED or low.startswith("default")
        ):
            ids[name] = f"s{i}_" + re.sub(r"\W", "_", name, flags=re.ASCII)
        else:
            ids[name] = name
    return ids


def mermaid(definition: WorkflowDef) -> str:
    """A Mermaid ``stateDiagram-v2``."""
    ids = _mermaid_ids(list(definition.states))
    title = f"{definition.title or definition.name} ({definition.name} v{definition.version})"
    out = ["---", f"title: {json.dumps(title, ensure_ascii=False)}", "---", "stateDiagram-v2"]
    for name, sid in ids.items():
        if sid != name:
            out.append(f'    state "{_mm(name)}" as {sid}')
        if text := _state_text(definition, name):
            out.append(f"    {sid} : {_mm(text)}")
    out.append(f"    [*] --> {ids[definition.initial_state]}")
    used = set(ids.values())
    for event in definition.events.values():
        label = _mm(event_label(event))
        for source in event.sources:
            if len(event.branches) == 1:
                out.append(f"    {ids[source]} --> {ids[event.targets[0]]} : {label}")
                continue
            choice = "c_" + re.sub(r"\W", "_", f"{event.name}_{source}", flags=re.ASCII)
            while choice in used:
                choice += "_"
            used.add(choice)
            out.append(f"    state {choice} <<choice>>")
            out.append(f"    {ids[source]} --> {choice} : {label}")
            for branch, text in zip(event.branches, branch_labels(event), strict=True):
                out.append(f"    {choice} --> {ids[branch.to]} : {_mm(text)}")
    out += [f"    {ids[name]} --> [*]" for name, st in definition.states.items() if st.final]
    notes: dict[str, list[str]] = {}  # Mermaid keeps one note per state: merge them
    for clock in definition.clocks.values():
        cov = clock_coverage(definition, clock)
        anchor = (cov.running or cov.active or (definition.initial_state,))[0]
        notes.setdefault(anchor, []).extend(clock_lines(definition, clock))
    for anchor, lines in notes.items():
        out.append(f"    note right of {ids[anchor]}")
        out.extend(f"        {line.replace('end note', 'end  note')}" for line in lines)
        out.append("    end note")
    return "\n".join(out) + "\n"


def _dq(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dot(definition: WorkflowDef) -> str:
    """A Graphviz ``digraph``: finals as double circles, clocks as notes."""
    title = f"{definition.title or definition.name}\n({definition.name} v{definition.version})"
    out = [
        f"digraph {_dq(f'{definition.name} v{definition.version}')} {{",
        f'  graph [rankdir=LR, labelloc=t, fontname="sans-serif", label={_dq(title)}];',
        '  node [shape=box, style=rounded, fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
        '  "__start__" [shape=point, width=0.2, label=""];',
    ]
    for name, state in definition.states.items():
        text = _state_text(definition, name)
        label = f"{name}\n{text}" if text else name
        shape = ", shape=doublecircle" if state.final else ""
        out.append(f"  {_dq(name)} [label={_dq(label)}{shape}];")
    out.append(f'  "__start__" -> {_dq(definition.initial_state)};')
    for event in definition.events.values():
        style = ", style=dashed" if event.automatic else ""
        label = _dq(event_label(event))
        for source in event.sources:
            if len(event.branches) == 1:
                target = _dq(event.targets[0])
                out.append(f"  {_dq(source)} -> {target} [label={label}{style}];")
                continue
            choice = _dq(f"__choice__{event.name}__{source}")
            out.append(f'  {choice} [shape=diamond, label="", width=0.3, height=0.3];')
            out.append(f"  {_dq(source)} -> {choice} [label={label}{style}];")
            for branch, text in zip(event.branches, branch_labels(event), strict=True):
                out.append(f"  {choice} -> {_dq(branch.to)} [label={_dq(text)}{style}];")
    for clock in definition.clocks.values():
        node = _dq(f"__clock__{clock.name}")
        note = "\\l".join(_dq(line)[1:-1] for line in clock_lines(definition, clock))
        out.append(
            f'  {node} [shape=note, style=filled, fillcolor="#fff8dc", fontsize=10, '
            f'label="{note}\\l"];'
        )
        out.extend(
            f"  {node} -> {_dq(name)} [style=dotted, arrowhead=none];"
            for name in clock_coverage(definition, clock).running
        )
    out.append("}")
    return "\n".join(out) + "\n"


_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_SIZES = {"task": (120, 80), "event": (36, 36), "gateway": (50, 50)}
_COL, _ROW, _LEFT, _TOP = 200, 130, 60, 100
_ORDER = ("documentation", "incoming", "outgoing")
_ISO = {"days": "P{}D", "months": "P{}M", "hours": "PT{}H"}


def _q(prefix: str, tag: str) -> str:
    return f"{{{_NS[prefix]}}}{tag}"


class _Bpmn:
    """Builds the process and remembers the nodes and flows the diagram must draw."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.process = ET.Element(_q("bpmn", "process"))
        self.nodes: dict[str, tuple[str, ET.Element]] = {}  # id -> (kind, element)
        self.flows: list[tuple[str, str, str]] = []  # (id, source, target)
        self.hosts: dict[str, str] = {}  # boundary event id -> task id

    def new_id(self, *parts: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(parts))
        found, n = base, 1
        while found in self.ids:
            n += 1
            found = f"{base}_{n}"
        self.ids.add(found)
        return found

    def node(self, kind: str, tag: str, node_id: str, name: str) -> ET.Element:
        element = ET.SubElement(self.process, _q("bpmn", tag), id=node_id, name=name)
        self.nodes[node_id] = (kind, element)
        return element

    def flow(self, key: str, source: str, target: str, name: str, guard: str | None = None) -> str:
        flow_id = self.new_id("Flow", key)
        attrs = {"id": flow_id, "sourceRef": source, "targetRef": target}
        element = ET.SubElement(self.process, _q("bpmn", "sequenceFlow"), attrs)
        if name:
            element.set("name", name)
        if guard is not None:
            cond = ET.SubElement(element, _q("bpmn", "conditionExpression"))
            cond.set(_q("xsi", "type"), "bpmn:tFormalExpression")
            cond.text = guard
        for ref, tag, before in ((source, "outgoing", 3), (target, "incoming", 2)):
            parent = self.nodes[ref][1]
            # XSD order: documentation, incoming, outgoing, then event definitions
            at = sum(1 for c in parent if c.tag in [_q("bpmn", t) for t in _ORDER[:before]])
            child = ET.Element(_q("bpmn", tag))
            child.text = flow_id
            parent.insert(at, child)
        self.flows.append((flow_id, source, target))
        return flow_id


def _build(definition: WorkflowDef) -> _Bpmn:
    b = _Bpmn()
    b.process.attrib.update(
        id=b.new_id("Process", definition.name),
        name=definition.title or definition.name,
        isExecutable="false",
    )
    start = b.new_id("StartEvent")
    b.node("event", "startEvent", start, "start")
    ids: dict[str, str] = {}
    for name, st in definition.states.items():
        ids[name] = b.new_id("State", name)
        label = f"{st.title} ({name})" if st.title else name
        leaving = [e for e in definition.events.values() if name in e.sources]
        manual = any(not e.automatic for e in leaving) or st.vote is not None
        tag = "endEvent" if st.final else "userTask" if manual else "task"
        b.node("event" if st.final else "task", tag, ids[name], label)
    b.flow("start", start, ids[definition.initial_state], "")
    timers = _timers(b, definition, ids)
    for event in definition.events.values():
        label, labels = event_label(event), branch_labels(event)
        for source in event.sources:
            origin = timers.get((event.name, source), ids[source])
            if len(event.branches) == 1:
                b.flow(f"{event.name}_{source}", origin, ids[event.targets[0]], label)
                continue
            gid = b.new_id("Gateway", event.name, source)
            gateway = b.node("gateway", "exclusiveGateway", gid, f"{event.name}?")
            b.flow(f"{event.name}_{source}", origin, gid, label)
            for i, (branch, text) in enumerate(zip(event.branches, labels, strict=True)):
                guard = branch.when.source.strip() if branch.when else None
                flow_id = b.flow(f"{event.name}_{source}_{i + 1}", gid, ids[branch.to], text, guard)
                if guard is None:
                    gateway.set("default", flow_id)
    return b


def _timers(b: _Bpmn, definition: WorkflowDef, ids: dict[str, str]) -> dict[tuple[str, str], str]:
    """A boundary timer per clock and state it runs in; the events its breach fires."""
    firers = automatic_firers(definition)
    timers: dict[tuple[str, str], str] = {}
    for clock in definition.clocks.values():
        fired = [e for e, who in firers.items() if any(c == clock.name for _, c in who)]
        for name in clock_coverage(definition, clock).running:
            tid = b.new_id("Timer", clock.name, name)
            exits = [e for e in fired if name in definition.events[e].sources]
            element = b.node("event", "boundaryEvent", tid, f"{clock.name}: {clock.limit}")
            element.attrib.update(
                attachedToRef=ids[name], cancelActivity="true" if exits else "false"
            )
            doc = ET.SubElement(element, _q("bpmn", "documentation"))
            doc.text = "\n".join(clock_lines(definition, clock))
            timer = ET.SubElement(element, _q("bpmn", "timerEventDefinition"))
            duration = ET.SubElement(timer, _q("bpmn", "timeDuration"))
            duration.set(_q("xsi", "type"), "bpmn:tFormalExpression")
            iso = _ISO.get(clock.limit.unit)
            duration.text = iso.format(clock.limit.amount) if iso else str(clock.limit)
            b.hosts[tid] = ids[name]
            for event in exits:
                timers.setdefault((event, name), tid)
    return timers


def _layout(b: _Bpmn) -> dict[str, tuple[int, int, int, int]]:
    """Bounds per flow node: columns by BFS depth from the start event, rows in order."""
    after: dict[str, list[str]] = {}
    for _, source, target in b.flows:
        after.setdefault(b.hosts.get(source, source), []).append(target)
    start = next(i for i, (_, el) in b.nodes.items() if el.tag == _q("bpmn", "startEvent"))
    depth = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for nxt in after.get(current, ()):
            if nxt not in depth:
                depth[nxt] = depth[current] + 1
                queue.append(nxt)
    rows: dict[int, int] = {}
    bounds: dict[str, tuple[int, int, int, int]] = {}
    for node_id, (kind, _) in b.nodes.items():
        if node_id in b.hosts:
            continue
        col = depth.get(node_id, max(depth.values()) + 1)
        row = rows[col] = rows.get(col, -1) + 1
        w, h = _SIZES[kind]
        x, y = _LEFT + col * _COL, _TOP + row * _ROW
        bounds[node_id] = (x + (120 - w) // 2, y + (80 - h) // 2, w, h)
    attached: dict[str, int] = {}
    for tid, host in b.hosts.items():
        hx, hy, _, hh = bounds[host]
        k = attached[host] = attached.get(host, -1) + 1
        bounds[tid] = (hx + 12 + 40 * k, hy + hh - 18, 36, 36)
    return bounds


def _waypoints(
    src: tuple[int, int, int, int], tgt: tuple[int, int, int, int], boundary: bool, lane: int
) -> list[tuple[int, int]]:
    sx, sy, sw, sh = src
    tx, ty, tw, th = tgt
    start = (sx + sw // 2, sy + sh) if boundary else (sx + sw, sy + sh // 2)
    end = (tx, ty + th // 2)
    if tx > sx + sw:  # forward: orthogonal, turning just before the target
        turn = tx - (120 - tw) // 2 - 25  # in the gap before the target's column
        if boundary:  # down from the timer, then along under its task
            return [start, (start[0], start[1] + 15), (turn, start[1] + 15), (turn, end[1]), end]
        return (
            [start, end] if start[1] == end[1] else [start, (turn, start[1]), (turn, end[1]), end]
        )
    gap = tx + tw // 2 + 85  # the gap right of the target's column
    right = (tx + tw, ty + th // 2)
    if abs((sx + sw // 2) - (tx + tw // 2)) < _COL // 2 and not boundary and src != tgt:
        return [(sx + sw, start[1]), (gap, start[1]), (gap, right[1]), right]
    # backwards: round above everything (below, from a timer), into the target's right side
    first = start if boundary else (sx + sw // 4, sy)
    return [first, (first[0], lane), (gap, lane), (gap, right[1]), right]


def bpmn(definition: WorkflowDef) -> str:
    """BPMN 2.0 XML with a diagram (DI) that bpmn.io and Camunda Modeler open."""
    for prefix, uri in _NS.items():
        ET.register_namespace(prefix, uri)
    b = _build(definition)
    root = ET.Element(_q("bpmn", "definitions"), id="Definitions_1", exporter="caseflow")
    root.set("targetNamespace", f"urn:caseflow:{definition.name}:{definition.version}")
    root.append(b.process)
    diagram = ET.SubElement(root, _q("bpmndi", "BPMNDiagram"), id="BPMNDiagram_1")
    plane = ET.SubElement(
        diagram, _q("bpmndi", "BPMNPlane"), id="BPMNPlane_1", bpmnElement=b.process.get("id", "")
    )
    bounds = _layout(b)
    for node_id, (x, y, w, h) in bounds.items():
        attrs = {"id": f"{node_id}_di", "bpmnElement": node_id}
        shape = ET.SubElement(plane, _q("bpmndi", "BPMNShape"), attrs)
        ET.SubElement(shape, _q("dc", "Bounds"), x=str(x), y=str(y), width=str(w), height=str(h))
    top = min(y for _, y, _, _ in bounds.values())
    bottom = max(y + h for _, y, _, h in bounds.values())
    backs = 0
    for flow_id, source, target in b.flows:
        boundary = source in b.hosts
        (sx, _, sw, _), tx = bounds[source], bounds[target][0]
        backs += tx <= sx + sw
        lane = bottom + 20 + 10 * backs if boundary else top - 20 - 10 * backs
        edge = ET.SubElement(
            plane, _q("bpmndi", "BPMNEdge"), id=f"{flow_id}_di", bpmnElement=flow_id
        )
        for x, y in _waypoints(bounds[source], bounds[target], boundary, lane):
            ET.SubElement(edge, _q("di", "waypoint"), x=str(x), y=str(y))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
