#!/usr/bin/env python
"""
Mutation fuzzing of the workflow loader: every input must load or be refused clearly.

    .venv/bin/python bench/fuzz_loader.py [--count 5200] [--seed 1] [--timeout 10]

Each input is a shipped workflow (``workflows/*.yaml``) after one to three mutations:
byte flips, truncations, line deletions, duplications and swaps, lines spliced in from
another workflow, inserted tags (``!!python/...``, ``!!binary``, ``!foo``), anchors and
aliases (undefined, recursive, a "billion laughs"), deep nesting of collections and of
guards (``not not ...``), edge values where a value goes (dates, ``'1'``, ``true``,
``.nan``, 5,000-digit numbers, ``99999999999 days``, a catastrophic ``pattern``, a remote
``$ref``), empty elements, Chinese-keyboard slips (full-width ``：`` and ``，``, tabs,
GBK and UTF-16 files, a BOM). Each is given to ``load_bytes`` in this process, with a
timer (``SIGALRM``) and an address-space limit, and counted: loaded, refused with a
positioned ``DefinitionError`` (every problem at line >= 1), refused without positions,
another exception (by type), or past ``--timeout`` seconds. Anything but the first two
is saved to ``tests/loader_cases/`` (``crash-<hash>.yaml``), where a regression test
loads it. Prints the counts and the time per input (median, p99, max).

The suite runs a bounded version of this (``tests/test_loader_fuzz.py``, Hypothesis).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import signal
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from caseflow.errors import DefinitionError  # noqa: E402

CASES = ROOT / "tests" / "loader_cases"
SHIPPED = sorted((ROOT / "workflows").glob("*.yaml"))

TAGS = [
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!!python/object:collections.OrderedDict {}",
    "!!binary aGVsbG8=",
    "!!timestamp 2026-01-01",
    "!!float abc",
    "!!int 1.5",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!foo bar",
    "!!str 12",
]
VALUES = [
    "2026-13-45",
    "2026-01-01",
    "2026-01-01 10:00:00",
    "1.0",
    "'1'",
    "true",
    "null",
    "~",
    ".nan",
    "-.inf",
    "9" * 5000,
    "1e999",
    "0x1F",
    "99999999999 days",
    "999999999 months",
    "36526 days",
    "5 workdays",
    "５ days",
    '""',
    "[]",
    "{}",
    "[[[]]]",
    "a" * 5000,
    "*undefined",
    "{$ref: 'http://example.com/schema.json'}",
    "{type: string, pattern: '^(a+)+$'}",
    "{type: string, pattern: '(a|aa)*b'}",
    "{patternProperties: {'(x+x+)+y': {}}}",
    "{$ref: '#/$defs/missing'}",
    "{allOf: [{$ref: '#'}]}",
    "{type: object, properties: {a: {type: number}}}",
    "'data.aera_sqm <= 150'",
    "'data.area_sqm <= ''150'''",
    "'payload.nope == 1'",
    "'actor.rolez == 1'",
    "'not ' ",
    "[clerk，head]",
]
BOMB = "\nlol: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"lol{i}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
    for i, (p, c) in enumerate(zip("abcdefgh", "bcdefghi", strict=True))
)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _value_line(rng: random.Random, lines: list[bytes]) -> int | None:
    """A random line holding ``key: value``."""
    candidates = [
        i for i, line in enumerate(lines) if b": " in line and not line.lstrip().startswith(b"#")
    ]
    return rng.choice(candidates) if candidates else None


def _replace_value(rng: random.Random, data: bytes, value: str) -> bytes:
    lines = _lines(data)
    i = _value_line(rng, lines)
    if i is None:
        return data
    key, _, _ = lines[i].partition(b": ")
    lines[i] = key + b": " + value.encode()
    return b"\n".join(lines)


def _nest(rng: random.Random) -> str:
    n = rng.choice([40, 64, 65, 200, 500, 2000, 20000])
    kind = rng.randrange(3)
    if kind == 0:
        return "[" * n + "]" * n
    if kind == 1:
        return "{a: " * n + "b" + "}" * n
    return "'" + "not " * n + "data.x'"


def _block_nest(rng: random.Random) -> bytes:
    n = rng.choice([50, 70, 300, 1000])
    return b"\n" + b"".join(b"  " * i + b"k%d:\n" % i for i in range(n)) + b"  " * n + b"v\n"


def mutate_once(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    """One random mutation of ``data`` (bytes of a workflow file)."""
    lines = _lines(data)
    op = rng.randrange(19)
    if op == 0 and data:  # byte flips
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if op == 1:  # truncation
        return data[: rng.randrange(len(data) + 1)]
    if op == 2 and lines:  # line deletion
        del lines[rng.randrange(len(lines))]
    elif op == 3 and lines:  # line duplication
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif op == 4 and len(lines) > 1:  # swap
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 5:  # splice a line of another workflow
        other = _lines(rng.choice(corpus))
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(other))
    elif op == 6:  # a tag where a value goes, maybe inside a list
        tag = rng.choice(TAGS)
        return _replace_value(rng, data, tag if rng.random() < 0.5 else f"[a, {tag}]")
    elif op == 7:  # an edge value
        return _replace_value(rng, data, rng.choice(VALUES))
    elif op == 8:  # deep nesting
        return _replace_value(rng, data, _nest(rng))
    elif op == 9:  # deep block nesting
        return data + _block_nest(rng)
    elif op == 10:  # alias bomb
        return data + BOMB.encode()
    elif op == 11:  # anchors and aliases
        i = _value_line(rng, lines)
        j = _value_line(rng, lines)
        if i is not None and j is not None:
            key, _, value = lines[i].partition(b": ")
            lines[i] = key + b": &a " + value
            key, _, _ = lines[j].partition(b": ")
            lines[j] = key + rng.choice([b": *a", b": [*a, *a]", b": *b", b": &a [*a]"])
    elif op == 12 and lines:  # full-width colon or comma
        i = rng.randrange(len(lines))
        old, new = rng.choice(
            [(b": ", "： ".encode()), (b":", "：".encode()), (b", ", "，".encode())]
        )
        lines[i] = lines[i].replace(old, new, 1)
    elif op == 13 and lines:  # tab indentation
        i = rng.randrange(len(lines))
        lines[i] = b"\t" + lines[i].lstrip(b" ")
    elif op == 14:  # other encodings
        text = data.decode("utf-8", errors="replace")
        codec = rng.choice(["gb18030", "gbk", "utf-16", "utf-8-sig"])
        return text.encode(codec, errors="replace")
    elif op == 15:  # an empty element
        i = _value_line(rng, lines)
        if i is not None:
            lines[i] = lines[i].partition(b": ")[0] + b": "
    elif op == 16:  # long names
        i = _value_line(rng, lines)
        if i is not None:
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines[i] = (
                indent + b"n" * rng.choice([65, 101, 5000]) + b": " + lines[i].partition(b": ")[2]
            )
    elif op == 17:  # a huge file
        return data + b"#" + b"x" * rng.choice([300_000, 31_000_000]) + b"\n"
    elif op == 18:  # a random character inserted
        i = rng.randrange(len(data) + 1)
        return (
            data[:i]
            + rng.choice(
                [
                    "\x00",
                    "\ufeff",
                    "\u3000",
                    "\\",
                    "'",
                    '"',
                    "{",
                    "[",
                    "&",
                    "*",
                    "!",
                    "|",
                    ">",
                    "%",
                    "@",
                    "`",
                    "-",
                    "?",
                ]
            ).encode()
            + data[i:]
        )
    return b"\n".join(lines)


def mutate(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    """One to three mutations."""
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        data = mutate_once(rng, data, corpus)
    return data


def check(data: bytes, name: str = "fuzz.yaml") -> str:
    """``loaded``, ``DefinitionError``, ``unpositioned`` or the exception's type name."""
    from caseflow.definitions.loader import load_bytes  # noqa: PLC0415

    try:
        load_bytes(data, name)
    except DefinitionError as exc:
        if not exc.problems or any(p.line < 1 or p.column < 1 for p in exc.problems):
            return "unpositioned"
        return "DefinitionError"
    return "loaded"


class _Timeout(Exception):  # noqa: N818 - a signal, not an error
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Timeout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5200, help="inputs to try (default 5200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--memory-mb", type=int, default=3072, help="address-space limit")
    parser.add_argument("--save", type=Path, default=CASES, help="where crashing inputs go")
    parser.add_argument("--slowest", type=int, default=0, help="describe the N slowest inputs")
    args = parser.parse_args(argv)

    limit = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(args.seed)
    corpus = [p.read_bytes() for p in SHIPPED]
    outcomes: Counter[str] = Counter()
    times: list[float] = []
    slowest: list[tuple[float, bytes]] = []
    saved: list[Path] = []
    started = time.perf_counter()
    for _ in range(args.count):
        data = mutate(rng, rng.choice(corpus), corpus)
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        try:
            outcome = check(data)
        except _Timeout:
            outcome = f"timeout (> {args.timeout:g} s)"
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            outcome = type(exc).__name__
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        times.append(time.perf_counter() - t0)
        outcomes[outcome] += 1
        if args.slowest:
            slowest = sorted([*slowest, (times[-1], data)], key=lambda x: -x[0])[: args.slowest]
        if outcome not in {"loaded", "DefinitionError"}:
            args.save.mkdir(parents=True, exist_ok=True)
            path = args.save / f"crash-{hashlib.sha256(data).hexdigest()[:12]}.yaml"
            if len(data) <= 1_000_000:  # keep the repository small: huge inputs are regenerated
                path.write_bytes(data)
                saved.append(path)
    elapsed = time.perf_counter() - started

    print(f"inputs tried: {args.count:,} (seed {args.seed}) in {elapsed:.1f} s")
    for outcome, n in outcomes.most_common():
        print(f"  {outcome:<32} {n:6,}")
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"time per input: median {statistics.median(times) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
    )
    if saved:
        print(f"saved {len(saved)} crashing inputs to {args.save}")
    from caseflow.definitions.loader import load_bytes  # noqa: PLC0415

    for seconds, data in slowest:
        try:
            load_bytes(data, "slow.yaml")
            what = "loaded"
        except DefinitionError as exc:
            what = str(exc.problems[0])[:150] if exc.problems else str(exc)[:150]
        print(f"  {seconds * 1000:7.0f} ms  {len(data):>9,} bytes  {what}")
    bad = sum(n for o, n in outcomes.items() if o not in {"loaded", "DefinitionError"})
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
