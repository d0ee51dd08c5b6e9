"""The store's batched writes: several rows of one statement in one round trip, read back
exactly (order, JSON, aware datetimes) on both databases."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite

from caseflow import Actor, Engine
from caseflow.cases import HistoryEntry
from caseflow.clocks.runtime import ClockState, TimerSpec
from caseflow.store import clocks, fast, history, timers
from caseflow.store.tables import clocks as clock_table

CLERK = Actor("clerk-7", {"window_clerk"}, "hainan/haikou/longhua")
DATA = {"applicant": "张三", "matter": "食品经营许可", "delivery": "window"}


@pytest.mark.parametrize("count", [3, fast.FOLD_MAX + 8])
def test_lines_written_together_read_back_in_order(engine: Engine, count: int):
    """Lines and a second statement in one send (a few folded into one statement, a
    batch past FOLD_MAX row by row): every value as written."""
    case = engine.start("administrative_approval", data=DATA, actor=CLERK)
    base = len(engine.history(case.id))
    at = dt.datetime(2026, 10, 8, 16, 0, tzinfo=dt.UTC)
    lines = [
        HistoryEntry(case.id, base + n, at + dt.timedelta(seconds=n), "note", None, None,
                     None, "clerk-7", ("window_clerk",), CLERK.org,
                     {"n": n, "text": f"第{n}条", "nested": {"ok": [n, None]}}, 1, at)
        for n in range(1, count + 1)
    ]  # fmt: skip
    more = [
        HistoryEntry(
            case.id, base + count + 1, at, "note", None, None, None, "x", (), "", {}, 1, at
        )
    ]
    with engine.ctx.db.write() as conn:
        counts = fast.send(conn, [history.insert_op(lines), history.insert_op(more)])
    assert counts == [count, 1]
    assert engine.history(case.id)[base:] == [*lines, *more]


def test_clock_rows_saved_together_and_one_clock_saved_twice(engine: Engine):
    """Two clocks in one upsert statement; the same clock twice in one send (a restart)
    is written row by row, the second winning: on both databases."""
    case = engine.start("administrative_approval", data=DATA, actor=CLERK)
    case = engine.fire(case.id, "accept", actor=CLERK)
    states = {v.name: v.state for v in engine.clocks(case.id)}
    later = dt.timedelta(days=1)
    moved = {n: replace(s, due_at=s.due_at and s.due_at + later) for n, s in states.items()}
    again = replace(moved["decision"], extensions=1)
    seq = len(engine.history(case.id))

    def line(n: int) -> fast.Op:  # a second statement: the writes go out pipelined
        at = dt.datetime(2026, 10, 8, 16, 0, tzinfo=dt.UTC)
        entry = HistoryEntry(case.id, seq + n, at, "note", None, None, None, "x", (), "", {}, 2, at)
        return history.insert_op([entry])

    with engine.ctx.db.write() as conn:
        saved = clocks.save_op([(case.id, s, True) for s in moved.values()])
        assert fast.send(conn, [saved, line(1)]) == [len(moved), 1]
        twice = clocks.save_op([(case.id, moved["decision"], True), (case.id, again, True)])
        assert fast.send(conn, [twice, line(2)])[1] == 1
    now = {v.name: v.state for v in engine.clocks(case.id)}
    assert now == {**moved, "decision": again}


def test_which_inserts_are_folded_into_one_statement():
    """A plain INSERT's VALUES repeat per row, an upsert's only with its conflict key;
    a statement with values of its own is left alone."""
    dialect = postgresql.psycopg.dialect()
    sql = history.insert_op([]).statement.multi_row(dialect, 3)
    assert sql is not None
    assert sql.count("%(case_id__") == 3
    assert "%(recorded_at__2)s" in sql
    keyed = clocks.save_op([]).statement.multi_row(dialect, 2)
    assert keyed is not None
    assert "ON CONFLICT" in keyed
    assert "%(name__1)s" in keyed
    upsert = postgresql.insert(clock_table).values(
        {c: bindparam(c) for c in ("case_id", "name", "phase")}
    )
    upsert = upsert.on_conflict_do_update(index_elements=["case_id", "name"], set_={"phase": "z"})
    assert fast.Prepared(upsert).multi_row(dialect, 2) is None
    assert (
        fast.Prepared(insert(clock_table).values(case_id="x", name="y")).multi_row(dialect, 2)
        is None
    )  # values fixed in the statement: nothing to repeat per row


def test_sqlite_folds_rows_with_positional_parameters():
    """SQLite's qmark statements repeat their VALUES tuple as it is and take the rows'
    values one after the other; an upsert's ON CONFLICT tail stays once, at the end; an
    upsert naming one key twice is not folded."""
    dialect = sqlite.pysqlite.dialect()
    plain = history.insert_op([]).statement
    one, three = plain.multi_row(dialect, 1), plain.multi_row(dialect, 3)
    assert one is not None
    assert three is not None
    assert three.count(one.split(" VALUES ", 1)[1]) == 3
    assert three.count("?") == 3 * one.count("?")
    at = dt.datetime(2026, 10, 8, 16, 0, tzinfo=dt.UTC)
    state = ClockState("decision", "running", at, due_at=at)
    rows = clocks.save_op([("c1", state, False), ("c2", state, False)]).rows
    folded = clocks.save_op([]).statement.folded(dialect, rows)
    assert folded is not None
    sql, params = folded
    assert sql.count("ON CONFLICT") == 1
    assert sql.count("?") == len(params)
    assert params[: len(params) // 2].count("c1") == 1
    assert params[len(params) // 2 :].count("c2") == 1
    same_key = clocks.save_op([("c1", state, False), ("c1", state, True)]).rows
    assert clocks.save_op([]).statement.folded(dialect, same_key) is None


def test_stopping_a_clock_reads_only_its_own_cases_timers(engine: Engine):
    """Cancelling a stopped clock's timers is planned on the case's timers (index
    ``(case_id, status, due_at)``), not on the sweep's index over every pending timer of
    every case: its cost must not grow with the number of open cases."""
    busy = engine.start("administrative_approval", data=DATA, actor=CLERK)
    case = engine.start("administrative_approval", data=DATA, actor=CLERK)
    at = dt.datetime(2026, 12, 9, 16, 0, tzinfo=dt.UTC)
    crowd = [
        (busy.id, TimerSpec("breach", "decision", at + dt.timedelta(minutes=n))) for n in range(400)
    ]
    with engine.ctx.db.write() as conn:
        timers.arm(conn, crowd, at)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE cf_timers")
        plan = timers.cancel_op([]).statement.explain(
            conn, {"b_case": case.id, "b_clock": "decision"}
        )
    text = "\n".join(plan)
    assert "ix_cf_timers_case_id_status_due_at" in text, text
    assert "ix_cf_timers_status_due_at_id" not in text, text
