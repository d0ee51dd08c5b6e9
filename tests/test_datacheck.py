"""
The quick data check (caseflow.datacheck) never accepts what jsonschema refuses: it is a
shortcut for valid data, and every refusal, with its wording, stays jsonschema's.
Compared on generated schemas of the keywords it knows, on generated data, and on the
shipped workflows' own schemas.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseflow.datacheck import compile_check, equal
from caseflow.definitions.registry import Registry, shipped_workflows_dir
from caseflow.errors import DataValidationError
from caseflow.machine import CompiledWorkflow

KEYS = st.sampled_from(["a", "b", "c"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 1.5, -2.0]),
    st.sampled_from(["", "x", "yy", "申请", "zzz"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=10,
)
TYPES = st.sampled_from(["string", "integer", "number", "boolean", "null", "array", "object"])


def _keywords(sub: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    small = st.integers(0, 3)
    number = st.sampled_from([-1, 0, 1, 1.5, 2])
    options = st.lists(SCALARS, min_size=1, max_size=4)
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.one_of(TYPES, st.lists(TYPES, min_size=1, max_size=3, unique=True)),
            "required": st.lists(KEYS, max_size=3, unique=True),
            "properties": st.dictionaries(KEYS, sub, max_size=3),
            "additionalProperties": st.one_of(st.booleans(), sub),
            "items": sub,
            "enum": options,
            "const": JSON,
            "minLength": small,
            "maxLength": small,
            "minItems": small,
            "maxItems": small,
            "uniqueItems": st.booleans(),
            "minimum": number,
            "maximum": number,
            "format": st.sampled_from(["date", "email"]),
            "title": st.just("t"),
        },
    )


SCHEMAS = st.recursive(
    st.one_of(st.booleans(), _keywords(st.just({}))),
    _keywords,
    max_leaves=6,
)


def _valid(schema: Any, data: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(data)


@settings(max_examples=400)
@given(SCHEMAS, JSON)
def test_never_accepts_what_jsonschema_refuses(schema: Any, data: Any):
    quick = compile_check(schema)
    assert quick is not None, "every generated keyword is one the check knows"
    if quick(data):
        assert _valid(schema, data), (schema, data)


@settings(max_examples=300)
@given(SCHEMAS, JSON)
def test_agrees_with_jsonschema_both_ways(schema: Any, data: Any):
    """Not required for safety (a refusal goes to jsonschema), but a check that refuses
    valid data would be a check that saves nothing."""
    quick = compile_check(schema)
    assert quick is not None
    assert quick(data) == _valid(schema, data), (schema, data)


@given(JSON, JSON)
def test_equality_is_json_schemas(one: Any, two: Any):
    """``true`` is not ``1``, ``1`` is ``1.0``: as ``enum`` and ``const`` compare."""
    assert equal(one, two) == _valid({"const": one}, two)


@pytest.mark.parametrize(
    "schema",
    [
        {"anyOf": [{"type": "string"}]},
        {"$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"pattern": "^a"},
        {"properties": {"a": {"if": {"type": "string"}, "then": {"minLength": 1}}}},
        {"patternProperties": {"^a": {}}, "additionalProperties": False},
        {"type": "decimal"},
    ],
)
def test_keywords_it_does_not_know_leave_the_verdict_to_jsonschema(schema: dict[str, Any]):
    assert compile_check(schema) is None


def _shipped() -> list[tuple[str, dict[str, Any]]]:
    registry = Registry.from_paths([shipped_workflows_dir()])
    found = []
    for name in registry.names():
        definition = registry.get(name)
        found.append((f"{name}: data", dict(definition.data_schema)))
        found += [
            (f"{name}: {e.name}", dict(e.payload_schema))
            for e in definition.events.values()
            if e.payload_schema is not None
        ]
    return found


def test_the_shipped_approval_schemas_take_the_quick_path():
    """The check is worth having only if the shipped schemas use it."""
    quick = {what: compile_check(schema) is not None for what, schema in _shipped()}
    assert quick["administrative_approval: data"]
    assert quick["administrative_approval: decide"]
    assert sum(quick.values()) >= len(quick) * 3 // 4, quick


@settings(max_examples=200)
@given(
    st.sampled_from(_shipped()),
    st.dictionaries(
        st.sampled_from(
            [
                "applicant",
                "matter",
                "decision",
                "delivery",
                "reason",
                "remedy",
                "category",
                "excluded",
            ]
        ),
        JSON | st.sampled_from(["approve", "reject", "window", "post", "李明"]),
        max_size=6,
    ),
)
def test_shipped_schemas_never_accept_what_jsonschema_refuses(shipped: Any, data: Any):
    _what, schema = shipped
    quick = compile_check(schema)
    if quick is not None and quick(data):
        assert _valid(schema, data), (schema, data)


def test_a_refusal_is_still_worded_by_jsonschema():
    """Invalid data goes the long way: every error, with its path, as before."""
    registry = Registry.from_paths([shipped_workflows_dir()])
    compiled = CompiledWorkflow(registry.get("administrative_approval"))
    with pytest.raises(DataValidationError) as caught:
        compiled.validate_data({"applicant": "", "delivery": "drone"})
    assert list(caught.value.errors) == [
        "(root): 'matter' is a required property",
        "applicant: '' should be non-empty",
        "delivery: 'drone' is not one of ['window', 'post']",
    ]
