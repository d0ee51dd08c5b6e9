"""
The engine's schema migrations: Alembic, located from the installed package.

The Alembic environment ships inside the wheel as ``caseflow/_migrations`` (copied from
the repository's top-level ``migrations/`` by the build); in a source checkout it is
read from ``migrations/`` next to the package. The working directory never matters.

A database with no caseflow tables that an engine upgrades on first use is created at the
head schema directly (the tables' metadata, then stamped at head, in one transaction), as
Alembic recommends for new databases; an existing one is migrated revision by revision.
``caseflow db upgrade`` always runs the revisions. A test checks that both give the same
schema, table by table and index by index.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from caseflow.errors import StorageError
from caseflow.store.db import normalise_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

VERSION_TABLE = "cf_alembic_version"
_PACKAGE = Path(__file__).resolve().parent.parent  # caseflow/


def migrations_dir() -> Path:
    """Where the Alembic environment is: inside the package, or the source checkout."""
    for candidate in (_PACKAGE / "_migrations", _PACKAGE.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise StorageError("caseflow's migrations are missing from the installation")


def _config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision the code knows."""
    rev = _scripts().get_current_head()
    assert rev is not None  # noqa: S101 - there is always at least the initial revision
    return rev


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(_config()).get_heads())


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: caseflow's tables are not there)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE}
            ).get_current_revision()
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the schema version: {exc}") from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade in one transaction; concurrent upgrades on PostgreSQL queue on a lock."""
    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, lambda cfg: command.downgrade(cfg, revision))


def upgrade_sql(url: str, revision: str = "head", start: str | None = None) -> str:
    """The SQL an upgrade would run, without connecting (``caseflow db upgrade --sql``)."""
    config = _config(normalise_url(url))
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, f"{start}:{revision}" if start else revision, sql=True)
    return buffer.getvalue()


def _run(engine: Engine, action: object) -> None:
    config = _config()
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(74410517)"))
            config.attributes["connection"] = conn
            action(config)  # type: ignore[operator]
    except SQLAlchemyError as exc:
        raise StorageError(f"migration failed: {exc}") from exc


def create_head(engine: Engine) -> bool:
    """
    Create the head schema in a database without caseflow tables and stamp it at head,
    in one transaction (False, nothing done: the database has caseflow tables).
    """
    from sqlalchemy.schema import CreateIndex, CreateTable  # noqa: PLC0415

    from caseflow.store.tables import metadata  # noqa: PLC0415 - only for new databases

    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(74410517)"))
            found = set(inspect(conn).get_table_names())
            if VERSION_TABLE in found or found & set(metadata.tables):
                return False
            # one round trip on PostgreSQL: DDL statements one by one cost ~5 ms each
            ddl = [
                str(CreateTable(t).compile(dialect=conn.dialect)) for t in metadata.sorted_tables
            ]
            ddl += [
                str(CreateIndex(i).compile(dialect=conn.dialect))
                for t in metadata.sorted_tables
                for i in t.indexes
            ]
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(";\n".join(ddl))
            else:
                for statement in ddl:
                    conn.exec_driver_sql(statement)
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            context.stamp(_scripts(), "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"could not create the schema: {exc}") from exc
    return True


def ensure_current(engine: Engine, *, auto_upgrade: bool) -> None:
    """Upgrade (embedded SQLite) or refuse with a clear message when the schema is behind."""
    at = current(engine)
    want = head()
    if at == want:
        return
    if auto_upgrade:
        if at is None and create_head(engine):
            return
        upgrade(engine)
        return
    url = engine.url.render_as_string(hide_password=True)
    state = "has no caseflow tables" if at is None else f"is at schema revision {at}"
    raise StorageError(
        f"the database {url} {state}; this caseflow needs revision {want}. "
        f"Run: caseflow db upgrade --db '{url}'"
    )
