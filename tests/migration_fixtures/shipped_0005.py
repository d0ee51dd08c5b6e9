"""
0005 (orgs) as it shipped in 01709d0, before 010c374 rewrote it.

``cf_work_items`` had no ``round``: its primary key was ``(case_id, state, item)``, and
entering a state again replaced the state's items. Today's file keys the items by
``(case_id, state, round, item)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from caseflow.store.tables import UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade(op: Operations) -> None:
    """``upgrade()`` of 0005 as it read at 01709d0."""
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
        sa.Column("item", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.Column("result", Json, nullable=True),
        sa.PrimaryKeyConstraint("case_id", "state", "item", name="pk_cf_work_items"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cf_cases.id"],
            name="fk_cf_work_items_case_id_cf_cases",
            ondelete="CASCADE",
        ),
    )
