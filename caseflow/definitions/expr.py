"""
Guard conditions: a small, safe expression language over ``data``, ``payload`` and ``actor``.

Guards are written in YAML as strings such as ``payload.approved == true and
data.delivery in ['post', 'window']``. They are parsed once, when the workflow is
loaded, with :mod:`ast` into a tree of plain closures; nothing is ever passed to
``eval`` or ``exec``. What is allowed:

- names ``data``, ``payload``, ``actor`` and attribute or ``[...]`` access below them
  (a missing key reads as ``null``); ``actor.id``, ``actor.org``, ``actor.roles``;
- literals: numbers, strings, ``true``/``false``/``null`` (Python spellings too), lists;
- comparisons ``== != < <= > >=``, ``in``, ``not in`` (chains allowed);
- ``and``, ``or``, ``not`` and unary minus.

A comparison between values that cannot be ordered (``null < 3``) is false. A guard is
at most 4,000 characters and 32 levels deep (:mod:`caseflow.definitions.limits`).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from caseflow.definitions.limits import MAX_GUARD, MAX_GUARD_DEPTH

Context = Mapping[str, Any]
_Eval = Callable[[Context], Any]

_ROOTS = frozenset({"data", "payload", "actor"})
_LITERALS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


class GuardSyntaxError(ValueError):
    """A guard expression is not valid; ``column`` is 1-based within the expression."""

    def __init__(self, message: str, column: int = 1) -> None:
        self.column = column
        super().__init__(message)


@dataclass(frozen=True)
class Guard:
    """A parsed guard condition. ``Guard.parse(text)`` raises :class:`GuardSyntaxError`."""

    source: str
    _fn: _Eval = field(repr=False, compare=False)

    @classmethod
    def parse(cls, source: str) -> Guard:
        text = source.strip()
        shown = source if len(source) <= 200 else source[:200] + "..."
        if len(text) > MAX_GUARD:
            raise GuardSyntaxError(
                f"guard is {len(text):,} characters long: at most {MAX_GUARD:,}", column=1
            )
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            column = exc.offset or len(text) + 1
            raise GuardSyntaxError(f"invalid guard {shown!r}: {exc.msg}", column=column) from None
        except (RecursionError, MemoryError):
            raise GuardSyntaxError(f"guard {shown!r} is nested too deeply", column=1) from None
        _check_depth(tree.body)
        return cls(source, _compile(tree.body))

    def evaluate(self, context: Context) -> bool:
        """Evaluate against ``{'data': ..., 'payload': ..., 'actor': ...}``."""
        return bool(self._fn(context))


def _check_depth(root: ast.expr) -> None:
    """Refuse a guard nested more than :data:`MAX_GUARD_DEPTH` levels (walked iteratively)."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_GUARD_DEPTH:
            raise _fail(node, f"guard is nested more than {MAX_GUARD_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _fail(node: ast.AST, message: str) -> GuardSyntaxError:
    return GuardSyntaxError(message, column=getattr(node, "col_offset", 0) + 1)


def _compile(node: ast.expr) -> _Eval:
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda ctx: all(p(ctx) for p in parts)
        return lambda ctx: any(p(ctx) for p in parts)
    if isinstance(node, ast.UnaryOp):
        inner = _compile(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda ctx: not inner(ctx)
        operand = node.operand
        if (
            isinstance(node.op, ast.USub)
            and isinstance(operand, ast.Constant)
            and isinstance(operand.value, (int, float))
        ):
            negative = -operand.value
            return lambda _ctx: negative
        raise _fail(node, "only 'not' and a minus sign before a number are allowed")
    if isinstance(node, ast.Compare):
        return _compile_compare(node)
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (str, int, float, bool)) and node.value is not None:
            raise _fail(node, f"unsupported literal {node.value!r}")
        constant = node.value
        return lambda _ctx: constant
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_compile(e) for e in node.elts]
        return lambda ctx: [i(ctx) for i in items]
    if isinstance(node, ast.Name):
        if node.id in _LITERALS:
            literal = _LITERALS[node.id]
            return lambda _ctx: literal
        if node.id in _ROOTS:
            name = node.id
            return lambda ctx: ctx.get(name)
        raise _fail(node, f"unknown name {node.id!r}: use data, payload or actor")
    if isinstance(node, ast.Attribute):
        return _compile_access(node, node.value, node.attr)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if not isinstance(key, ast.Constant) or not isinstance(key.value, (str, int)):
            raise _fail(node, "only a literal key or index is allowed inside [...]")
        return _compile_access(node, node.value, key.value)
    raise _fail(node, f"{type(node).__name__.lower()} is not allowed in a guard")


def _compile_access(node: ast.expr, base: ast.expr, key: str | int) -> _Eval:
    root = base
    while isinstance(root, (ast.Attribute, ast.Subscript)):
        root = root.value
    if not (isinstance(root, ast.Name) and root.id in _ROOTS):
        raise _fail(node, "attribute access must start from data, payload or actor")
    parent = _compile(base)

    def access(ctx: Context) -> Any:
        value = parent(ctx)
        if isinstance(value, Mapping):
            return value.get(key)
        if isinstance(value, list) and isinstance(key, int):
            return value[key] if -len(value) <= key < len(value) else None
        return None

    return access


def _compile_compare(node: ast.Compare) -> _Eval:
    ops: list[Callable[[Any, Any], bool]] = []
    for op in node.ops:
        fn = _COMPARE.get(type(op))
        if fn is None:
            raise _fail(node, f"operator {type(op).__name__} is not allowed")
        ops.append(fn)
    operands = [_compile(node.left), *(_compile(c) for c in node.comparators)]

    def compare(ctx: Context) -> bool:
        left = operands[0](ctx)
        for fn, right_fn in zip(ops, operands[1:], strict=True):
            right = right_fn(ctx)
            try:
                ok = fn(left, right)
            except TypeError:
                return False
            if not ok:
                return False
            left = right
        return True

    return compare
