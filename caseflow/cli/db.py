"""``caseflow db ...``: the engine's schema."""

from __future__ import annotations

import click

from caseflow import migrate
from caseflow.cli.common import db_option
from caseflow.store.db import connect


@click.group(name="db")
def db_group() -> None:
    """The database schema (Alembic migrations shipped with caseflow)."""


@db_group.command()
@db_option
@click.option("-r", "--revision", default="head", show_default=True)
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
def upgrade(db: str, revision: str, sql: bool) -> None:
    """Upgrade the schema to REVISION (default: the newest)."""
    if sql:
        click.echo(migrate.upgrade_sql(db, revision))
        return
    engine = connect(db)
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine, revision)
        click.echo(f"schema upgraded: {before or '(empty)'} -> {migrate.current(engine)}")
    finally:
        engine.dispose()


@db_group.command()
@db_option
def current(db: str) -> None:
    """Print the schema revision of the database and the newest one."""
    engine = connect(db)
    try:
        at = migrate.current(engine)
    finally:
        engine.dispose()
    head = migrate.head()
    status = "up to date" if at == head else "behind: run `caseflow db upgrade`"
    click.echo(f"{at or '(no caseflow tables)'} (head {head}, {status})")
