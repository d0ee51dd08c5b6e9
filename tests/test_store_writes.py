"""The store's batched writes: several rows of one statement in one round trip, read back
exactly (order, JSON, aware datetimes) on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql

from caseflow import Actor, Engine
from caseflow.cases import HistoryEntry
from caseflow.store import fast, history
from caseflow.store.tables import clocks as clock_table

CLERK = Actor("clerk-7", {"window_clerk"}, "hainan/haikou/longhua")
DATA = {"applicant": "张三", "matter": "食品经营许可", "delivery": "window"}


def test_lines_written_together_read_back_in_order(engine: Engine):
    """Three lines and a second statement in one send: every value as written."""
    case = engine.start("administrative_approval", data=DATA, actor=CLERK)
    base = len(engine.history(case.id))
    at = dt.datetime(2026, 10, 8, 16, 0, tzinfo=dt.UTC)
    lines = [
        HistoryEntry(case.id, base + n, at + dt.timedelta(seconds=n), "note", None, None,
                     None, "clerk-7", ("window_clerk",), CLERK.org,
                     {"n": n, "text": f"第{n}条", "nested": {"ok": [n, None]}}, 1, at)
        for n in (1, 2, 3)
    ]  # fmt: skip
    more = [HistoryEntry(case.id, base + 4, at, "note", None, None, None, "x", (), "", {}, 1, at)]
    with engine.ctx.db.write() as conn:
        counts = fast.send(conn, [history.insert_op(lines), history.insert_op(more)])
    assert counts == [3, 1]
    assert engine.history(case.id)[base:] == [*lines, *more]


def test_only_plain_inserts_are_folded_into_one_statement():
    """A plain INSERT's VALUES repeat per row; an upsert stays one execution per row (two
    rows with one key cannot share an ON CONFLICT statement)."""
    dialect = postgresql.psycopg.dialect()
    sql = history.insert_op([]).statement.multi_row(dialect, 3)
    assert sql is not None
    assert sql.count("%(case_id__") == 3
    assert "%(recorded_at__2)s" in sql
    upsert = postgresql.insert(clock_table).values(case_id="x", name="y")
    upsert = upsert.on_conflict_do_update(index_elements=["case_id", "name"], set_={"phase": "z"})
    assert fast.Prepared(upsert).multi_row(dialect, 2) is None
    assert (
        fast.Prepared(insert(clock_table).values(case_id="x", name="y")).multi_row(dialect, 2)
        is None
    )  # values fixed in the statement: nothing to repeat per row
