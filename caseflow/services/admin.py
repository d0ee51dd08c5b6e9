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

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from caseflow.cases import Actor
    from caseflow.context import EngineContext
    from caseflow.definitions.model import WorkflowDef
    from caseflow.pipeline.runner import Pipeline


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
    ) -> int:
        """
        Recompute every provisional deadline with the calendars as they are now (audited,
        one command per case). ``progress(done, total)`` is called after each case.
        """
        with self.ctx.db.read() as conn:
            todo = clocks.provisional_case_ids(conn)
        changed = 0
        for done, case_id in enumerate(todo, start=1):
            plan = self.pipeline.run(Recompute(case_id=case_id, actor=actor))
            changed += int(plan.result or 0)
            if progress is not None:
                progress(done, len(todo))
        return changed

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
