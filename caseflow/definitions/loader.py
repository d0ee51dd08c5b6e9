"""
Load workflow YAML into a checked :class:`WorkflowDef`, or report every problem at once.

Positions come from ruamel.yaml's round-trip loader, which keeps the line and column of
every key, value and list item; :mod:`caseflow.definitions.safeyaml` bounds the reading
(size, depth, aliases, tags, encoding). Shape errors come from pydantic, element by
element; graph and reference errors from :mod:`caseflow.definitions.checks`. Nothing is
built unless the whole file is clean.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from caseflow.definitions import raw, safeyaml
from caseflow.definitions.limits import MAX_NAME, shorten
from caseflow.definitions.safeyaml import name_slip, plain, punctuation_hint
from caseflow.errors import DefinitionError, Problem

if TYPE_CHECKING:
    from caseflow.definitions.model import WorkflowDef

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
_SECTIONS = {"states": "state", "events": "event", "clocks": "clock"}
_HEADER_KEYS = frozenset(raw.RawHeader.model_fields) | {"states", "events", "clocks"}


class Reporter:
    """Collects problems for one file and knows where every element of it is."""

    def __init__(self, file: str, root: Any) -> None:
        self.file = file
        self.root = root
        self.problems: list[Problem] = []

    def position(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the node at ``path``; of its key when ``key``."""
        node = self.root
        line, col = 0, 0
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if isinstance(node, CommentedMap) and part in node:
                where = node.lc.key(part) if key and last else node.lc.value(part)
                if where is not None and where[0] is not None:
                    line, col = where
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, col = node.lc.item(part)
                node = node[part]
            else:
                break
        return line + 1, col + 1

    def add(self, path: Path_, message: str, *, key: bool = False) -> None:
        line, col = self.position(path, key=key)
        self.problems.append(Problem(self.file, line, col, element_name(path), message))


def element_name(path: Path_) -> str:
    if len(path) >= 2 and path[0] in _SECTIONS:
        name = path[1]
        shown = shorten(name, MAX_NAME) if isinstance(name, str) else repr(name)
        return f"{_SECTIONS[str(path[0])]} {shown}"
    return "workflow" if not path else f"{path[0]}"


def read_yaml(text: str, file: str) -> Any:
    """Parse YAML with positions, bounded; syntax errors and duplicate keys become problems."""
    return safeyaml.load(text, file)


def content_hash(data: Any) -> str:
    """A hash of the parsed content: comments and layout do not change it."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_shape(reporter: Reporter, model: type[M], value: Any, path: Path_) -> M | None:
    """Validate one element; report every shape error with its position."""
    value = {} if value is None else value  # `name:` with nothing after it
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        seen: dict[Path_, list[str]] = {}
        for err in exc.errors():
            loc = clean_loc(value, tuple(err["loc"]))
            if err["type"] == "extra_forbidden":
                field = str(loc[-1])
                known = [f.alias or n for n, f in model.model_fields.items()]
                reporter.add(path + loc, unknown_field(field, known), key=True)
            elif err["type"] == "missing" and loc:
                reporter.add(path + loc[:-1], f"missing required field {str(loc[-1])!r}")
            else:
                seen.setdefault(loc, []).append(_message(err["type"], loc, str(err["msg"])))
        for loc, messages in seen.items():
            where = f"{'.'.join(map(str, loc))}: " if loc and path else ""
            reporter.add(path + loc, where + " or ".join(dict.fromkeys(messages)))
        return None


#: Clearer words than a regular expression for the fields that have one.
_PATTERNS = {
    "workflow": "must be lower-case letters, digits and '_', starting with a letter",
    "items": "must be 'payload.<key>' or 'data.<key>'",
}


def _message(kind: str, loc: Path_, message: str) -> str:
    if kind == "string_pattern_mismatch" and loc and str(loc[-1]) in _PATTERNS:
        return _PATTERNS[str(loc[-1])]
    return message


def unknown_field(field: str, known: Iterable[str]) -> str:
    return f"unknown field {shorten(field)}{suggest(field, known)}{punctuation_hint(field)}"


def clean_loc(value: Any, loc: Path_) -> Path_:
    """Drop pydantic's union-member markers (``str``, ``list[RawBranch]``) from a location."""
    out: list[str | int] = []
    node = value
    for part in loc:
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_map or in_list:
            node = node[part]
            out.append(part)
        elif not isinstance(node, (Mapping, list)):
            break
        elif isinstance(node, Mapping) and isinstance(part, str) and part.isidentifier():
            out.append(part)  # a missing or unknown key
            break
    return tuple(out)


def suggest(name: str, candidates: Iterable[str]) -> str:
    import difflib  # noqa: PLC0415 - only needed on the error path

    if len(name) > 4 * MAX_NAME:
        return ""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def section(reporter: Reporter, root: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = root.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        reporter.add((name,), f"'{name}' must be a mapping of names to definitions")
        return {}
    return value


def _element_names(reporter: Reporter, section_name: str, names: Iterable[Any]) -> None:
    kind = _SECTIONS[section_name]
    for name in names:
        text = str(name)
        if not text:
            reporter.add((section_name, name), f"a {kind} needs a name", key=True)
        elif (slip := name_slip(text)) is not None:
            reporter.add((section_name, name), slip, key=True)
        elif len(text) > MAX_NAME:
            reporter.add(
                (section_name, name),
                f"the name is {len(text):,} characters long: at most {MAX_NAME} "
                "(names are stored in database columns)",
                key=True,
            )


def load_text(text: str, file: str = "<string>") -> WorkflowDef:
    """Parse and check one workflow; returns a :class:`WorkflowDef` or raises."""
    from caseflow.definitions.checks import build  # noqa: PLC0415 - avoids an import cycle

    root = read_yaml(text, file)
    reporter = Reporter(file, root)
    if not isinstance(root, Mapping):
        reporter.add((), "a workflow file must be a mapping with 'workflow', 'version', ...")
        raise DefinitionError(reporter.problems)
    for key in root:
        if key not in _HEADER_KEYS:
            reporter.add((key,), unknown_field(str(key), _HEADER_KEYS), key=True)
    header_data = {k: v for k, v in root.items() if k in raw.RawHeader.model_fields}
    header = validate_shape(reporter, raw.RawHeader, plain(header_data), ())
    elements: dict[str, Any] = {"header": plain(header_data)}
    for name, model in (
        ("states", raw.RawState),
        ("events", raw.RawEvent),
        ("clocks", raw.RawClock),
    ):
        found: dict[str, Any] = {}
        entries = section(reporter, root, name)
        _element_names(reporter, name, entries)
        for element_id, value in entries.items():
            found[str(element_id)] = validate_shape(
                reporter, model, plain(value), (name, element_id)
            )
        elements[name] = found
    definition = build(reporter, header, elements, content_hash(plain(root)), text)
    if reporter.problems or definition is None:
        raise DefinitionError(sorted(reporter.problems, key=lambda p: (p.line, p.column)))
    return definition


def load_bytes(data: bytes, file: str = "<bytes>") -> WorkflowDef:
    """Load a workflow from the bytes of a file (UTF-8; other encodings get a hint)."""
    return load_text(safeyaml.decode(data, file), file)


def load_file(path: str | Path) -> WorkflowDef:
    """Load one workflow file; problems name the file as given."""
    return load_text(safeyaml.read_file(path), str(path))


def workflow_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories into their ``*.yaml``/``*.yml`` files, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(x for x in p.iterdir() if x.suffix in {".yaml", ".yml"}))
        else:
            files.append(p)
    return files
