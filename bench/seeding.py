"""
What the database benchmarks (``bench_cases_list.py``, ``bench_overdue.py``,
``bench_worklist.py``) share: a fresh database per run, the seeded columns, bulk loading
(SQLite ``executemany``, PostgreSQL ``COPY``) and ``ANALYZE``, capturing and explaining
the statements sent, timing, and the machine description printed first.

Not a benchmark itself: the scripts import it as ``seeding`` (``python bench/bench_X.py``
puts ``bench/`` first on ``sys.path``). Configure structlog before importing it, as the
scripts do, since it imports caseflow.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import os
import platform
import secrets
import shutil
import sqlite3
import tempfile
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event

from caseflow.definitions.registry import Registry, shipped_workflows_dir
from caseflow.store import tables as cf_tables

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from sqlalchemy.engine import Engine as SAEngine

    #: One table's rows of a chunk: (table, columns, rows in the order of the columns).
    TableRows = tuple[str, Sequence[str], Sequence[tuple[Any, ...]]]

PG_BASE_URL = os.environ.get(
    "CASEFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TZ_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai (no DST): local midnight = 16:00 UTC

# the columns seeded, in the order of the generated tuples (any other column, e.g. one
# added later, gets its default)
CASE_COLUMNS = [
    "id",
    "workflow",
    "workflow_version",
    "state",
    "status",
    "data",
    "org",
    "business_key",
    "row_version",
    "created_at",
    "updated_at",
    "escalation_level",
]
CLOCK_COLUMNS = [
    "case_id",
    "name",
    "phase",
    "started_at",
    "pauses",
    "extensions",
    "due_at",
    "last_day",
    "provisional",
    "warn_at",
    "warned_at",
    "breached_at",
    "escalation_step",
    "stopped_at",
]
assert set(CASE_COLUMNS) <= set(cf_tables.cases.c.keys())
assert set(CLOCK_COLUMNS) <= set(cf_tables.clocks.c.keys())


def shipped_version(workflow: str) -> int:
    """The version of a shipped workflow: seeded rows must name one the engine knows."""
    version: int = (
        Registry.from_paths([shipped_workflows_dir() / f"{workflow}.yaml"]).get(workflow).version
    )
    return version


def day_end(local_day: dt.date) -> dt.datetime:
    """The end of a local day (Asia/Shanghai) as a UTC instant: the engine's due times."""
    return dt.datetime(local_day.year, local_day.month, local_day.day, 16, tzinfo=dt.UTC)


# --------------------------------------------------------------------------------------
# databases
# --------------------------------------------------------------------------------------


def pg_admin(pg_url: str = PG_BASE_URL) -> SAEngine:
    return create_engine(pg_url, isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def database(kind: str, name: str, schema_prefix: str, pg_url: str = PG_BASE_URL) -> Iterator[str]:
    """
    A fresh empty database of ``kind`` (``sqlite``: a file in a temporary directory
    ``caseflow-bench-<name>-*``; else a PostgreSQL schema ``<schema_prefix>_<pid>_<hex>``
    reached with ``options=-csearch_path=<schema>``); yields its URL, removes it afterwards.
    """
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"caseflow-bench-{name}-")
        try:
            yield f"sqlite:///{folder}/cases.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"{schema_prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = pg_admin(pg_url)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in pg_url else "?"
            yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        admin.dispose()


# --------------------------------------------------------------------------------------
# seeding
# --------------------------------------------------------------------------------------


def quoted_names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{col}"' for col in columns)


def bulk_load(
    db: SAEngine, chunks: Iterable[Sequence[TableRows]], *, pragmas: Sequence[str] = ()
) -> None:
    """
    Each chunk's rows in one transaction on the driver connection: SQLite ``executemany``
    (after ``PRAGMA synchronous=OFF`` and ``pragmas`` on this connection), PostgreSQL
    ``COPY ... FROM STDIN``. ``chunks`` is read lazily, one chunk at a time.
    """
    sqlite = db.dialect.name == "sqlite"
    raw = db.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if sqlite:
            for pragma in ("synchronous=OFF", *pragmas):
                driver.execute(f"PRAGMA {pragma}")
        for chunk in chunks:
            if sqlite:
                driver.execute("BEGIN")
                for table, columns, rows in chunk:
                    marks = ", ".join("?" * len(columns))
                    driver.executemany(
                        f"INSERT INTO {table} ({quoted_names(columns)}) VALUES ({marks})", rows
                    )
                driver.execute("COMMIT")
            else:
                with driver.cursor() as cur:
                    for table, columns, rows in chunk:
                        with cur.copy(f"COPY {table} ({quoted_names(columns)}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                driver.commit()
    finally:
        raw.close()


def analyze(db: SAEngine, tables: Sequence[str] = ("cf_cases", "cf_clocks")) -> None:
    """Fresh planner statistics: SQLite ``ANALYZE`` (and a WAL checkpoint), PostgreSQL
    ``VACUUM ANALYZE`` of ``tables``."""
    if db.dialect.name == "sqlite":  # on the driver connection: outside any transaction
        raw = db.raw_connection()
        try:
            driver: Any = raw.driver_connection
            driver.execute("ANALYZE")
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


# --------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def capture(db: SAEngine) -> Iterator[list[tuple[str, Any]]]:
    """Statements and driver parameters sent while the block runs (an echo)."""
    seen: list[tuple[str, Any]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", on_execute)


def explain(db: SAEngine, statement: str, parameters: Any) -> list[str]:
    """The plan, verbatim: ``EXPLAIN QUERY PLAN`` (as a tree) on SQLite, ``EXPLAIN
    (ANALYZE, BUFFERS)`` on PostgreSQL."""
    pg = db.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
    with db.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        conn.rollback()
    if pg:
        return [r[0] for r in rows]
    depth: dict[int, int] = {0: 0}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * (depth[node] - 1) + detail)
    return lines


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[list[float], Any]:
    """``fn`` ``warmup`` times untimed (compiled statements, caches), then ``repeat`` times
    timed: the milliseconds of each, and the last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return ms, result


# --------------------------------------------------------------------------------------
# the machine
# --------------------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def machine_info(
    with_pg: bool, pg_url: str = PG_BASE_URL, *, pg_may_be_down: bool = False
) -> list[str]:
    """CPUs, platform, versions and (``with_pg``) the PostgreSQL server's settings; an
    unreachable server is a line saying so if ``pg_may_be_down``, else an error."""
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"nproc: {ncpu}; {platform.platform()}",
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        + ", ".join(f"{d} {_version(d)}" for d in ("SQLAlchemy", "psycopg", "caseflow")),
    ]
    if with_pg:
        admin = pg_admin(pg_url)
        try:
            with admin.connect() as conn:
                version = conn.exec_driver_sql("SHOW server_version").scalar_one()
                work_mem = conn.exec_driver_sql("SHOW work_mem").scalar_one()
                buffers = conn.exec_driver_sql("SHOW shared_buffers").scalar_one()
            lines.append(f"PostgreSQL {version} (work_mem={work_mem}, shared_buffers={buffers})")
        except Exception as exc:
            if not pg_may_be_down:
                raise
            lines.append(f"PostgreSQL: unreachable ({exc.__class__.__name__})")
        finally:
            admin.dispose()
    return lines
