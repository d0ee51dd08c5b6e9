"""Org tree, parallel work items, and the org level/unit a clock runs for.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from caseflow.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("cf_clocks") as batch:
        batch.add_column(sa.Column("level", sa.String(50), nullable=True))
        batch.add_column(sa.Column("org", sa.String(500), nullable=True))
    op.create_table(
        "cf_orgs",
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(50), nullable=False),
        sa.Column("parent", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("path", name="pk_cf_orgs"),
    )
    op.create_table(
        "cf_work_items",
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("item", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.Column("result", Json, nullable=True),
        sa.PrimaryKeyConstraint("case_id", "state", "round", "item", name="pk_cf_work_items"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cf_cases.id"],
            name="fk_cf_work_items_case_id_cf_cases",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("cf_work_items")
    op.drop_table("cf_orgs")
    with op.batch_alter_table("cf_clocks") as batch:
        batch.drop_column("org")
        batch.drop_column("level")
