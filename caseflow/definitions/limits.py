"""
The bounds a workflow file must stay within, and the exact duration syntax.

Both the loader and the shipped JSON Schema (:mod:`caseflow.export.schema`) read these,
so an editor and ``caseflow workflows validate`` accept the same files:

- names of workflows, states, events, clocks, roles and actions: 1 to
  :data:`MAX_NAME` characters (they are stored in ``String(100)`` columns and shown in
  tables); org levels in ``by_level``: at most :data:`MAX_LEVEL` (the ``level`` column);
- durations: ``<whole number> <unit>``, ASCII digits, units in any letter case, spaces
  only (no tabs or newlines), at most 100 years' worth in any unit
  (:data:`MAX_AMOUNT`), and a clock's longest limit, all its extensions and its last
  escalation step together at most :data:`MAX_YEARS` (far past any legal time limit,
  and far from where the date arithmetic of a running case would overflow);
- ``retries`` and extension ``times``: at most 100; ``backoff_seconds``: at most a day;
- ``version``: 1 to 2**31 - 1 (an ``Integer`` column);
- guards: at most :data:`MAX_GUARD` characters and :data:`MAX_GUARD_DEPTH` levels of
  nesting.

Pure: no I/O.
"""

from __future__ import annotations

import re

from caseflow.clocks.durations import Duration, Unit

MAX_NAME = 64
MAX_LEVEL = 50
MAX_VERSION = 2**31 - 1
MAX_GUARD = 4000
MAX_GUARD_DEPTH = 32
MAX_RETRIES = 100
MAX_TIMES = 100
MAX_BACKOFF_SECONDS = 86_400

#: The most of each unit a duration may hold: 100 years (365.25 days, 250 working days
#: a year).
MAX_AMOUNT: dict[Unit, int] = {
    "hours": 876_600,
    "days": 36_525,
    "workdays": 25_000,
    "months": 1_200,
}

#: How each unit is spelled (any letter case).
SPELLINGS: dict[Unit, tuple[str, ...]] = {
    "workdays": ("working days", "working day", "workdays", "workday"),
    "days": ("days", "day"),
    "months": ("months", "month"),
    "hours": ("hours", "hour"),
}


def shorten(text: str, at: int = 40) -> str:
    """``text`` quoted for a message, cut at ``at`` characters."""
    return repr(text) if len(text) <= at else repr(text[:at]) + "..."


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in word)


def upto(limit: int) -> str:
    """A regular expression for the whole numbers 0..``limit``, leading zeros allowed."""
    digits = str(limit)
    shorter = len(digits) - 1
    options = [] if not shorter else ["[0-9]" if shorter == 1 else f"[0-9]{{1,{shorter}}}"]
    for i, d in enumerate(digits):
        low, high = 0 if i or not shorter else 1, int(d) - 1
        if high >= low:
            rest = len(digits) - i - 1
            tail = "" if not rest else "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
            head = str(low) if low == high else f"[{low}-{high}]"
            options.append(digits[:i] + head + tail)
    options.append(digits)
    return "0*(?:" + "|".join(options) + ")"


def duration_pattern() -> str:
    """
    The durations the loader accepts, as a pattern that means the same in Python's
    :mod:`re` (jsonschema) and in ECMA 262 (editors). ``$(?!\\n)`` is the end of the text
    in both (Python's ``$`` alone also matches before a final newline).
    """
    alternatives = [
        upto(MAX_AMOUNT[unit]) + " *(?:" + "|".join(_any_case(s) for s in words) + ")"
        for unit, words in SPELLINGS.items()
    ]
    return "^ *(?:" + "|".join(alternatives) + ") *$(?!\\n)"


_SHAPE = re.compile(r" *([0-9]+) *([A-Za-z ]*?) *")
_UNIT_OF = {s: unit for unit, words in SPELLINGS.items() for s in words}


def check_duration(text: str) -> Duration:
    """
    Parse a duration exactly as the schema's pattern accepts it.

    Raises:
        ValueError: saying what is accepted, or what the bound is.
    """
    shown = shorten(text)
    shape = _SHAPE.fullmatch(text)
    unit = _UNIT_OF.get(shape.group(2).lower()) if shape is not None else None
    if shape is None or unit is None:
        raise ValueError(
            f"invalid duration {shown}: write a whole number and a unit, "
            "e.g. '5 workdays', '30 days', '1 month', '8 hours'"
        )
    digits = shape.group(1).lstrip("0") or "0"
    amount = int(digits) if len(digits) <= len(str(MAX_AMOUNT[unit])) else MAX_AMOUNT[unit] + 1
    if amount > MAX_AMOUNT[unit]:
        raise ValueError(
            f"duration {shown} is too long: at most {MAX_AMOUNT[unit]:,} {unit} (100 years)"
        )
    return Duration(amount, unit)


MAX_YEARS = 100
#: How many of each unit a year holds (about 250 working days a year in China).
_PER_YEAR: dict[Unit, float] = {"hours": 8766, "days": 365.25, "workdays": 250, "months": 12}


def years(duration: Duration) -> float:
    """About how many years ``duration`` is (for the 100-year bound)."""
    return duration.amount / _PER_YEAR[duration.unit]


#: A conservative span of each unit in days: (at least, at most); None: no upper bound
#: (a working-day period stretches over weekends and holidays).
_SPAN_DAYS: dict[Unit, tuple[float, float | None]] = {
    "hours": (1 / 24, 1 / 24),
    "days": (1, 1),
    "months": (28, 31),
    "workdays": (1, None),
}


def surely_not_shorter(warn: Duration, limit: Duration) -> bool:
    """
    Whether ``warn`` is at least as long as ``limit`` however the calendar falls.

    The same unit compares amounts. Across units the comparison is conservative:
    ``N months`` is at least 28 N and at most 31 N days, ``N workdays`` at least N days
    (with no upper bound), a day is 24 hours; only a warning that is certainly not
    shorter than the limit counts.
    """
    if warn.unit == limit.unit:
        return warn.amount >= limit.amount
    warn_min = warn.amount * _SPAN_DAYS[warn.unit][0]
    limit_max = _SPAN_DAYS[limit.unit][1]
    return limit_max is not None and warn_min >= limit.amount * limit_max
