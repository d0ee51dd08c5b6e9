"""Timers of a case found by their case, not by scanning every pending timer.

``ix_cf_timers_case_id (case_id)`` becomes ``ix_cf_timers_case_id_status_due_at
(case_id, status, due_at)``. With only ``case_id`` indexed, a statement that names the
case *and* ``status = 'pending'`` -- cancelling a stopped clock's timers, a case's
pending timers soonest first, its pending actions -- could be planned on the sweep's
``(status, due_at, id)`` index instead (SQLite without statistics does): a walk over
every pending timer of every case, on each transition that stops a clock. Measured on
SQLite with 1,700 pending timers: 450 µs per cancel, growing with the table; through the
new index it is a few rows of one case (bench/BENCHMARKS.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cf_timers_case_id_status_due_at", "cf_timers", ["case_id", "status", "due_at"]
    )
    op.drop_index("ix_cf_timers_case_id", table_name="cf_timers")


def downgrade() -> None:
    op.create_index("ix_cf_timers_case_id", "cf_timers", ["case_id"])
    op.drop_index("ix_cf_timers_case_id_status_due_at", table_name="cf_timers")
