from __future__ import annotations

import hashlib
import textwrap
import threading
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import pg_schema_url
from migration_fixtures import history, rows

from caseflow import Actor, Engine, StorageError
from caseflow.errors import VoteError
from caseflow.store import schema as migrate
from caseflow.store.db import connect
from caseflow.store.tables import metadata
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CLERK = Actor("c", {"window_clerk"}, "a/b")
DATA = {"applicant": "a", "matter": "m"}


def tables(engine: sa.Engine) -> set[str]:
    return {t for t in sa.inspect(engine).get_table_names() if t.startswith("cf_")}


class TestMigrations:
    """Upgrading, downgrading and finding the migrations."""

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


# -- upgrading old databases ---------------------------------------------------------------

VERSIONS = migrate.migrations_dir() / "versions"
MANIFEST = VERSIONS / "SHIPPED.sha256"
VERSION_TABLE = "cf_alembic_version"
MINI_VOTE = textwrap.dedent("""\
    workflow: mini_vote
    version: 1
    calendar: cn
    roles: [proposer, clerk]
    data:
      type: object
      properties:
        representatives: {type: array, items: {type: string}}
    states:
      draft: {initial: true}
      voting:
        vote:
          electorate: {data: representatives}
          rule: {preset: representative_meeting}
          ballot: open
          closes_after: 3 days
          clerk_roles: [clerk]
          on_pass: adopt
          on_fail: reject
          on_no_quorum: no_quorum
      adopted: {final: true}
      rejected: {final: true}
    events:
      submit: {from: draft, to: voting, roles: [proposer]}
      adopt: {from: voting, to: adopted, automatic: true}
      reject: {from: voting, to: rejected, automatic: true}
      no_quorum: {from: voting, to: draft, automatic: true}
    """)

Schema = dict[str, dict[str, Any]]


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(migrate.migrations_dir()))
    script = ScriptDirectory.from_config(config)
    return [s.revision for s in reversed(list(script.walk_revisions()))]


EARLIER = _revisions()[:-1]


def schema_of(engine: sa.Engine) -> Schema:
    """Tables, columns (type, nullable, default), key, indexes, unique constraints, FKs."""
    inspector = sa.inspect(engine)
    dialect = engine.dialect
    found: Schema = {}
    for name in sorted(tables(engine) - {VERSION_TABLE}):
        key = inspector.get_pk_constraint(name)
        found[name] = {
            "column": {
                c["name"]: (c["type"].compile(dialect=dialect), c["nullable"], c.get("default"))
                for c in inspector.get_columns(name)
            },
            "primary key": {key["name"]: tuple(key["constrained_columns"])},
            "index": {
                i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
            },
            "unique constraint": {
                u["name"]: tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
            },
            "foreign key": {
                f["name"]: (
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                    (f.get("options") or {}).get("ondelete"),
                )
                for f in inspector.get_foreign_keys(name)
            },
        }
    return found


def differences(got: Schema, head: Schema) -> list[str]:
    """Table by table, index by index: each way ``got`` differs from ``head``, one a line."""
    found = []
    for table in sorted(set(got) | set(head)):
        if table not in head or table not in got:
            found.append(f"{table}: {'missing' if table not in got else 'not in head'}")
            continue
        for part, theirs in head[table].items():
            ours = got[table][part]
            found.extend(
                f"{table} {part} {name}: {ours.get(name)!r}, head has {theirs.get(name)!r}"
                for name in sorted(set(ours) | set(theirs), key=str)
                if ours.get(name) != theirs.get(name)
            )
    return found


@pytest.fixture(scope="session")
def head_schema(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Schema]:
    """The schema of a fresh database upgraded to head, of the URL's kind (built once)."""
    built: dict[str, Schema] = {}

    def make(url: str) -> Schema:
        kind = sa.make_url(url).get_backend_name()
        if kind not in built:
            urls = (
                iter([f"sqlite:///{tmp_path_factory.mktemp('head') / 'head.db'}"])
                if kind == "sqlite"
                else pg_schema_url()
            )
            engine = connect(next(urls))
            try:
                migrate.upgrade(engine)
                built[kind] = schema_of(engine)
            finally:
                engine.dispose()
                for _ in urls:  # the PostgreSQL schema is dropped
                    pass
        return built[kind]

    return make


@pytest.fixture
def mini_vote(tmp_path: Path) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "mini.yaml").write_text(MINI_VOTE, encoding="utf-8")
    return folder


def _expected(written: dict[str, list[dict[str, Any]]], table: str, columns: list[str]) -> list:
    return sorted(
        (tuple(rows.normalise(r.get(c)) for c in columns) for r in written.get(table, [])),
        key=repr,
    )


def everything(conn: sa.Connection) -> dict[str, list]:
    return {t: rows.read(conn, t, list(c.c.keys())) for t, c in rows.reflect(conn).tables.items()}


def upgrade_with_data(engine: sa.Engine, head: Schema, folder: Path) -> None:
    """
    Write rows through the schema the database has, upgrade to head, and check: the
    schema is head's, every row is still there, the 0006 backfills, the engine reads it.
    """
    with engine.begin() as conn:
        before = rows.reflect(conn)
        written = rows.fill(conn)
        for table, seeded in rows.seed_vote(conn).items():
            written.setdefault(table, []).extend(seeded)
    migrate.upgrade(engine)
    assert migrate.head() == migrate.current(engine)
    unlike = differences(schema_of(engine), head)
    assert not unlike, "unlike a fresh head database:\n" + "\n".join(unlike)

    with engine.connect() as conn:
        after = sa.inspect(conn)
        renumbered = "version" not in before.tables["cf_history"].c  # 0007: seq per case
        for table in before.tables:
            kept = {c["name"] for c in after.get_columns(table)}
            columns = [c.name for c in before.tables[table].columns if c.name in kept]
            if renumbered and table == "cf_history":
                columns.remove("seq")
            assert _expected(written, table, columns) == rows.read(conn, table, columns), table
        if renumbered:  # the old seq (the case version) moved to `version`; seq counts lines
            old = sorted((r["id"], r["case_id"], r["seq"]) for r in written["cf_history"])
            firsts: dict[str, int] = {}
            expected = []
            for line_id, case_id, seq in old:
                firsts[case_id] = firsts.get(case_id, 0) + 1
                expected.append((line_id, seq, firsts[case_id]))
            assert sorted(expected, key=repr) == rows.read(
                conn, "cf_history", ["id", "version", "seq"]
            )
        old_votes = before.tables.get("cf_votes")
        if old_votes is not None and "electorate" in old_votes.c:  # 0003 as shipped
            shipped = written["cf_votes"]
            voters = sorted(((r["id"], v) for r in shipped for v in r["electorate"]), key=repr)
            sizes = sorted(((r["id"], len(r["electorate"])) for r in shipped), key=repr)
            assert voters == rows.read(conn, "cf_vote_electorate", ["vote_id", "voter"])
            assert sizes == rows.read(conn, "cf_votes", ["id", "electorate_size"])
        old_items = before.tables.get("cf_work_items")
        if old_items is not None and "round" not in old_items.c:  # 0005 as shipped
            items = written["cf_work_items"]
            assert [(1,)] * len(items) == rows.read(conn, "cf_work_items", ["round"])

    with Engine(
        engine.url.render_as_string(hide_password=False),
        workflows=folder,
        clock=MovableClock("2026-05-06T10:00"),
    ) as eng:
        assert "voting" == eng.get(rows.VOTE_CASE).state
        if old_votes is None:
            return
        view = eng.vote(rows.VOTE_CASE)
        assert (5, 2, 1, 1) == (view.electorate, view.present, view.yes, view.no)
        eng.cast_ballot(rows.VOTE_CASE, "yes", actor=Actor("rep02", {"representative"}, "zj"))
        with pytest.raises(VoteError, match="not in the electorate"):
            eng.cast_ballot(rows.VOTE_CASE, "yes", actor=Actor("rep99", {"representative"}, "zj"))
        assert (3, 2) == (eng.vote(rows.VOTE_CASE).present, eng.vote(rows.VOTE_CASE).yes)
        if before.tables.get("cf_work_items") is not None:
            items = eng.work_items(rows.VOTE_CASE)
            assert [("voting", 1, "zj/lishui/liandu/village/committee")] == [
                (w.state, w.round, w.item) for w in items
            ]


class TestNewDatabase:
    """An engine creates a new database at head directly (the tables' metadata, stamped):
    it must be the very schema the revisions build, and later revisions apply to it."""

    def test_created_head_is_the_migrated_head(self, db_url, head_schema):
        engine = connect(db_url)
        try:
            assert migrate.create_head(engine)
            assert migrate.current(engine) == migrate.head()
            assert schema_of(engine) == head_schema(db_url)
            assert not migrate.create_head(engine)  # never twice, never over tables
        finally:
            engine.dispose()

    def test_an_engine_on_an_earlier_revision_still_migrates(self, db_url, head_schema):
        engine = connect(db_url)
        try:
            migrate.upgrade(engine, EARLIER[-1])  # the revision before head
            assert not migrate.create_head(engine)
            migrate.ensure_current(engine, auto_upgrade=True)
            assert migrate.current(engine) == migrate.head()
            assert schema_of(engine) == head_schema(db_url)
        finally:
            engine.dispose()


class TestUpgradeFromEveryRevision:
    """A database at any earlier revision of today's files, holding rows, upgrades to head."""

    @pytest.mark.parametrize("revision", EARLIER)
    def test_upgrade_keeps_rows_and_reaches_head(self, db_url, revision, head_schema, mini_vote):
        """Same tables, columns, keys, indexes and constraints as a fresh head; no row lost."""
        engine = connect(db_url)
        try:
            migrate.upgrade(engine, revision)
            upgrade_with_data(engine, head_schema(db_url), mini_vote)
        finally:
            engine.dispose()

    def test_repair_changes_nothing_on_todays_schema(self, db_url):
        """0006 on a database built from today's files: reflection only, no DDL, no DML."""
        engine = connect(db_url)
        try:
            migrate.upgrade(engine, "0005")
            with engine.begin() as conn:
                rows.fill(conn)
            at_0005 = schema_of(engine)
            statements: list[str] = []

            def record(_conn, _cursor, statement, *_args) -> None:
                statements.append(statement)

            sa.event.listen(engine, "before_cursor_execute", record)
            migrate.upgrade(engine, "0006")
            sa.event.remove(engine, "before_cursor_execute", record)
            written = [
                s
                for s in statements
                if not s.lstrip().upper().startswith(("SELECT", "PRAGMA", "WITH", "BEGIN"))
                and VERSION_TABLE not in s
            ]
            assert [] == written
            assert at_0005 == schema_of(engine)
        finally:
            engine.dispose()


class TestShippedDatabases:
    """Databases built by the migration files as they shipped, before they were rewritten."""

    @pytest.mark.parametrize("commit", list(history.HISTORY))
    def test_shipped_database_upgrades_to_head(self, db_url, commit, head_schema, mini_vote):
        """Repaired by 0006: head's schema, rows kept, electorate and rounds backfilled."""
        engine = connect(db_url)
        try:
            history.build(engine, commit)
            upgrade_with_data(engine, head_schema(db_url), mini_vote)
        finally:
            engine.dispose()

    def test_shipped_0003_lacks_what_the_issue_says(self, db_url):
        """The reproduction is faithful: 0003 as shipped, upgraded by 0004/0005 only, breaks."""
        engine = connect(db_url)
        try:
            history.build(engine, "9b1de2c")
            migrate.upgrade(engine, "0005")
            inspector = sa.inspect(engine)
            assert "cf_vote_electorate" not in inspector.get_table_names()
            assert "electorate_size" not in {c["name"] for c in inspector.get_columns("cf_votes")}
            indexes = {
                i["name"]
                for t in ("cf_cases", "cf_timers", "cf_clocks")
                for i in inspector.get_indexes(t)
            }
            missing = {
                "ix_cf_cases_created_at_id",
                "ix_cf_timers_status_due_at_id",
                "ix_cf_clocks_phase_due_at_case_id",
                "ix_cf_clocks_phase_warn_at",
            }
            assert set() == missing & indexes
        finally:
            engine.dispose()

    def test_repaired_database_passes_through_again(self, db_url, head_schema):
        """Down to 0005 (0006 undoes nothing) and up again: the repair finds nothing to do."""
        engine = connect(db_url)
        try:
            history.build(engine, "01709d0")
            with engine.begin() as conn:
                rows.fill(conn)
            migrate.upgrade(engine)
            with engine.connect() as conn:
                data = everything(conn)
            migrate.downgrade(engine, "0005")
            migrate.upgrade(engine)
            unlike = differences(schema_of(engine), head_schema(db_url))
            assert not unlike, "\n".join(unlike)
            with engine.connect() as conn:
                assert data == everything(conn)
        finally:
            engine.dispose()

    def test_offline_sql_says_the_repair_needs_a_database(self):
        """--sql cannot inspect: 0006 emits no statement, only a comment saying so."""
        sql = migrate.upgrade_sql("postgresql://u@nowhere/db", "0006", start="0005")
        assert "0006 repairs databases" in sql
        assert "ALTER" not in sql
        assert "CREATE" not in sql


class TestHeadMatchesMetadata:
    """The migrated head and caseflow.store.tables agree (Alembic's autogenerate sees nothing)."""

    def test_autogenerate_finds_no_difference(self, db_url):
        """No table, column, type, default or index differs."""
        engine = connect(db_url)
        try:
            migrate.upgrade(engine)
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn,
                    opts={
                        "compare_type": True,
                        "compare_server_default": True,
                        "version_table": VERSION_TABLE,
                    },
                )
                assert [] == compare_metadata(context, metadata)
        finally:
            engine.dispose()


def _sha256(path: Path) -> str:
    """Of the file with LF line ends (a CRLF checkout hashes the same)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def _manifest() -> dict[str, str]:
    entries = {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        entries[name.lstrip("*")] = digest
    return entries


class TestLandedMigrationsUnchanged:
    """A landed migration is never edited: databases built from it exist."""

    def test_landed_files_keep_their_hash(self):
        """Each file in SHIPPED.sha256 is byte for byte what landed."""
        for name, digest in _manifest().items():
            path = VERSIONS / name
            assert path.is_file(), f"{name} landed and was removed: put it back"
            assert digest == _sha256(path), (
                f"migrations/versions/{name} was edited after it landed. Databases built "
                "from the landed copy exist and will never run it again: restore the file "
                "and add a new revision instead."
            )

    def test_every_revision_is_in_the_manifest(self):
        """A new revision is recorded when it lands (sha256sum FILE >> SHIPPED.sha256)."""
        listed = set(_manifest())
        for path in sorted(VERSIONS.glob("*.py")):
            assert path.name in listed, (
                f"migrations/versions/{path.name} is not in SHIPPED.sha256: add it with "
                f"`cd migrations/versions && sha256sum {path.name} >> SHIPPED.sha256`"
            )
