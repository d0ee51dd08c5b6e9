from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from caseflow import Actor, Engine, StorageError, migrate
from caseflow.store.db import connect
from caseflow.store.tables import metadata

CLERK = Actor("c", {"window_clerk"}, "a/b")
DATA = {"applicant": "a", "matter": "m"}


def tables(engine: sa.Engine) -> set[str]:
    return {t for t in sa.inspect(engine).get_table_names() if t.startswith("cf_")}


class TestMigrations:
    def test_exactly_one_head(self):
        """The migration history never forks."""
        assert 1 == len(migrate.heads())

    def test_migrated_schema_matches_the_code(self, db_url: str):
        """Upgrading to head creates exactly the tables, columns and indexes the code declares."""
        engine = connect(db_url)
        migrate.upgrade(engine)
        inspector = sa.inspect(engine)
        assert {t.name for t in metadata.sorted_tables} | {"cf_alembic_version"} == tables(engine)
        for table in metadata.sorted_tables:
            assert {c.name for c in table.columns} == {
                c["name"] for c in inspector.get_columns(table.name)
            }
            assert {i.name for i in table.indexes} <= {
                i["name"] for i in inspector.get_indexes(table.name)
            }
        engine.dispose()

    def test_down_and_up_with_data(self, db_url: str):
        """Downgrade to base and back works on a database that holds cases."""
        with Engine(db_url, auto_upgrade=True) as eng:
            eng.start("administrative_approval", data=DATA, actor=CLERK)
            engine = eng.db
            migrate.downgrade(engine, "base")
            assert {"cf_alembic_version"} == tables(engine)
            assert migrate.current(engine) is None
            migrate.upgrade(engine)
            assert migrate.head() == migrate.current(engine)
        with Engine(db_url) as again:
            case = again.start("administrative_approval", data=DATA, actor=CLERK)
            assert "submitted" == again.get(case.id).state

    def test_upgrade_twice_is_harmless(self, db_url: str):
        """A second upgrade, sequential or concurrent, changes nothing and loses nothing."""
        with Engine(db_url, auto_upgrade=True) as eng:
            case = eng.start("administrative_approval", data=DATA, actor=CLERK)
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    migrate.upgrade(eng.db)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=run) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [] == errors
            migrate.upgrade(eng.db)
            assert case == eng.get(case.id)

    def test_postgres_is_not_upgraded_silently(self, pg_url: str):
        """An engine on a PostgreSQL without the schema refuses with the command to run."""
        with pytest.raises(StorageError, match="caseflow db upgrade"):
            Engine(pg_url)

    def test_sqlite_is_upgraded_on_first_use(self, tmp_path):
        """The embedded database needs no setup step."""
        with Engine(f"sqlite:///{tmp_path / 'x.db'}") as eng:
            assert migrate.head() == migrate.current(eng.db)

    def test_offline_sql(self):
        """--sql renders the DDL without a database."""
        sql = migrate.upgrade_sql("postgresql://u@nowhere/db")
        assert "CREATE TABLE cf_cases" in sql
        assert "cf_alembic_version" in sql

    def test_migrations_located_without_working_directory(self, tmp_path, monkeypatch):
        """The Alembic environment is found from the package, wherever the command runs."""
        monkeypatch.chdir(tmp_path)
        assert (migrate.migrations_dir() / "env.py").is_file()
        assert migrate.head()
