"""Repair databases built from migration files that were rewritten after they shipped.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Four landed revisions were edited in place. A database created from an earlier copy of
them and upgraded since is missing what the edits added, and has what they removed:

- 0001 (as of 66a2279; edited in 298dab4 and 193f0d6): the timer claim index was
  ``ix_cf_timers_status_due_at (status, due_at)``, now
  ``ix_cf_timers_status_due_at_id (status, due_at, id)``; ``ix_cf_cases_created_at_id
  (created_at, id)`` did not exist.
- 0002 (as of 633db75; edited in 298dab4 and 193f0d6): the overdue index was
  ``ix_cf_clocks_phase_due_at (phase, due_at)``, now
  ``ix_cf_clocks_phase_due_at_case_id (phase, due_at, case_id)``;
  ``ix_cf_clocks_phase_warn_at (phase, warn_at)`` did not exist.
- 0003 (as of 9b1de2c; edited in 888ab05): ``cf_votes.electorate`` held the electorate
  as a JSON list of voters; now ``cf_votes.electorate_size`` holds its size and the
  table ``cf_vote_electorate (vote_id, voter)`` its members.
- 0005 (as of 01709d0; edited in 010c374): ``cf_work_items`` had no ``round`` and its
  primary key was ``(case_id, state, item)``; now ``(case_id, state, round, item)``.

(0004 was edited too, in 298dab4, but only reformatted: its schema never changed.)

This revision reads the live schema and applies only what is missing, so a database
built from today's files passes through it unchanged, and so does any mixture (a
database created by one copy of the files and upgraded by another). The target is
written out here, frozen: it is the schema of 0005 as that file reads today, not
``caseflow.store.tables``, which later revisions will change.

Landed migrations are never edited: ``tests/test_migrations.py`` checks every file here
against ``SHIPPED.sha256``. Change the schema with a new revision.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Iterator

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# Every index of the schema at head (none of them unique): name -> (table, columns).
INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ix_cf_cases_workflow_state": ("cf_cases", ("workflow", "state")),
    "ix_cf_cases_org": ("cf_cases", ("org",)),
    "ix_cf_cases_created_at_id": ("cf_cases", ("created_at", "id")),
    "ix_cf_history_case_id_seq": ("cf_history", ("case_id", "seq")),
    "ix_cf_timers_status_due_at_id": ("cf_timers", ("status", "due_at", "id")),
    "ix_cf_timers_case_id": ("cf_timers", ("case_id",)),
    "ix_cf_clocks_phase_due_at_case_id": ("cf_clocks", ("phase", "due_at", "case_id")),
    "ix_cf_clocks_phase_warn_at": ("cf_clocks", ("phase", "warn_at")),
    "ix_cf_incidents_status_case_id": ("cf_incidents", ("status", "case_id")),
}
# Indexes the shipped files created and today's do not (replaced by the wider ones above).
OBSOLETE_INDEXES = {
    "ix_cf_timers_status_due_at": "cf_timers",
    "ix_cf_clocks_phase_due_at": "cf_clocks",
}
WORK_ITEMS_KEY = ["case_id", "state", "round", "item"]
CHUNK = 5000


def upgrade() -> None:
    if context.is_offline_mode():
        # --sql has no database to inspect. Today's files already build the head schema,
        # so a database created from them needs nothing here; an older one must be
        # upgraded online (caseflow db upgrade --db URL) to be repaired.
        op.get_context().impl.static_output(
            "-- 0006 repairs databases built from rewritten migrations by inspecting them;"
            " it emits no SQL offline. Upgrade such a database online: caseflow db upgrade"
        )
        return
    bind = op.get_bind()
    _votes(bind)
    _work_items(bind)
    _indexes(bind)


def downgrade() -> None:
    """
    Nothing to undo. Below 0006 is 0005 as its file reads today, and that is the schema
    this revision brings a database to; putting back what the shipped copies had (the
    JSON electorate, the narrower indexes, work items without rounds) would rebuild the
    very schemas the code cannot run on.
    """


def _votes(bind: sa.Connection) -> None:
    """0003 as shipped: the electorate as JSON in cf_votes, no cf_vote_electorate."""
    inspector = sa.inspect(bind)
    if "cf_vote_electorate" not in inspector.get_table_names():
        op.create_table(
            "cf_vote_electorate",
            sa.Column("vote_id", BigId, nullable=False),
            sa.Column("voter", sa.String(200), nullable=False),
            sa.PrimaryKeyConstraint("vote_id", "voter", name="pk_cf_vote_electorate"),
            sa.ForeignKeyConstraint(
                ["vote_id"],
                ["cf_votes.id"],
                name="fk_cf_vote_electorate_vote_id_cf_votes",
                ondelete="CASCADE",
            ),
        )
    columns = {c["name"]: c for c in inspector.get_columns("cf_votes")}
    if "electorate" in columns:
        _copy_electorate(bind)
    if "electorate_size" not in columns:
        op.add_column("cf_votes", sa.Column("electorate_size", sa.Integer, nullable=True))
        votes = sa.table("cf_votes", sa.column("id"), sa.column("electorate_size"))
        members = sa.table("cf_vote_electorate", sa.column("vote_id"))
        size = (
            sa.select(sa.func.count())
            .select_from(members)
            .where(members.c.vote_id == votes.c.id)
            .scalar_subquery()
        )
        bind.execute(sa.update(votes).values(electorate_size=size))
        nullable = True
    else:
        nullable = bool(columns["electorate_size"]["nullable"])
    if "electorate" in columns or nullable:
        with _children_kept(bind, "cf_votes"), op.batch_alter_table("cf_votes") as batch:
            batch.alter_column("electorate_size", existing_type=sa.Integer, nullable=False)
            if "electorate" in columns:
                batch.drop_column("electorate")


def _copy_electorate(bind: sa.Connection) -> None:
    """One cf_vote_electorate row per voter of each vote's JSON list (those not there yet)."""
    votes = sa.table("cf_votes", sa.column("id", BigId), sa.column("electorate", Json))
    members = sa.table("cf_vote_electorate", sa.column("vote_id"), sa.column("voter"))
    present = {(r[0], r[1]) for r in bind.execute(sa.select(members.c.vote_id, members.c.voter))}
    rows: list[dict[str, Any]] = []
    for vote_id, electorate in bind.execute(
        sa.select(votes.c.id, votes.c.electorate).order_by(votes.c.id)
    ).all():
        if not isinstance(electorate, list) or not all(isinstance(v, str) for v in electorate):
            msg = f"cf_votes id {vote_id}: the electorate is not a list of voters: {electorate!r}"
            raise TypeError(msg)
        # dict.fromkeys: each voter once (the engine refused a doubled voter anyway)
        rows.extend(
            {"vote_id": vote_id, "voter": voter}
            for voter in dict.fromkeys(electorate)
            if (vote_id, voter) not in present
        )
        if len(rows) >= CHUNK:
            bind.execute(sa.insert(members), rows)
            rows = []
    if rows:
        bind.execute(sa.insert(members), rows)


def _work_items(bind: sa.Connection) -> None:
    """0005 as shipped: no round; the key (case_id, state, item)."""
    inspector = sa.inspect(bind)
    columns = {c["name"]: c for c in inspector.get_columns("cf_work_items")}
    key = inspector.get_pk_constraint("cf_work_items")
    if "round" not in columns:
        op.add_column("cf_work_items", sa.Column("round", sa.Integer, nullable=True))
        # Before rounds, entering a state again replaced its items: every stored item is
        # the only round its state had, the first.
        items = sa.table("cf_work_items", sa.column("round"))
        bind.execute(sa.update(items).values(round=1))
        nullable = True
    else:
        nullable = bool(columns["round"]["nullable"])
    rekey = list(key["constrained_columns"]) != WORK_ITEMS_KEY
    if nullable or rekey:
        with op.batch_alter_table("cf_work_items") as batch:
            batch.alter_column("round", existing_type=sa.Integer, nullable=False)
            if rekey:
                batch.drop_constraint(key["name"] or "pk_cf_work_items", type_="primary")
                batch.create_primary_key("pk_cf_work_items", WORK_ITEMS_KEY)


def _indexes(bind: sa.Connection) -> None:
    """The indexes 0001/0002 gained after they shipped; the ones they replaced go."""
    for name, table in OBSOLETE_INDEXES.items():
        if name in {i["name"] for i in sa.inspect(bind).get_indexes(table)}:
            op.drop_index(name, table_name=table)
    for name, (table, columns) in INDEXES.items():
        have = {i["name"]: tuple(i["column_names"]) for i in sa.inspect(bind).get_indexes(table)}
        if have.get(name) == columns:
            continue
        if name in have:  # same name, other columns: rebuild it as head has it
            op.drop_index(name, table_name=table)
        op.create_index(name, table, list(columns))


@contextlib.contextmanager
def _children_kept(bind: sa.Connection, parent: str) -> Iterator[None]:
    """
    Keep the rows of the tables that reference ``parent`` across a SQLite batch rebuild.

    caseflow runs SQLite with ``PRAGMA foreign_keys=ON``, which cannot be switched off
    inside the migration's transaction; the rebuild's ``DROP TABLE`` of the old copy then
    deletes every child row through ``ON DELETE CASCADE``. The child rows are copied to
    temporary tables first and put back afterwards (the parent keeps its ids).
    PostgreSQL alters the table in place: nothing to keep.
    """
    if bind.dialect.name != "sqlite":
        yield
        return
    inspector = sa.inspect(bind)
    children = {
        name: [c["name"] for c in inspector.get_columns(name)]
        for name in inspector.get_table_names()
        if name != parent
        and any(fk["referred_table"] == parent for fk in inspector.get_foreign_keys(name))
    }
    quote = bind.dialect.identifier_preparer.quote
    for name, columns in children.items():
        listed = ", ".join(quote(c) for c in columns)
        bind.exec_driver_sql(
            f"CREATE TEMP TABLE {quote('_keep_' + name)} AS SELECT {listed} FROM {quote(name)}"
        )
    yield
    for name, columns in children.items():
        listed = ", ".join(quote(c) for c in columns)
        kept = quote("_keep_" + name)
        bind.exec_driver_sql(f"DELETE FROM {quote(name)}")  # with foreign_keys=OFF, still there
        bind.exec_driver_sql(f"INSERT INTO {quote(name)} ({listed}) SELECT {listed} FROM {kept}")
        bind.exec_driver_sql(f"DROP TABLE {kept}")
