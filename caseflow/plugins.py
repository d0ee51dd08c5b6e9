"""
Plugin discovery: one entry-point group per kind, loaded by name on first use.

An instance passed to the :class:`~caseflow.Engine` wins over an entry point of the same
name (APScheduler 4 style); names are otherwise looked up in the group (APScheduler 3
style), checked against their base class, and cached.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from caseflow.abc import ActionHandler

if TYPE_CHECKING:
    from collections.abc import Mapping

ACTIONS_GROUP = "caseflow.actions"


class ActionRegistry:
    """Action handlers by name: given instances first, then ``caseflow.actions`` entry points."""

    def __init__(self, given: Mapping[str, ActionHandler] | None = None) -> None:
        self._handlers: dict[str, ActionHandler] = dict(given or {})

    def register(self, name: str, handler: ActionHandler) -> None:
        self._handlers[name] = handler

    def get(self, name: str) -> ActionHandler:
        """The handler for ``name``. Raises :class:`LookupError` naming the known ones."""
        found = self._handlers.get(name)
        if found is not None:
            return found
        for ep in entry_points(group=ACTIONS_GROUP):
            if ep.name == name:
                target = ep.load()
                handler = target() if isinstance(target, type) else target
                if not isinstance(handler, ActionHandler):
                    raise LookupError(f"entry point {name!r} is not an ActionHandler")
                self._handlers[name] = handler
                return handler
        known = sorted({*self._handlers, *(ep.name for ep in entry_points(group=ACTIONS_GROUP))})
        raise LookupError(
            f"no action handler registered for {name!r} (known: {', '.join(known) or 'none'})"
        )
