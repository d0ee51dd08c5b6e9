"""Clocks: per-case clock state, calendar overlays, timer payloads, escalation level.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from caseflow.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("cf_cases") as batch:
        batch.add_column(
            sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0")
        )
    with op.batch_alter_table("cf_timers") as batch:
        batch.add_column(sa.Column("payload", Json, nullable=True))
    op.create_table(
        "cf_clocks",
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("pauses", Json, nullable=False),
        sa.Column("extensions", sa.Integer, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=True),
        sa.Column("last_day", sa.String(10), nullable=True),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("warn_at", UTCDateTime, nullable=True),
        sa.Column("warned_at", UTCDateTime, nullable=True),
        sa.Column("breached_at", UTCDateTime, nullable=True),
        sa.Column("escalation_step", sa.Integer, nullable=False),
        sa.Column("stopped_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("case_id", "name", name="pk_cf_clocks"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cf_cases.id"], name="fk_cf_clocks_case_id_cf_cases", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_cf_clocks_phase_due_at_case_id", "cf_clocks", ["phase", "due_at", "case_id"]
    )
    op.create_index("ix_cf_clocks_phase_warn_at", "cf_clocks", ["phase", "warn_at"])
    op.create_table(
        "cf_calendar_overlays",
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("holidays", Json, nullable=False),
        sa.Column("workdays", Json, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("loaded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_cf_calendar_overlays"),
    )


def downgrade() -> None:
    op.drop_table("cf_calendar_overlays")
    op.drop_index("ix_cf_clocks_phase_warn_at", table_name="cf_clocks")
    op.drop_index("ix_cf_clocks_phase_due_at_case_id", table_name="cf_clocks")
    op.drop_table("cf_clocks")
    with op.batch_alter_table("cf_timers") as batch:
        batch.drop_column("payload")
    with op.batch_alter_table("cf_cases") as batch:
        batch.drop_column("escalation_level")
