"""
0001 (initial tables) as it shipped: first in 66a2279, then as edited in 298dab4.

66a2279 indexed cf_timers by (status, due_at) and had no ix_cf_cases_created_at_id;
298dab4 widened the timer index to (status, due_at, id); 193f0d6 (today's file) added
ix_cf_cases_created_at_id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from caseflow.store.tables import UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

TIMER_INDEX = {
    "66a2279": ("ix_cf_timers_status_due_at", ["status", "due_at"]),
    "298dab4": ("ix_cf_timers_status_due_at_id", ["status", "due_at", "id"]),
}


def upgrade(op: Operations, commit: str) -> None:
    """``upgrade()`` of 0001 as it read at ``commit`` (66a2279 or 298dab4)."""
    timer_index, timer_columns = TIMER_INDEX[commit]
    op.create_table(
        "cf_definitions",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_file", sa.String(500), nullable=False),
        sa.Column("loaded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_cf_definitions"),
    )
    op.create_table(
        "cf_cases",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workflow", sa.String(100), nullable=False),
        sa.Column("workflow_version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("org", sa.String(500), nullable=False),
        sa.Column("business_key", sa.String(200), nullable=True),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cf_cases"),
        sa.UniqueConstraint("workflow", "business_key", name="uq_cf_cases_workflow_business_key"),
    )
    op.create_index("ix_cf_cases_workflow_state", "cf_cases", ["workflow", "state"])
    op.create_index("ix_cf_cases_org", "cf_cases", ["org"])
    op.create_table(
        "cf_history",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("event", sa.String(100), nullable=True),
        sa.Column("from_state", sa.String(100), nullable=True),
        sa.Column("to_state", sa.String(100), nullable=True),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_roles", Json, nullable=False),
        sa.Column("actor_org", sa.String(500), nullable=False),
        sa.Column("details", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cf_history"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cf_cases.id"], name="fk_cf_history_case_id_cf_cases", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_cf_history_case_id_seq", "cf_history", ["case_id", "seq"])
    op.create_table(
        "cf_timers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("clock", sa.String(100), nullable=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("lease_until", UTCDateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("fired_at", UTCDateTime, nullable=True),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cf_timers"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cf_cases.id"], name="fk_cf_timers_case_id_cf_cases", ondelete="CASCADE"
        ),
    )
    op.create_index(timer_index, "cf_timers", timer_columns)
    op.create_index("ix_cf_timers_case_id", "cf_timers", ["case_id"])
    op.create_table(
        "cf_idempotency",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("result", Json, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_cf_idempotency"),
    )
