"""Durations as admins write them: ``5 workdays``, ``30 days``, ``1 month``, ``4 hours``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Unit = Literal["workdays", "days", "months", "hours"]

_UNITS: dict[str, Unit] = {
    "workday": "workdays",
    "workdays": "workdays",
    "working day": "workdays",
    "working days": "workdays",
    "day": "days",
    "days": "days",
    "month": "months",
    "months": "months",
    "hour": "hours",
    "hours": "hours",
}
_PATTERN = re.compile(r"^\s*(\d+)\s*([a-z ]+?)\s*$")


@dataclass(frozen=True, slots=True)
class Duration:
    """A legal or internal period: an amount of a unit."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"


def parse_duration(text: str) -> Duration:
    """
    Parse ``"20 workdays"``, ``"1 month"``, ``"30 days"`` or ``"8 hours"``.

    Raises:
        ValueError: with a message that says what is accepted.
    """
    match = _PATTERN.match(str(text).lower())
    unit = _UNITS.get(match.group(2)) if match else None
    if match is None or unit is None:
        msg = (
            f"invalid duration {text!r}: write a whole number and a unit, "
            "e.g. '5 workdays', '30 days', '1 month', '8 hours'"
        )
        raise ValueError(msg)
    return Duration(int(match.group(1)), unit)
