"""
Draw a workflow: Mermaid ``stateDiagram-v2``, Graphviz DOT, or BPMN 2.0 XML with DI.

Every drawing shows the same facts: initial and final states; each event as an edge
``event [roles]`` (``(automatic)`` when the engine fires it); branched events through a
choice point whose edges carry the guards (the default ``else``); each clock with its
limit, where it runs (computed as the clock runtime would:
:func:`caseflow.export.lint.clock_coverage`; a per-item clock in its parallel states) and
pauses, and what a breach does. Durations read "1 workday", "2 months"
(:func:`caseflow.export.durations.duration_label`). :func:`bpmn` says how the BPMN maps
them and how its timers write working days.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING

from caseflow.export.durations import duration_label, iso8601
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


def _timed_states(definition: WorkflowDef, clock: ClockDef) -> tuple[str, ...]:
    """Where a clock runs (as the clock runtime would); a per-item clock: its parallel states."""
    if clock.per_item:
        return tuple(
            name
            for name, state in definition.states.items()
            if state.parallel is not None and state.parallel.clock == clock.name
        )
    return clock_coverage(definition, clock).running


def clock_lines(definition: WorkflowDef, clock: ClockDef) -> list[str]:
    """The lines of a clock's note: limit, where it runs and pauses, what a breach does."""
    cov = clock_coverage(definition, clock)
    limit = duration_label(clock.limit) + "".join(
        f"; {lvl}: {duration_label(d)}" for lvl, d in clock.by_level.items()
    )
    running = ", ".join(_timed_states(definition, clock)) or "-"
    running += " (per work item)" if clock.per_item and running != "-" else ""
    lines = [f"clock {clock.name}: {limit}", f"runs in: {running}"]
    lines += [f"paused in: {', '.join(cov.paused)}"] if cov.paused else []
    if (ext := clock.extension) is not None:
        by = duration_label(ext.by)
        lines.append(f"extension: {ext.times} x {by} [{', '.join(ext.roles)}]")
    breach = [f"fire {clock.on_breach_fire}"] if clock.on_breach_fire else []
    breach += [f"notify {', '.join(clock.on_breach_notify)}"] if clock.on_breach_notify else []
    breach += ["move up a level"] if clock.on_breach_move_up else []
    breach += [f"at the top fire {clock.on_breach_at_top}"] if clock.on_breach_at_top else []
    lines += [f"on breach: {'; '.join(breach)}"] if breach else []
    for step in clock.escalate:
        acts = [f"notify {', '.join(step.notify)}"] if step.notify else []
        acts += [f"to {step.to_org} org"] if step.to_org else []
        acts += [f"fire {step.fire}"] if step.fire else []
        lines.append(f"escalate after {duration_label(step.after)}: {', '.join(acts)}")
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
        timed = _timed_states(definition, clock)
        anchor = (timed or cov.active or (definition.initial_state,))[0]
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
            for name in _timed_states(definition, clock)
        )
    out.append("}")
    return "\n".join(out) + "\n"


#: The namespace of caseflow's BPMN extension elements (``caseflow:limit``).
CASEFLOW_NS = "urn:caseflow:bpmn"
_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "caseflow": CASEFLOW_NS,
}
_SIZES = {"task": (120, 80), "event": (36, 36), "gateway": (50, 50)}
_CELL_H, _GAP, _ROW, _LEFT, _TOP = 80, 80, 130, 60, 60
# XSD order of a flow node's children: these first, then the event definitions
_ORDER = ("documentation", "extensionElements", "incoming", "outgoing")
_Box = tuple[int, int, int, int]


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
        self._queued: list[tuple[str, str, str, str, str | None, str]] = []

    def new_id(self, *parts: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(parts))
        found, n = base, 1
        while found in self.ids:
            n += 1
            found = f"{base}_{n}"
        self.ids.add(found)
        return found

    def node(self, kind: str, tag: str, node_id: str, name: str = "", doc: str = "") -> ET.Element:
        element = ET.SubElement(self.process, _q("bpmn", tag), id=node_id)
        if name:
            element.set("name", name)
        if doc:
            ET.SubElement(element, _q("bpmn", "documentation")).text = doc
        self.nodes[node_id] = (kind, element)
        return element

    def flow(
        self,
        key: str,
        source: str,
        target: str,
        name: str = "",
        condition: str | None = None,
        doc: str = "",
    ) -> str:
        """A sequence flow's id; it is written by :meth:`write_flows`, after every node."""
        flow_id = self.new_id("Flow", key)
        self._queued.append((flow_id, source, target, name, condition, doc))
        return flow_id

    def write_flows(self) -> None:
        for flow_id, source, target, name, condition, doc in self._queued:
            attrs = {"id": flow_id, "sourceRef": source, "targetRef": target}
            element = ET.SubElement(self.process, _q("bpmn", "sequenceFlow"), attrs)
            if name:
                element.set("name", name)
            if doc:
                ET.SubElement(element, _q("bpmn", "documentation")).text = doc
            if condition is not None:
                cond = ET.SubElement(element, _q("bpmn", "conditionExpression"))
                cond.set(_q("xsi", "type"), "bpmn:tFormalExpression")
                cond.text = condition
            for ref, tag, before in ((source, "outgoing", 4), (target, "incoming", 3)):
                parent = self.nodes[ref][1]
                first = {_q("bpmn", t) for t in _ORDER[:before]}
                child = ET.Element(_q("bpmn", tag))
                child.text = flow_id
                parent.insert(sum(1 for c in parent if c.tag in first), child)
            self.flows.append((flow_id, source, target))
        self._queued.clear()


@dataclass(frozen=True)
class _Leaving:
    """How a case leaves a state in the drawing."""

    own: list[str]  # events that leave from the state's own node
    timers: list[tuple[ClockDef, list[str]]]  # boundary timers, each with the events it fires
    wait: ClockDef | None = None  # drawn as a timer catch event: this clock fires every exit


def _leaving(definition: WorkflowDef) -> dict[str, _Leaving]:
    """Per state: which events leave from the state, and which from which clock's timer."""
    firers = automatic_firers(definition)
    timers: dict[str, list[tuple[ClockDef, list[str]]]] = {}
    by_timer: set[tuple[str, str]] = set()
    for clock in definition.clocks.values():
        fired = [e for e, who in firers.items() if any(c == clock.name for _, c in who)]
        for name in _timed_states(definition, clock):
            exits = [
                e
                for e in fired
                if name in definition.events[e].sources and (e, name) not in by_timer
            ]
            by_timer.update((e, name) for e in exits)
            timers.setdefault(name, []).append((clock, exits))
    found: dict[str, _Leaving] = {}
    for name, state in definition.states.items():
        leaving = [e.name for e in definition.events.values() if name in e.sources]
        own = [e for e in leaving if (e, name) not in by_timer]
        mine = [] if state.final else timers.get(name, [])
        if own or not mine:
            found[name] = _Leaving(own, mine)
        elif len(mine) == 1:  # nobody acts here: the case waits for the clock
            found[name] = _Leaving(mine[0][1], [], wait=mine[0][0])
        else:  # several clocks and no other way out: the fired events leave the task itself
            found[name] = _Leaving(leaving, [(clock, []) for clock, _ in mine])
    return found


def _branches(event: EventDef) -> list[tuple[str, str | None, str]]:
    """(target, guard, label) per branch; a repeated target and guard (dead) is drawn once."""
    found: dict[tuple[str, str | None], str] = {}
    for branch, text in zip(event.branches, branch_labels(event), strict=True):
        found.setdefault((branch.to, branch.when.source.strip() if branch.when else None), text)
    return [(to, guard, text) for (to, guard), text in found.items()]


def _targets(event: EventDef) -> list[str]:
    """The states an event's flows enter: its one target, or one per drawn branch."""
    if len(event.branches) == 1:
        return [event.targets[0]]
    return [to for to, _, _ in _branches(event)]


def _event_doc(event: EventDef) -> str:
    return f"{event_label(event)}: {event.title}" if event.title else event_label(event)


def _timer_name(clock: ClockDef, exits: list[str]) -> str:
    name = f"{clock.name}: {duration_label(clock.limit)}"
    name += " per work item" if clock.per_item else ""
    return name + (f" → {', '.join(exits)}" if exits else "")


def _timer(definition: WorkflowDef, clock: ClockDef, element: ET.Element) -> None:
    """Documentation, ``caseflow:limit`` extensions and the ISO 8601 timer of a clock."""
    lines = clock_lines(definition, clock)
    limits = [("", clock.limit), *clock.by_level.items()]
    if any(d.unit == "workdays" for _, d in limits):
        lines.append(
            f"workdays are working days of the {definition.calendar!r} calendar, which ISO 8601"
            f" cannot express: timeDuration {iso8601(clock.limit)} is nominal, caseflow:limit"
            " is the rule"
        )
    ET.SubElement(element, _q("bpmn", "documentation")).text = "\n".join(lines)
    extensions = ET.SubElement(element, _q("bpmn", "extensionElements"))
    for level, limit in limits:
        attrs = {"clock": clock.name, "amount": str(limit.amount), "unit": limit.unit}
        attrs |= {"level": level} if level else {}
        attrs |= {"calendar": definition.calendar} if limit.unit != "hours" else {}
        ET.SubElement(extensions, _q("caseflow", "limit"), attrs)
    timer = ET.SubElement(element, _q("bpmn", "timerEventDefinition"))
    duration = ET.SubElement(timer, _q("bpmn", "timeDuration"))
    duration.set(_q("xsi", "type"), "bpmn:tFormalExpression")
    duration.text = iso8601(clock.limit)


_BREACH = ("on breach: ", "escalate after ")  # the clock_lines that say what a breach does


def _build(definition: WorkflowDef) -> _Bpmn:
    b = _Bpmn()
    b.process.attrib.update(
        id=b.new_id("Process", definition.name),
        name=definition.title or definition.name,
        isExecutable="false",
    )
    start = b.new_id("StartEvent")
    ids = {name: b.new_id("State", name) for name in definition.states}
    leaving = _leaving(definition)
    entering = dict.fromkeys(definition.states, 0)
    entering[definition.initial_state] += 1
    for how in leaving.values():
        for exits in (how.own, *(x for _, x in how.timers)):
            for to in (to for e in exits for to in _targets(definition.events[e])):
                entering[to] += 1
    # two or more flows into a state meet in a joining gateway first (no implicit joins)
    entry = {s: b.new_id("Join", s) if entering[s] > 1 else ids[s] for s in definition.states}

    def leave(origin: str, source: str, exits: list[str], conditional: bool) -> None:
        """Flows for ``exits`` from ``origin``: through a gateway when there are several."""
        if len(exits) > 1:
            short = origin.removeprefix("State_")
            choice = b.new_id("Choice", short)
            b.node("gateway", "exclusiveGateway", choice, "which event?")
            b.flow(f"{short}_choice", origin, choice)
            origin, conditional = choice, True
        for event in (definition.events[e] for e in exits):
            key = f"{event.name}_{source}"
            name, cond = (
                (event_label(event), f"event == {event.name!r}") if conditional else ("", None)
            )
            # documented when unlabelled (from a timer) or when the event has a title
            doc = _event_doc(event) if not name or event.title else ""
            if len(event.branches) == 1:
                b.flow(key, origin, entry[event.targets[0]], name, cond, doc)
                continue
            gid = b.new_id("Gateway", event.name, source)
            gateway = b.node("gateway", "exclusiveGateway", gid, f"{event.name}?")
            b.flow(key, origin, gid, name, cond, doc)
            for i, (to, guard, text) in enumerate(_branches(event)):
                flow_id = b.flow(f"{key}_{i + 1}", gid, entry[to], text, guard)
                if guard is None:
                    gateway.set("default", flow_id)

    b.node("event", "startEvent", start, "start")
    b.flow("start", start, entry[definition.initial_state])
    for name, st in definition.states.items():
        if entry[name] != ids[name]:
            b.node("gateway", "exclusiveGateway", entry[name])
            b.flow(f"{name}_join", entry[name], ids[name])
        label = f"{st.title} ({name})" if st.title else name
        how = leaving[name]
        if st.final:
            b.node("event", "endEvent", ids[name], label)
            continue
        if how.wait is not None:
            limit = duration_label(how.wait.limit)
            same = how.wait.name == name
            wait = f"{label}: {limit}" if same else f"{label} [{_timer_name(how.wait, [])}]"
            _timer(definition, how.wait, b.node("event", "intermediateCatchEvent", ids[name], wait))
            leave(ids[name], name, how.own, conditional=False)
            continue
        events = [e for e in definition.events.values() if name in e.sources]
        manual = any(not e.automatic for e in events) or st.vote is not None
        b.node("task", "userTask" if manual else "task", ids[name], label)
        leave(ids[name], name, how.own, conditional=True)
        for clock, exits in how.timers:
            tid = b.new_id("Timer", clock.name, name)
            timer = b.node("event", "boundaryEvent", tid, _timer_name(clock, exits))
            timer.attrib.update(
                attachedToRef=ids[name], cancelActivity="true" if exits else "false"
            )
            _timer(definition, clock, timer)
            b.hosts[tid] = ids[name]
            if exits:
                leave(tid, name, exits, conditional=False)
                continue
            breach = [x for x in clock_lines(definition, clock) if x.startswith(_BREACH)]
            doc = "\n".join([f"clock {clock.name} breached: the case is overdue", *breach])
            end = b.new_id("Overdue", clock.name, name)
            b.node("event", "endEvent", end, f"{clock.name} overdue", doc)
            b.flow(f"{clock.name}_{name}_overdue", tid, end)
    b.write_flows()
    return b


def _columns(b: _Bpmn, placed: list[str]) -> dict[str, int]:
    """
    A column per node: the longest path to it from the start event once the flows that
    close a loop are set aside (a depth-first search from the start finds them), so that
    nearly every flow runs left to right. A boundary timer's flows count from its task.
    """
    after: dict[str, list[str]] = {n: [] for n in placed}
    for _, source, target in b.flows:
        after[b.hosts.get(source, source)].append(target)
    start = next(i for i, (_, el) in b.nodes.items() if el.tag == _q("bpmn", "startEvent"))
    order: list[str] = []  # reverse post-order: a topological order of the kept flows
    seen = {start}
    stack = [(start, iter(after[start]))]
    while stack:
        node, todo = stack[-1]
        nxt = next(todo, None)
        if nxt is None:
            order.append(node)
            stack.pop()
        elif nxt not in seen:
            seen.add(nxt)
            stack.append((nxt, iter(after[nxt])))
    order.reverse()
    rank = {n: i for i, n in enumerate(order)}
    column = dict.fromkeys(order, 0)
    for node in order:
        for nxt in after[node]:
            if rank[nxt] > rank[node]:  # not a loop's closing flow
                column[nxt] = max(column[nxt], column[node] + 1)
    unreached = max(column.values()) + 1
    return {n: column.get(n, unreached) for n in placed}


def _layout(b: _Bpmn) -> tuple[dict[str, _Box], dict[str, int], list[tuple[int, int]]]:
    """
    Bounds per flow node (rows from y 0), its column, and each column's left and width.

    Columns as :func:`_columns` finds them, as wide as their widest node. Column by
    column, a node takes the first free row from that of its highest placed predecessor
    (the row below a task, for a flow from its timer): a chain of flows stays on a row.
    """
    placed = [n for n in b.nodes if n not in b.hosts]
    column = _columns(b, placed)
    widths = [0] * (max(column.values()) + 1)
    for n in placed:
        widths[column[n]] = max(widths[column[n]], _SIZES[b.nodes[n][0]][0])
    columns, x = [], _LEFT
    for width in widths:
        columns.append((x, width))
        x += width + _GAP
    before: dict[str, list[tuple[str, int]]] = {n: [] for n in placed}
    for _, source, target in b.flows:  # below the task, for a flow from its timer
        before[target].append((b.hosts.get(source, source), int(source in b.hosts)))
    row: dict[str, int] = {}
    taken: set[tuple[int, int]] = set()
    for col in range(len(columns)):
        wanted = {
            n: min((row[p] + down for p, down in before[n] if p in row), default=0)
            for n in placed
            if column[n] == col
        }
        for n in sorted(wanted, key=wanted.__getitem__):  # stable: then in order made
            at = wanted[n]
            while (col, at) in taken:
                at += 1
            taken.add((col, at))
            row[n] = at
    bounds: dict[str, _Box] = {}
    for n in placed:
        col = column[n]
        w, h = _SIZES[b.nodes[n][0]]
        left, width = columns[col]
        bounds[n] = (left + (width - w) // 2, row[n] * _ROW + (_CELL_H - h) // 2, w, h)
    attached: dict[str, int] = {}
    for tid, host in b.hosts.items():
        hx, hy, _, hh = bounds[host]
        k = attached[host] = attached.get(host, -1) + 1
        bounds[tid] = (hx + 12 + 40 * k, hy + hh - 18, 36, 36)
        column[tid] = column[host]
    return bounds, column, columns


def _waypoints(
    src: _Box, tgt: _Box, src_right: int, tgt_left: int, boundary: bool, lane: int | None
) -> list[tuple[int, int]]:
    """
    An orthogonal route; ``lane`` is None for a flow to a later column.

    Forward flows turn in the gap before the target's column (next to the source, else
    along the corridor just above the source's row); backward ones rise to their own lane
    above the diagram (sink to one below it, from a timer) in the gap after the source's
    column and come down the gap before the target's, into its left side as forward
    flows do.
    """
    sx, sy, sw, sh = src
    tx, ty, _, th = tgt
    end = (tx, ty + th // 2)
    turn = tgt_left - 30
    if lane is None and boundary:  # down from the timer, then along under its task
        down = sy + sh + 15
        return [(sx + sw // 2, sy + sh), (sx + sw // 2, down), (turn, down), (turn, end[1]), end]
    start = (sx + sw, sy + sh // 2)
    if lane is None:
        if start[1] == end[1] and tgt_left - src_right <= _GAP:
            return [start, end]
        if tgt_left - src_right <= _GAP:  # the next column
            return [start, (turn, start[1]), (turn, end[1]), end]
        corridor = start[1] - _CELL_H // 2 - 8  # above the source's row, below the one before
        side = src_right + 30
        return [start, (side, start[1]), (side, corridor), (turn, corridor), (turn, end[1]), end]
    side = src_right + 12 + (abs(lane) // 10 % 5) * 6
    first = [start, (side, start[1])]
    if boundary:
        down = sy + sh + 12
        first = [(sx + sw // 2, sy + sh), (sx + sw // 2, down), (side, down)]
    back = tgt_left - 55
    return [*first, (side, lane), (back, lane), (back, end[1]), end]


def bpmn(definition: WorkflowDef) -> str:
    """
    BPMN 2.0 XML with a diagram (DI) that bpmn.io and Camunda Modeler open.

    It passes ``bpmnlint``'s ``bpmnlint:recommended`` rules (``tests/test_bpmnlint.py``):

    - a ``startEvent`` flows into the initial state; a final state is an ``endEvent``;
    - a state where people act (or a vote is held) is a ``userTask``, else a ``task``;
      a state nobody acts in, left only when its one clock fires an event (a publicity
      period), is an ``intermediateCatchEvent`` with that clock's timer;
    - the events leaving a state: with two or more, the task flows into an
      ``exclusiveGateway`` ("which event?") whose flows carry the event label and the
      condition ``event == 'name'`` (which event was fired: not a guard the engine
      evaluates); a task's single event flows straight out with that label and condition;
    - an event with branches goes through its own ``exclusiveGateway`` (``event?``): a
      flow per branch, labelled and conditioned by its guard, the ``else`` one the
      gateway's ``default``;
    - two or more flows into a state meet in an unnamed joining ``exclusiveGateway``;
    - each clock is a ``boundaryEvent`` timer on every task it runs in (for a per-item
      clock, its parallel state's task): interrupting when the clock fires events that
      leave that state, its flows unlabelled (the timer's name says what it fires; two
      or more go through a "which event?" gateway as a task's do); else non-interrupting,
      flowing to an ``endEvent`` "``clock`` overdue" that documents what a breach does.
      A state left only by events of two or more clocks keeps a task, the events leaving
      the task itself and the timers non-interrupting;
    - a flow for an event documents the event's label and title when it has no label
      (from a timer) or the event has a title.

    The diagram runs left to right: columns by the longest path from the start event
    (flows closing a loop set aside), rows keeping chains of flows level, orthogonal
    edges; loops return along lanes above the diagram (below it, from a timer).

    A timer's ``timeDuration`` is ISO 8601: ``P5D`` (days), ``P1M`` (months), ``PT8H``
    (hours). ISO 8601 has no working days, so ``N workdays`` is written as the nominal
    ``PND``; the rule itself is in the timer's ``documentation`` and in its
    ``extensionElements``, in the :data:`CASEFLOW_NS` namespace, one per limit (the
    default and each ``by_level`` one), e.g.
    ``<caseflow:limit clock="decision" amount="20" unit="workdays" calendar="cn"/>``
    (``level="grid"`` on a level's limit). Days and months are nominal too in one way:
    the engine ends them at 24:00 and moves an end on a rest day to the next working day
    (:func:`caseflow.clocks.periods.compute_due`).
    """
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
    bounds, column, columns = _layout(b)
    backward = [(s, t) for _, s, t in b.flows if column[t] <= column[s]]
    shift = _TOP + 10 * sum(1 for s, _ in backward if s not in b.hosts)
    bounds = {n: (x, y + shift, w, h) for n, (x, y, w, h) in bounds.items()}
    for node_id, (x, y, w, h) in bounds.items():
        attrs = {"id": f"{node_id}_di", "bpmnElement": node_id}
        shape = ET.SubElement(plane, _q("bpmndi", "BPMNShape"), attrs)
        ET.SubElement(shape, _q("dc", "Bounds"), x=str(x), y=str(y), width=str(w), height=str(h))
    bottom = max(y + h for _, y, _, h in bounds.values())
    ups = downs = 0
    for flow_id, source, target in b.flows:
        boundary = source in b.hosts
        lane = None
        if column[target] <= column[source]:
            if boundary:
                downs += 1
                lane = bottom + 20 + 10 * downs
            else:
                ups += 1
                lane = shift - 20 - 10 * ups
        left, width = columns[column[source]]
        edge = ET.SubElement(
            plane, _q("bpmndi", "BPMNEdge"), id=f"{flow_id}_di", bpmnElement=flow_id
        )
        route = _waypoints(
            bounds[source], bounds[target], left + width, columns[column[target]][0], boundary, lane
        )
        for x, y in route:
            ET.SubElement(edge, _q("di", "waypoint"), x=str(x), y=str(y))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
