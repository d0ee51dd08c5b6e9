"""``caseflow db ...``: the engine's schema."""

from __future__ import annotations

import re
from pathlib import Path

import click

from caseflow.cli.common import db_option, group, require_database, sqlite_file

#: Revisions Alembic resolves only against a database: ``+1``, ``0003+2``, ``head-1``.
_RELATIVE = re.compile(r"^(\w+)?[+-]\d+$")


@group("db")
def db_group() -> None:
    """The database schema (Alembic migrations shipped with caseflow)."""


def _check_revision(revision: str) -> None:
    """Refuse a revision the shipped migrations do not have, before touching a database."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from caseflow.store import schema as migrate

    if _RELATIVE.match(revision):
        return
    try:
        ScriptDirectory(str(migrate.migrations_dir())).get_revisions(revision)
    except CommandError:
        raise click.BadParameter(
            f"unknown revision {revision!r} (the newest is {migrate.head()}; "
            "`caseflow db current` shows the database's)",
            param_hint="'-r' / '--revision'",
        ) from None


@db_group.command()
@db_option
@click.option("-r", "--revision", default="head", show_default=True)
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
def upgrade(db: str, revision: str, sql: bool) -> None:
    """Upgrade the schema to REVISION (default: the newest); creates an SQLite file."""
    from alembic.util import CommandError

    from caseflow.cli.render import clean
    from caseflow.store import schema as migrate
    from caseflow.store.db import connect

    _check_revision(revision)
    if sql:
        click.echo(migrate.upgrade_sql(db, revision))
        return
    file = sqlite_file(db)
    new_file = file is not None and not file.exists()
    try:
        engine = connect(db)
        try:
            before = migrate.current(engine)
            migrate.upgrade(engine, revision)
            after = migrate.current(engine)
        finally:
            engine.dispose()
    except Exception as exc:
        if new_file and file is not None:  # leave nothing behind but a working database
            for leftover in (file, Path(f"{file}-wal"), Path(f"{file}-shm")):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, CommandError):  # e.g. a relative revision past the newest
            raise click.BadParameter(clean(exc), param_hint="'-r' / '--revision'") from None
        raise
    if before != after:
        click.echo(f"schema upgraded: {before or '(empty)'} -> {after}")
    elif after == migrate.head() or revision in ("head", "heads"):
        click.echo(f"schema already current ({after})")
    else:
        click.echo(f"schema already at {after}, past {clean(revision)}: nothing to upgrade")


@db_group.command()
@db_option
def current(db: str) -> None:
    """Print the schema revision of the database and the newest one."""
    from caseflow.store import schema as migrate
    from caseflow.store.db import connect

    require_database(db)
    engine = connect(db)
    try:
        at = migrate.current(engine)
    finally:
        engine.dispose()
    head = migrate.head()
    status = "up to date" if at == head else "behind: run `caseflow db upgrade`"
    click.echo(f"{at or '(no caseflow tables)'} (head {head}, {status})")
