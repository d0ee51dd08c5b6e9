"""
Connecting: SQLite (the embedded default) and PostgreSQL (psycopg 3) behind one API.

SQLite gets WAL, ``synchronous=NORMAL``, foreign keys and a busy timeout on every
connection, and write transactions start with ``BEGIN IMMEDIATE`` so two writers queue
instead of failing mid-transaction. PostgreSQL URLs without a driver get psycopg 3.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from caseflow.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

DEFAULT_URL = "sqlite:///caseflow.db"
READ_ONLY = "caseflow_read_only"


def normalise_url(url: str) -> str:
    """Accept a plain path (``cases.db``) as SQLite; default PostgreSQL to psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def connect(url: str, **kwargs: Any) -> Engine:
    """Create the SQLAlchemy engine for ``url`` with caseflow's connection settings."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"invalid database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        _sqlite_setup(engine)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=False, **kwargs)
    except NoSuchModuleError as exc:
        raise StorageError(f"no driver for {parsed.drivername!r}: {exc}") from None


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        with contextlib.suppress(Exception):  # an in-memory database has no WAL
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
