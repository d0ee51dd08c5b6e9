"""
Guards checked against the schemas they read: a typo must not silently misroute a case.

A guard reads ``data.X`` (the case data, checked against ``data:``), ``payload.X`` (the
event's payload, checked against the event's ``payload:`` and, once merged, ``data:``)
and ``actor.id``/``actor.org``/``actor.roles``. For each name it reads, level by level
(``data.a.b`` looks ``b`` up in ``a``'s schema):

- **declared**: the schema lists it in ``properties`` (or ``required``, or a
  ``patternProperties`` pattern matches it), also inside ``allOf``/``anyOf``/``oneOf``
  and local ``$ref``; its types and ``enum`` are then checked against the literal it
  is compared with;
- **undeclared**, an error (:attr:`GuardIssue.error`): the schema lists ``properties``
  and this name is not among them, and ``additionalProperties`` is absent or false;
- **open**, a lint warning only: the schema declares no properties, or allows any
  (``additionalProperties: true`` or a schema). For ``payload.X`` the event's payload
  schema decides; when it is absent or open, ``data:`` decides instead (the payload is
  merged into the data), and an undeclared or open name there is a warning.

Comparisons that can never hold are errors: ordering (``<``, ``<=``, ...) text with a
number or anything with ``null``/``true``; ``==``/``!=``/``in [...]`` with a value of
another type or outside the ``enum``; ``in`` on a field that is neither a list nor text.

Pure: no I/O.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from caseflow.definitions.schemacheck import resolve

_NUMBERS = frozenset({"integer", "number"})
_ACTOR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "org": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}
_LITERAL_NAMES: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}
_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_MISSING = object()


@dataclass(frozen=True)
class GuardIssue:
    """A problem with a guard: ``column`` is 1-based in the guard; ``error`` or a warning."""

    column: int
    message: str
    error: bool = True


@dataclass(frozen=True)
class _Field:
    """What a guard's ``data.a.b`` is: its schemas (and root document) when declared."""

    text: str
    schemas: tuple[tuple[Mapping[str, Any], Any], ...]  # (schema, its root document)


def guard_issues(
    source: str, data: Mapping[str, Any], payload: Mapping[str, Any] | None
) -> list[GuardIssue]:
    """Every issue of one guard (already known to parse) against its schemas."""
    tree = ast.parse(source.strip(), mode="eval")
    issues: list[GuardIssue] = []
    fields: dict[int, _Field | None] = {}
    inner = {id(child) for node in ast.walk(tree) for child in _extended(node)}
    for node in ast.walk(tree):
        chain = _chain(node)
        if chain is not None and id(node) not in inner:
            column = getattr(node, "col_offset", 0) + 1
            fields[id(node)] = _lookup(*chain, data, payload, column, issues)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
                _compare(op, left, right, fields, issues)
    return sorted(issues, key=lambda i: i.column)


def _extended(node: ast.AST) -> list[ast.AST]:
    """The access that ``node`` (an access itself) extends: ``data.a`` inside ``data.a.b``."""
    if isinstance(node, (ast.Attribute, ast.Subscript)) and _chain(node) is not None:
        return [node.value]
    return []


def _chain(node: ast.AST) -> tuple[str, list[str | int]] | None:
    """``data.a[0]['b']`` as ``('data', ['a', 0, 'b'])``; None if it is not an access."""
    parts: list[str | int] = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
        elif isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, (str, int)):
            parts.append(node.slice.value)
        else:
            return None
        node = node.value
    if isinstance(node, ast.Name) and node.id in {"data", "payload", "actor"}:
        return node.id, parts[::-1]
    return None


# --- names -----------------------------------------------------------------------------

Found = list[tuple[Mapping[str, Any], Any]]


def _step(text: str, part: str | int) -> str:
    return f"{text}.{part}" if isinstance(part, str) else f"{text}[{part}]"


def _lookup(
    root: str,
    parts: list[str | int],
    data: Mapping[str, Any],
    payload: Mapping[str, Any] | None,
    column: int,
    issues: list[GuardIssue],
) -> _Field | None:
    if root == "payload":
        if not parts:
            return _Field("payload", ((payload or {}, payload or {}),))
        start = _payload_start(parts[0], data, payload, column, issues)
        if start is None:
            return None
        current, where = start
        text, rest = _step("payload", parts[0]), parts[1:]
    else:
        schema = _ACTOR if root == "actor" else data
        current = [(schema, schema)]
        where = "an actor" if root == "actor" else "the data schema"
        text, rest = root, parts
    for part in rest:
        parent, text = text, _step(text, part)
        found, status, known, types = _child(current, part)
        if status == "declared":
            current = found
            continue
        if status == "not-object":
            message = f"guard reads {text}, but {parent} is {_describe(types)}: it has no {part!r}"
            issues.append(GuardIssue(column, message))
        elif status == "undeclared" and root == "actor":
            message = f"guard reads {text}: an actor has only actor.id, actor.org and actor.roles"
            issues.append(GuardIssue(column, message + _did_you_mean(part, known)))
        elif status == "undeclared":
            message = f"guard reads {text}, which {where} does not declare"
            issues.append(GuardIssue(column, message + _did_you_mean(part, known)))
        else:
            message = (
                f"guard reads {text}, which {where} does not declare (it declares no "
                "properties there, or allows any): a typo would go unnoticed"
            )
            issues.append(GuardIssue(column, message, error=False))
        return None
    return _Field(text, tuple(current))


def _payload_start(
    first: str | int,
    data: Mapping[str, Any],
    payload: Mapping[str, Any] | None,
    column: int,
    issues: list[GuardIssue],
) -> tuple[Found, str] | None:
    """Where ``payload.X`` is declared: the payload schema, or else the data schema."""
    text = _step("payload", first)
    in_data, data_status, _, _ = _child([(data, data)], first)
    if payload is not None:
        found, status, known, _ = _child([(payload, payload)], first)
        if status == "declared":
            both = found + (in_data if data_status == "declared" else [])
            return both, "the event's payload schema"
        if status != "open":
            message = f"guard reads {text}, which the event's payload schema does not declare"
            issues.append(GuardIssue(column, message + _did_you_mean(first, known)))
            return None
    if data_status == "declared":
        return in_data, "the data schema"
    message = (
        f"guard reads {text}, which neither the event's payload schema nor the data schema "
        "declares: a typo would go unnoticed"
    )
    issues.append(GuardIssue(column, message, error=False))
    return None


def _members(schema: Any, root: Any, *, conjunctive: bool = False) -> list[Mapping[str, Any]]:
    """``schema`` and the schemas that apply in place (``$ref``, ``allOf``; and ``anyOf``,
    ``oneOf``, ``then``, ``else`` unless only what must hold is asked for)."""
    keys = ("allOf",) if conjunctive else ("allOf", "anyOf", "oneOf")
    out: list[Mapping[str, Any]] = []
    stack, seen = [schema], set()
    while stack and len(out) < 1000:
        node = stack.pop()
        if not isinstance(node, Mapping) or id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        if isinstance(node.get("$ref"), str):
            stack.append(resolve(root, node["$ref"]))
        for key in keys:
            if isinstance(node.get(key), list):
                stack.extend(node[key])
        if not conjunctive:
            stack.extend(node[k] for k in ("then", "else") if k in node)
    return out


def _child(
    current: list[tuple[Mapping[str, Any], Any]], part: str | int
) -> tuple[list[tuple[Mapping[str, Any], Any]], str, list[str], frozenset[str] | None]:
    """Look ``part`` up: (schemas, 'declared'|'undeclared'|'open'|'not-object', known, types)."""
    found: list[tuple[Mapping[str, Any], Any]] = []
    known: list[str] = []
    has_properties = is_open = declared = False  # has_properties: the names are closed
    types = _types(current)
    wanted = "array" if isinstance(part, int) else "object"
    if types is not None and wanted not in types:
        return [], "not-object", [], types
    for schema, root in current:
        members = _members(schema, root)
        if not members:
            is_open = True
        for member in members:
            if isinstance(part, int):
                prefix = member.get("prefixItems")
                if isinstance(prefix, list) and part < len(prefix):
                    found.append((prefix[part], root))
                elif isinstance(member.get("items"), Mapping):
                    found.append((member["items"], root))
                continue
            properties = member.get("properties")
            if isinstance(properties, Mapping):
                has_properties = True
                known.extend(str(k) for k in properties)
                if part in properties:
                    found.append((properties[part], root))
            required = member.get("required")
            if isinstance(required, list) and part in required:
                declared = True
            patterns = member.get("patternProperties")
            if isinstance(patterns, Mapping):
                has_properties = True
                for pattern, sub in patterns.items():
                    if _matches(str(pattern), part):
                        found.append((sub, root))
            extra = member.get("additionalProperties", _MISSING)
            if extra is False:
                has_properties = True  # closed: no other name is allowed
            elif extra is not _MISSING:
                is_open = True  # any name is allowed (typed or not): a typo would pass
    if found or declared:
        return found, "declared", known, types
    if isinstance(part, int) or is_open or not has_properties:
        return [], "open", known, types
    return [], "undeclared", known, types


def _matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None  # patterns are checked for backtracking
    except re.error:
        return False


def _did_you_mean(name: str | int, known: list[str]) -> str:
    from caseflow.definitions.loader import suggest  # noqa: PLC0415 - avoids an import cycle

    return suggest(str(name), dict.fromkeys(known)) if known else ""


# --- types -----------------------------------------------------------------------------


def _types(schemas: list[tuple[Mapping[str, Any], Any]] | tuple[Any, ...]) -> frozenset[str] | None:
    """The JSON types every one of ``schemas`` allows; None when nothing says."""
    result: frozenset[str] | None = None
    for schema, root in schemas:
        for member in _members(schema, root, conjunctive=True):
            declared = member.get("type")
            names = [declared] if isinstance(declared, str) else declared
            if isinstance(names, list):
                allowed = frozenset(str(n) for n in names)
                if "number" in allowed:
                    allowed |= {"integer"}
                result = allowed if result is None else result & allowed
            values = _enum(member)
            if values is not None:
                allowed = frozenset(_json_type(v) for v in values)
                if "integer" in allowed:
                    allowed |= {"number"}
                result = allowed if result is None else result & allowed
    return result


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    values = schema.get("enum")
    return list(values) if isinstance(values, list) else None


def _enums(field: _Field) -> list[Any] | None:
    for schema, root in field.schemas:
        for member in _members(schema, root, conjunctive=True):
            values = _enum(member)
            if values is not None:
                return values
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``; ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(_json_type(a) == _json_type(b) and a == b) or (
        _json_type(a) in _NUMBERS and _json_type(b) in _NUMBERS and a == b
    )


def _describe(types: frozenset[str] | None) -> str:
    words = {
        "string": "text",
        "integer": "a number",
        "number": "a number",
        "boolean": "true/false",
        "null": "null",
        "array": "a list",
        "object": "a mapping",
    }
    return " or ".join(dict.fromkeys(words.get(t, t) for t in sorted(types or ()))) or "nothing"


def _show(value: Any) -> str:
    """A literal as a guard writes it: ``true``, ``null``, ``'text'``, ``[1, 2]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def _literal(node: ast.AST) -> Any:
    """The value of a literal operand, or ``_MISSING``."""
    if isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, (str, int, float, bool))
    ):
        return node.value
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_literal(e) for e in node.elts]
        return _MISSING if any(i is _MISSING for i in items) else items
    return _MISSING


def _compare(
    op: ast.cmpop,
    left: ast.AST,
    right: ast.AST,
    fields: dict[int, _Field | None],
    issues: list[GuardIssue],
) -> None:
    left_field, right_field = fields.get(id(left)), fields.get(id(right))
    if isinstance(op, (ast.In, ast.NotIn)) and right_field is not None:
        value = _literal(left)
        if value is not _MISSING:
            _contains(right_field, value, getattr(left, "col_offset", 0) + 1, issues)
        return
    if left_field is not None and right_field is None:
        field, other = left_field, right
    elif right_field is not None and left_field is None:
        field, other = right_field, left
    else:
        return
    value = _literal(other)
    if value is _MISSING:
        return
    column = getattr(other, "col_offset", 0) + 1

    def never(message: str) -> None:
        issues.append(GuardIssue(column, f"guard {message}"))

    if isinstance(op, (ast.In, ast.NotIn)):
        if isinstance(value, list):
            for item in value:
                _equal(field, item, never)
        elif not isinstance(value, str):
            never(f"tests {field.text} in {_show(value)}, which is neither a list nor text")
        elif (types := _types(field.schemas)) is not None and "string" not in types:
            never(f"tests {field.text} in a text, but {field.text} is {_describe(types)}")
    elif isinstance(op, _ORDER):
        _order(field, value, never)
    else:
        _equal(field, value, never)


def _order(field: _Field, value: Any, never: Callable[[str], None]) -> None:
    if value is None or isinstance(value, (bool, list)):
        never(f"orders {field.text} against {_show(value)}: that is always false")
        return
    types = _types(field.schemas)
    kind = "string" if isinstance(value, str) else "number"
    if types is not None and not types & (frozenset({"string"}) if kind == "string" else _NUMBERS):
        fix = f"write {value} without quotes" if kind == "string" else f"quote it: '{value}'"
        never(
            f"compares {field.text}, which is {_describe(types)}, with "
            f"{_describe(frozenset({kind}))} {_show(value)}: that is always false ({fix}?)"
        )


def _equal(field: _Field, value: Any, never: Callable[[str], None]) -> None:
    if value is None:  # a missing value reads as null
        return
    types = _types(field.schemas)
    if types is not None and _json_type(value) not in types:
        never(
            f"compares {field.text}, which is {_describe(types)}, with "
            f"{_describe(frozenset({_json_type(value)}))} {_show(value)}: they are never equal"
        )
        return
    values = _enums(field)
    if values is not None and not any(_same(value, v) for v in values):
        shown = ", ".join(_show(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
        close = _did_you_mean(value, [v for v in values if isinstance(v, str)])
        never(
            f"compares {field.text} with {_show(value)}, which is not one of its values "
            f"({shown}){close}"
        )


def _contains(field: _Field, value: Any, column: int, issues: list[GuardIssue]) -> None:
    """``value in data.x``: x must be a list (of matching items), text or a mapping."""

    def never(message: str) -> None:
        issues.append(GuardIssue(column, f"guard {message}"))

    types = _types(field.schemas)
    if types is not None and not types & {"array", "string", "object"}:
        never(f"tests {_show(value)} in {field.text}, which is {_describe(types)}: never true")
    elif types == frozenset({"string"}) and not isinstance(value, str):
        never(f"tests {_show(value)} in {field.text}, which is text: only text is in text")
    elif types == frozenset({"array"}):
        items = [
            (member["items"], root)
            for schema, root in field.schemas
            for member in _members(schema, root, conjunctive=True)
            if isinstance(member.get("items"), Mapping)
        ]
        if items:
            _equal(_Field(f"an item of {field.text}", tuple(items)), value, never)
