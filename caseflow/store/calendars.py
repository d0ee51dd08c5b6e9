"""``cf_calendar_overlays``: admin-provided calendar years (``caseflow calendar load``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from caseflow.store.tables import calendar_overlays

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.engine import Connection


def load_overlays(conn: Connection) -> list[tuple[int, list[str], list[str]]]:
    """(year, holidays, make-up workdays) of every stored year."""
    rows = conn.execute(
        select(calendar_overlays.c.year, calendar_overlays.c.holidays, calendar_overlays.c.workdays)
    )
    return [(r[0], list(r[1]), list(r[2])) for r in rows]


def store_overlay(
    conn: Connection,
    year: int,
    holidays: list[str],
    workdays: list[str],
    source: str,
    now: dt.datetime,
) -> None:
    conn.execute(delete(calendar_overlays).where(calendar_overlays.c.year == year))
    conn.execute(
        insert(calendar_overlays),
        {
            "year": year,
            "holidays": holidays,
            "workdays": workdays,
            "source": source,
            "loaded_at": now,
        },
    )
