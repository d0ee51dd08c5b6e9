"""Votes: rounds, attendance, ballots (one per voter per round), secret tallies.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from caseflow.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "cf_votes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("electorate_size", sa.Integer, nullable=False),
        sa.Column("rule", Json, nullable=False),
        sa.Column("secret", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("closes_at", UTCDateTime, nullable=True),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.Column("result", Json, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cf_votes"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cf_cases.id"], name="fk_cf_votes_case_id_cf_cases", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("case_id", "state", "round", name="uq_cf_votes_case_id_state_round"),
    )
    for name, extra in (
        ("cf_vote_electorate", [sa.Column("voter", sa.String(200), nullable=False)]),
        (
            "cf_vote_attendance",
            [
                sa.Column("voter", sa.String(200), nullable=False),
                sa.Column("how", sa.String(20), nullable=False),
                sa.Column("recorded_by", sa.String(200), nullable=False),
            ],
        ),
        (
            "cf_ballots",
            [
                sa.Column("voter", sa.String(200), nullable=False),
                sa.Column("choice", sa.String(10), nullable=True),
            ],
        ),
        (
            "cf_vote_tallies",
            [
                sa.Column("choice", sa.String(10), nullable=False),
                sa.Column("count", sa.Integer, nullable=False),
            ],
        ),
    ):
        key = "choice" if name == "cf_vote_tallies" else "voter"
        op.create_table(
            name,
            sa.Column("vote_id", BigId, nullable=False),
            *extra,
            sa.PrimaryKeyConstraint("vote_id", key, name=f"pk_{name}"),
            sa.ForeignKeyConstraint(
                ["vote_id"], ["cf_votes.id"], name=f"fk_{name}_vote_id_cf_votes", ondelete="CASCADE"
            ),
        )


def downgrade() -> None:
    for name in (
        "cf_vote_tallies",
        "cf_ballots",
        "cf_vote_attendance",
        "cf_vote_electorate",
        "cf_votes",
    ):
        op.drop_table(name)
