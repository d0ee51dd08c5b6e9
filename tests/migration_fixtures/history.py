"""
The database each commit that changed ``migrations/versions`` would have created.

A database created by ``caseflow db upgrade`` at one of these commits has the schema
built here; upgraded today, it runs today's files from its revision on. Commits from
193f0d6 on created what today's files create (the test builds those from the files).

=========  ============================================================================
commit     the files as they were
=========  ============================================================================
66a2279    0001 shipped
633db75    0001, 0002 shipped
9b1de2c    0001, 0002, 0003 shipped
ef53b34    0001, 0002, 0003 shipped; 0004 (only reformatted since)
01709d0    0001, 0002, 0003, 0005 shipped; 0004
888ab05    0001, 0002, 0005 shipped; 0003 and 0004 as today
010c374    0001, 0002 shipped; 0003 to 0005 as today
298dab4    0001, 0002 as edited in 298dab4; 0003 to 0005 as today
=========  ============================================================================
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from caseflow.store import schema as migrate

from . import shipped_0001, shipped_0002, shipped_0003, shipped_0005

if TYPE_CHECKING:
    from collections.abc import Callable

    import sqlalchemy as sa


def shipped(revision: str, build: Callable[[Operations], None]) -> Callable[[sa.Engine], None]:
    """Run a shipped copy of ``revision`` and stamp the database at ``revision``."""

    def step(engine: sa.Engine) -> None:
        with engine.begin() as conn:
            build(Operations(MigrationContext.configure(conn)))
            config = Config()
            config.set_main_option("script_location", str(migrate.migrations_dir()))
            config.attributes["connection"] = conn
            command.stamp(config, revision)

    return step


def today(revision: str) -> Callable[[sa.Engine], None]:
    """Upgrade to ``revision`` with today's files."""
    return lambda engine: migrate.upgrade(engine, revision)


_0001_FIRST = shipped("0001", partial(shipped_0001.upgrade, commit="66a2279"))
_0002_FIRST = shipped("0002", partial(shipped_0002.upgrade, commit="633db75"))
_0003_FIRST = shipped("0003", shipped_0003.upgrade)
_0005_FIRST = shipped("0005", shipped_0005.upgrade)

HISTORY: dict[str, tuple[Callable[[sa.Engine], None], ...]] = {
    "66a2279": (_0001_FIRST,),
    "633db75": (_0001_FIRST, _0002_FIRST),
    "9b1de2c": (_0001_FIRST, _0002_FIRST, _0003_FIRST),
    "ef53b34": (_0001_FIRST, _0002_FIRST, _0003_FIRST, today("0004")),
    "01709d0": (_0001_FIRST, _0002_FIRST, _0003_FIRST, today("0004"), _0005_FIRST),
    "888ab05": (_0001_FIRST, _0002_FIRST, today("0004"), _0005_FIRST),
    "010c374": (_0001_FIRST, _0002_FIRST, today("0005")),
    "298dab4": (
        shipped("0001", partial(shipped_0001.upgrade, commit="298dab4")),
        shipped("0002", partial(shipped_0002.upgrade, commit="298dab4")),
        today("0005"),
    ),
}


def build(engine: sa.Engine, commit: str) -> None:
    """Create the database ``commit`` would have created, on an empty ``engine``."""
    for step in HISTORY[commit]:
        step(engine)
