"""
The JSON Schemas a workflow carries (``data:``, an event's ``payload:``), checked so that
validating a case can neither fail nor hang later.

Beyond being valid draft 2020-12 JSON Schema:

- ``$ref`` (and ``$dynamicRef``) refer only inside the schema (``#/...`` or ``#anchor``)
  and to something that is there: caseflow never fetches a schema from a URL;
  ``$id`` is allowed only at the top (no embedded schema resources);
- no cycle of references that never descends into the data (``a: {$ref: '#/$defs/a'}``
  would recurse forever when a case is validated);
- every ``pattern`` and ``patternProperties`` key passes :func:`backtracking_risk`.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

Location = tuple[str | int, ...]

MAX_PATTERN = 1000
_IN_PLACE_ONE = ("not", "if", "then", "else")
_IN_PLACE_MANY = ("allOf", "anyOf", "oneOf")
_DESCEND_ONE = (
    "additionalProperties",
    "items",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
    "additionalItems",
)
_DESCEND_MAP = ("properties", "patternProperties")
_DEFINITIONS = ("$defs", "definitions")
_QUANTIFIER = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")


# --- regular expressions ---------------------------------------------------------------


def backtracking_risk(pattern: str) -> str | None:
    """
    Why matching ``pattern`` can take exponential time, or None.

    The rule, deliberately simple: a group that repeats (``*``, ``+``, ``{2,}``, ...)
    may contain neither a quantifier of variable length (``*``, ``+``, ``?``, ``{1,3}``)
    nor alternatives (``|``). ``^(a+)+$``, ``(\\w+\\s?)*``, ``(a|ab)*`` are refused;
    ``^[a-z]+(-[a-z0-9]{2})*$`` and ``[ab]+`` (for ``(a|b)+``) are fine. Patterns are
    at most :data:`MAX_PATTERN` characters.
    """
    if len(pattern) > MAX_PATTERN:
        return f"the pattern is {len(pattern):,} characters long: at most {MAX_PATTERN}"
    # One frame per open group: its branches so far, each a list of (variable, alternation)
    # flags of the items in it.
    frames: list[list[list[tuple[bool, bool]]]] = [[[]]]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        items = frames[-1][-1]
        if char == "\\":
            i += 2
            items.append((pattern[i - 1 : i].isdigit() and pattern[i - 1 : i] != "0", False))
            continue
        if char == "[":
            i = _class_end(pattern, i)
            items.append((False, False))
            continue
        if char == "(":
            frames.append([[]])
        elif char == ")" and len(frames) > 1:
            branches = frames.pop()
            flags = [f for branch in branches for f in branch]
            frames[-1][-1].append(
                (any(v for v, _ in flags), len(branches) > 1 or any(a for _, a in flags))
            )
        elif char == "|":
            frames[-1].append([])
        elif char in "*+?" or (char == "{" and _QUANTIFIER.match(pattern, i)):
            low, high, i = _quantifier(pattern, i)
            if items:
                variable, alternation = items.pop()
                if high > 1 and (variable or alternation):
                    what = "alternatives (|)" if alternation else "a quantifier"
                    return (
                        f"a repeated group holds {what} of its own (like (a+)+ or (a|ab)*): "
                        "matching can take exponential time; simplify the pattern"
                    )
                items.append((variable or low != high, alternation))
            continue
        else:
            items.append((False, False))
        i += 1
    return None


def _class_end(pattern: str, start: int) -> int:
    """The index after the character class that opens at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _quantifier(pattern: str, i: int) -> tuple[int, float, int]:
    """(least, most, index after) of the quantifier at ``i``, lazy or possessive mark included."""
    char = pattern[i]
    if char == "{":
        match = _QUANTIFIER.match(pattern, i)
        assert match is not None  # noqa: S101 - checked by the caller
        low = int(match[1])
        high: float = low if match[2] is None else float(match[3]) if match[3] else float("inf")
        end = match.end()
    else:
        low, high, end = {"*": (0, float("inf")), "+": (1, float("inf")), "?": (0, 1)}[char] + (
            i + 1,
        )
    if end < len(pattern) and pattern[end] in "?+":
        end += 1
    return low, high, end


# --- schemas ---------------------------------------------------------------------------


def resolve(root: Any, ref: str) -> Any:
    """The subschema a local ``#/...`` or ``#anchor`` reference names, or None."""
    if not ref.startswith("#"):
        return None
    fragment = unquote(ref[1:])
    if fragment and not fragment.startswith("/"):
        return _anchors(root).get(fragment)
    node = root
    for raw_part in fragment.split("/")[1:]:
        part = raw_part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _anchors(root: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for schema, _ in subschemas(root):
        for key in ("$anchor", "$dynamicAnchor"):
            if isinstance(schema.get(key), str):
                found.setdefault(schema[key], schema)
    return found


def subschemas(root: Any) -> list[tuple[Mapping[str, Any], Location]]:
    """Every schema object in ``root`` with its location, by schema keywords only."""
    out: list[tuple[Mapping[str, Any], Location]] = []
    stack: list[tuple[Any, Location]] = [(root, ())]
    while stack:
        schema, where = stack.pop()
        if not isinstance(schema, Mapping):
            continue
        out.append((schema, where))
        stack.extend(
            (schema[k], (*where, k)) for k in (*_IN_PLACE_ONE, *_DESCEND_ONE) if k in schema
        )
        for key in (*_IN_PLACE_MANY, "prefixItems", "items"):
            if isinstance(schema.get(key), list):
                stack.extend((s, (*where, key, i)) for i, s in enumerate(schema[key]))
        for key in (*_DESCEND_MAP, *_DEFINITIONS, "dependentSchemas"):
            if isinstance(schema.get(key), Mapping):
                stack.extend((s, (*where, key, name)) for name, s in schema[key].items())
    return out


def _in_place(root: Any, schema: Mapping[str, Any]) -> list[Any]:
    """The schemas applied to the same value as ``schema`` (no descent into the data)."""
    out = [schema[k] for k in _IN_PLACE_ONE if k in schema]
    for key in _IN_PLACE_MANY:
        if isinstance(schema.get(key), list):
            out.extend(schema[key])
    if isinstance(schema.get("dependentSchemas"), Mapping):
        out.extend(schema["dependentSchemas"].values())
    out.extend(
        resolve(root, schema[k]) for k in ("$ref", "$dynamicRef") if isinstance(schema.get(k), str)
    )
    return [s for s in out if isinstance(s, Mapping)]


def schema_problems(root: Any) -> list[tuple[Location, str]]:
    """What would make validating against ``root`` fetch, fail or hang: (where, what)."""
    problems: list[tuple[Location, str]] = []
    for schema, where in subschemas(root):
        if "$id" in schema and where:
            problems.append(((*where, "$id"), "'$id' is allowed only at the top of a schema"))
        for key in ("$ref", "$dynamicRef", "$recursiveRef"):
            ref = schema.get(key)
            if not isinstance(ref, str):
                continue
            if not ref.startswith("#"):
                outside = (
                    f"{key} {ref!r} points outside this schema: only references inside it "
                    "('#/$defs/...') are allowed; caseflow never fetches schemas"
                )
                problems.append(((*where, key), outside))
            elif resolve(root, ref) is None:
                problems.append(((*where, key), f"{key} {ref!r} refers to nothing in this schema"))
        if isinstance(schema.get("pattern"), str):
            risk = backtracking_risk(schema["pattern"])
            if risk is not None:
                problems.append(((*where, "pattern"), f"pattern {schema['pattern']!r}: {risk}"))
        if isinstance(schema.get("patternProperties"), Mapping):
            for key in schema["patternProperties"]:
                risk = backtracking_risk(str(key))
                if risk is not None:
                    problems.append(
                        ((*where, "patternProperties", key), f"pattern {key!r}: {risk}")
                    )
    if not problems:
        problems.extend(_ref_cycles(root))
    return problems


def _ref_cycles(root: Any) -> list[tuple[Location, str]]:
    """References that lead back to where they started without descending into the data."""
    where_of = {id(s): w for s, w in subschemas(root)}
    done: set[int] = set()
    for start, location in subschemas(root):
        if id(start) in done:
            continue
        # Iterative depth-first search; `path` holds the schemas on the current chain.
        path: list[int] = [id(start)]
        stack: list[list[Mapping[str, Any]]] = [_in_place(root, start)]
        on_path = {id(start)}
        while stack:
            if not stack[-1]:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
                continue
            nxt = stack[-1].pop()
            if id(nxt) in on_path:
                endless = (
                    "references that lead back here without descending into the data: "
                    "validating a case would never end"
                )
                return [(where_of.get(path[-1], location), endless)]
            if id(nxt) not in done:
                path.append(id(nxt))
                on_path.add(id(nxt))
                stack.append(_in_place(root, nxt))
    return []
