"""
The engine's explicit context: everything a service or the pipeline may use, in one
object handed to each (no globals): the database, where "now" comes from, the workflow
definitions, the calendars, the org tree, the plugins, the logger and the operator roles.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from caseflow import machine
from caseflow.clocks.calendars import CalendarOverlay, load_calendar, load_overlay
from caseflow.definitions.loader import load_text
from caseflow.errors import DefinitionError, WorkflowNotFound
from caseflow.orgs import OrgTree
from caseflow.store import definitions

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from sqlalchemy.engine import Connection

    from caseflow.abc import Calendar, Notifier, RosterProvider
    from caseflow.clocks.time import Clock
    from caseflow.definitions.model import WorkflowDef
    from caseflow.definitions.registry import Registry
    from caseflow.plugins import ActionRegistry
    from caseflow.store.db import Database

#: The stdlib logger caseflow's structured lines go to; silent unless the host configures
#: logging (``logging.basicConfig(level=logging.INFO)`` shows one line per command).
LOGGER_NAME = "caseflow"
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


def default_logger(name: str = LOGGER_NAME) -> Any:
    """A structlog logger writing ``key=value`` lines to the stdlib logger ``name``."""
    return structlog.wrap_logger(
        logging.getLogger(name),
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
    )


class Calendars:
    """Working-day calendars by name, with admin overlays for years without data."""

    def __init__(
        self, override: str | Calendar | None = None, overlay_files: Sequence[str | Path] = ()
    ) -> None:
        self._override = override
        self._file_overlays = [o for f in overlay_files for o in load_overlay(f)]
        self._db_overlays: list[CalendarOverlay] = []
        self._cache: dict[str, Calendar] = {}
        self._counts: dict[tuple[str, int], bool] = {}

    def set_db_overlays(self, rows: Sequence[tuple[int, list[str], list[str]]]) -> None:
        self._db_overlays = [
            CalendarOverlay(
                year,
                frozenset(map(dt.date.fromisoformat, holidays)),
                frozenset(map(dt.date.fromisoformat, workdays)),
            )
            for year, holidays, workdays in rows
        ]
        self._cache.clear()

    def for_workflow(self, definition: WorkflowDef) -> Calendar:
        name = definition.calendar if self._override is None else self._override
        key = name if isinstance(name, str) else f"instance:{id(name)}"
        found = self._cache.get(key)
        if found is None:
            overlays = {o.year: o for o in [*self._db_overlays, *self._file_overlays]}
            try:
                found = load_calendar(name, overlays.values())
            except LookupError as exc:
                raise DefinitionError(
                    f"workflow {definition.name!r} uses calendar {name!r}: {exc}"
                ) from exc
            self._cache[key] = found
        return found

    def needed(self, definition: WorkflowDef) -> Calendar | None:
        """The workflow's calendar if anything in it counts days (clocks, vote windows)."""
        counts = self._counts.get(definition.key)
        if counts is None:
            counts = self._counts[definition.key] = bool(definition.clocks) or any(
                s.vote is not None and s.vote.closes_after is not None
                for s in definition.states.values()
            )
        return self.for_workflow(definition) if counts else None


class Workflows:
    """
    Definition versions by name: the registry's, and older ones from the database.

    A case runs on the version it started on; a version no longer on disk is loaded from
    the source stored in ``cf_definitions``.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._compiled: dict[tuple[str, int], machine.CompiledWorkflow] = {}

    def compiled(
        self, name: str, version: int | None = None, conn: Connection | None = None
    ) -> machine.CompiledWorkflow:
        if version is None:
            version = self.registry.get(name).version
        key = (name, version)
        found = self._compiled.get(key)
        if found is not None:
            return found
        if key not in self.registry:
            stored = definitions.stored(conn, name, version) if conn is not None else None
            if stored is None:
                raise WorkflowNotFound(name, version, sorted(self.registry.names()))
            self.registry.add(load_text(stored.source, stored.source_file))
        found = self._compiled[key] = machine.CompiledWorkflow(self.registry.get(name, version))
        return found

    def cached(self, name: str, version: int) -> machine.CompiledWorkflow | None:
        return self._compiled.get((name, version))


@dataclass
class EngineContext:
    """What every service and the pipeline share (one per :class:`~caseflow.Engine`)."""

    db: Database
    clock: Clock
    workflows: Workflows
    calendars: Calendars
    notifier: Notifier
    actions: ActionRegistry
    rosters: Mapping[str, RosterProvider]
    log: Any
    operator_roles: frozenset[str]
    orgs: OrgTree = field(default_factory=OrgTree)
    #: Roles that see every task in worklists and may assign them.
    supervisor_roles: frozenset[str] = frozenset({"supervisor"})
    #: True when ``log`` is :func:`default_logger` (it is silent unless logging is on).
    default_log: bool = True
    #: The key sealing secret ballots (caseflow.sealing), resolved when a workflow with a
    #: secret vote first needs it; None: secret votes are refused.
    ballot_key: Callable[[], bytes | None] = lambda: None

    def now(self) -> dt.datetime:
        return self.clock.now()

    def log_enabled(self) -> bool:
        """Whether an info line would go anywhere (skip building it when not)."""
        return not self.default_log or logging.getLogger(LOGGER_NAME).isEnabledFor(logging.INFO)
