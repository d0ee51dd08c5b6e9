"""Guards are checked against the schemas they read: typos and impossible comparisons."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseflow.definitions.guardcheck import guard_issues
from caseflow.definitions.loader import load_file, load_text
from caseflow.errors import DefinitionError
from caseflow.export.lint import lint

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "workflows").glob("*.yaml"))

WORKFLOW = """\
workflow: permits
version: 1
roles: [clerk, head]
data:
  type: object
  properties:
    area_sqm: {type: number}
    delivery: {enum: [window, post]}
    owner: {type: object, properties: {name: {type: string}}}
    tags: {type: array, items: {enum: [urgent, repeat]}}
    site: {$ref: '#/$defs/site'}
  $defs:
    site: {type: object, properties: {village: {type: string}}, additionalProperties: false}
states:
  submitted: {initial: true}
  approved: {final: true}
  rejected: {final: true}
events:
  decide:
    from: submitted
    roles: [head]
    payload: {type: object, properties: {ok: {type: boolean}}}
    to:
      - {to: approved, when: "GUARD"}
      - {to: rejected}
"""


def guard_problems(guard: str) -> list[str]:
    """The problems of WORKFLOW with ``guard`` on its first branch."""
    with pytest.raises(DefinitionError) as info:
        load_text(WORKFLOW.replace("GUARD", guard), "wf.yaml")
    return [str(p) for p in info.value.problems]


class TestFieldNames:
    @pytest.mark.parametrize(
        ("guard", "message"),
        [
            (
                "data.aera_sqm <= 150",
                "guard reads data.aera_sqm, which the data schema does not declare "
                "(did you mean 'area_sqm'?) (at column 1 of the guard)",
            ),
            (
                "payload.okk == true",
                "guard reads payload.okk, which the event's payload schema does not declare "
                "(did you mean 'ok'?) (at column 1 of the guard)",
            ),
            (
                "data.owner.nmae == 'x'",
                "guard reads data.owner.nmae, which the data schema does not declare "
                "(did you mean 'name'?) (at column 1 of the guard)",
            ),
            (
                "data.site.vilage == 'x'",
                "guard reads data.site.vilage, which the data schema does not declare "
                "(did you mean 'village'?) (at column 1 of the guard)",
            ),
            (
                "data.owner.name.first == 'x'",
                "guard reads data.owner.name.first, but data.owner.name is text: it has no "
                "'first' (at column 1 of the guard)",
            ),
            (
                "actor.role == 'head'",
                "guard reads actor.role: an actor has only actor.id, actor.org and actor.roles "
                "(did you mean 'roles'?) (at column 1 of the guard)",
            ),
            (
                "data.area_sqm > 1 and data['delivry'] == 'post'",
                "guard reads data.delivry, which the data schema does not declare "
                "(did you mean 'delivery'?) (at column 23 of the guard)",
            ),
        ],
    )
    def test_undeclared_names_are_errors(self, guard: str, message: str):
        """A name the schema does not list is an error at the guard, with did-you-mean."""
        assert [f"wf.yaml:24:30: event 'decide': {message}"] == guard_problems(guard)

    @pytest.mark.parametrize(
        "guard",
        [
            "data.area_sqm <= 150",
            "0 < data.area_sqm <= 150.5",
            "data.delivery == 'post' and payload.ok == true",
            "data.delivery in ['post', 'window']",
            "data.owner.name != null",
            "data.site.village == '九岭村'",
            "'urgent' in data.tags",
            "data.tags[0] == 'repeat'",
            "'head' in actor.roles and actor.org == 'jiaoling'",
            "not payload.ok",
            "data.area_sqm == null",
        ],
    )
    def test_declared_names_and_possible_comparisons_load(self, guard: str):
        """Declared fields compared with values of their type load."""
        definition = load_text(WORKFLOW.replace("GUARD", guard))
        assert guard == definition.events["decide"].branches[0].when.source


class TestComparisons:
    @pytest.mark.parametrize(
        ("guard", "message"),
        [
            (
                "data.area_sqm <= '150'",
                "guard compares data.area_sqm, which is a number, with text '150': that is "
                "always false (write 150 without quotes?) (at column 18 of the guard)",
            ),
            (
                "data.delivery == 'pots'",
                "guard compares data.delivery with 'pots', which is not one of its values "
                "('window', 'post') (did you mean 'post'?) (at column 18 of the guard)",
            ),
            (
                "data.delivery in ['post', 'windw']",
                "guard compares data.delivery with 'windw', which is not one of its values "
                "('window', 'post') (did you mean 'window'?) (at column 18 of the guard)",
            ),
            (
                "payload.ok == 'yes'",
                "guard compares payload.ok, which is true/false, with text 'yes': they are "
                "never equal (at column 15 of the guard)",
            ),
            (
                "data.area_sqm == true",
                "guard compares data.area_sqm, which is a number, with true/false true: they "
                "are never equal (at column 18 of the guard)",
            ),
            (
                "payload.ok > null",
                "guard orders payload.ok against null: that is always false "
                "(at column 14 of the guard)",
            ),
            (
                "'rush' in data.tags",
                "guard compares an item of data.tags with 'rush', which is not one of its values "
                "('urgent', 'repeat') (at column 1 of the guard)",
            ),
            (
                "3 in data.area_sqm",
                "guard tests 3 in data.area_sqm, which is a number: never true "
                "(at column 1 of the guard)",
            ),
            (
                "data.owner.name < 3",
                "guard compares data.owner.name, which is text, with a number 3: that is always "
                "false (quote it: '3'?) (at column 19 of the guard)",
            ),
        ],
    )
    def test_comparisons_that_never_hold(self, guard: str, message: str):
        """Wrong types and values outside an enum would silently take the default branch."""
        assert [f"wf.yaml:24:30: event 'decide': {message}"] == guard_problems(guard)


class TestOpenSchemas:
    def test_no_payload_schema_falls_back_to_data(self):
        """payload.X with no payload schema: fine if data: declares X; a warning if not."""
        text = WORKFLOW.replace(
            "    payload: {type: object, properties: {ok: {type: boolean}}}\n", ""
        )
        declared = load_text(text.replace("GUARD", "payload.delivery == 'post'"))
        assert [] == [w.code for w in lint(declared) if w.code == "CF106"]
        with pytest.raises(DefinitionError, match="not one of its values"):
            load_text(text.replace("GUARD", "payload.delivery == 'pots'"))
        unknown = load_text(text.replace("GUARD", "payload.decision == 'approve'"), "wf.yaml")
        assert [
            "wf.yaml:23:30: warning CF106 [undeclared-field] event 'decide': guard reads "
            "payload.decision, which neither the event's payload schema nor the data schema "
            "declares: a typo would go unnoticed (at column 1 of the guard)"
        ] == [str(w) for w in lint(unknown) if w.code == "CF106"]

    @pytest.mark.parametrize(
        ("data", "guard"),
        [
            ("{type: object}", "data.anything == 1"),
            ("{type: object, additionalProperties: true, properties: {a: {}}}", "data.b == 1"),
            (
                "{type: object, additionalProperties: {type: number}, properties: {a: {}}}",
                "data.b == 1",
            ),
        ],
    )
    def test_open_data_schema_is_a_lint_warning(self, data: str, guard: str):
        """No properties, or any allowed: the loader cannot tell; lint warns (CF106)."""
        text = (
            WORKFLOW.split("data:\n", maxsplit=1)[0]
            + f"data: {data}\n"
            + "states:"
            + WORKFLOW.split("states:")[1]
        ).replace("GUARD", guard)
        warnings = [w for w in lint(load_text(text)) if w.code == "CF106"]
        assert 1 == len(warnings)
        assert "a typo would go unnoticed" in warnings[0].message

    def test_closed_by_additional_properties_false(self):
        """additionalProperties: false with no properties: every name is undeclared."""
        issues = guard_issues(
            "data.x == 1", {"type": "object", "additionalProperties": False}, None
        )
        assert [(1, "guard reads data.x, which the data schema does not declare", True)] == [
            (i.column, i.message, i.error) for i in issues
        ]

    def test_pattern_properties_declare_names(self):
        """A name matching a patternProperties pattern is declared, with that schema's type."""
        schema = {"type": "object", "patternProperties": {"^n_": {"type": "integer"}}}
        assert [] == guard_issues("data.n_rooms > 2", schema, None)
        assert [
            "guard compares data.n_rooms, which is a number, with text 'x': they are never equal"
        ] == [i.message for i in guard_issues("data.n_rooms == 'x'", schema, None)]

    def test_required_names_without_properties(self):
        """`required: [decision]` declares the name (without a type)."""
        payload = {"type": "object", "required": ["decision"]}
        assert [] == guard_issues("payload.decision == 'approve'", {}, payload)


class TestShipped:
    @pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
    def test_shipped_guards_read_declared_fields(self, path: Path):
        """Every guard of every shipped workflow reads declared fields: no error, no warning."""
        definition = load_file(path)
        found = [
            (event.name, issue.message)
            for event in definition.events.values()
            for branch in event.branches
            if branch.when is not None
            for issue in guard_issues(
                branch.when.source, definition.data_schema, event.payload_schema
            )
        ]
        assert [] == found
