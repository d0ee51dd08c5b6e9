"""``cf_definitions``: the workflow definition versions an engine has run cases on."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import insert, select

from caseflow.store.tables import definitions

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.engine import Connection

    from caseflow.definitions.model import WorkflowDef


class Stored(NamedTuple):
    """A stored definition version: its content hash, YAML source and file name."""

    content_hash: str
    source: str
    source_file: str


def stored(conn: Connection, name: str, version: int) -> Stored | None:
    row = conn.execute(
        select(definitions.c.content_hash, definitions.c.source, definitions.c.source_file).where(
            definitions.c.name == name, definitions.c.version == version
        )
    ).first()
    return None if row is None else Stored(row[0], row[1], row[2])


def store(conn: Connection, definition: WorkflowDef, now: dt.datetime) -> None:
    conn.execute(
        insert(definitions),
        {
            "name": definition.name,
            "version": definition.version,
            "content_hash": definition.content_hash,
            "source": definition.source,
            "source_file": definition.source_file,
            "loaded_at": now,
        },
    )


def versions(conn: Connection) -> list[tuple[str, int, str]]:
    """(name, version, content hash) of every stored version."""
    rows = conn.execute(
        select(definitions.c.name, definitions.c.version, definitions.c.content_hash).order_by(
            definitions.c.name, definitions.c.version
        )
    )
    return [(r[0], r[1], r[2]) for r in rows]
