"""
The JSON Schema (draft 2020-12) of a workflow file, for editors and CI.

Generated from the raw pydantic models the loader validates each element with
(:mod:`caseflow.definitions.raw`), so it cannot drift from what the loader accepts.
The header fields are the top-level properties; ``states``, ``events`` and ``clocks``
are maps from element names to the element schemas. Field descriptions come from the
models (``Field(description=...)``) and, where a model has none, from
:data:`DESCRIPTIONS` below. The shipped ``schema/workflow.schema.json`` is this
document; a test keeps the two equal.

The schema is exact about shape: a document of the right shape passes it exactly when
it passes the loader's shape checks (strict types, no coercion of ``'1'`` or ``true`` to
1; names of 1 to 64 characters; durations spelled as the loader reads them and within
its bounds, :mod:`caseflow.definitions.limits`). Patterns use ``$(?!\n)`` for the end of
the text, which means the same in Python (jsonschema) and ECMA 262 (editors).

Checks that need the whole file stay with ``caseflow workflows validate``: references
(an event naming an unknown state, an undeclared role), the graph, guards and what they
read, time zones, vote rules, the data and payload schemas themselves, ``warn_before``
against the limit.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import models_json_schema

from caseflow.definitions import raw
from caseflow.definitions.limits import MAX_NAME, duration_pattern

if TYPE_CHECKING:
    from pydantic import BaseModel

SCHEMA_ID = "urn:caseflow:schema:workflow"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: Where the schema is shipped, relative to the repository root.
SHIPPED_PATH = "schema/workflow.schema.json"

_SECTIONS: dict[str, tuple[type[BaseModel], str]] = {
    "states": (raw.RawState, "The states a case can be in, by name. Exactly one is initial."),
    "events": (raw.RawEvent, "The events that move a case from state to state, by name."),
    "clocks": (raw.RawClock, "Legal time limits attached to parts of the workflow, by name."),
}

_DURATION_TEXT = "A duration: a whole number and a unit, e.g. '5 workdays', '30 days', '1 month'."
_DURATIONS = {
    ("Clock", "limit"),
    ("Clock", "warn_before"),
    ("Extension", "by"),
    ("Escalation", "after"),
    ("Vote", "closes_after"),
    ("LevelLimit", "limit"),
}
_ONE_OR_MORE = "A state name, or a list of them."

#: Descriptions by definition name (the model name without ``Raw``), then property;
#: ``""`` describes the element itself.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Header": {
        "workflow": "Stable name of the workflow (lower case, digits, '_'). "
        "Cases are pinned to (workflow, version).",
        "version": "Version number; give a changed file a new version: running cases stay "
        "on the version they started with.",
        "title": "Human-readable title.",
        "timezone": "IANA time zone the clocks count local days in.",
        "calendar": "Working-day calendar plugin, by name (e.g. 'cn': statutory holidays "
        "and make-up working days).",
        "roles": "Every role named anywhere in the file must be declared here.",
        "data": "JSON Schema (draft 2020-12) the case data must match.",
        "actions": "Side effects (plugin actions) the workflow may run, by name, with their "
        "retry policy; states and events refer to them by name.",
        "org_scope": "An actor acts only on cases of their own org unit or below it.",
        "public_roles": "Roles exempt from 'org_scope' (they act on cases of any unit).",
    },
    "ActionConfig": {
        "": "A declared action: run after the transition commits, retried, then an incident.",
        "title": "Human-readable title.",
        "retries": "How many times a failed action is retried before an incident is opened.",
        "backoff_seconds": "Delay before the first retry; it grows with each attempt.",
    },
    "ActionRef": {
        "": "An action to run, with parameters.",
        "action": "A declared action, by name.",
        "params": "Parameters passed to the action handler.",
    },
    "State": {
        "": "A state. An empty mapping (or nothing) is a plain state.",
        "title": "Human-readable title.",
        "initial": "The state a new case starts in; exactly one state is initial.",
        "final": "The case ends here; no event may leave a final state.",
        "outcome": "For reports: whether ending here counts as a success or a failure "
        "(final states only).",
        "vote": "A vote held while the case is in this state.",
        "on_enter": "Actions run when a case enters this state (names, or {action, params}).",
        "on_exit": "Actions run when a case leaves this state (names, or {action, params}).",
        "parallel": "Work items handled in parallel by several units, joined in this state.",
    },
    "Parallel": {
        "": "Parallel work items (部门联动处置): one per entry of a list in the payload or data.",
        "items": "Where the work items are: 'payload.<key>' or 'data.<key>'.",
        "join": "'all', or how many items must report before 'on_complete' fires.",
        "report_roles": "Roles that report on a work item.",
        "on_complete": "Event fired when the join is reached; it must leave this state.",
        "clock": "A clock (with per_item: true) that runs once per work item.",
    },
    "Event": {
        "": "An event: from which states, to which state, and who may fire it.",
        "from": _ONE_OR_MORE + " The event can be fired in these states.",
        "to": "The target state, or a list of branches: the first branch whose 'when' "
        "holds wins; the last branch has no 'when' and is the default.",
        "title": "Human-readable title.",
        "roles": "Roles that may fire the event (required unless automatic).",
        "automatic": "Fired by the engine (a clock breach, an escalation or a vote), never "
        "by a person; has no roles.",
        "payload": "JSON Schema (draft 2020-12) the event's payload must match.",
        "actions": "Actions run when the event fires (names, or {action, params}).",
        "org": "Move the case's org unit: 'parent' (one level up) or 'payload' (to the unit "
        "named by payload.org).",
    },
    "Branch": {
        "": "One possible target of an event.",
        "to": "The target state.",
        "when": "Guard over data, payload and actor, e.g. \"payload.decision == 'approve'\". "
        "Omitted on the last (default) branch.",
    },
    "Clock": {
        "": "A legal time limit: starts, pauses, stops, warns, breaches and escalates.",
        "limit": "The time limit. " + _DURATION_TEXT,
        "runs_in": "The clock runs while the case is in these states and stops when it "
        "leaves them (unless into a 'paused_in' state).",
        "starts_on": "Start on entering a state or on an event (instead of 'runs_in').",
        "paused_in": "The clock is paused (time not counted) in these states.",
        "stops_on": "Stop on entering a state or on an event. Every clock stops when the "
        "case ends.",
        "on_breach": "What happens when the time limit is exceeded.",
        "extension": "An audited extension of the limit.",
        "warn_before": "Warn (yellow) this long before the limit. " + _DURATION_TEXT,
        "warn_notify": "Roles told of the warning; default: whoever can move the case on.",
        "escalate": "Steps taken after the breach, in order.",
        "by_level": "Limits per org level of the case's unit (grid, village, township, ...); "
        "'limit' applies to the other levels.",
        "per_item": "Run once per parallel work item instead of once per case.",
    },
    "LevelLimit": {
        "": "The limit at one org level.",
        "limit": "The time limit at this level. " + _DURATION_TEXT,
    },
    "Trigger": {
        "": "Entering one of the 'enter' states, or firing one of the 'event' events.",
        "enter": _ONE_OR_MORE,
        "event": "An event name, or a list of them.",
    },
    "Breach": {
        "": "What a breach does.",
        "fire": "An automatic event to fire on breach.",
        "notify": "Roles to notify on breach.",
        "move_up": "Move the case one org level up and restart the clock there.",
        "at_top": "The event fired when a move-up clock breaches at the top of the org tree.",
    },
    "Extension": {
        "": "An audited extension (e.g. 行政许可法 art. 42: once, by 10 workdays).",
        "by": "How much each extension adds. " + _DURATION_TEXT,
        "times": "How many times the clock may be extended.",
        "roles": "Roles that may extend.",
        "reason": "Whether an extension must give a reason.",
    },
    "Escalation": {
        "": "One escalation step; give at least one of notify, to_org, fire.",
        "after": "How long after the breach. " + _DURATION_TEXT,
        "notify": "Roles to notify (督办).",
        "to_org": "Move the case up the org tree.",
        "fire": "An automatic event to fire.",
    },
    "Vote": {
        "": "A vote held while the case is in the state.",
        "electorate": "Who may vote, snapshotted when the vote opens.",
        "rule": "Quorum and pass rule: {preset: representative_meeting} or "
        "{quorum: '2/3', pass: '1/2', ...}.",
        "ballot": "Open or secret ballot.",
        "closes_after": "Close the vote after this long. " + _DURATION_TEXT,
        "close_when_all_voted": "Close as soon as every member has voted.",
        "clerk_roles": "Roles that may record ballots and close the vote.",
        "on_pass": "Event fired when the vote passes.",
        "on_fail": "Event fired when the vote fails.",
        "on_no_quorum": "Event fired when the quorum is not met (default: on_fail).",
    },
    "Electorate": {
        "": "Give exactly one of 'data' or 'provider'.",
        "data": "Name of a list of voter ids in the case data.",
        "provider": "A roster provider plugin, by name.",
        "group": "The group the provider returns members of.",
    },
}


def _short(name: str) -> str:
    return name.removeprefix("Raw")


def _rewrite(node: Any) -> Any:
    """Point ``$ref`` at the renamed definitions; drop pydantic's generated titles."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = re.sub(r"#/\$defs/(\w+)", lambda m: f"#/$defs/{_short(m[1])}", value)
            else:
                out[key] = _rewrite(value)
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def _describe(name: str, definition: dict[str, Any]) -> None:
    docs = DESCRIPTIONS.get(name, {})
    definition["title"] = name
    if "" in docs:
        definition.setdefault("description", docs[""])
    for prop, schema in definition.get("properties", {}).items():
        schema.pop("title", None)
        if prop in docs:
            schema.setdefault("description", docs[prop])
        if (name, prop) in _DURATIONS:
            text = next(s for s in [schema, *schema.get("anyOf", [])] if s.get("type") == "string")
            text["pattern"] = duration_pattern()
            schema.setdefault("examples", ["5 workdays", "30 days", "1 month", "8 hours"])


def workflow_schema() -> dict[str, Any]:
    """The JSON Schema of a workflow file, as a JSON-ready dict."""
    models: list[type[BaseModel]] = [raw.RawHeader, *(model for model, _ in _SECTIONS.values())]
    _, top = models_json_schema([(m, "validation") for m in models], by_alias=True)
    defs: dict[str, Any] = {_short(k): _rewrite(v) for k, v in top["$defs"].items()}
    for name, definition in defs.items():
        _describe(name, definition)
    header = defs.pop("Header")
    properties: dict[str, Any] = dict(header["properties"])
    for section, (model, description) in _SECTIONS.items():
        properties[section] = {
            # `events:` with nothing after it is no events (the loader reads it so).
            "type": ["object", "null"] if section != "states" else "object",
            "description": description,
            "propertyNames": {"minLength": 1, "maxLength": MAX_NAME},
            "additionalProperties": {"$ref": f"#/$defs/{_short(model.__name__)}"},
        }
    # A state written as `name:` with nothing after it is a plain state.
    defs["State"]["type"] = ["object", "null"]
    properties["states"]["minProperties"] = 1
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "caseflow workflow definition",
        "description": "A caseflow workflow file (YAML): header, states, events and clocks. "
        "Generated by `caseflow workflows schema`; references between elements are "
        "checked by `caseflow workflows validate`.",
        "type": "object",
        "additionalProperties": False,
        "required": [*header.get("required", []), "states"],
        "properties": properties,
        "$defs": dict(sorted(defs.items())),
    }


def schema_text() -> str:
    """The schema as the shipped file holds it: indented JSON, a final newline."""
    return json.dumps(workflow_schema(), indent=2, ensure_ascii=False) + "\n"
