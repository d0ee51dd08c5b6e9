"""
What changed between two versions of a workflow: header, states, events, clocks.

Each element is flattened field by field (every field of its model, so fields added to
the models later are compared too) into JSON, with durations and guards as the text an
admin writes, so a change reads as ``limit: 20 workdays -> 15 workdays``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from caseflow.definitions.expr import Guard

if TYPE_CHECKING:
    from collections.abc import Iterable

    from caseflow.definitions.model import WorkflowDef

Kind = Literal["workflow", "state", "event", "clock"]
How = Literal["added", "removed", "changed"]
_YAML_NAMES = {
    "sources": "from",
    "branches": "to",
    "payload_schema": "payload",
    "data_schema": "data",
}
#: WorkflowDef fields that are not header settings (or are compared elsewhere).
_NOT_HEADER = (
    "name",
    "version",
    "states",
    "events",
    "clocks",
    "content_hash",
    "source",
    "source_file",
)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    """One element added, removed or changed; ``fields`` says how, for a change."""

    kind: Kind
    name: str
    how: How
    fields: tuple[FieldChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "change": self.how,
            "fields": {f.field: {"old": f.old, "new": f.new} for f in self.fields},
        }


@dataclass(frozen=True)
class WorkflowDiff:
    """The changes from ``old`` to ``new`` (each ``(name, version, content_hash)``)."""

    old: tuple[str, int, str]
    new: tuple[str, int, str]
    changes: list[Change] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.changes

    def to_json(self) -> dict[str, Any]:
        def ref(key: tuple[str, int, str]) -> dict[str, Any]:
            return {"workflow": key[0], "version": key[1], "content_hash": key[2]}

        return {
            "old": ref(self.old),
            "new": ref(self.new),
            "changes": [c.to_json() for c in self.changes],
        }

    def lines(self) -> list[str]:
        """The changes as readable lines: ``+`` added, ``-`` removed, ``~`` changed."""
        marks = {"added": "+", "removed": "-", "changed": "~"}
        out: list[str] = []
        for change in self.changes:
            label = change.name if change.kind == "workflow" else f"{change.kind} {change.name}"
            out.append(f"{marks[change.how]} {label}: {change.how}")
            out.extend(f"    {f.field}: {_show(f.old)} -> {_show(f.new)}" for f in change.fields)
        return out


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _plain(value: Any) -> Any:
    """Model values as JSON: models field by field, guards and durations as written."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Guard):
        return value.source.strip()
    if isinstance(value, BaseModel):
        return {k: _plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)  # a Duration: "20 workdays"


def fields(element: BaseModel, skip: Iterable[str] = ("name",)) -> dict[str, Any]:
    """An element's fields as JSON, named as in the YAML where the model differs."""
    out = {
        _YAML_NAMES.get(k, k): _plain(getattr(element, k))
        for k in type(element).model_fields
        if k not in skip
    }
    if isinstance(out.get("to"), list):  # an event's branches: "when" only where given
        out["to"] = [{k: v for k, v in b.items() if v is not None} for b in out["to"]]
    return out


def _changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    keys = list(dict.fromkeys([*old, *new]))
    return tuple(FieldChange(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k))


def _section(
    kind: Kind, old: Mapping[str, BaseModel], new: Mapping[str, BaseModel]
) -> list[Change]:
    out: list[Change] = []
    for name, element in old.items():
        if name not in new:
            out.append(Change(kind, name, "removed"))
        elif (before := fields(element)) != (after := fields(new[name])):
            out.append(Change(kind, name, "changed", _changed(before, after)))
    out.extend(Change(kind, name, "added") for name in new if name not in old)
    return out


def diff(old: WorkflowDef, new: WorkflowDef) -> WorkflowDiff:
    """Every difference from ``old`` to ``new``: header, then states, events, clocks."""
    changes: list[Change] = []
    header = _changed(fields(old, _NOT_HEADER), fields(new, _NOT_HEADER))
    if old.name != new.name:
        header = (FieldChange("workflow", old.name, new.name), *header)
    if header:
        changes.append(Change("workflow", "header", "changed", header))
    changes += _section("state", old.states, new.states)
    changes += _section("event", old.events, new.events)
    changes += _section("clock", old.clocks, new.clocks)
    return WorkflowDiff(
        (old.name, old.version, old.content_hash),
        (new.name, new.version, new.content_hash),
        changes,
    )
