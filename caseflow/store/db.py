"""
Connecting: SQLite (the embedded default) and PostgreSQL (psycopg 3) behind one API.

SQLite gets WAL, ``synchronous=NORMAL``, foreign keys and a busy timeout on every
connection, and write transactions start with ``BEGIN IMMEDIATE`` so two writers queue
instead of failing mid-transaction. PostgreSQL URLs without a driver get psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError

from caseflow.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Iterator

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


class ConstraintRefused(StorageError):  # noqa: N818 - named after what it reports
    """
    A write broke a constraint: most often a unique key (a business key, an idempotency
    key, a row another writer inserted first), else a foreign key or NOT NULL. The
    store's word for the driver's integrity error, so the pipeline can decide between
    "duplicate" and "retry" without knowing the driver; ``detail`` is the driver's text.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Database:
    """
    One database: write transactions and read-only snapshots, errors translated.

    ``write()`` is one transaction (``BEGIN IMMEDIATE`` on SQLite); ``read()`` a
    read-only one. A database error that is not about the data (the server is gone, the
    file is locked) becomes :class:`~caseflow.errors.StorageError`; a constraint that
    said no (a unique key, mostly), :class:`ConstraintRefused`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError as exc:
            raise ConstraintRefused(str(exc.orig)) from exc
        except OperationalError as exc:
            raise StorageError(f"database error: {exc.orig}") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{READ_ONLY: True})
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StorageError(f"database error: {exc.orig}") from exc

    def dispose(self) -> None:
        self.engine.dispose()


SECRET_ENV = "CASEFLOW_BALLOT_SECRET"  # noqa: S105 - the name of a variable, not a secret


def resolve_ballot_secret(given: str | bytes | None, url: Any) -> bytes | None:
    """
    The key sealing secret ballots: the one given, else ``CASEFLOW_BALLOT_SECRET``, else
    for an SQLite file a random secret kept in ``<file>.ballot-secret`` (created once,
    readable by its owner only), else for an in-memory SQLite one for this process.
    None on PostgreSQL without one: there the operator must configure it.
    """
    from caseflow.sealing import secret_key  # noqa: PLC0415 - keeps connect() light

    if given is None:
        given = os.environ.get(SECRET_ENV) or None
    if given is not None:
        return secret_key(given)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return secret_key(secrets.token_bytes(32))
    path = Path(database).expanduser()
    key_file = path.with_name(path.name + ".ballot-secret")
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return secret_key(key_file.read_bytes())
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_hex(32).encode())
    return secret_key(key_file.read_bytes())
