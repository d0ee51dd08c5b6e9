"""`caseflow workflows validate` and the shipped JSON Schema agree on every edge document."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from caseflow.definitions.loader import load_text, read_yaml
from caseflow.definitions.safeyaml import plain
from caseflow.errors import DefinitionError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = json.loads((ROOT / "schema" / "workflow.schema.json").read_text(encoding="utf-8"))

BASE = """\
workflow: permits
version: 1
title: 建房审批
roles: [clerk, head]
data: {type: object, properties: {ok: {type: boolean}}}
actions:
  notify: {retries: 3, backoff_seconds: 30}
states:
  submitted: {initial: true, on_enter: [notify]}
  review: {}
  approved: {final: true, outcome: success}
  rejected: {final: true}
events:
  accept: {from: submitted, to: review, roles: [clerk]}
  decide:
    from: [review]
    roles: [head]
    to:
      - {to: approved, when: "data.ok == true"}
      - {to: rejected}
clocks:
  review_limit:
    limit: 20 workdays
    runs_in: [review]
    warn_before: 3 workdays
    extension: {by: 10 workdays, times: 1, roles: [head]}
"""

#: (what, the line of BASE to replace, its replacement, whether both must accept it)
EDGES: list[tuple[str, str, str, bool]] = [
    ("the base document", "version: 1", "version: 1", True),
    ("version as text", "version: 1", "version: '1'", False),
    ("version as text with a point", "version: 1", "version: '1.0'", False),
    ("version true", "version: 1", "version: true", False),
    ("version 1.0 is the number 1", "version: 1", "version: 1.0", True),
    ("version 1.5", "version: 1", "version: 1.5", False),
    ("version 0", "version: 1", "version: 0", False),
    ("version 2**31-1", "version: 1", "version: 2147483647", True),
    ("version 2**31", "version: 1", "version: 2147483648", False),
    ("version null", "version: 1", "version: null", False),
    ("workflow upper case", "workflow: permits", "workflow: Permits", False),
    ("workflow ending in a newline", "workflow: permits", 'workflow: "permits\\n"', False),
    ("workflow 64 characters", "workflow: permits", "workflow: " + "p" * 64, True),
    ("workflow 65 characters", "workflow: permits", "workflow: " + "p" * 65, False),
    ("title a number", "title: 建房审批", "title: 2026", False),
    ("title a date is text", "title: 建房审批", "title: 2026-01-01", True),
    ("title null", "title: 建房审批", "title: null", False),
    ("roles a string", "roles: [clerk, head]", "roles: clerk", False),
    (
        "role of 65 characters",
        "roles: [clerk, head]",
        "roles: [clerk, head, " + "r" * 65 + "]",
        False,
    ),
    ("empty role", "roles: [clerk, head]", "roles: [clerk, head, '']", False),
    ("data a list", "data: {type: object, properties: {ok: {type: boolean}}}", "data: []", False),
    ("retries as text", "notify: {retries: 3,", "notify: {retries: '3',", False),
    ("retries 101", "notify: {retries: 3,", "notify: {retries: 101,", False),
    ("retries -1", "notify: {retries: 3,", "notify: {retries: -1,", False),
    ("backoff an integer", "backoff_seconds: 30}", "backoff_seconds: 30}", True),
    ("backoff a float", "backoff_seconds: 30}", "backoff_seconds: 2.5}", True),
    ("backoff true", "backoff_seconds: 30}", "backoff_seconds: true}", False),
    ("backoff over a day", "backoff_seconds: 30}", "backoff_seconds: 86401}", False),
    ("initial as 1", "{initial: true, on_enter", "{initial: 1, on_enter", False),
    ("initial as text", "{initial: true, on_enter", "{initial: 'true', on_enter", False),
    ("a plain state written empty", "  review: {}", "  review:", True),
    ("outcome unknown", "outcome: success}", "outcome: won}", False),
    ("unknown state field", "  review: {}", "  review: {titel: x}", False),
    ("state name of 65 characters", "  review: {}", "  " + "s" * 65 + ": {}", False),
    ("empty event", "  accept: {from: submitted, to: review, roles: [clerk]}", "  accept:", False),
    ("from an empty list", "    from: [review]", "    from: []", False),
    (
        "to an empty list",
        "  accept: {from: submitted, to: review",
        "  accept: {from: submitted, to: []",
        False,
    ),
    ("automatic as text", "roles: [clerk]}", "roles: [clerk], automatic: 'no'}", False),
    ("limit a number", "    limit: 20 workdays", "    limit: 20", False),
    ("limit upper case", "    limit: 20 workdays", "    limit: 20 WORKING DAYS", True),
    ("limit without a space", "    limit: 20 workdays", "    limit: 20workdays", True),
    ("limit with a tab", "    limit: 20 workdays", '    limit: "20\\tworkdays"', False),
    ("limit ending in a newline", "    limit: 20 workdays", '    limit: "20 workdays\\n"', False),
    (
        "limit with full-width digits",
        "    limit: 20 workdays",
        "    limit: \uff12\uff10 workdays",
        False,
    ),
    ("limit of 24,990 workdays", "    limit: 20 workdays", "    limit: 24990 workdays", True),
    ("limit of 25,001 workdays", "    limit: 20 workdays", "    limit: 25001 workdays", False),
    ("limit with leading zeros", "    limit: 20 workdays", "    limit: 0020 workdays", True),
    ("limit in weeks", "    limit: 20 workdays", "    limit: 2 weeks", False),
    ("extension times 0", "times: 1,", "times: 0,", False),
    ("extension times 2.0", "times: 1,", "times: 2.0,", True),
    ("extension times true", "times: 1,", "times: true,", False),
    ("extension reason unknown", "roles: [head]}", "roles: [head], reason: maybe}", False),
    ("runs_in a string", "    runs_in: [review]", "    runs_in: review", False),
    ("unknown top-level field", "title: 建房审批", "titel: 建房审批", False),
]


def _document(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def _loader_accepts(text: str) -> bool:
    try:
        load_text(text, "edge.yaml")
    except DefinitionError:
        return False
    return True


def _schema_accepts(text: str) -> bool:
    return jsonschema.Draft202012Validator(SHIPPED).is_valid(plain(read_yaml(text, "edge.yaml")))


class TestAgreement:
    @pytest.mark.parametrize(("what", "old", "new", "accepted"), EDGES, ids=[e[0] for e in EDGES])
    def test_loader_and_schema_agree(self, what: str, old: str, new: str, accepted: bool):
        """Both accept the document, or both refuse it (as this edge expects)."""
        text = _document(old, new)
        assert (accepted, accepted) == (_loader_accepts(text), _schema_accepts(text)), what

    def test_an_event_section_written_empty(self):
        """`events:` with nothing after it is no events for both."""
        text = (
            "workflow: one\nversion: 1\nstates:\n  only: {initial: true, final: true}\n"
            "events:\nclocks:\n"
        )
        assert (True, True) == (_loader_accepts(text), _schema_accepts(text))
