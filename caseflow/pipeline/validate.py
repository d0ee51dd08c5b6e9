"""
Values at the boundary: checked once, the same way for SQLite and PostgreSQL. Pure.

Ids, keys, names and org paths are strings of bounded length (the columns' widths);
case data and payloads are JSON values only (objects with string keys, arrays, strings,
finite numbers, booleans, null), bounded in depth and size; no string anywhere holds a
NUL character or a lone surrogate (PostgreSQL refuses the first, no encoder takes the
second). A bad value raises :class:`~caseflow.errors.DataValidationError` naming the
field; nothing is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from caseflow.cases import Actor
from caseflow.errors import DataValidationError
from caseflow.pipeline import commands as c

#: Column widths (caseflow/store/tables.py) and limits on JSON documents.
CASE_ID = 32
KEY = 200
NAME = 100
ORG = 500
ACTOR_ID = 200
TEXT = 10_000
MAX_DEPTH = 32
MAX_JSON_CHARS = 1_000_000
MAX_LIMIT = 10_000


def _bad(field: str, why: str) -> DataValidationError:
    return DataValidationError(f"{field}: {why}", errors=[field])


_CONTROLS = frozenset(chr(c) for c in (*range(32), 127))


def text(value: Any, field: str, limit: int, *, empty: bool = False, free: bool = False) -> str:
    """
    A string of at most ``limit`` characters, no NUL, no lone surrogate; unless ``free``
    (a comment, a reason), no control character at all (ids, keys, names, org paths).
    """
    if not isinstance(value, str):
        raise _bad(field, f"must be a string, not {type(value).__name__}")
    if not empty and not value:
        raise _bad(field, "must not be empty")
    if len(value) > limit:
        raise _bad(field, f"is {len(value)} characters long; at most {limit} are allowed")
    _clean(value, field)
    if not free and not _CONTROLS.isdisjoint(value):
        raise _bad(field, "contains a control character (a newline, tab, escape, ...)")
    return value


def optional_text(value: Any, field: str, limit: int) -> str | None:
    return None if value is None else text(value, field, limit)


def _clean(value: str, field: str) -> None:
    if "\x00" in value:
        raise _bad(field, "contains a NUL character (\\x00)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad(field, "is not valid Unicode (a lone surrogate)") from None


def actor(value: Any, field: str = "actor") -> Actor:
    if not isinstance(value, Actor):
        raise _bad(field, f"must be a caseflow.Actor, not {type(value).__name__}")
    text(value.id, f"{field}.id", ACTOR_ID)
    text(value.org, f"{field}.org", ORG, empty=True)
    for role in value.roles:
        text(role, f"{field}.roles", NAME)
    return value


def json_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (a mapping with string keys) of JSON values, bounded; a plain dict."""
    if not isinstance(value, Mapping):
        raise _bad(field, f"must be a mapping (a JSON object), not {type(value).__name__}")
    json_value(value, field)
    return dict(value)


def json_value(value: Any, field: str) -> None:
    """Walk a JSON value without recursion (a 100,000-deep document is refused, not a crash)."""
    size = 0
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _bad(field, f"is nested deeper than {MAX_DEPTH} levels (at {where})")
        if item is None or isinstance(item, bool):
            size += 4
        elif isinstance(item, int):
            size += 8
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _bad(where, f"{item} is not a JSON number (NaN and infinities are not)")
            size += 8
        elif isinstance(item, str):
            _clean(item, where)
            size += len(item) + 2
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise _bad(where, f"keys must be strings, not {type(key).__name__}")
                _clean(key, f"{where}.{key[:40]}")
                size += len(key) + 3
                stack.append((sub, f"{where}.{key[:40]}", depth + 1))
        elif isinstance(item, (list, tuple)):
            size += 2
            stack.extend((sub, f"{where}[{n}]", depth + 1) for n, sub in enumerate(item))
        else:
            raise _bad(
                where,
                f"{type(item).__name__} is not a JSON value (use strings, numbers, booleans, "
                "null, lists and objects)",
            )
        if size > MAX_JSON_CHARS:
            raise _bad(field, f"is larger than {MAX_JSON_CHARS:,} characters as JSON")


def page(limit: Any, offset: Any) -> tuple[int, int]:
    """A page of a listing: 0 <= limit <= MAX_LIMIT, offset >= 0."""
    for name, value in (("limit", limit), ("offset", offset)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _bad(name, f"must be a whole number >= 0, not {value!r}")
    if limit > MAX_LIMIT:
        raise _bad("limit", f"at most {MAX_LIMIT} rows a page, not {limit}")
    return limit, offset


def _version(value: Any, field: str) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise _bad(field, f"must be a whole number >= 1, not {value!r}")


def check(command: c.Command) -> None:
    """Check every value a command carries (see the module docstring)."""
    actor(command.actor)
    optional_text(command.idempotency_key, "idempotency_key", KEY)
    if isinstance(command, c.Start):
        text(command.workflow, "workflow", NAME)
        _version(command.version, "version")
        json_object(command.data, "data")
        if command.org is not None:
            text(command.org, "org", ORG, empty=True)
        optional_text(command.business_key, "business_key", KEY)
        return
    if isinstance(command, c.CaseCommand):
        text(command.case_id, "case_id", CASE_ID)
        _version(command.expected_version, "expected_version")
    if isinstance(command, c.Fire):
        text(command.event, "event", NAME)
        if command.payload is not None:
            json_object(command.payload, "payload")
        if command.comment is not None:
            text(command.comment, "comment", TEXT, empty=True, free=True)
    elif isinstance(command, c.Operate):
        text(command.reason, "reason", TEXT, empty=True, free=True)
        if isinstance(command, c.Move):
            text(command.to_state, "to_state", NAME)
        elif isinstance(command, c.Reassign):
            optional_text(command.org, "org", ORG)
            optional_text(command.assignee, "assignee", ACTOR_ID)
    elif isinstance(command, c.ExtendClock):
        text(command.clock, "clock", NAME)
        text(command.reason, "reason", TEXT, empty=True, free=True)
    elif isinstance(command, (c.Attend, c.CastBallot)):
        optional_text(command.voter, "voter", ACTOR_ID)
        if isinstance(command, c.CastBallot):
            text(command.choice, "choice", NAME)
    elif isinstance(command, c.CloseVote):
        text(command.reason, "reason", TEXT, empty=True, free=True)
    elif isinstance(command, c.ReportItem):
        text(command.item, "item", ORG)
        if command.result is not None:
            json_object(command.result, "result")
    elif isinstance(command, c.ResolveIncidents):
        text(command.reason, "reason", TEXT, empty=True, free=True)
    elif isinstance(command, (c.Assign, c.Delegate)):
        text(command.to, "to", ACTOR_ID)
    if isinstance(command, (c.FireByKey, c.Message)):
        text(command.business_key, "business_key", KEY)
        if isinstance(command, c.FireByKey):
            text(command.workflow, "workflow", NAME)
            text(command.event, "event", NAME)
        else:
            text(command.message, "message", NAME)
        if command.payload is not None:
            json_object(command.payload, "payload")
