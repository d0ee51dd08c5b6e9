"""
Prepared statements: the engine's hot statements compiled once per dialect and run on
the connection's DBAPI cursor, inside the SQLAlchemy transaction.

SQLAlchemy's per-execution bookkeeping (cache keys, parameter setup, result objects,
events) costs more per statement than SQLite's own work and a good part of a PostgreSQL
round trip (bench/BENCHMARKS.md). A :class:`Prepared` statement is still written with
SQLAlchemy Core (types, bind and result processors come from the same column types), so
values are written and read exactly as SQLAlchemy would; only the per-call machinery is
skipped. Database errors are translated into SQLAlchemy's exception classes
(``IntegrityError``, ``OperationalError``, ...) the way a Core execution raises them.

A few rows of one INSERT become one multi-row statement (:meth:`Prepared.folded`); on
PostgreSQL a sequence of writes goes out in one round trip (:func:`send`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON
from sqlalchemy.exc import DBAPIError

from caseflow.store.tables import UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.sql.expression import ClauseElement


_GIVEN = object()
#: At most this many rows of one write become one multi-row statement (a command writes a
#: few; a sweep's or a roster's batch stays an executemany, clear of PostgreSQL's 65,535
#: parameters per statement and of a cached statement per row count).
FOLD_MAX = 32
_PARAMETER = re.compile(r"%\([^)]*\)s")


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: bool
    #: Per parameter: its name, its bind processor (or None), and the value the statement
    #: carries itself (a literal compared or set: ``status = 'pending'``) or ``_GIVEN``.
    params: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    #: When every parameter is given (an INSERT's): the values in parameter order at C
    #: speed, and the (position, processor) pairs to convert.
    take: Callable[[Mapping[str, Any]], Any] | None = None
    convert: tuple[tuple[int, Callable[[Any], Any]], ...] = ()


def _compiled(
    sql: str,
    positional: bool,
    params: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...],
    results: tuple[Callable[[Any], Any] | None, ...],
) -> _Compiled:
    take = None
    if len(params) > 1 and all(fixed is _GIVEN for _, _, fixed in params):
        take = operator.itemgetter(*(name for name, _, _ in params))
    convert = tuple((i, p) for i, (_, p, _) in enumerate(params) if p is not None)
    return _Compiled(sql, positional, params, results, take, convert)


def _sqlite_instant(value: dt.datetime | None) -> str | None:
    """An aware instant as SQLite stores UTCDateTime: naive UTC, always with microseconds."""
    if value is None:
        return None
    if value.tzinfo is dt.UTC:  # the engine's own instants: no conversion ("+00:00" cut)
        return value.isoformat(" ", "microseconds")[:-6]
    if value.tzinfo is None:
        msg = "caseflow stores aware datetimes only"
        raise ValueError(msg)
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_read_instant(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _bind_processor(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """SQLAlchemy's bind processor of a type, or the same conversion done faster."""
    if isinstance(kind, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_instant
    impl = kind.dialect_impl(dialect)
    if (
        dialect.name == "sqlite"
        and isinstance(impl, JSON)
        and not impl.none_as_null
        and getattr(dialect, "_json_serializer", None) is None  # SQLAlchemy's default
    ):
        return json.dumps  # what SQLAlchemy's JSON processor calls (None -> "null")
    processor: Callable[[Any], Any] | None = impl.bind_processor(dialect)
    return processor


def _result_processor(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(kind, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_read_instant
    processor: Callable[[Any], Any] | None = kind.dialect_impl(dialect).result_processor(
        dialect, None
    )
    return processor


def _repeat_values(sql: str, names: Sequence[str] | None, rows: int, *, upsert: bool) -> str | None:
    """``sql`` with its VALUES tuple repeated ``rows`` times: named parameters renamed per
    row (``names``), positional ones (``names`` None) repeated as they are."""
    head, found, rest = sql.partition(" VALUES (")
    if not found or not head.startswith("INSERT INTO "):
        return None
    # the tuple ends at the first ")" that is not part of a "%(name)s" parameter
    masked = _PARAMETER.sub(lambda m: "x" * len(m.group()), rest)
    end = masked.find(")")
    if end < 0 or "(" in masked[:end]:
        return None
    inner, tail = rest[:end], rest[end + 1 :]
    if tail.strip() and not upsert:
        # ON CONFLICT of an unknown key: two rows with one key would fail in one statement
        return None
    if names is None:
        # positional: every parameter must be in the tuple, so the rows' values line up
        return None if "?" in tail else f"{head} VALUES {', '.join([f'({inner})'] * rows)}{tail}"
    tuples = []
    for i in range(rows):
        row = inner
        for name in names:
            row = row.replace(f"%({name})s", f"%({name}__{i})s")
        tuples.append(f"({row})")
    return f"{head} VALUES {', '.join(tuples)}{tail}"


def _dbapi(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


class Prepared:
    """One Core statement; compiled for a dialect on first use, then run on the raw cursor."""

    def __init__(
        self,
        statement: ClauseElement,
        per_dialect: Mapping[str, ClauseElement] | None = None,
        *,
        key: Sequence[str] = (),
    ) -> None:
        self.statement = statement
        #: An upsert's conflict key: its rows fold into one statement when their keys differ.
        self.key = tuple(key)
        #: Dialect-specific forms (an upsert is ``ON CONFLICT`` on SQLite and PostgreSQL).
        self.per_dialect = dict(per_dialect or {})
        self._compiled: dict[str, _Compiled] = {}
        self._multi: dict[tuple[str, int], str | None] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            statement = self.per_dialect.get(dialect.name, self.statement)
            compiled = cast("SQLCompiler", statement.compile(dialect=dialect))
            positional = bool(compiled.positional)
            values = compiled.params
            names = tuple(compiled.positiontup or ()) if positional else tuple(values)
            params = []
            for name in names if positional else dict.fromkeys(names):
                processor = _bind_processor(compiled.binds[name].type, dialect)
                fixed = values.get(name)
                if fixed is not None and processor is not None:
                    fixed = processor(fixed)
                params.append((name, processor, _GIVEN if fixed is None else fixed))
            columns = getattr(statement, "selected_columns", ())
            results = tuple(_result_processor(c.type, dialect) for c in columns)
            found = _compiled(compiled.string, positional, tuple(params), results)
            self._compiled[dialect.name] = found
        return found

    def multi_row(self, dialect: Dialect, rows: int) -> str | None:
        """This INSERT with its VALUES tuple repeated for ``rows`` rows (named parameters:
        those of row ``i`` named ``<name>__<i>``; positional ones: in row order); None
        when the statement is not an ``INSERT ... VALUES (...)`` of given values only; an
        upsert only with its ``key`` (:meth:`folded` folds its rows only when their keys
        differ: two rows with one key cannot both be in one ``ON CONFLICT`` statement)."""
        slot = (dialect.name, rows)
        if slot not in self._multi:
            compiled = self._for(dialect)
            names = [name for name, _, fixed in compiled.params if fixed is _GIVEN]
            all_given = len(names) == len(compiled.params)
            self._multi[slot] = (
                _repeat_values(
                    compiled.sql,
                    None if compiled.positional else names,
                    rows,
                    upsert=bool(self.key),
                )
                if all_given
                else None
            )
        return self._multi[slot]

    def folded(self, dialect: Dialect, rows: Sequence[Mapping[str, Any]]) -> tuple[str, Any] | None:
        """
        A few rows (2 to :data:`FOLD_MAX`) as one multi-row statement and its parameters:
        one execution instead of one per row. None when they cannot be folded (one row,
        a batch, a statement that is not a plain INSERT, an upsert hitting one key twice).
        """
        if not 1 < len(rows) <= FOLD_MAX:
            return None
        if self.key and len({tuple(r[k] for k in self.key) for r in rows}) != len(rows):
            return None
        multi = self.multi_row(dialect, len(rows))
        if multi is None:
            return None
        compiled = self._for(dialect)
        params = [self._params(compiled, r) for r in rows]
        if compiled.positional:
            return multi, tuple(itertools.chain.from_iterable(params))
        return multi, {f"{k}__{i}": v for i, row in enumerate(params) for k, v in row.items()}

    @staticmethod
    def _params(compiled: _Compiled, values: Mapping[str, Any]) -> Any:
        if compiled.take is not None:
            out = list(compiled.take(values))
            for i, processor in compiled.convert:
                out[i] = processor(out[i])
        else:
            out = [
                fixed
                if fixed is not _GIVEN
                else (values[name] if processor is None else processor(values[name]))
                for name, processor, fixed in compiled.params
            ]
        if compiled.positional:
            return tuple(out)
        return {p[0]: v for p, v in zip(compiled.params, out, strict=True)}

    def _error(self, conn: Connection, exc: Exception, params: Any) -> Exception:
        dbapi = conn.dialect.loaded_dbapi
        if isinstance(exc, dbapi.Error):
            return DBAPIError.instance(self._for(conn.dialect).sql, params, exc, dbapi.Error)
        return exc

    def run(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Execute with one set of values; the row count."""
        compiled = self._for(conn.dialect)
        params = self._params(compiled, values)
        cursor = _dbapi(conn).cursor()
        try:
            cursor.execute(compiled.sql, params)
            return int(cursor.rowcount)
        except Exception as exc:
            raise self._error(conn, exc, params) from exc
        finally:
            cursor.close()

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per row (executemany: one round trip on PostgreSQL); the row count."""
        if not rows:
            return 0
        if len(rows) == 1:
            return self.run(conn, rows[0])
        folded = self.folded(conn.dialect, rows)
        compiled = self._for(conn.dialect)
        params: Any = folded[1] if folded else [self._params(compiled, r) for r in rows]
        cursor = _dbapi(conn).cursor()
        try:
            if folded:
                cursor.execute(folded[0], params)
            else:
                cursor.executemany(compiled.sql, params)
            return int(cursor.rowcount)
        except Exception as exc:
            raise self._error(conn, exc, params) from exc
        finally:
            cursor.close()

    def raw(self, conn: Connection, values: Mapping[str, Any]) -> list[Any]:
        """A SELECT's rows as the driver returns them; see :meth:`process`."""
        compiled = self._for(conn.dialect)
        params = self._params(compiled, values)
        cursor = _dbapi(conn).cursor()
        try:
            cursor.execute(compiled.sql, params)
            return list(cursor.fetchall())
        except Exception as exc:
            raise self._error(conn, exc, params) from exc
        finally:
            cursor.close()

    def process(self, conn: Connection, row: Any, start: int, stop: int) -> list[Any]:
        """Values ``start:stop`` of a raw row, processed as SQLAlchemy would."""
        processors = self._for(conn.dialect).results[start:stop]
        return [
            v if p is None or v is None else p(v)
            for p, v in zip(processors, row[start:stop], strict=True)
        ]

    def explain(self, conn: Connection, values: Mapping[str, Any]) -> list[str]:
        """The database's plan for this statement with these values, a line per step
        (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``; nothing is executed)."""
        compiled = self._for(conn.dialect)
        prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        cursor = _dbapi(conn).cursor()
        try:
            cursor.execute(prefix + compiled.sql, self._params(compiled, values))
            return [str(row[-1]) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """A SELECT's rows, values processed as SQLAlchemy would (JSON, aware datetimes)."""
        compiled = self._for(conn.dialect)
        params = self._params(compiled, values)
        cursor = _dbapi(conn).cursor()
        try:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        except Exception as exc:
            raise self._error(conn, exc, params) from exc
        finally:
            cursor.close()
        processors = compiled.results
        if not any(processors):
            return [tuple(r) for r in fetched]
        return [
            tuple(v if p is None or v is None else p(v) for p, v in zip(processors, r, strict=True))
            for r in fetched
        ]


@dataclass(frozen=True, slots=True)
class Op:
    """One prepared statement and the rows to run it for (one statement, many rows)."""

    statement: Prepared
    rows: Sequence[Mapping[str, Any]]

    def run(self, conn: Connection) -> int:
        return self.statement.many(conn, self.rows)


def send(conn: Connection, ops: Sequence[Op]) -> list[int]:
    """
    Run writes in order; their row counts. On PostgreSQL they go out together in one
    round trip (psycopg's pipeline mode) and the counts are read when all have run.
    """
    todo = [op for op in ops if op.rows]
    if conn.dialect.name != "postgresql" or len(todo) < 2:
        return [op.run(conn) for op in ops]
    raw = _dbapi(conn)
    dbapi = conn.dialect.loaded_dbapi
    cursors: list[Any] = []
    counts: dict[int, Any] = {}
    last_sql = ""
    try:
        with raw.pipeline():
            for index, op in enumerate(ops):
                if not op.rows:
                    continue
                compiled = op.statement._for(conn.dialect)  # noqa: SLF001 - this module's own
                last_sql = compiled.sql
                cursor = raw.cursor()
                cursors.append(cursor)
                # one statement for a few rows: one Bind/Execute instead of one per row
                folded = op.statement.folded(conn.dialect, op.rows)
                if folded is not None:
                    last_sql = folded[0]
                    cursor.execute(*folded)
                elif len(op.rows) == 1:
                    cursor.execute(compiled.sql, op.statement._params(compiled, op.rows[0]))  # noqa: SLF001
                else:
                    params = [op.statement._params(compiled, r) for r in op.rows]  # noqa: SLF001
                    cursor.executemany(compiled.sql, params)
                counts[index] = cursor
        return [int(counts[i].rowcount) if i in counts else 0 for i in range(len(ops))]
    except dbapi.Error as exc:
        raise DBAPIError.instance(last_sql, None, exc, dbapi.Error) from exc
    finally:
        for cursor in cursors:
            cursor.close()
