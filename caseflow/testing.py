"""
Helpers for host applications' tests (and caseflow's own).

- :class:`MovableClock` lets a test (or the demo) move time without sleeping.
- :func:`temporary_engine` gives an engine on a throw-away SQLite file.
- :func:`run_scenario` fires a scripted list of steps at a case, moving the clock and
  sweeping due timers between them, and checks the path of states the case took.

::

    from caseflow import Actor
    from caseflow.testing import Start, Step, run_scenario, temporary_engine

    clerk, head = Actor("c", {"window_clerk"}), Actor("h", {"agency_head"})
    reviewer = Actor("r", {"reviewer"})
    with temporary_engine(workflows="workflows/", clock="2026-09-21T09:00") as engine:
        case = run_scenario(
            engine,
            Start("administrative_approval", clerk, data={"applicant": "a", "matter": "m"}),
            [
                Step(clerk, "accept"),
                Step(reviewer, "start_review", advance={"days": 3}),
                Step(head, "decide", {"decision": "approve"}),
            ],
            path=["submitted", "accepted", "under_review", "approved"],
        )

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from caseflow.cases import Actor, Case
    from caseflow.definitions.registry import Registry
    from caseflow.engine import Engine


class MovableClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: dt.datetime | str, tz: str = "Asia/Shanghai") -> None:
        self._tz = ZoneInfo(tz)
        self._now = self._aware(start)

    def _aware(self, value: dt.datetime | str) -> dt.datetime:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        return value.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, value: dt.datetime | str) -> dt.datetime:
        """Jump to ``value`` (naive values are read in the clock's time zone)."""
        self._now = self._aware(value)
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``timedelta(**delta)``."""
        self._now += dt.timedelta(**delta)
        return self._now


@contextlib.contextmanager
def temporary_engine(
    workflows: str | Path | Sequence[str | Path] | Registry | None = None,
    clock: MovableClock | dt.datetime | str | None = None,
    **options: Any,
) -> Iterator[Engine]:
    """
    An :class:`~caseflow.Engine` on a SQLite file in a temporary directory, removed after.

    Args:
        workflows: as for the Engine (the shipped workflows when omitted).
        clock: a :class:`MovableClock`, or where a new one starts (an aware or local
            ``Asia/Shanghai`` date-time); the current time when omitted. The engine's
            ``clock`` is always a MovableClock, so tests can move it.
        options: passed to the Engine (``actions=``, ``notifier=``, ``calendar=``, ...).
    """
    from caseflow.engine import Engine  # noqa: PLC0415 - the engine imports nothing from here

    if not isinstance(clock, MovableClock):
        clock = MovableClock(clock if clock is not None else dt.datetime.now(dt.UTC))
    with tempfile.TemporaryDirectory(prefix="caseflow-test-") as folder:
        engine = Engine(
            f"sqlite:///{Path(folder) / 'caseflow.db'}",
            workflows=workflows,
            clock=clock,
            **options,
        )
        try:
            yield engine
        finally:
            engine.close()


@dataclass(frozen=True)
class Start:
    """How :func:`run_scenario` starts its case: as :meth:`Engine.start` takes it."""

    workflow: str
    actor: Actor
    data: Mapping[str, Any] = field(default_factory=dict)
    org: str | None = None
    business_key: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class Step:
    """
    One step of a scenario: move the clock, sweep, then fire ``event`` as ``actor``.

    ``advance`` is a timedelta or ``timedelta`` keywords (``{"days": 6}``); due timers
    are swept after the clock moves, so breaches and deemed events happen first. A step
    without an event only waits. ``expect`` is the state the case must be in after it.
    """

    actor: Actor | None
    event: str | None
    payload: Mapping[str, Any] | None = None
    advance: dt.timedelta | Mapping[str, float] | None = None
    expect: str | None = None


StepLike = Step | tuple[Any, ...]


def _step(raw: StepLike) -> Step:
    if isinstance(raw, Step):
        return raw
    if not 2 <= len(raw) <= 5:
        raise TypeError(f"a step is (actor, event[, payload[, advance[, expect]]]), got {raw!r}")
    return Step(*raw)


def run_scenario(
    engine: Engine,
    case: str | Start | Mapping[str, Any],
    steps: Sequence[StepLike],
    *,
    path: Sequence[str] | None = None,
    sweep: bool = True,
) -> Case:
    """
    Fire a scripted list of steps at a case and check the states it went through.

    Args:
        engine: an engine whose ``clock`` is a :class:`MovableClock` if a step advances.
        case: the id of an existing case, or a :class:`Start` (or a mapping of its
            fields) to start one.
        steps: :class:`Step` objects or tuples ``(actor, event[, payload[, advance[,
            expect]]])``.
        path: the expected states after each step; with one more item than there are
            steps, the first is the state the case starts in.
        sweep: fire due timers after each clock move (:meth:`Engine.fire_due`).

    Returns:
        The case after the last step, reloaded from the database.

    Raises:
        AssertionError: a step's ``expect`` or the ``path`` does not match, naming the
            step and the path taken so far. Engine errors (``Forbidden``, ...) propagate.
    """
    if isinstance(case, str):
        current = engine.get(case)
    else:
        spec = case if isinstance(case, Start) else Start(**case)
        current = engine.start(
            spec.workflow,
            data=spec.data,
            actor=spec.actor,
            org=spec.org,
            business_key=spec.business_key,
            version=spec.version,
        )
    taken = [current.state]
    for number, raw in enumerate(steps, 1):
        step = _step(raw)
        if step.advance is not None:
            delta = (
                step.advance
                if isinstance(step.advance, dt.timedelta)
                else dt.timedelta(**step.advance)
            )
            advance = getattr(engine.clock, "advance", None)
            if advance is None:
                raise TypeError("a step advances the clock: give the engine a MovableClock")
            advance(seconds=delta.total_seconds())
            if sweep:
                engine.fire_due()
        if step.event is not None:
            if step.actor is None:
                raise TypeError(f"step {number} fires {step.event!r}: it needs an actor")
            engine.fire(current.id, step.event, actor=step.actor, payload=step.payload)
        current = engine.get(current.id)  # what is stored, not what a call returned
        taken.append(current.state)
        if step.expect is not None and step.expect != current.state:
            raise AssertionError(
                f"step {number} ({_describe(step)}): expected state {step.expect!r}, "
                f"got {current.state!r}; path: {' -> '.join(taken)}"
            )
    if path is not None:
        got = taken if len(path) == len(taken) else taken[1:]
        if list(path) != got:
            raise AssertionError(
                f"expected path {' -> '.join(path)}, got {' -> '.join(got)}"
                + ("" if len(path) in (len(taken), len(taken) - 1) else " (length differs)")
            )
    return current


def _describe(step: Step) -> str:
    if step.event is None:
        return f"wait {step.advance}"
    who = step.actor.id if step.actor is not None else "?"
    return f"{step.event} by {who}"


__all__ = ["MovableClock", "Start", "Step", "run_scenario", "temporary_engine"]
