"""
Durations as the drawings show them: ``1 workday``, ``2 months`` and ISO 8601 ``P5D``.

:class:`caseflow.clocks.durations.Duration` prints the unit as stored (``1 workdays``);
these are the labels people read and the values BPMN tools parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caseflow.clocks.durations import Duration, Unit

_SINGULAR: dict[Unit, str] = {
    "workdays": "workday",
    "days": "day",
    "months": "month",
    "hours": "hour",
}
# ISO 8601 has no working days: N workdays become the nominal N days (see bpmn()).
_ISO: dict[Unit, str] = {"workdays": "P{}D", "days": "P{}D", "months": "P{}M", "hours": "PT{}H"}


def duration_label(duration: Duration) -> str:
    """``1 workday``, ``5 workdays``, ``1 month``, ``8 hours``: singular only for 1."""
    unit = _SINGULAR[duration.unit] if duration.amount == 1 else duration.unit
    return f"{duration.amount} {unit}"


def iso8601(duration: Duration) -> str:
    """The ISO 8601 duration: ``P5D``, ``P1M``, ``PT8H``; workdays as nominal days."""
    return _ISO[duration.unit].format(duration.amount)
