"""A clock's limit chosen by a data value (``by_data``): ``cf_clocks.variant``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cf_clocks", sa.Column("variant", sa.String(100), nullable=True))


def downgrade() -> None:
    op.drop_column("cf_clocks", "variant")
