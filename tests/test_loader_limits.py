"""Definitions that load but would fail later are refused at load: bounds, warnings, schemas."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseflow.clocks.durations import Duration
from caseflow.definitions.limits import check_duration, duration_pattern, surely_not_shorter
from caseflow.definitions.loader import load_text
from caseflow.definitions.schemacheck import backtracking_risk
from caseflow.errors import DefinitionError

SMALL = """\
workflow: small
version: 1
roles: [clerk, head]
data:
  type: object
  properties:
    area_sqm: {type: number}
states:
  submitted: {initial: true}
  done: {final: true}
events:
  finish:
    from: submitted
    roles: [clerk]
    to:
      - {to: done, when: "data.area_sqm <= 150"}
      - {to: done}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, "wf.yaml")
    return [str(p) for p in info.value.problems]


def with_clock(spec: str) -> str:
    return SMALL + "clocks:\n  c: {" + spec + ", runs_in: [submitted]}\n"


def with_data(properties: str) -> str:
    return SMALL.replace("    area_sqm: {type: number}", properties)


class TestDurations:
    @pytest.mark.parametrize(
        ("limit", "bound"),
        [
            ("99999999999 days", "36,525 days"),
            ("36526 days", "36,525 days"),
            ("999999999 months", "1,200 months"),
            ("1201 months", "1,200 months"),
            ("25001 workdays", "25,000 workdays"),
            ("876601 hours", "876,600 hours"),
        ],
    )
    def test_at_most_100_years_in_any_unit(self, limit: str, bound: str):
        """Durations a running case could not compute are refused at the duration."""
        assert [
            f"wf.yaml:19:14: clock 'c': duration '{limit}' is too long: at most {bound} (100 years)"
        ] == problems(with_clock(f"limit: {limit}"))

    @pytest.mark.parametrize(
        "limit", ["36525 days", "1200 months", "25000 workdays", "876600 hours", "0 days"]
    )
    def test_the_bounds_themselves_load(self, limit: str):
        """Exactly 100 years' worth is still a duration."""
        assert limit.split(maxsplit=1)[0] == str(
            load_text(with_clock(f"limit: {limit}")).clocks["c"].limit.amount
        )

    def test_extensions_and_escalations_count_towards_the_bound(self):
        """The longest limit, every extension and the last escalation: 100 years together."""
        assert [
            "wf.yaml:19:37: clock 'c': the longest limit, every extension and the last "
            "escalation step add up to 300 years: at most 100"
        ] == problems(
            with_clock("limit: 36525 days, extension: {by: 36525 days, times: 2, roles: [head]}")
        )
        assert [
            "wf.yaml:19:36: clock 'c': the longest limit, every extension and the last "
            "escalation step add up to 200 years: at most 100"
        ] == problems(
            with_clock("limit: 36525 days, escalate: [{after: 36525 days, notify: [head]}]")
        )

    @pytest.mark.parametrize(
        "text", ["5 days\n", "5\tdays", "\uff15 days", "5 weekdays", "-5 days"]
    )
    def test_only_the_exact_spelling(self, text: str):
        """ASCII digits, spaces, a known unit; nothing after it."""
        with pytest.raises(ValueError, match="invalid duration"):
            check_duration(text)

    @given(
        st.lists(
            st.sampled_from(
                [*"0123456789 \t\nDdAaYySsWwOoRrKkIiNnGgMmTtHhUu\uff15", "days", "workday", "00"]
            ),
            max_size=12,
        ).map("".join)
    )
    def test_the_schema_pattern_accepts_what_the_loader_accepts(self, text: str):
        """The shipped schema's duration pattern (as jsonschema reads it) matches the loader."""
        try:
            check_duration(text)
            loads = True
        except ValueError:
            loads = False
        assert loads == (re.search(duration_pattern(), text) is not None)


class TestWarnBefore:
    @pytest.mark.parametrize(
        ("limit", "warn", "column"),
        [
            ("5 days", "5 days", 35),
            ("5 days", "6 days", 35),
            ("5 days", "5 workdays", 35),
            ("56 days", "2 months", 36),
            ("3 days", "72 hours", 35),
            ("1 month", "31 days", 36),
        ],
    )
    def test_not_shorter_than_the_limit_is_refused(self, limit: str, warn: str, column: int):
        """A warning at least as long as the limit, in any units that surely compare."""
        spelled = {"1 month": "1 month"}.get(limit, limit)
        assert [
            f"wf.yaml:19:{column}: clock 'c': warn_before {warn} is not shorter than the limit "
            f"{spelled}: the warning would be due as soon as the clock starts"
        ] == problems(with_clock(f"limit: {limit}, warn_before: {warn}"))

    @pytest.mark.parametrize(
        ("limit", "warn"),
        [
            ("5 days", "4 days"),
            ("5 workdays", "5 days"),  # 5 workdays can be 5 days or 12 (Golden Week)
            ("30 days", "1 month"),  # a month can be 28 days
            ("3 days", "71 hours"),
            ("1 month", "28 days"),
        ],
    )
    def test_shorter_or_not_surely_longer_loads(self, limit: str, warn: str):
        """Only a warning that is surely not shorter is an error."""
        clock = load_text(with_clock(f"limit: {limit}, warn_before: {warn}")).clocks["c"]
        assert warn == f"{clock.warn_before.amount} {clock.warn_before.unit}".replace(
            "1 months", "1 month"
        )

    def test_each_level_limit_too(self):
        """warn_before must be shorter than every by_level limit."""
        spec = "limit: 20 workdays, warn_before: 3 workdays, by_level: {grid: {limit: 2 workdays}}"
        assert [
            "wf.yaml:19:40: clock 'c': warn_before 3 workdays is not shorter than the 'grid' "
            "limit 2 workdays: the warning would be due as soon as the clock starts"
        ] == problems(with_clock(spec))

    @pytest.mark.parametrize(
        ("warn", "limit", "expected"),
        [
            (Duration(5, "workdays"), Duration(5, "days"), True),
            (Duration(5, "days"), Duration(5, "workdays"), False),
            (Duration(1, "months"), Duration(28, "days"), True),
            (Duration(1, "months"), Duration(29, "days"), False),
            (Duration(31, "days"), Duration(1, "months"), True),
            (Duration(30, "days"), Duration(1, "months"), False),
            (Duration(24, "hours"), Duration(1, "days"), True),
            (Duration(1, "days"), Duration(25, "hours"), False),
            (Duration(100, "days"), Duration(1, "workdays"), False),
        ],
    )
    def test_conservative_comparison(self, warn: Duration, limit: Duration, expected: bool):
        """Months are 28 to 31 days, N workdays at least N days (no upper bound), a day 24 hours."""
        assert expected == surely_not_shorter(warn, limit)


class TestNamesAndNumbers:
    def test_long_state_name(self):
        """Names go into String(100) columns: at most 64 characters, said at the name."""
        text = SMALL.replace("  done: {final: true}", "  " + "d" * 65 + ": {final: true}")
        assert (
            f"wf.yaml:10:3: state {'d' * 64!r}...: the name is 65 characters long: at most 64 "
            "(names are stored in database columns)"
        ) == problems(text)[0]
        assert "d" * 64 in load_text(SMALL.replace("done", "d" * 64)).states  # 64 is fine

    @pytest.mark.parametrize(
        ("old", "new", "expected"),
        [
            (
                "roles: [clerk, head]",
                "roles: [clerk, head, " + "r" * 65 + "]",
                "wf.yaml:3:22: roles: String should have at most 64 characters",
            ),
            (
                "workflow: small",
                "workflow: " + "w" * 65,
                "wf.yaml:1:11: workflow: String should have at most 64 characters",
            ),
            (
                "version: 1",
                "version: 2147483648",
                "wf.yaml:2:10: version: Input should be less than or equal to 2147483647",
            ),
            (
                "version: 1",
                "version: '1'",
                "wf.yaml:2:10: version: Input should be a valid integer",
            ),
            (
                "version: 1",
                "version: true",
                "wf.yaml:2:10: version: Input should be a valid integer",
            ),
            (
                "workflow: small",
                "workflow: Small",
                "wf.yaml:1:11: workflow: must be lower-case letters, digits and '_', "
                "starting with a letter",
            ),
        ],
    )
    def test_header_values(self, old: str, new: str, expected: str):
        """Role and workflow names, the version: bounded and never coerced."""
        assert [expected] == problems(SMALL.replace(old, new))

    def test_clock_name_and_empty_names(self):
        """Clock names are bounded too; an empty name is refused."""
        long_clock = SMALL + "clocks:\n  " + "c" * 65 + ": {limit: 5 days, runs_in: [submitted]}\n"
        assert problems(long_clock)[0].endswith(
            "the name is 65 characters long: at most 64 (names are stored in database columns)"
        )
        empty = SMALL.replace("  done: {final: true}", '  "": {final: true}')
        assert "wf.yaml:10:3: state '': a state needs a name" == problems(empty)[0]

    def test_a_whole_float_is_the_integer(self):
        """JSON has one number type: `version: 1.0` is version 1 (as the schema says)."""
        assert 1 == load_text(SMALL.replace("version: 1", "version: 1.0")).version


class TestSchemas:
    @pytest.mark.parametrize(
        "ref", ["https://example.com/area.json", "area.json#/x", "/etc/passwd"]
    )
    def test_references_outside_the_schema(self, ref: str):
        """No schema is ever fetched: a $ref must point inside the schema."""
        assert [
            f"wf.yaml:7:22: data: $ref {ref!r} points outside this schema: only references "
            "inside it ('#/$defs/...') are allowed; caseflow never fetches schemas"
        ] == problems(with_data(f"    area_sqm: {{$ref: '{ref}'}}"))

    def test_payload_reference_outside(self):
        """The same for an event's payload schema, said at the reference."""
        text = SMALL.replace(
            "    roles: [clerk]\n",
            "    roles: [clerk]\n    payload: {type: object, properties: {p: {$ref: 'http://x/y'}}}\n",
        )
        assert [
            "wf.yaml:15:52: event 'finish': payload: $ref 'http://x/y' points outside this "
            "schema: only references inside it ('#/$defs/...') are allowed; caseflow never "
            "fetches schemas"
        ] == problems(text)

    def test_references_must_resolve(self):
        """A local $ref to nothing would fail when a case starts."""
        assert ["wf.yaml:7:22: data: $ref '#/$defs/missing' refers to nothing in this schema"] == (
            problems(with_data("    area_sqm: {$ref: '#/$defs/missing'}"))
        )
        assert ["wf.yaml:7:22: data: $ref '#nope' refers to nothing in this schema"] == problems(
            with_data("    area_sqm: {$ref: '#nope'}")
        )

    def test_local_references_and_recursion_through_the_data_load(self):
        """Pointers, anchors and a recursive tree (through properties/items) are fine."""
        text = with_data(
            "    area_sqm: {$ref: '#area'}\n"
            "    tree: {$ref: '#/$defs/node'}\n"
            "  $defs:\n"
            "    area: {$anchor: area, type: number}\n"
            "    node: {type: object, properties: {children: {type: array, items: {$ref: '#/$defs/node'}}}}"
        )
        assert "tree" in load_text(text).data_schema["properties"]

    def test_reference_cycle_in_place(self):
        """References that loop without descending into the data would never end."""
        text = with_data(
            "    area_sqm: {$ref: '#/$defs/a'}\n"
            "  $defs: {a: {$ref: '#/$defs/b'}, b: {allOf: [{$ref: '#/$defs/a'}]}}"
        )
        assert [
            "wf.yaml:8:14: data: references that lead back here without descending into the "
            "data: validating a case would never end"
        ] == problems(text)

    def test_embedded_resources(self):
        """$id below the top would change what references mean: refused."""
        text = with_data("    area_sqm: {type: number}\n    inner: {$id: 'https://example.com/x'}")
        assert ["wf.yaml:8:18: data: '$id' is allowed only at the top of a schema"] == problems(
            text
        )

    def test_catastrophic_patterns(self):
        """`^(a+)+$` in pattern or patternProperties is refused at the pattern."""
        assert [
            "wf.yaml:8:35: data: pattern '^(a+)+$': a repeated group holds a quantifier of its "
            "own (like (a+)+ or (a|ab)*): matching can take exponential time; simplify the pattern"
        ] == problems(
            with_data("    area_sqm: {type: number}\n    code: {type: string, pattern: '^(a+)+$'}")
        )
        assert [
            "wf.yaml:8:36: data: pattern '^(x|xy)*$': a repeated group holds alternatives (|) of "
            "its own (like (a+)+ or (a|ab)*): matching can take exponential time; simplify the "
            "pattern"
        ] == problems(
            with_data("    area_sqm: {type: number}\n  patternProperties: {'^(x|xy)*$': {}}")
        )

    @pytest.mark.parametrize(
        "pattern",
        [
            "^(a+)+$",
            "(a*)*",
            "(\\w+\\s?)*$",
            "(a|ab)*c",
            "(x+x+)+y",
            "((ab)*c)+",
            "(?:a{1,3}){2,}",
            "(a+){2}",
            "([a-z]+[-_])*[a-z]+",
        ],
    )
    def test_exponential_patterns(self, pattern: str):
        """A repeated group holding a variable quantifier or alternatives is flagged."""
        assert backtracking_risk(pattern) is not None

    @pytest.mark.parametrize(
        "pattern",
        [
            "^[a-z]+(-[a-z0-9]{2})*$",
            "^[0-9]{6}$",
            "^1[3-9][0-9]{9}$",
            "^(?:[A-Z]{2}|[0-9])$",
            "[ab]+",
            "(ab)+c",
            "^\\d{17}[\\dXx]$",
            "a[(+)]*b",
            "^[a-z]+@[a-z]+\\.[a-z]+$",
        ],
    )
    def test_ordinary_patterns(self, pattern: str):
        """Fixed-length repeated groups, classes and unrepeated alternatives are fine."""
        assert backtracking_risk(pattern) is None

    def test_long_pattern(self):
        """Patterns are at most 1,000 characters."""
        assert "at most 1000" in str(backtracking_risk("a" * 1001))
