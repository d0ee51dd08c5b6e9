"""
The org tree: units by path (``jiaoling/changtan/xinxiang/grid-3``) with a level.

Levels are what the workflows talk about (grid, village, community, township, county,
department). A case belongs to a unit; escalation moves it to the parent unit ("small
matters stay in the grid, big ones in the village or town"), referral to another unit.
Without a loaded tree, a path's parent is its prefix and its level is unknown.

Pure, except :func:`read_tree`, which reads a tree file with the workflow loader's
protections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseflow.errors import DefinitionError

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator, Mapping


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """One unit of the org tree."""

    path: str
    name: str
    level: str
    parent: str | None


def within(path: str, ancestor: str) -> bool:
    """Whether ``path`` is ``ancestor`` or one of its sub-units."""
    ancestor = ancestor.rstrip("/")
    return path == ancestor or path.startswith(ancestor + "/")


class OrgTree:
    """Units by path; parents and levels."""

    def __init__(self, units: Iterable[OrgUnit] = ()) -> None:
        self._units = {u.path: u for u in units}

    def __len__(self) -> int:
        return len(self._units)

    def __iter__(self) -> Iterator[OrgUnit]:
        return iter(sorted(self._units.values(), key=lambda u: u.path))

    def __contains__(self, path: object) -> bool:
        return path in self._units

    def get(self, path: str) -> OrgUnit | None:
        return self._units.get(path)

    def level(self, path: str) -> str | None:
        unit = self._units.get(path)
        return None if unit is None else unit.level

    def parent(self, path: str) -> str | None:
        """The unit above ``path``; None at the top."""
        unit = self._units.get(path)
        if unit is not None:
            return unit.parent
        return path.rsplit("/", 1)[0] if "/" in path else None

    def chain(self, path: str) -> list[str]:
        """``path`` and every unit above it, bottom up."""
        out = [path]
        while (up := self.parent(out[-1])) is not None:
            out.append(up)
        return out

    def children(self, path: str, *, recursive: bool = False) -> list[OrgUnit]:
        return [
            u
            for u in self
            if u.path != path and (within(u.path, path) if recursive else u.parent == path)
        ]


#: Columns of the org table: a unit's path and parent (``String(500)``), its name
#: (``String(200)``) and level (``String(50)``).
MAX_PATH, MAX_UNIT_NAME, MAX_LEVEL = 500, 200, 50


def parse_tree(document: Any, source: str = "<org tree>") -> list[OrgUnit]:
    """
    Units from a nested mapping::

        jiaoling:
          name: 蕉岭县
          level: county
          units:
            changtan: {name: 长潭镇, level: township, units: {...}}

    The tree is walked without recursion, so its depth is bounded only by the unit
    paths' length (at most :data:`MAX_PATH` characters, the database column).

    Raises:
        DefinitionError: naming the unit and what is wrong.
    """
    if not isinstance(document, dict) or not document:
        raise DefinitionError(f"{source}: an org tree is a mapping of top units")
    units: list[OrgUnit] = []
    # (mapping of units, parent path), walked depth first in document order.
    stack: list[tuple[Mapping[Any, Any], str | None]] = [(document, None)]
    while stack:
        mapping, parent = stack.pop()
        children: list[tuple[Mapping[Any, Any], str]] = []
        for key, spec in mapping.items():
            path = f"{parent}/{key}" if parent else str(key)
            _check_unit(source, path, str(key), spec)
            units.append(OrgUnit(path, str(spec.get("name", key)), spec["level"], parent))
            below = spec.get("units")
            if below:
                children.append((below, path))
        stack.extend(reversed(children))
    return units


def _check_unit(source: str, path: str, key: str, spec: Any) -> None:
    shown = path if len(path) <= 80 else path[:80] + "..."
    if not isinstance(spec, dict) or not isinstance(spec.get("level"), str):
        raise DefinitionError(f"{source}: unit {shown!r} needs a mapping with a 'level'")
    extra = set(spec) - {"name", "level", "units"}
    if extra:
        raise DefinitionError(f"{source}: unit {shown!r} has unknown keys {sorted(extra)}")
    if not key or "/" in key:
        raise DefinitionError(f"{source}: unit {shown!r}: a unit's key is one path segment, no '/'")
    if len(path) > MAX_PATH:
        raise DefinitionError(f"{source}: unit {shown!r}: its path is longer than {MAX_PATH}")
    name = spec.get("name", key)
    if not isinstance(name, (str, int, float)) or len(str(name)) > MAX_UNIT_NAME:
        raise DefinitionError(
            f"{source}: unit {shown!r}: 'name' must be text of at most {MAX_UNIT_NAME} characters"
        )
    if not spec["level"] or len(spec["level"]) > MAX_LEVEL:
        raise DefinitionError(
            f"{source}: unit {shown!r}: 'level' must be 1 to {MAX_LEVEL} characters"
        )
    if spec.get("units") is not None and not isinstance(spec["units"], dict):
        raise DefinitionError(f"{source}: unit {shown!r}: 'units' must be a mapping of units")


def read_tree(path: str | os.PathLike[str]) -> list[OrgUnit]:
    """
    Read and parse an org tree file (YAML), with the loader's protections.

    The file is read by :mod:`caseflow.definitions.safeyaml`: bounded size, depth and
    alias expansion, plain values only, UTF-8 (with a hint for GBK), YAML errors at
    ``file:line:column``.

    Raises:
        DefinitionError: naming the file (and line and column) and what is wrong.
    """
    from caseflow.definitions import safeyaml  # noqa: PLC0415 - keeps this module pure

    source = str(path)
    try:
        document = safeyaml.plain(safeyaml.load(safeyaml.read_file(path), source))
    except DefinitionError as exc:
        raise safeyaml.flatten(exc) from None
    return parse_tree(document, source)
