"""
Rows written through the schema a database has *now* (reflected), not the head metadata.

:func:`fill` puts a few rows into every caseflow table, each column given a value by its
reflected type (foreign keys point at the parent's rows); :func:`seed_vote` adds one
case with an open vote round, laid out as the schema of that revision stored it (the
electorate as JSON in ``cf_votes`` before 888ab05, as rows in ``cf_vote_electorate``
since) and a work item (without a round before 010c374).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

ROWS = 3
VERSION_TABLE = "cf_alembic_version"
UTC = dt.UTC

# Columns the engine reads at start-up or the 0006 backfill interprets: plausible values.
OVERRIDES: dict[tuple[str, str], Any] = {
    ("cf_calendar_overlays", "year"): lambda i: 1990 + i,
    ("cf_calendar_overlays", "holidays"): lambda _i: [],
    ("cf_calendar_overlays", "workdays"): lambda _i: [],
    ("cf_orgs", "parent"): lambda _i: None,
    ("cf_votes", "electorate"): lambda i: [f"voter-{i}-a", f"voter-{i}-b"],
    ("cf_votes", "electorate_size"): lambda _i: 2,
}

VOTE_CASE = "votecase"
VOTE_ID = 501
MEMBERS = [f"rep{i:02d}" for i in range(5)]
OPENED = dt.datetime(2026, 5, 6, 1, tzinfo=UTC)


def reflect(conn: sa.Connection) -> sa.MetaData:
    """The caseflow tables as the database has them."""
    metadata = sa.MetaData()
    metadata.reflect(conn, only=lambda name, _m: name.startswith("cf_") and name != VERSION_TABLE)
    return metadata


def _value(table: sa.Table, column: sa.Column[Any], i: int) -> Any:
    override = OVERRIDES.get((table.name, column.name))
    if override is not None:
        return override(i)
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        # explicit ids far from 1: PostgreSQL's sequences stay usable for the engine
        return 1001 + i if column is table.autoincrement_column else i + 1
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 3, 4 + i, 5, 6, 7, 890000, tzinfo=UTC)
    if isinstance(kind, sa.LargeBinary):
        return bytes([i]) * 36
    if isinstance(kind, sa.JSON):
        return {"n": i, "list": [i, str(i)]}
    if isinstance(kind, sa.String):
        return f"{column.name}-{i}"[: kind.length or None]
    msg = f"no test value for {table.name}.{column.name} ({kind!r})"
    raise TypeError(msg)


def fill(conn: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    """Insert :data:`ROWS` rows into every caseflow table; return them by table."""
    written: dict[str, list[dict[str, Any]]] = {}
    for table in reflect(conn).sorted_tables:
        rows = []
        for i in range(ROWS):
            row = {}
            for column in table.columns:
                fks = list(column.foreign_keys)
                if fks:
                    parent = fks[0].column
                    row[column.name] = written[parent.table.name][i][parent.name]
                else:
                    row[column.name] = _value(table, column, i)
            rows.append(row)
        conn.execute(sa.insert(table), rows)
        written[table.name] = rows
    return written


def normalise(value: Any) -> Any:
    """Datetimes as naive UTC: SQLite's reflected DATETIME drops the zone on the way in."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def read(conn: sa.Connection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """Every row of ``table`` restricted to ``columns``, normalised, in a stable order."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    rows = conn.execute(sa.select(*(reflected.c[c] for c in columns)))
    return sorted((tuple(normalise(v) for v in r) for r in rows), key=repr)


def seed_vote(conn: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    """One case in ``voting`` with an open round: 5 members, rep00 yes, rep01 no."""
    metadata = reflect(conn)
    written: dict[str, list[dict[str, Any]]] = {}

    def put(name: str, rows: list[dict[str, Any]]) -> None:
        table = metadata.tables[name]
        rows = [{k: v for k, v in r.items() if k in table.c} for r in rows]
        conn.execute(sa.insert(table), rows)
        written[name] = rows

    put(
        "cf_cases",
        [
            {
                "id": VOTE_CASE,
                "workflow": "mini_vote",
                "workflow_version": 1,
                "state": "voting",
                "status": "active",
                "data": {"representatives": MEMBERS},
                "org": "zj/lishui/liandu/village",
                "business_key": None,
                "row_version": 2,
                "created_at": OPENED,
                "updated_at": OPENED,
                "escalation_level": 0,
                "assignee": None,
                "history_count": 0,
                # 0010's columns (a case with no clock: urgency 3)
                "urgency": 3,
                "next_due": None,
                "parent_id": None,
            }
        ],
    )
    if "cf_votes" in metadata.tables:
        # 0003 as shipped (9b1de2c) kept the electorate as JSON; today's, as rows
        put(
            "cf_votes",
            [
                {
                    "id": VOTE_ID,
                    "case_id": VOTE_CASE,
                    "state": "voting",
                    "round": 1,
                    "electorate": MEMBERS,
                    "electorate_size": len(MEMBERS),
                    "rule": {"preset": "representative_meeting"},
                    "secret": False,
                    "status": "open",
                    "opened_at": OPENED,
                    "closes_at": OPENED + dt.timedelta(days=3, hours=15),
                    "closed_at": None,
                    "result": None,
                }
            ],
        )
        if "cf_vote_electorate" in metadata.tables:
            put("cf_vote_electorate", [{"vote_id": VOTE_ID, "voter": v} for v in MEMBERS])
        put(
            "cf_vote_attendance",
            [
                {"vote_id": VOTE_ID, "voter": "rep00", "how": "online", "recorded_by": "rep00"},
                {"vote_id": VOTE_ID, "voter": "rep01", "how": "in_person", "recorded_by": "clerk"},
            ],
        )
        put(
            "cf_ballots",
            [
                {"vote_id": VOTE_ID, "voter": "rep00", "choice": "yes"},
                {"vote_id": VOTE_ID, "voter": "rep01", "choice": "no"},
            ],
        )
        put(
            "cf_vote_tallies",
            [
                {"vote_id": VOTE_ID, "choice": c, "count": n}
                for c, n in (("yes", 1), ("no", 1), ("abstain", 0))
            ],
        )
    if "cf_work_items" in metadata.tables:
        # 0005 as shipped (01709d0) had no round: the filter drops it there
        put(
            "cf_work_items",
            [
                {
                    "case_id": VOTE_CASE,
                    "state": "voting",
                    "round": 1,
                    "item": "zj/lishui/liandu/village/committee",
                    "status": "open",
                    "opened_at": OPENED,
                    "closed_at": None,
                    "closed_by": None,
                    "result": None,
                }
            ],
        )
    return written
