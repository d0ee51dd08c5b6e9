"""
0002 (clocks) as it shipped: first in 633db75, then as edited in 298dab4.

633db75 indexed cf_clocks by (phase, due_at) and had no ix_cf_clocks_phase_warn_at;
298dab4 widened the overdue index to (phase, due_at, case_id); 193f0d6 (today's file)
added ix_cf_clocks_phase_warn_at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from caseflow.store.tables import UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

OVERDUE_INDEX = {
    "633db75": ("ix_cf_clocks_phase_due_at", ["phase", "due_at"]),
    "298dab4": ("ix_cf_clocks_phase_due_at_case_id", ["phase", "due_at", "case_id"]),
}


def upgrade(op: Operations, commit: str) -> None:
    """``upgrade()`` of 0002 as it read at ``commit`` (633db75 or 298dab4)."""
    overdue_index, overdue_columns = OVERDUE_INDEX[commit]
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
    op.create_index(overdue_index, "cf_clocks", overdue_columns)
    op.create_table(
        "cf_calendar_overlays",
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("holidays", Json, nullable=False),
        sa.Column("workdays", Json, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("loaded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_cf_calendar_overlays"),
    )
