"""
Bounded, safe reading of the YAML (and JSON) files admins write: workflows, org trees,
calendar data.

Whatever the bytes, reading either returns plain data or raises a
:class:`~caseflow.errors.DefinitionError` whose problems name ``file:line:column``,
quickly and in bounded memory:

- a file is at most :data:`MAX_BYTES` (256 KiB; the largest shipped workflow is 12 KiB);
- collections nest at most :data:`MAX_DEPTH` (64) levels (flow style, ``[[[...``, is
  refused by the scanner, before ruamel's rescans of open brackets slow it down);
- the document, with every alias expanded, has at most :data:`MAX_NODES` (100,000)
  nodes: a 400-byte "billion laughs" stops at the alias that would pass the bound; an
  alias to a node that contains it (a recursive alias) is refused;
- only the plain YAML tags are honoured (``!!str``, ``!!seq``, ``!!map``); any other
  tag (``!!python/...``, ``!!binary``, ``!foo``) is refused, so nothing but strings,
  numbers, booleans, nulls, lists and mappings is ever built; mapping keys are scalars;
- only YAML 1.2 is read (a ``%YAML 1.1`` directive is refused);
- dates (``2026-01-01``) stay the text as written unless the caller asks for dates
  (calendar data); ``.nan`` and ``.inf`` are refused (JSON has neither);
- the text must be UTF-8; a UTF-8 byte-order mark is dropped; a GBK/GB18030 or UTF-16
  file gets a hint to save it as UTF-8; YAML syntax errors caused by a full-width colon
  ``：`` or comma ``，`` or by a tab in the indentation say so, at that character.

Positions come from ruamel.yaml's round-trip loader (:func:`load`); :func:`plain` turns
its nodes into dicts, lists and built-in scalars.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import RoundTripScanner

from caseflow.errors import DefinitionError, Problem

if TYPE_CHECKING:
    import os

MAX_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
#: How a YAML syntax error's message starts.
SYNTAX = "YAML error: "

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset({"!", _CORE + "str", _CORE + "seq", _CORE + "map"})
_DIRECTIVE = re.compile(r"^%YAML[ \t]+(\S*)", re.MULTILINE)
_NOT_FINITE = re.compile(r"[-+]?\.(inf|Inf|INF|nan|NaN|NAN)")


class _RefusedError(MarkedYAMLError):
    """A bound or rule of this module, at a position."""


def _refuse(message: str, mark: Any) -> _RefusedError:
    return _RefusedError(None, None, message, mark)


class _BoundedScanner(RoundTripScanner):
    """ruamel's scanner, refusing flow collections (``[[[...``) nested past the bound.

    The scanner keeps a possible key per open ``[``/``{`` and rescans them all for every
    token, so 2,000 nested brackets would take seconds before the composer saw depth 65.
    """

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:  # noqa: N803
        if len(self.flow_context) >= MAX_DEPTH:
            raise _refuse(
                f"nested deeper than {MAX_DEPTH} levels: flatten the structure",
                self.reader.get_mark(),
            )
        super().fetch_flow_collection_start(TokenClass, to_push)


class _BoundedComposer(Composer):
    """ruamel's composer, counting depth and expanded size and refusing unsafe tags."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.warn_double_anchors = False  # YAML allows re-anchoring; not worth a warning
        self._sizes: dict[int, int] = {}
        self._open: list[int] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        is_key = isinstance(parent, MappingNode) and index is None
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise _refuse(
                    f"alias *{event.anchor} refers to a node that contains it (a recursive alias)",
                    event.start_mark,
                )
            if is_key and not isinstance(node, ScalarNode):
                raise _refuse(
                    "a mapping key must be a name, not a list or mapping", event.start_mark
                )
            self._add(size, event.start_mark, f"alias *{event.anchor}")
            return node
        if self.depth >= MAX_DEPTH:
            raise _refuse(
                f"nested deeper than {MAX_DEPTH} levels: flatten the structure",
                event.start_mark,
            )
        tag = getattr(event, "ctag", None)
        if tag is not None and str(tag) not in _ALLOWED_TAGS:
            raise _refuse(
                f"the YAML tag {_shown_tag(tag)} is not allowed: write a plain value "
                "(quote it to make it a string)",
                event.start_mark,
            )
        collection = not isinstance(event, ScalarEvent)
        if is_key and collection:
            raise _refuse("a mapping key must be a name, not a list or mapping", event.start_mark)
        if collection:
            self._open.append(0)
        node = super().compose_node(parent, index)
        size = 1 + (self._open.pop() if collection else 0)
        self._sizes[id(node)] = size
        if (
            isinstance(node, ScalarNode)
            and str(node.tag) == _CORE + "float"
            and _NOT_FINITE.fullmatch(node.value)
        ):
            raise _refuse(
                f"{node.value} is not a number JSON allows: write a number", event.start_mark
            )
        self._add(size, event.start_mark, "this value")
        return node

    def _add(self, size: int, mark: Any, what: str) -> None:
        total = size
        if self._open:
            self._open[-1] += size
            total = sum(self._open)
        if total > MAX_NODES:
            raise _refuse(
                f"{what} expands the document past {MAX_NODES:,} values "
                "(aliases repeated inside aliases?)",
                mark,
            )


def _shown_tag(tag: Any) -> str:
    text = str(tag)
    return "!!" + text.removeprefix(_CORE) if text.startswith(_CORE) else text


class _SafeConstructor(RoundTripConstructor):
    """Round-trip construction; dates as written (or checked dates), errors positioned."""

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)
        except MarkedYAMLError:
            raise
        except (ValueError, TypeError, ArithmeticError) as exc:
            what = f"cannot read this value: {exc}"
            if str(node.tag) == _CORE + "int" and len(str(node.value)) > 100:
                what = f"a number of {len(node.value):,} digits is too large"
            raise ConstructorError(None, None, what, node.start_mark) from None

    def construct_timestamp(self, node: Any) -> Any:
        if not getattr(self.loader, "caseflow_dates", False):
            return str(node.value)
        try:
            return SafeConstructor.construct_yaml_timestamp(self, node)
        except ValueError as exc:
            raise ConstructorError(None, None, f"invalid date: {exc}", node.start_mark) from None


_SafeConstructor.add_constructor(_CORE + "timestamp", _SafeConstructor.construct_timestamp)


# --- bytes to text ---------------------------------------------------------------------


def _problem(file: str, line: int, column: int, message: str) -> DefinitionError:
    return DefinitionError([Problem(file, line, column, "", message)])


def _too_large(size: int, file: str) -> DefinitionError:
    return _problem(
        file,
        1,
        1,
        f"file too large ({size / 1024:,.0f} KiB): a file may be at most {MAX_BYTES // 1024} KiB",
    )


def decode(data: bytes, file: str) -> str:
    """UTF-8 bytes to text (a byte-order mark is dropped); other encodings get a hint."""
    if len(data) > MAX_BYTES:
        raise _too_large(len(data), file)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _problem(file, 1, 1, "the file is UTF-16: save it as UTF-8")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            hint = "save it as UTF-8"
        else:
            hint = (
                "it looks GBK/GB18030-encoded (the default of Chinese Windows editors): "
                "save it as UTF-8 (记事本: 另存为, 编码 UTF-8)"
            )
        raise _problem(
            file, line, column, f"not UTF-8 (byte 0x{data[start]:02x}): {hint}"
        ) from None


def read_file(path: str | os.PathLike[str], file: str | None = None) -> str:
    """A file's text, bounded and decoded by :func:`decode`."""
    name = str(path) if file is None else file
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                handle.seek(0, 2)
                raise _too_large(handle.tell(), name)
    except OSError as exc:
        raise _problem(name, 1, 1, f"cannot read file: {exc}") from None
    return decode(data, name)


# --- text to nodes ---------------------------------------------------------------------


def load(text: str, file: str, *, dates: bool = False) -> Any:
    """
    Parse one YAML document with positions (ruamel round-trip nodes), within the bounds.

    ``dates``: build ``datetime.date`` for unquoted dates (an impossible date is a
    problem); otherwise a date is the string as written.
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_large(len(text.encode("utf-8", "surrogatepass")), file)
    text = text.removeprefix("\ufeff")
    directive = _DIRECTIVE.search(text)
    if directive is not None and directive[1] != "1.2":
        line, column = _index_position(text, directive.start())
        raise _problem(file, line, column, "only YAML 1.2 is read: remove the %YAML directive")
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.Scanner = _BoundedScanner
    yaml.Composer = _BoundedComposer
    yaml.Constructor = _SafeConstructor
    yaml.caseflow_dates = dates  # type: ignore[attr-defined]
    try:
        return yaml.load(text)
    except _RefusedError as exc:
        line, column = _mark(exc.problem_mark)
        raise _problem(file, line, column, str(exc.problem)) from None
    except MarkedYAMLError as exc:
        raise _syntax_error(text, file, exc) from None
    except ReaderError as exc:
        line, column = _index_position(text, exc.position)
        what = (
            f"unacceptable character #x{exc.character:04x}"
            if isinstance(exc.character, int)
            else str(exc)
        )
        hint = " (a NUL byte: is the file UTF-16? save it as UTF-8)" if exc.character == 0 else ""
        raise _problem(file, line, column, f"{SYNTAX}{what}: {exc.reason}{hint}") from None
    except (YAMLError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise _problem(file, 1, 1, f"{SYNTAX}{type(exc).__name__}: {exc}") from None


def _mark(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _index_position(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _syntax_error(text: str, file: str, exc: MarkedYAMLError) -> DefinitionError:
    line, column = _mark(exc.problem_mark or exc.context_mark)
    what = " ".join(
        str(part).strip().splitlines()[0]
        for part in (exc.context, exc.problem)
        if part and str(part).strip()
    )
    found = keyboard_slip(text, line)
    if found is None:
        return _problem(file, line, column, f"{SYNTAX}{what}")
    hint_line, hint_column, hint = found
    return _problem(
        file, hint_line, hint_column, f"{SYNTAX}{what} (at line {line}, column {column}); {hint}"
    )


# --- Chinese-keyboard slips ------------------------------------------------------------

#: Full-width characters an IME types instead of the ASCII YAML or guard syntax: colon,
#: comma, quotes, parentheses, brackets, braces, the ideographic space and the digits.
FULL_WIDTH = {
    "\uff1a": ":",
    "\uff0c": ",",
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\uff08": "(",
    "\uff09": ")",
    "\uff3b": "[",
    "\uff3d": "]",
    "\uff5b": "{",
    "\uff5d": "}",
    "\u3000": " ",
    **{chr(0xFF10 + d): str(d) for d in range(10)},
}
_COLON, _COMMA = "\uff1a", "\uff0c"
_KEY_BEFORE = re.compile(r"(?:^|[{,\[]|-\s)\s*[^\s:#'\"{}\[\],]+\s*$")


def name_slip(name: str) -> str | None:
    """Why ``name`` (of a state, event, clock or role) looks like two names run together."""
    for char, ascii_char in ((_COLON, ":"), (_COMMA, ",")):
        if char in name:
            return (
                f"the name {name!r} holds a full-width {char!r} (Chinese keyboard): "
                f"YAML needs {ascii_char!r} there"
            )
    return None


def punctuation_hint(text: str) -> str:
    """`` (full-width ...)`` when ``text`` holds a character of :data:`FULL_WIDTH`, else ``""``."""
    found = [c for c in dict.fromkeys(text) if c in FULL_WIDTH]
    if not found:
        return ""
    what = ", ".join(
        f"{'ideographic space' if c == chr(0x3000) else repr(c)} for {FULL_WIDTH[c]!r}"
        for c in found
    )
    return f" (full-width {what}: the Chinese keyboard typed it; use the ASCII character)"


def keyboard_slip(text: str, line: int) -> tuple[int, int, str] | None:
    """
    A full-width ``：``/``，`` used as YAML syntax or a tab in the indentation, on
    ``line`` or the two lines before it: ``(line, column, hint)``, 1-based.
    """
    lines = text.splitlines()
    for number in range(min(line, len(lines)), max(line - 3, 0), -1):
        content = lines[number - 1]
        indent = len(content) - len(content.lstrip(" \t"))
        if "\t" in content[:indent]:
            return (
                number,
                content.index("\t") + 1,
                "a tab is used for indentation: YAML indents with spaces",
            )
        quoted = False
        depth = 0
        for column, char in enumerate(content):
            if char in "'\"":
                quoted = not quoted
            elif quoted:
                continue
            elif char == "#" and (column == 0 or content[column - 1] in " \t"):
                break
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
            elif char == _COLON and _KEY_BEFORE.search(content[:column]):
                hint = f"a full-width colon {_COLON!r} (Chinese keyboard) is not YAML syntax"
                return number, column + 1, hint + ": write ':' and a space"
            elif char == _COMMA and depth > 0:
                hint = f"a full-width comma {_COMMA!r} (Chinese keyboard) is not YAML syntax"
                return number, column + 1, hint + ": write ','"
    return None


# --- nodes to plain data ---------------------------------------------------------------


def plain(node: Any) -> Any:
    """Round-trip nodes to dicts (string keys), lists and built-in scalars."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):  # ruamel's ScalarInt, ScalarBoolean, HexInt, ...
        return bool(node) if type(node).__name__ == "ScalarBoolean" else int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, TaggedScalar):  # an explicit `!!str`
        return str(node.value)
    return node  # a date, when asked for dates


# --- JSON ------------------------------------------------------------------------------


def load_json(text: str, file: str) -> Any:
    """Parse JSON within the same size and depth bounds."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_large(len(text.encode("utf-8", "surrogatepass")), file)
    text = text.removeprefix("\ufeff")
    depth, quoted, escaped = 0, False, False
    for index, char in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _index_position(text, index)
                raise _problem(file, line, column, f"nested deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(file, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise _problem(file, 1, 1, f"not valid JSON: {exc}") from None


def flatten(exc: DefinitionError) -> DefinitionError:
    """The problems as one message (``file:line:col: ...`` lines) for org and calendar files."""
    return DefinitionError("\n".join(map(str, exc.problems)) or str(exc))
