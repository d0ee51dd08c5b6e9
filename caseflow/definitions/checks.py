"""
Reference and graph checks, and assembly of the frozen :class:`WorkflowDef`.

Checks: exactly one initial state; every state reachable from it; every non-final state
has a way out; final states have none; every referenced state, event and role exists;
branches end in an unconditional default; guards parse and read only fields the schemas
declare (:mod:`caseflow.definitions.guardcheck`); the data and payload schemas are valid
JSON Schema that cannot fetch, fail or hang (:mod:`caseflow.definitions.schemacheck`);
clocks name real states and events and have durations within bounds
(:mod:`caseflow.definitions.clockchecks`).
"""

from __future__ import annotations

import zoneinfo
from collections import deque
from typing import TYPE_CHECKING, Any

import jsonschema

from caseflow.definitions import raw
from caseflow.definitions.clockchecks import clock, duration
from caseflow.definitions.expr import Guard, GuardSyntaxError
from caseflow.definitions.guardcheck import guard_issues
from caseflow.definitions.limits import shorten
from caseflow.definitions.loader import suggest
from caseflow.definitions.model import (
    ActionConfig,
    ActionRef,
    Branch,
    CallDef,
    ClockDef,
    EventDef,
    NoticeDef,
    ParallelDef,
    StateDef,
    VoteDef,
    WorkflowDef,
)
from caseflow.definitions.safeyaml import name_slip, punctuation_hint
from caseflow.definitions.schemacheck import schema_problems

if TYPE_CHECKING:
    from collections.abc import Iterable

    from caseflow.definitions.loader import Path_, Reporter


class Refs:
    """Known names, and reporting of references to unknown ones."""

    def __init__(
        self,
        reporter: Reporter,
        states: Iterable[str],
        events: Iterable[str],
        roles: Iterable[str],
        clocks: Iterable[str] = (),
    ) -> None:
        self.reporter = reporter
        self.states = list(states)
        self.events = list(events)
        self.roles = list(roles)
        self.clocks = list(clocks)

    def _check(self, kind: str, known: list[str], names: str | list[str], path: Path_) -> None:
        for i, name in enumerate(raw.as_list(names)):
            if name not in known:
                where = path if isinstance(names, str) else (*path, i)
                self.reporter.add(where, f"unknown {kind} {shorten(name)}{_hints(name, known)}")

    def states_(self, names: str | list[str], path: Path_) -> None:
        self._check("state", self.states, names, path)

    def events_(self, names: str | list[str], path: Path_) -> None:
        self._check("event", self.events, names, path)

    def roles_(self, names: list[str], path: Path_) -> None:
        for i, name in enumerate(names):
            if name not in self.roles:
                self.reporter.add(
                    (*path, i),
                    f"role {shorten(name)} is not declared in 'roles'{_hints(name, self.roles)}",
                )


def _hints(name: str, known: list[str]) -> str:
    return suggest(name, known) + punctuation_hint(name)


def _check_schema(reporter: Reporter, schema: dict[str, Any], path: Path_) -> bool:
    """Report what is wrong with a data or payload schema; whether it is sound."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        reporter.add(path, f"invalid JSON Schema at {where}: {exc.message}")
        return False
    problems = schema_problems(schema)
    prefix = "payload: " if path[-1] == "payload" else ""
    for location, message in problems:
        reporter.add((*path, *location), prefix + message)
    return not problems


def _event(
    reporter: Reporter,
    refs: Refs,
    name: str,
    ev: raw.RawEvent,
    finals: set[str],
    data_schema: dict[str, Any] | None,
) -> EventDef | None:
    """An event's references and branches; guards are checked against sound schemas."""
    path: Path_ = ("events", name)
    payload_ok = ev.payload is None or _check_schema(reporter, ev.payload, (*path, "payload"))
    sources = raw.as_list(ev.from_)
    refs.states_(ev.from_, (*path, "from"))
    for i, src in enumerate(sources):
        if src in finals:
            where = (*path, "from") if isinstance(ev.from_, str) else (*path, "from", i)
            reporter.add(where, f"state {src!r} is final: no event can leave it")
    raw_branches = [raw.RawBranch(to=ev.to)] if isinstance(ev.to, str) else ev.to
    branches: list[Branch] = []
    ok = True
    if not raw_branches:
        reporter.add((*path, "to"), "needs at least one target state")
        ok = False
    for i, br in enumerate(raw_branches):
        bpath: Path_ = (*path, "to") if isinstance(ev.to, str) else (*path, "to", i, "to")
        if br.to not in refs.states:
            reporter.add(bpath, f"unknown state {br.to!r}{suggest(br.to, refs.states)}")
            ok = False
        guard = None
        if br.when is not None:
            try:
                guard = Guard.parse(br.when)
            except GuardSyntaxError as exc:
                reporter.add(
                    (*path, "to", i, "when"),
                    f"{exc} (at column {exc.column} of the guard){punctuation_hint(br.when)}",
                )
                ok = False
        if guard is not None and payload_ok and data_schema is not None:
            for issue in guard_issues(guard.source, data_schema, ev.payload):
                if issue.error:
                    reporter.add(
                        (*path, "to", i, "when"),
                        f"{issue.message} (at column {issue.column} of the guard)",
                    )
                    ok = False
        last = i == len(raw_branches) - 1
        if br.when is None and not last:
            reporter.add(
                (*path, "to", i),
                "only the last branch may have no 'when': "
                "the branches after it could never be taken",
            )
            ok = False
        if br.when is not None and last:
            reporter.add(
                (*path, "to", i),
                "the last branch must have no 'when': it is the default when no guard holds",
            )
            ok = False
        branches.append(Branch(to=br.to, when=guard))
    refs.roles_(ev.roles, (*path, "roles"))
    if ev.automatic and ev.roles:
        reporter.add((*path, "roles"), "an automatic event is fired by the engine: it has no roles")
    if not ev.automatic and not ev.roles:
        reporter.add(path, "names no roles: list who may fire it, or mark it 'automatic: true'")
    if not ok:
        return None
    for i, notice in enumerate(ev.notify):
        refs.roles_(notice.roles, (*path, "notify", i, "roles"))
    return EventDef(
        name=name,
        title=ev.title,
        sources=tuple(sources),
        branches=tuple(branches),
        roles=tuple(ev.roles),
        automatic=ev.automatic,
        payload_schema=ev.payload,
        org=ev.org,
        notify=tuple(NoticeDef(roles=tuple(n.roles), message=n.message) for n in ev.notify),
        message=ev.message,
    )


#: What of the parent case a call's child data may name besides its data and the payload.
CASE_FIELDS = frozenset({"case.id", "case.business_key", "case.org"})


def _call_field(
    reporter: Reporter,
    where: Path_,
    value: str,
    data_schema: dict[str, Any] | None,
    entering: list[EventDef],
) -> None:
    """A call's ``data.x`` / ``payload.x`` must be declared, like a guard's fields."""
    if data_schema is None:
        return
    try:
        Guard.parse(value)
    except GuardSyntaxError:
        reporter.add(where, f"{value!r} is not a field path (data.a.b or payload.a)")
        return
    payloads = [e.payload_schema for e in entering] if value.startswith("payload.") else [None]
    for payload in payloads or [None]:
        for issue in guard_issues(value, data_schema, payload):
            if issue.error:
                reporter.add(where, issue.message.replace("guard reads", "the call reads", 1))
                return


def _call(
    reporter: Reporter,
    refs: Refs,
    state: str,
    st: raw.RawState,
    events: dict[str, EventDef],
    data_schema: dict[str, Any] | None,
) -> CallDef | None:
    """A call activity: its result events leave this state and are automatic; the child's
    data reads fields the parent declares (in its data, or the payload of every event that
    enters the state), ``case.id``/``case.business_key``/``case.org``, or literals."""
    call = st.call
    assert call is not None  # noqa: S101 - checked by the caller
    path: Path_ = ("states", state, "call")
    n = len(reporter.problems)
    if st.final:
        reporter.add(path, "a final state cannot call another workflow (the case has ended)")
    for key in ("on_success", "on_failure"):
        name = getattr(call, key)
        if name is None:
            continue
        if name not in refs.events:
            reporter.add((*path, key), f"unknown event {name!r}{suggest(name, refs.events)}")
        elif name in events and state not in events[name].sources:
            reporter.add((*path, key), f"event {name!r} does not fire from state {state!r}")
        elif name in events and not events[name].automatic:
            reporter.add((*path, key), f"event {name!r} is fired by the engine: mark it automatic")
    entering = [e for e in events.values() if state in e.targets]
    for child, value in call.data.items():
        where = (*path, "data", child)
        if isinstance(value, (dict, list)):
            reporter.add(where, "a literal value is a string, number or boolean")
        elif isinstance(value, str) and value.startswith("case.") and value not in CASE_FIELDS:
            known = ", ".join(sorted(CASE_FIELDS))
            reporter.add(where, f"{value!r}: a call reads only {known} of the case")
        elif isinstance(value, str) and value.startswith(("data.", "payload.")):
            _call_field(reporter, where, value, data_schema, entering)
    if len(reporter.problems) > n:
        return None
    return CallDef(
        workflow=call.workflow,
        data=dict(call.data),
        on_success=call.on_success,
        on_failure=call.on_failure,
        cancel_with_parent=call.cancel_with_parent,
    )


def _vote(
    reporter: Reporter, refs: Refs, state: str, vote: raw.RawVote, events: dict[str, EventDef]
) -> VoteDef | None:
    """A vote's references: its events leave this state; its rule and window parse."""
    from caseflow.voting import VoteRule  # noqa: PLC0415 - voting imports errors only

    path: Path_ = ("states", state, "vote")
    n = len(reporter.problems)
    for key in ("on_pass", "on_fail", "on_no_quorum"):
        name = getattr(vote, key)
        if name is None:
            continue
        if name not in refs.events:
            reporter.add((*path, key), f"unknown event {name!r}{suggest(name, refs.events)}")
        elif name in events and state not in events[name].sources:
            reporter.add((*path, key), f"event {name!r} does not fire from state {state!r}")
    refs.roles_(vote.clerk_roles, (*path, "clerk_roles"))
    electorate = vote.electorate
    if (electorate.data is None) == (electorate.provider is None):
        reporter.add(
            (*path, "electorate"),
            "give exactly one of 'data' (a list in the case "
            "data) or 'provider' (a RosterProvider plugin)",
        )
    try:
        VoteRule.parse(vote.rule)
    except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
        reporter.add((*path, "rule"), f"invalid vote rule: {exc}")
    window = (
        None
        if vote.closes_after is None
        else duration(reporter, vote.closes_after, (*path, "closes_after"))
    )
    if len(reporter.problems) > n:
        return None
    return VoteDef(
        electorate_data=electorate.data,
        electorate_provider=electorate.provider,
        electorate_group=electorate.group,
        rule=vote.rule,
        secret=vote.ballot == "secret",
        closes_after=window,
        close_when_all_voted=vote.close_when_all_voted,
        clerk_roles=tuple(vote.clerk_roles),
        on_pass=vote.on_pass,
        on_fail=vote.on_fail,
        on_no_quorum=vote.on_no_quorum or vote.on_fail,
    )


def _parallel(
    reporter: Reporter,
    refs: Refs,
    state: str,
    par: raw.RawParallel,
    events: dict[str, EventDef],
    clocks: dict[str, ClockDef],
) -> ParallelDef | None:
    """Parallel work items: their join event leaves the state; their clock is per item."""
    path: Path_ = ("states", state, "parallel")
    n = len(reporter.problems)
    if par.on_complete not in refs.events:
        reporter.add(
            (*path, "on_complete"),
            f"unknown event {par.on_complete!r}{suggest(par.on_complete, refs.events)}",
        )
    elif par.on_complete in events and state not in events[par.on_complete].sources:
        reporter.add(
            (*path, "on_complete"), f"event {par.on_complete!r} does not fire from state {state!r}"
        )
    refs.roles_(par.report_roles, (*path, "report_roles"))
    if par.clock is not None and par.clock in clocks and not clocks[par.clock].per_item:
        reporter.add((*path, "clock"), f"clock {par.clock!r} needs 'per_item: true'")
    elif par.clock is not None and par.clock not in clocks:
        reporter.add((*path, "clock"), f"unknown clock {par.clock!r}{suggest(par.clock, clocks)}")
    if isinstance(par.join, int) and par.join < 1:
        reporter.add((*path, "join"), "join is 'all' or how many items must report (>= 1)")
    if len(reporter.problems) > n:
        return None
    source, key = par.items.split(".", 1)
    return ParallelDef(
        source=source,
        key=key,
        join=par.join,
        report_roles=tuple(par.report_roles),
        on_complete=par.on_complete,
        clock=par.clock,
    )


def _graph(
    reporter: Reporter,
    states: dict[str, raw.RawState | None],
    events: dict[str, raw.RawEvent | None],
) -> None:
    """Reachability and ways out; skipped when an event is too broken to know its edges."""
    if any(ev is None for ev in events.values()):
        return
    initials = [n for n, s in states.items() if s is not None and s.initial]
    if len(initials) != 1:
        where: Path_ = ("states", initials[1]) if len(initials) > 1 else ("states",)
        found = ", ".join(repr(n) for n in initials) or "none"
        reporter.add(where, f"exactly one state must be 'initial: true' (found {found})")
        return
    edges: dict[str, set[str]] = {n: set() for n in states}
    for ev in events.values():
        if ev is None:
            continue
        targets = [ev.to] if isinstance(ev.to, str) else [b.to for b in ev.to]
        for src in raw.as_list(ev.from_):
            edges.setdefault(src, set()).update(t for t in targets if t in states)
    seen = {initials[0]}
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    for name, st in states.items():
        if name not in seen:
            reporter.add(
                ("states", name), f"unreachable from the initial state {initials[0]!r}", key=True
            )
        if st is not None and not st.final and not edges.get(name):
            reporter.add(
                ("states", name),
                "is not final and no event leaves it: add an event or mark it 'final: true'",
                key=True,
            )


def _header_checks(
    reporter: Reporter, header: dict[str, Any], roles: list[str]
) -> dict[str, Any] | None:
    """
    Checks on header values that hold even when another header field is malformed.

    Returns the data schema when it is sound (``{}`` when there is none), else None.
    """
    timezone = header.get("timezone")
    if isinstance(timezone, str):
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            reporter.add(("timezone",), f"unknown time zone {shorten(timezone)}")
    data = header.get("data", {})
    sound = isinstance(data, dict) and _check_schema(reporter, data, ("data",))
    for i, role in enumerate(roles):
        if role in roles[:i]:
            reporter.add(("roles", i), f"role {shorten(role)} is declared twice")
        elif (slip := name_slip(role)) is not None:
            reporter.add(("roles", i), slip)
    return data if sound else None


def _lenient_roles(elements: dict[str, Any]) -> list[str]:
    """The declared roles even when the header failed validation, so roles are not misreported."""
    value = elements["header"].get("roles")
    return [r for r in value if isinstance(r, str)] if isinstance(value, list) else []


def _actions(
    reporter: Reporter, declared: list[str], refs: list[str | raw.RawActionRef], path: Path_
) -> tuple[ActionRef, ...]:
    """Resolve ``on_enter``/``on_exit``/``actions`` lists against the declared actions."""
    out: list[ActionRef] = []
    for i, ref in enumerate(refs):
        name, params = (ref, {}) if isinstance(ref, str) else (ref.action, ref.params)
        if name not in declared:
            reporter.add(
                (*path, i), f"action {name!r} is not declared in 'actions'{suggest(name, declared)}"
            )
        out.append(ActionRef(action=name, params=params))
    return tuple(out)


def build(
    reporter: Reporter,
    header: raw.RawHeader | None,
    elements: dict[str, dict[str, Any]],
    digest: str,
    source: str,
) -> WorkflowDef | None:
    """Check references and the graph; return the definition when nothing is wrong."""
    states: dict[str, raw.RawState | None] = elements["states"]
    if not states and header is not None:
        reporter.add(("states",), "a workflow needs at least one state")
    roles = header.roles if header is not None else _lenient_roles(elements)
    refs = Refs(reporter, states, elements["events"], roles, elements["clocks"])
    data_schema = _header_checks(reporter, elements["header"], roles)
    finals = {n for n, s in states.items() if s is not None and s.final}
    before_events = len(reporter.problems)
    events = {
        n: e
        for n, ev in elements["events"].items()
        if ev is not None and (e := _event(reporter, refs, n, ev, finals, data_schema)) is not None
    }
    clocks = {
        n: c
        for n, ck in elements["clocks"].items()
        if ck is not None and (c := clock(reporter, refs, n, ck)) is not None
    }
    votes = {
        n: v
        for n, st in states.items()
        if st is not None
        and st.vote is not None
        and (v := _vote(reporter, refs, n, st.vote, events)) is not None
    }
    parallels = {
        n: p
        for n, st in states.items()
        if st is not None
        and st.parallel is not None
        and (p := _parallel(reporter, refs, n, st.parallel, events, clocks)) is not None
    }
    if header is not None:
        refs.roles_(header.public_roles, ("public_roles",))
    for n, st in states.items():
        if st is not None and st.outcome is not None and not st.final:
            reporter.add(("states", n, "outcome"), "only a final state has an outcome")
    calls = {
        n: called
        for n, st in states.items()
        if st is not None
        and st.call is not None
        and (called := _call(reporter, refs, n, st, events, data_schema)) is not None
    }
    for n, st in states.items():
        assignee = st.assignee if st is not None else None
        if assignee is None:
            continue
        by_holder = assignee.role is not None or assignee.unit is not None
        if (assignee.data is None) == (not by_holder):
            reporter.add(
                ("states", n, "assignee"),
                "give 'data' (a person named in the case data), or 'role' and/or 'unit'",
            )
        if assignee.role is not None:
            refs.roles_([assignee.role], ("states", n, "assignee", "role"))
    declared = list(header.actions) if header is not None else []
    hooks = {
        n: (
            _actions(reporter, declared, st.on_enter, ("states", n, "on_enter")),
            _actions(reporter, declared, st.on_exit, ("states", n, "on_exit")),
        )
        for n, st in states.items()
        if st is not None
    }
    events = {
        n: e.model_copy(
            update={
                "actions": _actions(
                    reporter, declared, elements["events"][n].actions, ("events", n, "actions")
                )
            }
        )
        for n, e in events.items()
    }
    if len(reporter.problems) == before_events:  # broken events would make the graph lie
        _graph(reporter, states, elements["events"])
    if reporter.problems or header is None or any(s is None for s in states.values()):
        return None
    if len(events) != len(elements["events"]) or len(clocks) != len(elements["clocks"]):
        return None
    return WorkflowDef(
        name=header.workflow,
        version=header.version,
        title=header.title,
        timezone=header.timezone,
        calendar=header.calendar,
        roles=tuple(roles),
        org_scope=header.org_scope,
        public_roles=tuple(header.public_roles),
        start_level_field=header.start_level.data if header.start_level else None,
        start_levels=dict(header.start_level.levels) if header.start_level else {},
        data_schema=header.data,
        states={
            n: StateDef(
                name=n,
                title=s.title,
                initial=s.initial,
                final=s.final,
                outcome=s.outcome,
                vote=votes.get(n),
                parallel=parallels.get(n),
                on_enter=hooks[n][0],
                on_exit=hooks[n][1],
                assignee_data=s.assignee.data if s.assignee else None,
                assignee_role=s.assignee.role if s.assignee else None,
                assignee_unit=s.assignee.unit.rstrip("/")
                if s.assignee and s.assignee.unit
                else None,
                call=calls.get(n),
            )
            for n, s in states.items()
            if s is not None
        },
        events=events,
        clocks=clocks,
        actions={
            n: ActionConfig(retries=a.retries, backoff_seconds=a.backoff_seconds)
            for n, a in header.actions.items()
        },
        content_hash=digest,
        source=source,
        source_file=reporter.file,
    )
