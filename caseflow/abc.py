"""
The interfaces plugins implement.

Plugins are found by name through one entry-point group per kind (``caseflow.calendars``,
``caseflow.notifiers``) or passed to the :class:`~caseflow.Engine` as instances.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class Calendar(ABC):
    """
    A working-day calendar: which days are working days.

    Implementations know some years for certain (statutory holidays and make-up
    working days published) and not others. Period arithmetic asks :meth:`covers`
    first; for days the calendar does not cover it asks
    :meth:`provisional_is_workday` (Monday-Friday unless the calendar knows better) and
    marks the result provisional.
    """

    #: The name the calendar is registered under (``cn``, ``weekdays``).
    name: str = ""

    @abstractmethod
    def covers(self, day: dt.date) -> bool:
        """
        Whether the calendar has authoritative data for ``day``.

        :raises: nothing; returns False for days it knows nothing about.
        """

    @abstractmethod
    def is_workday(self, day: dt.date) -> bool:
        """
        Whether ``day`` is a working day (a make-up working day on a weekend is one).

        Only called for days where :meth:`covers` is true.

        :raises LookupError: if the calendar does not cover ``day``.
        """

    def provisional_is_workday(self, day: dt.date) -> bool:
        """
        Whether ``day`` is a working day by the rule used where there is no data for it.

        Period arithmetic calls this for days :meth:`covers` is false for (and marks
        the result provisional). The default is Monday-Friday. A calendar that knows
        the rules a future schedule must follow overrides it: ``cn`` adds the statutory
        holidays and their in-lieu days, fixed by law, but cannot know the make-up
        working days (调休) a published schedule adds. It is defined for every day,
        covered or not, and must be cheap: period arithmetic calls it once per day
        counted.

        :raises: nothing.
        """
        return day.weekday() < 5

    def covers_year(self, year: int) -> bool:
        """
        Whether the calendar has authoritative data for every day of ``year``.

        The default asks :meth:`covers` for each day; calendars that know their data by
        the year override it with something cheaper.

        :raises: nothing.
        """
        day = dt.date(year, 1, 1)
        while day.year == year:
            if not self.covers(day):
                return False
            day += dt.timedelta(days=1)
        return True


class Notifier(ABC):
    """
    Delivers notifications (warnings, breaches, escalations) to people in roles.

    Delivery is at least once: the engine records a notification as sent right after
    :meth:`notify` returns, so a worker killed in between sends it again. Every attempt
    of one notification carries the same ``idempotency_key`` (``notify:<timer id>``): a
    notifier that remembers the keys it sent (or passes them to a gateway that does)
    delivers each notification once.
    """

    @abstractmethod
    def notify(
        self,
        *,
        case_id: str,
        roles: tuple[str, ...],
        org: str,
        message: str,
        idempotency_key: str = "",
    ) -> None:
        """
        Send ``message`` about ``case_id`` to whoever holds ``roles`` at ``org``.

        :raises Exception: any failure; the engine retries with backoff, never lets it
            block a call, and after its attempts opens an incident on the case.
        """


class RosterProvider(ABC):
    """Who may vote: the electorate of a vote, snapshotted when the vote opens."""

    @abstractmethod
    def members(self, *, group: str | None, org: str, data: Mapping[str, Any]) -> Sequence[str]:
        """
        Voter ids for ``group`` at ``org`` (e.g. the representatives of a village).

        :raises LookupError: if the group or org is unknown.
        """


class ActionHandler(ABC):
    """
    Runs a side effect (send a notice, post to a department system, book a courier).

    Called after the transition that asked for it has committed, at least once: a
    handler receives an ``idempotency_key`` that is the same on every attempt, so it can
    make its effect happen exactly once.
    """

    @abstractmethod
    def run(
        self,
        *,
        case_id: str,
        data: Mapping[str, Any],
        params: Mapping[str, Any],
        idempotency_key: str,
    ) -> None:
        """
        Do the effect.

        :raises Exception: any failure; the dispatcher retries with backoff, then opens
            an incident on the case.
        """
