"""The set of workflow definition versions an engine knows, by ``(name, version)``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from caseflow.definitions.loader import load_file, workflow_files
from caseflow.errors import DefinitionError, Problem, WorkflowNotFound

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from caseflow.definitions.model import WorkflowDef

_PACKAGE = Path(__file__).resolve().parent.parent


def shipped_workflows_dir() -> Path:
    """The procedures shipped with caseflow (inside the wheel, or the source checkout)."""
    for candidate in (_PACKAGE / "_workflows", _PACKAGE.parent / "workflows"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE / "_workflows"


#: Definitions already loaded in this process, by file name and content: a definition is
#: immutable, so a host (or a test suite) that builds several engines on the same files
#: parses each file once.
_LOADED: dict[tuple[str, bytes], WorkflowDef] = {}


def _load(file: Path) -> WorkflowDef:
    try:
        content = file.read_bytes()
    except OSError:
        return load_file(file)  # the loader reports the file it cannot read
    key = (str(file), content)
    found = _LOADED.get(key)
    if found is None:
        if len(_LOADED) > 256:
            _LOADED.clear()
        found = _LOADED[key] = load_file(file)
    return found


def load_paths(paths: Sequence[str | Path]) -> list[WorkflowDef]:
    """Load every workflow file; one :class:`DefinitionError` lists the problems of all."""
    problems: list[Problem] = []
    loaded: list[WorkflowDef] = []
    for file in workflow_files(paths):
        try:
            loaded.append(_load(file))
        except DefinitionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DefinitionError(problems)
    return loaded


class Registry:
    """Definitions by name and version; a changed file under an existing version is refused."""

    def __init__(self, definitions: Iterable[WorkflowDef] = ()) -> None:
        self._by_key: dict[tuple[str, int], WorkflowDef] = {}
        for definition in definitions:
            self.add(definition)

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path]) -> Registry:
        return cls(load_paths(paths))

    def add(self, definition: WorkflowDef) -> None:
        existing = self._by_key.get(definition.key)
        if existing is not None and existing.content_hash != definition.content_hash:
            raise DefinitionError(
                f"workflow {definition.name!r} version {definition.version} is defined twice "
                f"with different content ({existing.source_file} and {definition.source_file}); "
                "give the changed one a new 'version:'"
            )
        self._by_key[definition.key] = definition

    def get(self, name: str, version: int | None = None) -> WorkflowDef:
        """The given version, or the newest when ``version`` is None."""
        if version is not None:
            found = self._by_key.get((name, version))
        else:
            versions = [v for (n, v) in self._by_key if n == name]
            found = self._by_key[(name, max(versions))] if versions else None
        if found is None:
            raise WorkflowNotFound(name, version, sorted(self.names()))
        return found

    def names(self) -> set[str]:
        return {n for n, _ in self._by_key}

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[WorkflowDef]:
        return iter(sorted(self._by_key.values(), key=lambda d: d.key))
