"""
The state-transition function: ``apply(workflow, case, event, ...) -> Outcome``, pure.

This is the only module that imports ``transitions``. One ``Machine`` is built per
workflow version (never one per case) with ``model=None``; a case is represented for
the duration of one trigger by a throw-away object with a ``state`` attribute, so no
per-step ``add_model``/``remove_model``. No callback does I/O: the machine only picks
the target state (guards are the transitions' conditions); everything else is returned
as data for the engine to persist. ``MachineError`` never reaches callers. Where the
first branch of an event from a state has no guard, the machine could only pick that
branch, so its target is looked up instead (the same answer, without a trigger).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsonschema
from transitions import Machine, MachineError

from caseflow.cases import Actor, Case, HistoryEntry
from caseflow.datacheck import compile_check
from caseflow.definitions.loader import suggest
from caseflow.errors import DataValidationError, Forbidden, InvalidEvent
from caseflow.orgs import OrgTree, within

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from caseflow.definitions.model import Branch, EventDef, WorkflowDef


class _Token:
    """What ``transitions`` sees of a case: just its state, for one trigger."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _condition(branch: Branch) -> Any:
    guard = branch.when
    assert guard is not None  # noqa: S101 - only called for guarded branches
    return lambda event_data: guard.evaluate(event_data.kwargs["context"])


@dataclass(frozen=True)
class Outcome:
    """What applying an event produced: the case as it becomes and its history line."""

    case: Case
    entry: HistoryEntry
    entered: str | None
    left: str | None


class CompiledWorkflow:
    """A workflow version with its ``transitions`` machine and compiled schema validators."""

    def __init__(self, definition: WorkflowDef) -> None:
        self.definition = definition
        self._machine = Machine(
            model=None,
            states=list(definition.states),
            initial=definition.initial_state,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for event in definition.events.values():
            for source in event.sources:
                for branch in event.branches:
                    conditions = [_condition(branch)] if branch.when is not None else None
                    self._machine.add_transition(
                        event.name, source, branch.to, conditions=conditions
                    )
        #: (event, source) -> target where the first branch tried is unguarded
        self._direct = {
            (event.name, source): event.branches[0].to
            for event in definition.events.values()
            if event.branches and event.branches[0].when is None
            for source in event.sources
        }
        self._data_validator = _Validator(definition.data_schema)
        self._payload_validators = {
            e.name: _Validator(e.payload_schema)
            for e in definition.events.values()
            if e.payload_schema is not None
        }

    def validate_data(self, data: Mapping[str, Any], *, what: str = "case data") -> None:
        self._data_validator.validate(data, f"{self.definition.name}: {what}")

    def target(
        self, state: str, event: EventDef, context: Mapping[str, Any], *, lookup: bool = True
    ) -> str:
        """The state the event lands in from ``state``: run through the machine, or,
        where its first branch is unguarded (and ``lookup``), looked up."""
        if lookup:
            direct = self._direct.get((event.name, state))
            if direct is not None:
                return direct
        token = _Token(state)
        try:
            moved = self._machine.events[event.name].trigger(token, context=context)
        except MachineError:
            raise InvalidEvent(
                f"event {event.name!r} cannot fire in state {state!r} "
                f"(it fires from: {', '.join(event.sources)})"
            ) from None
        if not moved:  # unreachable for checked definitions: the last branch is unguarded
            raise InvalidEvent(f"event {event.name!r}: no branch applies in state {state!r}")
        return token.state

    def event(self, name: str) -> EventDef:
        event = self.definition.events.get(name)
        if event is None:
            known = self.definition.events
            raise InvalidEvent(
                f"workflow {self.definition.name!r} v{self.definition.version} has no event "
                f"{name!r}{suggest(name, known)}"
            )
        return event

    def validate_payload(self, event: EventDef, payload: Mapping[str, Any]) -> None:
        validator = self._payload_validators.get(event.name)
        if validator is not None:
            validator.validate(payload, f"event {event.name!r}: payload")


class _Validator:
    """One schema: the quick check first (:mod:`caseflow.datacheck`), jsonschema's
    verdict and wording whenever it does not say "valid"."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = jsonschema.Draft202012Validator(dict(schema))
        self._quick = compile_check(dict(schema))

    def validate(self, data: Mapping[str, Any], what: str) -> None:
        if self._quick is not None and self._quick(data):
            return
        errors = sorted(
            self._schema.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        )
        if errors:
            lines = [
                f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
            ]
            raise DataValidationError(f"{what} is invalid: " + "; ".join(lines), errors=lines)


def authorise(event: EventDef, actor: Actor) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may fire ``event``."""
    if actor.is_system:
        return
    if event.automatic:
        raise Forbidden(f"event {event.name!r} is automatic: only the engine fires it")
    if not actor.roles.intersection(event.roles):
        held = ", ".join(sorted(actor.roles)) or "none"
        raise Forbidden(
            f"event {event.name!r} requires one of the roles: {', '.join(event.roles)} "
            f"(actor {actor.id!r} holds: {held})",
            required_roles=event.roles,
        )


def check_org_scope(definition: WorkflowDef, case_id: str, case_org: str, actor: Actor) -> None:
    """
    With ``org_scope``, an actor acts only on cases of their own unit or below it; an
    actor of no unit (``org=""``) acts on none (public roles and the engine excepted).
    """
    if not definition.org_scope or actor.is_system:
        return
    if actor.roles.intersection(definition.public_roles):
        return
    if not actor.org:
        raise Forbidden(
            f"actor {actor.id!r} belongs to no org unit and cannot act on case {case_id!r} "
            f"of unit {case_org!r} (workflow {definition.name!r} is org-scoped)"
        )
    if not within(case_org, actor.org):
        raise Forbidden(
            f"actor {actor.id!r} of unit {actor.org!r} cannot act on case {case_id!r} "
            f"of unit {case_org!r}: it is outside their unit"
        )


def authorise_org(definition: WorkflowDef, case: Case, actor: Actor) -> None:
    """:func:`check_org_scope` for a case."""
    check_org_scope(definition, case.id, case.org, actor)


def allowed(event: EventDef, actor: Actor) -> bool:
    try:
        authorise(event, actor)
    except Forbidden:
        return False
    return True


def apply(
    compiled: CompiledWorkflow,
    case: Case,
    event_name: str,
    *,
    actor: Actor,
    payload: Mapping[str, Any] | None,
    now: dt.datetime,
    comment: str | None = None,
    orgs: OrgTree | None = None,
) -> Outcome:
    """
    Apply one event to a case. Pure: no I/O, no clock reads, nothing mutated.

    Who may fire it is checked before (:mod:`caseflow.pipeline.authz`); the case's
    version and history numbering are the plan's (one command may apply several events).
    The history line has ``seq`` 0 until the plan numbers it.

    Raises:
        InvalidEvent: unknown event, wrong state, or the case is not active.
        DataValidationError: the payload or the merged data breaks a schema.
    """
    event = compiled.event(event_name)
    if case.status != "active":
        raise InvalidEvent(f"case {case.id!r} is {case.status}: events cannot fire")
    payload = dict(payload or {})
    compiled.validate_payload(event, payload)
    context = {"data": case.data, "payload": payload, "actor": actor.as_context()}
    target = compiled.target(case.state, event, context)
    merged = {k: v for k, v in payload.items() if not (event.org == "payload" and k == "org")}
    data = {**case.data, **merged} if merged else case.data
    if merged:
        compiled.validate_data(data)
    final = compiled.definition.states[target].final
    org, level = _moved_org(event, case, payload, orgs)
    new_case = dataclasses.replace(
        case,
        state=target,
        data=data,
        status="completed" if final else case.status,
        updated_at=now,
        org=org,
        escalation_level=level,
    )
    details: dict[str, Any] = {}
    if org != case.org:
        details.update(from_org=case.org, to_org=org)
    if payload:
        details["payload"] = payload
    if comment:
        details["comment"] = comment
    entry = HistoryEntry(
        case_id=case.id,
        seq=0,
        at=now,
        kind="transition",
        event=event.name,
        from_state=case.state,
        to_state=target,
        actor_id=actor.id,
        actor_roles=tuple(sorted(actor.roles)),
        actor_org=actor.org,
        details=details,
    )
    changed = target != case.state
    return Outcome(
        new_case,
        entry,
        entered=target if changed else None,
        left=case.state if changed else None,
    )


def _moved_org(
    event: EventDef, case: Case, payload: Mapping[str, Any], orgs: OrgTree | None
) -> tuple[str, int]:
    """Where an org-moving event takes the case: up one level, or to ``payload.org``."""
    if event.org is None:
        return case.org, case.escalation_level
    tree = orgs or OrgTree()
    if event.org == "parent":
        parent = tree.parent(case.org)
        if parent is None:
            raise InvalidEvent(
                f"case {case.id!r} is at the top unit {case.org!r}: "
                "there is no level above to escalate to"
            )
        return parent, case.escalation_level + 1
    if event.org == "payload":
        target = payload.get("org")
        if not isinstance(target, str) or not target:
            raise DataValidationError(
                f"event {event.name!r} needs 'org' in its payload: the unit to refer the case to"
            )
        if len(tree) and target not in tree:
            raise DataValidationError(f"event {event.name!r}: unknown org unit {target!r}")
        return target, case.escalation_level
    return case.org, case.escalation_level


def available(compiled: CompiledWorkflow, case: Case, actor: Actor) -> list[str]:
    """Events the actor may fire in the case's current state (guards not evaluated)."""
    if case.status != "active":
        return []
    try:
        authorise_org(compiled.definition, case, actor)
    except Forbidden:
        return []
    return [
        e.name
        for e in compiled.definition.events.values()
        if case.state in e.sources and allowed(e, actor)
    ]
