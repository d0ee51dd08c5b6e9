"""
The engine's tables (SQLAlchemy Core). Alembic's ``target_metadata``.

Every change here needs a migration in ``migrations/versions``; a test compares the
migrated schema with this metadata.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "caseflow stores aware datetimes only"
            raise ValueError(msg)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


Json = JSON().with_variant(postgresql.JSONB(), "postgresql")
#: ``ix_cf_cases_worklist`` (migration 0010): see :mod:`caseflow.store.worklists`.
WORKLIST_INDEX_COLUMNS = (
    "status", "workflow", "state", "urgency", "next_due", "id",
    "workflow_version", "org", "assignee",
)  # fmt: skip
Id = String(32)

definitions = Table(
    "cf_definitions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_file", String(500), nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
)

cases = Table(
    "cf_cases",
    metadata,
    Column("id", Id, primary_key=True),
    Column("workflow", String(100), nullable=False),
    Column("workflow_version", Integer, nullable=False),
    Column("state", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("data", Json, nullable=False),
    Column("org", String(500), nullable=False),
    Column("business_key", String(200), nullable=True),
    Column("row_version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("assignee", String(200), nullable=True),
    # the number of history lines: the next one is history_count + 1 (cf_history.seq)
    Column("history_count", Integer, nullable=False, server_default="0"),
    # for worklists, kept by every command: 0 breached, 1 warned, 2 a clock runs, 3 none;
    # and the soonest due time of its running clocks
    Column("urgency", Integer, nullable=False, server_default="3"),
    Column("next_due", UTCDateTime, nullable=True),
    # the case that started this one (a call activity)
    Column("parent_id", Id, nullable=True),
    UniqueConstraint("workflow", "business_key"),
    Index(None, "workflow", "state"),
    Index(None, "org"),
    Index(None, "created_at", "id"),  # the default listing order, paged
    # worklists: per (status, workflow, state), most urgent first; the columns after id
    # answer the version, unit and claim filters and the counts from the index alone
    Index("ix_cf_cases_worklist", *WORKLIST_INDEX_COLUMNS),
    Index(None, "parent_id"),
    Index(None, "business_key"),  # messages are correlated by the key alone
)

history = Table(
    "cf_history",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("case_id", Id, ForeignKey("cf_cases.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("event", String(100), nullable=True),
    Column("from_state", String(100), nullable=True),
    Column("to_state", String(100), nullable=True),
    Column("actor_id", String(200), nullable=False),
    Column("actor_roles", Json, nullable=False),
    Column("actor_org", String(500), nullable=False),
    Column("details", Json, nullable=False),
    # the case version the line belongs to (one command = one version, several lines)
    Column("version", Integer, nullable=False, server_default="0"),
    # when the line was written; ``at`` is when it took effect (a timer's due time)
    Column("recorded_at", UTCDateTime, nullable=True),
    Index(None, "case_id", "seq", unique=True),
)

timers = Table(
    "cf_timers",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("case_id", Id, ForeignKey("cf_cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("clock", String(100), nullable=True),
    Column("step", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("claimed_by", String(100), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime, nullable=True),
    Column("provisional", Boolean, nullable=False, default=False),
    Column("payload", Json, nullable=True),
    # why the last attempt of the timer's effect failed (attempts counts failures only)
    Column("last_error", Text, nullable=True),
    # (status, due_at, id): the sweep's claim walks the index in its ORDER BY, no sort
    Index(None, "status", "due_at", "id"),
    # (case_id, status, due_at): one case's pending timers (a clock's cancel, the case's
    # timers soonest first) without walking every pending timer (migration 0011)
    Index(None, "case_id", "status", "due_at"),
)

clocks = Table(
    "cf_clocks",
    metadata,
    Column("case_id", Id, ForeignKey("cf_cases.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("phase", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("pauses", Json, nullable=False),
    Column("extensions", Integer, nullable=False),
    Column("due_at", UTCDateTime, nullable=True),
    Column("last_day", String(10), nullable=True),
    Column("provisional", Boolean, nullable=False),
    Column("warn_at", UTCDateTime, nullable=True),
    Column("warned_at", UTCDateTime, nullable=True),
    Column("breached_at", UTCDateTime, nullable=True),
    Column("escalation_step", Integer, nullable=False),
    Column("stopped_at", UTCDateTime, nullable=True),
    Column("level", String(50), nullable=True),
    Column("org", String(500), nullable=True),
    # the data value the limit was chosen for (by_data: a 12345 request's type)
    Column("variant", String(100), nullable=True),
    # (phase, due_at, case_id): the overdue list reads its page straight off the index
    Index(None, "phase", "due_at", "case_id"),
    Index(None, "phase", "warn_at"),  # cases list --warned
)

calendar_overlays = Table(
    "cf_calendar_overlays",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("holidays", Json, nullable=False),
    Column("workdays", Json, nullable=False),
    Column("source", String(500), nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
)

idempotency = Table(
    "cf_idempotency",
    metadata,
    # ``fire:<case id>``, ``start:<workflow>``, ...: a key means something only in its scope
    Column("scope", String(200), primary_key=True, server_default="legacy"),
    Column("key", String(200), primary_key=True),
    # a hash of the request, so the same key with another request is refused
    Column("fingerprint", String(64), nullable=False),
    Column("case_id", Id, nullable=False),
    Column("operation", String(100), nullable=False),
    Column("result", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


def _vote_ref() -> Column[int]:
    """The key of a vote's child rows: the vote they belong to."""
    return Column(
        "vote_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("cf_votes.id", ondelete="CASCADE"),
        primary_key=True,
    )


votes = Table(
    "cf_votes",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("case_id", Id, ForeignKey("cf_cases.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(100), nullable=False),
    Column("round", Integer, nullable=False),
    Column("electorate_size", Integer, nullable=False),
    Column("rule", Json, nullable=False),
    Column("secret", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("result", Json, nullable=True),
    # a secret round's own key, wrapped with the deployment's ballot secret (caseflow.sealing);
    # erased when the round closes
    Column("key_wrapped", LargeBinary, nullable=True),
    UniqueConstraint("case_id", "state", "round"),
)

# The electorate, snapshotted when the round opens: later roster changes do not touch it.
vote_electorate = Table(
    "cf_vote_electorate",
    metadata,
    _vote_ref(),
    Column("voter", String(200), primary_key=True),
)

# Who was present (the attendance register): in person (recorded by a clerk) or online.
vote_attendance = Table(
    "cf_vote_attendance",
    metadata,
    _vote_ref(),
    Column("voter", String(200), primary_key=True),
    Column("how", String(20), nullable=False),
    Column("recorded_by", String(200), nullable=False),
)

# One ballot per voter per round: the primary key is the guarantee. For a secret vote
# the choice is NULL here; it is sealed with the round's key (``sealed``, see
# caseflow.sealing) and only counted when the round closes. Open votes count in
# cf_vote_tallies as they go.
ballots = Table(
    "cf_ballots",
    metadata,
    _vote_ref(),
    Column("voter", String(200), primary_key=True),
    Column("choice", String(10), nullable=True),
    # a secret ballot: the choice sealed with the round's key, erased when the round closes
    Column("sealed", LargeBinary, nullable=True),
)

vote_tallies = Table(
    "cf_vote_tallies",
    metadata,
    _vote_ref(),
    Column("choice", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
)

# A side effect that failed after its retries: the case is stuck until an operator acts.
incidents = Table(
    "cf_incidents",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("case_id", Id, ForeignKey("cf_cases.id", ondelete="CASCADE"), nullable=False),
    Column("timer_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("action", String(100), nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("reason", Text, nullable=True),
    Index(None, "status", "case_id"),
)

# The org tree: grid, village/community, township, county, departments.
orgs = Table(
    "cf_orgs",
    metadata,
    Column("path", String(500), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(50), nullable=False),
    Column("parent", String(500), nullable=True),
)

# Parallel work items of a case (部门联动处置): one per unit, each with its own clock.
work_items = Table(
    "cf_work_items",
    metadata,
    Column("case_id", Id, ForeignKey("cf_cases.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(100), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("item", String(500), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(200), nullable=True),
    Column("result", Json, nullable=True),
)
