"""
What admins change besides cases: stored definition versions, calendar years, the org
tree, and recomputing provisional deadlines once a calendar is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from caseflow.clocks.calendars import load_overlay
from caseflow.definitions.loader import load_text
from caseflow.errors import DefinitionError, StorageError, WorkflowNotFound
from caseflow.orgs import OrgTree, OrgUnit, read_tree
from caseflow.pipeline.commands import Recompute
from caseflow.store import calendars, clocks, definitions, orgs
from caseflow.views import CalendarStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from caseflow.cases import Actor
    from caseflow.context import EngineContext
    from caseflow.definitions.model import WorkflowDef
    from caseflow.pipeline.runner import Pipeline
    from caseflow.views import DeadlineMove


class Admin:
    """Definitions, calendars and the org tree of one engine context."""

    def __init__(self, ctx: EngineContext, pipeline: Pipeline) -> None:
        self.ctx = ctx
        self.pipeline = pipeline

    def stored_versions(self) -> list[tuple[str, int]]:
        """(name, version) of every definition version stored in the database."""
        with self.ctx.db.read() as conn:
            return [(name, version) for name, version, _hash in definitions.versions(conn)]

    def sync_definitions(self) -> None:
        """Store new definition versions; refuse a changed file under a stored version."""
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            for definition in self.ctx.workflows.registry:
                stored = definitions.stored(conn, definition.name, definition.version)
                if stored is None:
                    definitions.store(conn, definition, now)
                elif stored.content_hash != definition.content_hash:
                    raise DefinitionError(
                        f"{definition.source_file}: workflow {definition.name!r} version "
                        f"{definition.version} was already registered with different content "
                        f"(from {stored.source_file}); running cases stay on the registered "
                        "version, so give the changed file a new 'version:'"
                    )

    # -- calendars ----------------------------------------------------------------------

    def reload_calendars(self) -> None:
        """Re-read the calendar overlays stored with ``caseflow calendar load``."""
        with self.ctx.db.read() as conn:
            self.ctx.calendars.set_db_overlays(calendars.load_overlays(conn))
        for definition in self.ctx.workflows.registry:
            if definition.clocks:
                self.ctx.calendars.for_workflow(definition)  # fail now, not at the first timer

    def load_calendar_overlay(self, path: str | Path) -> list[int]:
        """Store an admin calendar file (holidays, make-up workdays per year) in the database."""
        overlays = load_overlay(path)
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            for o in overlays:
                calendars.store_overlay(
                    conn,
                    o.year,
                    sorted(d.isoformat() for d in o.holidays),
                    sorted(d.isoformat() for d in o.workdays),
                    str(path),
                    now,
                )
        self.reload_calendars()
        return [o.year for o in overlays]

    def recompute_provisional(
        self, *, actor: Actor, progress: Callable[[int, int], None] | None = None
    ) -> list[DeadlineMove]:
        """
        Recompute every provisional deadline with the calendars as they are now (audited,
        one command per case): each recomputed clock, its last day before and after.
        ``progress(done, total)`` is called after each case.
        """
        with self.ctx.db.read() as conn:
            todo = clocks.provisional_case_ids(conn)
        moves: list[DeadlineMove] = []
        for done, case_id in enumerate(todo, start=1):
            plan = self.pipeline.run(Recompute(case_id=case_id, actor=actor))
            moves.extend(plan.result or ())
            if progress is not None:
                progress(done, len(todo))
        return moves

    def calendar_status(self, years: Sequence[int] = ()) -> CalendarStatus:
        """Official and provisional years of the calendars the workflows use (by default
        from this year to the last day of the latest running clock, at least next year)."""
        from caseflow.clocks.calendars import year_status  # noqa: PLC0415
        from caseflow.clocks.runtime import local_day  # noqa: PLC0415

        with self.ctx.db.read() as conn:
            provisional = clocks.provisional_by_year(conn)
            latest = clocks.latest_last_day(conn)
        if not years:
            this = local_day(self.ctx.now(), "Asia/Shanghai").year
            last = max(this + 1, int(latest[:4]) if latest else this, *provisional)
            years = range(this, last + 1)
        by_name: dict[str, dict[int, str]] = {}
        for definition in self.ctx.workflows.registry:
            if not definition.clocks:
                continue
            name = str(definition.calendar)
            if name not in by_name:
                calendar = self.ctx.calendars.for_workflow(definition)
                by_name[name] = dict(year_status(calendar, years))
        return CalendarStatus(by_name, provisional)

    # -- the org tree -------------------------------------------------------------------

    def reload_orgs(self) -> None:
        with self.ctx.db.read() as conn:
            self.ctx.orgs = OrgTree(orgs.load_units(conn))

    def load_orgs(self, source: str | Path | Sequence[OrgUnit]) -> int:
        """Replace the org tree with a YAML file's (nested units with levels) or given units."""
        units = read_tree(source) if isinstance(source, (str, Path)) else list(source)
        with self.ctx.db.write() as conn:
            orgs.replace_units(conn, units)
        self.reload_orgs()
        return len(units)


def changed_registrations(url: str, found: Sequence[WorkflowDef]) -> list[str]:
    """
    The definitions whose (name, version) a database registered with other content: what
    would stop an engine at start-up, said before (``workflows validate --db``). The
    database is only read.

    Raises:
        StorageError: the database cannot be read (or has no caseflow schema).
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from caseflow.store.db import Database, connect  # noqa: PLC0415

    db = Database(connect(url))
    problems = []
    try:
        with db.read() as conn:
            for definition in found:
                row = definitions.stored(conn, definition.name, definition.version)
                if row is not None and row.content_hash != definition.content_hash:
                    problems.append(
                        f"{definition.source_file}: workflow {definition.name!r} version "
                        f"{definition.version} is registered in the database with different "
                        f"content (from {row.source_file}); give the changed file a new "
                        "'version:' (running cases stay on the registered one)"
                    )
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read stored definitions: {exc}") from None
    finally:
        db.dispose()
    return problems


def stored_definition(url: str, name: str, version: int) -> WorkflowDef:
    """
    A definition version as an engine stored it, read without starting an engine (the
    database is only read; nothing is migrated or registered).

    Raises:
        WorkflowNotFound: the database has no such version.
        StorageError: the database cannot be read.
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from caseflow.store.db import Database, connect  # noqa: PLC0415

    db = Database(connect(url))
    try:
        with db.read() as conn:
            row = definitions.stored(conn, name, version)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read stored definitions: {exc}") from None
    finally:
        db.dispose()
    if row is None:
        raise WorkflowNotFound(name, version)
    return load_text(row.source, f"{row.source_file or name} (stored v{version})")
