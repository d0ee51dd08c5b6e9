"""
Hostile values through the public API: a DataValidationError naming the field, the same
on SQLite and PostgreSQL, and nothing written.
"""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
import sqlalchemy as sa

from caseflow import Actor, DataValidationError, Engine

CLERK = Actor("clerk-7", {"window_clerk"}, "hainan/haikou/longhua")
DATA = {"applicant": "张三", "matter": "食品经营许可"}


def rows(engine: Engine) -> tuple[int, int, int]:
    with engine.db.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.text(f"select count(*) from {t}")).scalar_one()
            for t in ("cf_cases", "cf_history", "cf_timers")
        )


def deep(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"x": value}
    return value


START_CASES = [
    ("data", {**DATA, "note": "a\x00b"}),
    ("data", {**DATA, "score": float("nan")}),
    ("data", {**DATA, "score": float("inf")}),
    ("data", {**DATA, "name": "\ud800"}),
    ("data", {**DATA, "when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}),
    ("data", {**DATA, "tags": {"a", "b"}}),
    ("data", {**DATA, "blob": b"\x00"}),
    ("data", {**DATA, "fee": decimal.Decimal("1.5")}),
    ("data", {**DATA, "deep": deep(100_000)}),
    ("data", {**DATA, 3: "int key"}),
    ("data", [1, 2]),
]


class TestStart:
    @pytest.mark.parametrize(("field", "data"), START_CASES)
    def test_bad_data(self, engine: Engine, field: str, data):
        """Not a JSON value (NUL, NaN, surrogate, datetime, set, bytes, Decimal, too deep)."""
        before = rows(engine)
        with pytest.raises(DataValidationError) as info:
            engine.start("administrative_approval", data=data, actor=CLERK)
        assert info.value.errors[0].startswith(field)
        assert before == rows(engine)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"business_key": "k" * 201}, "business_key"),
            ({"business_key": "HK\x00"}, "business_key"),
            ({"org": "a/\x00b"}, "org"),
            ({"org": "a\nb"}, "org"),
            ({"idempotency_key": ""}, "idempotency_key"),
            ({"version": 0}, "version"),
        ],
    )
    def test_bad_keys_and_orgs(self, engine: Engine, kwargs, field):
        """Keys and org paths: bounded, no NUL or control character."""
        with pytest.raises(DataValidationError, match=field):
            engine.start("administrative_approval", data=DATA, actor=CLERK, **kwargs)
        assert (0, 0, 0) == rows(engine)

    def test_bad_actor(self, engine: Engine):
        """An actor id with an escape sequence, or no Actor at all, is refused."""
        with pytest.raises(DataValidationError, match=r"actor\.id"):
            engine.start("administrative_approval", data=DATA, actor=Actor("x\x1b[31m"))
        with pytest.raises(DataValidationError, match="actor"):
            engine.start("administrative_approval", data=DATA, actor="clerk")  # type: ignore[arg-type]


class TestFireAndQueries:
    def test_bad_arguments(self, engine: Engine):
        """fire(None), payload=[1], get(42), cases(limit=-1): clear errors, nothing written."""
        case = engine.start("administrative_approval", data=DATA, actor=CLERK)
        before = rows(engine)
        bad = [
            (lambda: engine.fire(case.id, None, actor=CLERK), "event"),  # type: ignore[arg-type]
            (lambda: engine.fire(case.id, "accept", actor=CLERK, payload=[1]), "payload"),  # type: ignore[arg-type]
            (lambda: engine.fire(case.id + "\x00", "accept", actor=CLERK), "case_id"),
            (lambda: engine.fire("x" * 40, "accept", actor=CLERK), "case_id"),
            (lambda: engine.get(42), "case_id"),  # type: ignore[arg-type]
            (lambda: engine.history(42), "case_id"),  # type: ignore[arg-type]
            (lambda: engine.cases(limit=-1), "limit"),
            (lambda: engine.cases(offset=-5), "offset"),
            (lambda: engine.overdue(limit=10**6), "limit"),
        ]
        for call, field in bad:
            with pytest.raises(DataValidationError, match=field):
                call()
        assert before == rows(engine)
        assert 1 == engine.get(case.id).version
