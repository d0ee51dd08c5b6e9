"""
A checked definition back to workflow YAML: ``load_text(dump_text(d))`` equals ``d``.

Pure. The shape is the one admins write (README "Workflow YAML"): defaults are left out,
one source state is a string, an unguarded single target is a string, action references
without params are names. Used by tests (a definition survives the round trip) and by
tools that generate workflows.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

if TYPE_CHECKING:
    from collections.abc import Sequence

    from caseflow.clocks.durations import Duration
    from caseflow.definitions.model import (
        ActionRef,
        ClockDef,
        ClockTrigger,
        EventDef,
        StateDef,
        WorkflowDef,
    )


def _duration(value: Duration) -> str:
    return f"{value.amount} {value.unit}"


def _refs(refs: Sequence[ActionRef]) -> list[Any]:
    return [
        r.action if not r.params else {"action": r.action, "params": dict(r.params)} for r in refs
    ]


def _trigger(trigger: ClockTrigger) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if trigger.enter:
        out["enter"] = list(trigger.enter)
    if trigger.events:
        out["event"] = list(trigger.events)
    return out


def _state(state: StateDef) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if state.title:
        out["title"] = state.title
    if state.initial:
        out["initial"] = True
    if state.final:
        out["final"] = True
    if state.outcome is not None:
        out["outcome"] = state.outcome
    if state.vote is not None:
        vote = state.vote
        electorate = {
            k: v
            for k, v in (
                ("data", vote.electorate_data),
                ("provider", vote.electorate_provider),
                ("group", vote.electorate_group),
            )
            if v is not None
        }
        out["vote"] = {
            "electorate": electorate,
            "rule": dict(vote.rule),
            "ballot": "secret" if vote.secret else "open",
            **({"closes_after": _duration(vote.closes_after)} if vote.closes_after else {}),
            **({} if vote.close_when_all_voted else {"close_when_all_voted": False}),
            **({"clerk_roles": list(vote.clerk_roles)} if vote.clerk_roles else {}),
            "on_pass": vote.on_pass,
            "on_fail": vote.on_fail,
            "on_no_quorum": vote.on_no_quorum,
        }
    if state.parallel is not None:
        par = state.parallel
        out["parallel"] = {
            "items": f"{par.source}.{par.key}",
            **({} if par.join == "all" else {"join": par.join}),
            "report_roles": list(par.report_roles),
            "on_complete": par.on_complete,
            **({"clock": par.clock} if par.clock else {}),
        }
    if state.on_enter:
        out["on_enter"] = _refs(state.on_enter)
    if state.on_exit:
        out["on_exit"] = _refs(state.on_exit)
    if state.assignee_data is not None:
        out["assignee"] = {"data": state.assignee_data}
    elif state.assignee_role is not None or state.assignee_unit is not None:
        holder = {"role": state.assignee_role, "unit": state.assignee_unit}
        out["assignee"] = {k: v for k, v in holder.items() if v is not None}
    if state.call is not None:
        call = state.call
        out["call"] = {
            "workflow": call.workflow,
            **({"data": dict(call.data)} if call.data else {}),
            **({"on_success": call.on_success} if call.on_success else {}),
            **({"on_failure": call.on_failure} if call.on_failure else {}),
            **({} if call.cancel_with_parent else {"cancel_with_parent": False}),
        }
    return out


def _event(event: EventDef) -> dict[str, Any]:
    sources: Any = event.sources[0] if len(event.sources) == 1 else list(event.sources)
    branches = event.branches
    to: Any
    if len(branches) == 1 and branches[0].when is None:
        to = branches[0].to
    else:
        to = [
            {"to": b.to, **({"when": b.when.source} if b.when is not None else {})}
            for b in branches
        ]
    out: dict[str, Any] = {"from": sources, "to": to}
    if event.title:
        out["title"] = event.title
    if event.roles:
        out["roles"] = list(event.roles)
    if event.automatic:
        out["automatic"] = True
    if event.payload_schema is not None:
        out["payload"] = dict(event.payload_schema)
    if event.actions:
        out["actions"] = _refs(event.actions)
    if event.org is not None:
        out["org"] = event.org
    if event.notify:
        out["notify"] = [{"roles": list(n.roles), "message": n.message} for n in event.notify]
    if event.message is not None:
        out["message"] = event.message
    return out


def _clock(clock: ClockDef) -> dict[str, Any]:
    out: dict[str, Any] = {"limit": _duration(clock.limit)}
    if clock.runs_in:
        out["runs_in"] = list(clock.runs_in)
    if clock.starts_on is not None:
        out["starts_on"] = _trigger(clock.starts_on)
    if clock.paused_in:
        out["paused_in"] = list(clock.paused_in)
    if clock.stops_on is not None:
        out["stops_on"] = _trigger(clock.stops_on)
    breach: dict[str, Any] = {}
    if clock.on_breach_fire:
        breach["fire"] = clock.on_breach_fire
    if clock.on_breach_notify:
        breach["notify"] = list(clock.on_breach_notify)
    if clock.on_breach_move_up:
        breach["move_up"] = True
    if clock.on_breach_at_top:
        breach["at_top"] = clock.on_breach_at_top
    if breach:
        out["on_breach"] = breach
    if clock.extension is not None:
        ext = clock.extension
        out["extension"] = {
            "by": _duration(ext.by),
            "times": ext.times,
            "roles": list(ext.roles),
            "reason": "required" if ext.reason_required else "optional",
            **({"notify": list(ext.notify)} if ext.notify else {}),
        }
    if clock.warn_before is not None:
        out["warn_before"] = _duration(clock.warn_before)
    if clock.warn_notify is not None:
        out["warn_notify"] = list(clock.warn_notify)
    if clock.by_level:
        out["by_level"] = {k: {"limit": _duration(v)} for k, v in clock.by_level.items()}
    if clock.per_item:
        out["per_item"] = True
    if clock.escalate:
        out["escalate"] = [
            {
                "after": _duration(step.after),
                **({"notify": list(step.notify)} if step.notify else {}),
                **({"to_org": step.to_org} if step.to_org else {}),
                **({"fire": step.fire} if step.fire else {}),
            }
            for step in clock.escalate
        ]
    if clock.anchors:
        out["anchors"] = [
            {**({"event": a.event} if a.event else {}), a.source: a.path} for a in clock.anchors
        ]
    if clock.by_data_field is not None:
        out["by_data"] = {
            "field": clock.by_data_field,
            "limits": {k: _duration(v) for k, v in clock.by_data.items()},
        }
    return out


def dump_data(definition: WorkflowDef) -> dict[str, Any]:
    """The definition as the plain mapping a workflow file holds."""
    out: dict[str, Any] = {"workflow": definition.name, "version": definition.version}
    if definition.title:
        out["title"] = definition.title
    out["timezone"] = definition.timezone
    out["calendar"] = definition.calendar
    out["roles"] = list(definition.roles)
    if definition.data_schema:
        out["data"] = dict(definition.data_schema)
    if definition.actions:
        out["actions"] = {
            name: {"retries": a.retries, "backoff_seconds": a.backoff_seconds}
            for name, a in definition.actions.items()
        }
    if definition.org_scope:
        out["org_scope"] = True
    if definition.public_roles:
        out["public_roles"] = list(definition.public_roles)
    if definition.start_level_field is not None:
        out["start_level"] = {
            "data": definition.start_level_field,
            "levels": dict(definition.start_levels),
        }
    out["states"] = {name: _state(s) for name, s in definition.states.items()}
    out["events"] = {name: _event(e) for name, e in definition.events.items()}
    if definition.clocks:
        out["clocks"] = {name: _clock(c) for name, c in definition.clocks.items()}
    return out


def dump_text(definition: WorkflowDef) -> str:
    """The definition as workflow YAML (block style, keys in definition order)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buffer = io.StringIO()
    yaml.dump(_plain(dump_data(definition)), buffer)
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    """Mappings and sequences as plain dicts and lists (frozen pydantic fields are not)."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
