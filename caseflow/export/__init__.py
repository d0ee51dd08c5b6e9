"""
Pure views of workflow definitions, for people and tools: no database, no I/O.

- :mod:`caseflow.export.schema`: the JSON Schema of a workflow file (editors, CI);
- :mod:`caseflow.export.graph`: Mermaid, Graphviz DOT and BPMN 2.0 drawings;
- :mod:`caseflow.export.lint`: warnings about workflows that load but look wrong;
- :mod:`caseflow.export.diff`: what changed between two versions;
- :func:`catalog`: one row per definition version, for ``caseflow workflows list``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from caseflow.definitions.model import WorkflowDef

#: How many hex digits of the content hash ``list`` shows (like a short git hash).
SHORT_HASH = 12


@dataclass(frozen=True)
class CatalogEntry:
    """One workflow definition version; ``cases`` is None when no counts were given."""

    name: str
    version: int
    content_hash: str
    title: str
    source_file: str
    cases: int | None = None

    @property
    def short_hash(self) -> str:
        return self.content_hash[:SHORT_HASH]

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "title": self.title,
            "file": self.source_file,
            "cases": self.cases,
        }


def catalog(
    definitions: Iterable[WorkflowDef], counts: Mapping[tuple[str, int], int] | None = None
) -> list[CatalogEntry]:
    """
    One entry per definition, by name then version.

    Args:
        definitions: the loaded definitions (e.g. every file in ``workflows/``).
        counts: running cases per ``(name, version)``; a version without an entry has 0.
            Leave it None when no database is at hand: ``cases`` stays None.
    """
    return [
        CatalogEntry(
            name=d.name,
            version=d.version,
            content_hash=d.content_hash,
            title=d.title,
            source_file=d.source_file,
            cases=None if counts is None else counts.get(d.key, 0),
        )
        for d in sorted(definitions, key=lambda d: d.key)
    ]
