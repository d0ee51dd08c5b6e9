"""
The org tree, pure: units by path (``jiaoling/changtan/xinxiang/grid-3``) with a level.

Levels are what the workflows talk about (grid, village, community, township, county,
department). A case belongs to a unit; escalation moves it to the parent unit ("small
matters stay in the grid, big ones in the village or town"), referral to another unit.
Without a loaded tree, a path's parent is its prefix and its level is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseflow.errors import DefinitionError

if TYPE_CHECKING:
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


def parse_tree(document: Any, source: str = "<org tree>") -> list[OrgUnit]:
    """
    Units from a nested mapping::

        jiaoling:
          name: 蕉岭县
          level: county
          units:
            changtan: {name: 长潭镇, level: township, units: {...}}

    Raises:
        DefinitionError: naming the unit and what is wrong.
    """
    units: list[OrgUnit] = []

    def walk(mapping: Mapping[str, Any], parent: str | None) -> None:
        for key, spec in mapping.items():
            path = f"{parent}/{key}" if parent else str(key)
            if not isinstance(spec, dict) or not isinstance(spec.get("level"), str):
                raise DefinitionError(f"{source}: unit {path!r} needs a mapping with a 'level'")
            extra = set(spec) - {"name", "level", "units"}
            if extra:
                raise DefinitionError(f"{source}: unit {path!r} has unknown keys {sorted(extra)}")
            units.append(OrgUnit(path, str(spec.get("name", key)), spec["level"], parent))
            walk(spec.get("units") or {}, path)

    if not isinstance(document, dict) or not document:
        raise DefinitionError(f"{source}: an org tree is a mapping of top units")
    walk(document, None)
    return units
