"""Worklists and child cases.

- ``cf_cases.urgency`` (0 breached, 1 warned, 2 a clock running, 3 none) and
  ``cf_cases.next_due`` (the soonest due time of its running clocks), kept by every
  command that changes a clock, so a worklist is read in urgency order off one index,
  ``ix_cf_cases_worklist (status, workflow, state, urgency, next_due, id,
  workflow_version, org, assignee)``: one ordered range per (workflow, state) an actor
  works on, the columns after ``id`` answering the unit, version and claim filters and
  the counts without the table (``caseflow.store.worklists``); filled from ``cf_clocks``
  here.
- ``cf_cases.parent_id``: the case that started this one (a call activity), indexed.
- ``ix_cf_cases_business_key``: a message is correlated by its business key alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from caseflow.store.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cf_cases", sa.Column("urgency", sa.Integer, nullable=False, server_default="3"))
    op.add_column("cf_cases", sa.Column("next_due", UTCDateTime, nullable=True))
    op.add_column("cf_cases", sa.Column("parent_id", sa.String(32), nullable=True))
    op.execute(
        "UPDATE cf_cases SET next_due = (SELECT MIN(k.due_at) FROM cf_clocks k"
        " WHERE k.case_id = cf_cases.id AND k.phase = 'running'),"
        " urgency = CASE"
        " WHEN EXISTS (SELECT 1 FROM cf_clocks k WHERE k.case_id = cf_cases.id"
        "   AND k.phase = 'running' AND k.breached_at IS NOT NULL) THEN 0"
        " WHEN EXISTS (SELECT 1 FROM cf_clocks k WHERE k.case_id = cf_cases.id"
        "   AND k.phase = 'running' AND k.warned_at IS NOT NULL) THEN 1"
        " WHEN EXISTS (SELECT 1 FROM cf_clocks k WHERE k.case_id = cf_cases.id"
        "   AND k.phase = 'running') THEN 2"
        " ELSE 3 END"
    )
    op.create_index(
        "ix_cf_cases_worklist",
        "cf_cases",
        [
            "status",
            "workflow",
            "state",
            "urgency",
            "next_due",
            "id",
            "workflow_version",
            "org",
            "assignee",
        ],
    )
    op.create_index("ix_cf_cases_parent_id", "cf_cases", ["parent_id"])
    op.create_index("ix_cf_cases_business_key", "cf_cases", ["business_key"])


def downgrade() -> None:
    op.drop_index("ix_cf_cases_business_key", table_name="cf_cases")
    op.drop_index("ix_cf_cases_parent_id", table_name="cf_cases")
    op.drop_index("ix_cf_cases_worklist", table_name="cf_cases")
    op.drop_column("cf_cases", "parent_id")
    op.drop_column("cf_cases", "next_due")
    op.drop_column("cf_cases", "urgency")
