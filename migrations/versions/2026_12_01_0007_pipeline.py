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
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.store.tables import UTCDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cf_cases") as batch:
        batch.add_column(sa.Column("history_count", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("cf_history") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("recorded_at", UTCDateTime, nullable=True))
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
    with op.batch_alter_table("cf_timers") as batch:
        batch.add_column(sa.Column("last_error", sa.Text, nullable=True))
    with op.batch_alter_table("cf_idempotency") as batch:
        batch.add_column(
            sa.Column("scope", sa.String(200), nullable=False, server_default="legacy")
        )
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""))
        batch.drop_constraint("pk_cf_idempotency", type_="primary")
        batch.create_primary_key("pk_cf_idempotency", ["scope", "key"])


def downgrade() -> None:
    with op.batch_alter_table("cf_idempotency") as batch:
        batch.drop_constraint("pk_cf_idempotency", type_="primary")
    op.execute("DELETE FROM cf_idempotency WHERE scope != 'legacy'")
    with op.batch_alter_table("cf_idempotency") as batch:
        batch.create_primary_key("pk_cf_idempotency", ["key"])
        batch.drop_column("fingerprint")
        batch.drop_column("scope")
    with op.batch_alter_table("cf_timers") as batch:
        batch.drop_column("last_error")
    op.drop_index("ix_cf_history_case_id_seq", table_name="cf_history")
    op.execute("UPDATE cf_history SET seq = version")
    op.create_index("ix_cf_history_case_id_seq", "cf_history", ["case_id", "seq"])
    with op.batch_alter_table("cf_history") as batch:
        batch.drop_column("recorded_at")
        batch.drop_column("version")
    with op.batch_alter_table("cf_cases") as batch:
        batch.drop_column("history_count")
