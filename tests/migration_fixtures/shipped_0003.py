"""
0003 (votes) as it shipped in 9b1de2c, before 888ab05 rewrote it.

The electorate was a JSON list of voters in ``cf_votes.electorate``; today's file has
``cf_votes.electorate_size`` and the table ``cf_vote_electorate`` instead.
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


def upgrade(op: Operations) -> None:
    """``upgrade()`` of 0003 as it read at 9b1de2c."""
    op.create_table(
        "cf_votes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("electorate", Json, nullable=False),
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
