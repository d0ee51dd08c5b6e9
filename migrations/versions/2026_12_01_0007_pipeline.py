"""One pipeline: per-case history numbering, effective and recorded times, scoped keys.

- ``cf_history.seq`` becomes a per-case sequence number, unique with the case id
  (1, 2, 3, ... in the order the lines were written); the case version a line belongs
  to moves to the new column ``version``; ``recorded_at`` is when a line was written
  (``at`` is when it took effect: a timer's effect is dated at its due time).
- ``cf_cases.history_count`` counts a case's history lines (the next line is
  ``history_count + 1``), kept by the same UPDATE that bumps the row version.
- ``cf_idempotency`` keys are scoped (``fire:<case id>``, ``start:<workflow>``, ...)
  and keep a fingerprint of the request; keys stored before this revision were global
  and are kept under the scope ``legacy``, where no new request looks.
- ``cf_timers.last_error``: why the last attempt of a timer's effect failed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.store.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE ... ADD COLUMN everywhere (no table rebuild on SQLite: rebuilding a
    # parent table there would cascade-delete its children's rows)
    op.add_column(
        "cf_cases", sa.Column("history_count", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column(
        "cf_history", sa.Column("version", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("cf_history", sa.Column("recorded_at", UTCDateTime, nullable=True))
    op.execute("UPDATE cf_history SET version = seq, recorded_at = at")
    op.execute(
        "UPDATE cf_history SET seq = numbered.n FROM ("
        " SELECT id, ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY id) AS n FROM cf_history"
        ") AS numbered WHERE cf_history.id = numbered.id"
    )
    op.execute(
        "UPDATE cf_cases SET history_count = ("
        " SELECT COUNT(*) FROM cf_history WHERE cf_history.case_id = cf_cases.id)"
    )
    op.drop_index("ix_cf_history_case_id_seq", table_name="cf_history")
    op.create_index("ix_cf_history_case_id_seq", "cf_history", ["case_id", "seq"], unique=True)
    op.add_column("cf_timers", sa.Column("last_error", sa.Text, nullable=True))
    _scoped_keys()


def _scoped_keys() -> None:
    """cf_idempotency gets (scope, key) as its key: PostgreSQL alters it, SQLite copies it."""
    if op.get_context().dialect.name == "postgresql":
        op.add_column(
            "cf_idempotency",
            sa.Column("scope", sa.String(200), nullable=False, server_default="legacy"),
        )
        op.add_column(
            "cf_idempotency",
            sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
        )
        op.alter_column("cf_idempotency", "fingerprint", server_default=None)
        op.drop_constraint("pk_cf_idempotency", "cf_idempotency", type_="primary")
        op.create_primary_key("pk_cf_idempotency", "cf_idempotency", ["scope", "key"])
        return
    op.create_table(
        "cf_idempotency_0007",
        sa.Column("scope", sa.String(200), nullable=False, server_default="legacy"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_cf_idempotency"),
    )
    op.execute(
        "INSERT INTO cf_idempotency_0007 (scope, key, fingerprint, case_id, operation, result,"
        " created_at) SELECT 'legacy', key, '', case_id, operation, result, created_at"
        " FROM cf_idempotency"
    )
    op.drop_table("cf_idempotency")
    op.rename_table("cf_idempotency_0007", "cf_idempotency")


def downgrade() -> None:
    op.execute("DELETE FROM cf_idempotency WHERE scope != 'legacy'")
    with op.batch_alter_table("cf_idempotency") as batch:
        batch.drop_constraint("pk_cf_idempotency", type_="primary")
        batch.create_primary_key("pk_cf_idempotency", ["key"])
        batch.drop_column("fingerprint")
        batch.drop_column("scope")
    op.drop_column("cf_timers", "last_error")
    op.drop_index("ix_cf_history_case_id_seq", table_name="cf_history")
    op.execute("UPDATE cf_history SET seq = version")
    op.create_index("ix_cf_history_case_id_seq", "cf_history", ["case_id", "seq"])
    op.drop_column("cf_history", "recorded_at")
    op.drop_column("cf_history", "version")
    op.drop_column("cf_cases", "history_count")
