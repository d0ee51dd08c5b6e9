"""Operations: incidents (stuck side effects) and a person a case is assigned to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cf_cases") as batch:
        batch.add_column(sa.Column("assignee", sa.String(200), nullable=True))
    op.create_table(
        "cf_incidents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("timer_id", BigId, nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cf_incidents"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cf_cases.id"],
            name="fk_cf_incidents_case_id_cf_cases",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_cf_incidents_status_case_id", "cf_incidents", ["status", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_cf_incidents_status_case_id", table_name="cf_incidents")
    op.drop_table("cf_incidents")
    with op.batch_alter_table("cf_cases") as batch:
        batch.drop_column("assignee")
