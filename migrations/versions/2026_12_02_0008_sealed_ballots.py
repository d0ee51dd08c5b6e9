"""Sealed secret ballots: a round's wrapped key and each secret ballot's sealed choice.

A secret ballot no longer updates a running count: its choice is sealed with the round's
own key (``cf_ballots.sealed``), the key is stored only wrapped with the deployment's
ballot secret (``cf_votes.key_wrapped``), and both are erased when the round closes (see
``caseflow.sealing``). Rounds opened before this revision keep counting in
``cf_vote_tallies`` until they close.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cf_votes", sa.Column("key_wrapped", sa.LargeBinary, nullable=True))
    op.add_column("cf_ballots", sa.Column("sealed", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    op.drop_column("cf_ballots", "sealed")
    op.drop_column("cf_votes", "key_wrapped")
