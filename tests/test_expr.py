from __future__ import annotations

import pytest

from caseflow.definitions.expr import Guard, GuardSyntaxError

CTX = {
    "data": {"delivery": "post", "amount": 12, "tags": ["a", "b"], "nested": {"x": 1}},
    "payload": {"decision": "approve", "ok": True},
    "actor": {"id": "u1", "roles": ["reviewer"], "org": "a/b"},
}


class TestGuard:
    @pytest.mark.parametrize(
        ("source", "expected"),
        [
            ("payload.decision == 'approve'", True),
            ("payload.decision != 'approve'", False),
            ("payload.ok == true and data.amount > 10", True),
            ("payload.ok == false or data.amount >= 13", False),
            ("not payload.ok", False),
            ("data.delivery in ['post', 'window']", True),
            ("'c' not in data.tags", True),
            ("'reviewer' in actor.roles", True),
            ("actor.org == 'a/b'", True),
            ("data['nested']['x'] == 1", True),
            ("data.tags[1] == 'b'", True),
            ("data.missing == null", True),
            ("data.missing.deeper == null", True),
            ("1 < data.amount < 20", True),
            ("data.amount > -5", True),
        ],
    )
    def test_evaluates(self, source: str, expected: bool):
        """Guards evaluate comparisons, boolean logic and membership over the context."""
        assert expected == Guard.parse(source).evaluate(CTX)

    def test_unorderable_comparison_is_false(self):
        """Comparing null with a number is false, not an exception."""
        assert Guard.parse("data.missing < 3").evaluate(CTX) is False

    @pytest.mark.parametrize(
        "source",
        [
            "__import__('os').system('true')",
            "data.amount + 1 > 2",
            "open('x')",
            "lambda: 1",
            "foo == 1",
            "data[data.delivery] == 1",
            "payload.ok ==",
            "[x for x in data.tags]",
            "(1).__class__",
        ],
    )
    def test_rejects_anything_else(self, source: str):
        """Calls, arithmetic, unknown names, comprehensions and dunders are refused at parse time."""
        with pytest.raises(GuardSyntaxError):
            Guard.parse(source)

    def test_syntax_error_has_column(self):
        """A syntax error reports a 1-based column inside the expression."""
        with pytest.raises(GuardSyntaxError) as info:
            Guard.parse("data.x >< 3")
        assert info.value.column == 9
