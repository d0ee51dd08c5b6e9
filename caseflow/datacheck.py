"""
A quick yes/no check of data against the simple JSON Schemas workflows declare.

``jsonschema`` builds a validator object for every subschema it descends into, which
costs more than the rest of a transition's pure work. Workflow schemas are mostly
``type``/``required``/``properties``/``enum`` trees, so :func:`compile_check` turns such
a schema into plain Python predicates once. The check only ever says "valid": when it
says no, or the schema uses a keyword it does not know, :mod:`jsonschema` decides and
words the errors (:func:`caseflow.machine.validate_data`), so a verdict and a message
are always jsonschema's (Draft 2020-12, formats not asserted). Each keyword here follows
that draft exactly; ``tests/test_datacheck.py`` compares the two on generated schemas
and data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Check = Callable[[Any], bool]

#: Keywords that only annotate (they never make an instance invalid).
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "format", "deprecated"}
)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def equal(one: Any, two: Any) -> bool:
    """JSON Schema equality: ``true`` is not ``1``, ``1`` is ``1.0``, containers deeply."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[k], two[k]) for k in one)
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    return bool(one == two)


def _type_check(spec: Any) -> Check | None:
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list) or not names or any(n not in _TYPES for n in names):
        return None
    checks = [_TYPES[n] for n in names]
    if len(checks) == 1:
        return checks[0]
    return lambda v: any(c(v) for c in checks)


def _keyword(key: str, spec: Any, schema: Mapping[str, Any]) -> Check | None:
    """The predicate of one keyword, or None when it is not one this module knows."""
    if key == "type":
        return _type_check(spec)
    if key == "required":
        if not isinstance(spec, list) or not all(isinstance(k, str) for k in spec):
            return None
        names = tuple(spec)
        return lambda v: not isinstance(v, dict) or all(k in v for k in names)
    if key == "properties":
        if not isinstance(spec, dict):
            return None
        subs: dict[str, Check] = {}
        for name, sub in spec.items():
            found = compile_check(sub)
            if found is None:
                return None
            subs[name] = found
        pairs = tuple(subs.items())
        return lambda v: not isinstance(v, dict) or all(c(v[k]) for k, c in pairs if k in v)
    if key == "additionalProperties":
        known = frozenset(schema.get("properties", {}))
        extra = compile_check(spec)
        if extra is None:
            return None
        return lambda v: (
            not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
        )
    if key == "items":
        each = compile_check(spec)
        if each is None:
            return None
        return lambda v: not isinstance(v, list) or all(each(x) for x in v)
    if key == "enum":
        if not isinstance(spec, list):
            return None
        options = tuple(spec)
        return lambda v: any(equal(v, o) for o in options)
    if key == "const":
        return lambda v: equal(v, spec)
    if key in ("minLength", "maxLength", "minItems", "maxItems"):
        if not isinstance(spec, int) or isinstance(spec, bool):
            return None
        kind = str if key.endswith("Length") else list
        if key.startswith("min"):
            return lambda v: not isinstance(v, kind) or len(v) >= spec
        return lambda v: not isinstance(v, kind) or len(v) <= spec
    if key == "uniqueItems":
        if spec is not True and spec is not False:
            return None
        if not spec:
            return lambda _v: True
        return lambda v: (
            not isinstance(v, list)
            or not any(equal(a, b) for i, a in enumerate(v) for b in v[i + 1 :])
        )
    if key in ("minimum", "maximum"):
        if not _is_number(spec):
            return None
        if key == "minimum":
            return lambda v: not _is_number(v) or v >= spec
        return lambda v: not _is_number(v) or v <= spec
    return None


def compile_check(schema: Any) -> Check | None:
    """
    A predicate that is True only for data ``schema`` accepts, or None when the schema
    uses anything beyond the keywords above (then only jsonschema can tell).
    """
    if schema is True or (isinstance(schema, dict) and not schema):
        return lambda _v: True
    if schema is False:
        return lambda _v: False
    if not isinstance(schema, dict):
        return None
    checks: list[Check] = []
    for key, spec in schema.items():
        if key in _ANNOTATIONS or key == "$schema":
            continue
        found = _keyword(key, spec, schema)
        if found is None:
            return None
        checks.append(found)
    if len(checks) == 1:
        return checks[0]
    ordered: Sequence[Check] = tuple(checks)
    return lambda v: all(c(v) for c in ordered)
