"""
Clock checks: references, durations within bounds, and a warning shorter than the limit.

``warn_before`` must be shorter than the limit it warns about (and than each
``by_level`` limit): a warning as long as the limit would be yellow from the start.
Units compare conservatively (:func:`caseflow.definitions.limits.surely_not_shorter`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow.definitions import raw
from caseflow.definitions.limits import MAX_YEARS, check_duration, surely_not_shorter, years
from caseflow.definitions.model import (
    ClockAnchor,
    ClockDef,
    ClockTrigger,
    EscalationStep,
    Extension,
)
from caseflow.definitions.safeyaml import punctuation_hint

if TYPE_CHECKING:
    from caseflow.clocks.durations import Duration
    from caseflow.definitions.checks import Refs
    from caseflow.definitions.loader import Path_, Reporter


def duration(reporter: Reporter, text: str, path: Path_) -> Duration | None:
    """A duration within the bounds, or None with the problem reported."""
    try:
        return check_duration(text)
    except ValueError as exc:
        reporter.add(path, f"{exc}{punctuation_hint(text)}")
        return None


def _warning_shorter(
    reporter: Reporter,
    warn: Duration,
    limit: Duration | None,
    by_level: dict[str, Duration],
    path: Path_,
) -> None:
    """``warn_before`` must be shorter than every limit it can warn about."""
    limits = ([("the limit", limit)] if limit is not None else []) + [
        (f"the {level!r} limit", d) for level, d in by_level.items()
    ]
    for what, length in limits:
        if surely_not_shorter(warn, length):
            reporter.add(
                path,
                f"warn_before {spelled(warn)} is not shorter than {what} {spelled(length)}: "
                "the warning would be due as soon as the clock starts",
            )
            return


def spelled(d: Duration) -> str:
    """``1 month``, ``3 workdays``."""
    return f"{d.amount} {d.unit[:-1] if d.amount == 1 else d.unit}"


def _longest(
    reporter: Reporter,
    path: Path_,
    limits: list[Duration],
    extension: Extension | None,
    steps: list[EscalationStep],
) -> None:
    """The longest limit, every extension and the last escalation together: 100 years."""
    longest = max(years(d) for d in limits)
    extended = years(extension.by) * extension.times if extension is not None else 0.0
    escalated = max((years(s.after) for s in steps), default=0.0)
    if longest + extended + escalated > MAX_YEARS:
        where = (*path, "extension") if extended else (*path, "escalate") if escalated else path
        reporter.add(
            where,
            f"the longest limit, every extension and the last escalation step add up to "
            f"{longest + extended + escalated:,.0f} years: at most {MAX_YEARS}",
        )


def _trigger(refs: Refs, trig: raw.RawTrigger | None, path: Path_) -> ClockTrigger | None:
    if trig is None:
        return None
    refs.states_(trig.enter, (*path, "enter"))
    refs.events_(trig.event, (*path, "event"))
    return ClockTrigger(enter=tuple(raw.as_list(trig.enter)), events=tuple(raw.as_list(trig.event)))


def clock(reporter: Reporter, refs: Refs, name: str, ck: raw.RawClock) -> ClockDef | None:
    path: Path_ = ("clocks", name)
    n = len(reporter.problems)
    limit = duration(reporter, ck.limit, (*path, "limit"))
    refs.states_(ck.runs_in, (*path, "runs_in"))
    refs.states_(ck.paused_in, (*path, "paused_in"))
    starts = _trigger(refs, ck.starts_on, (*path, "starts_on"))
    stops = _trigger(refs, ck.stops_on, (*path, "stops_on"))
    if ck.per_item and (ck.runs_in or starts is not None):
        reporter.add(path, "a per_item clock starts with each work item: no 'runs_in'/'starts_on'")
    elif not ck.per_item and not ck.runs_in and starts is None:
        reporter.add(path, "never starts: give 'runs_in' states or 'starts_on'")
    by_level = {
        level: d
        for level, spec in ck.by_level.items()
        if (d := duration(reporter, spec.limit, (*path, "by_level", level, "limit"))) is not None
    }
    by_data = {}
    if ck.by_data is not None:
        by_data = {
            value: d
            for value, text in ck.by_data.limits.items()
            if (d := duration(reporter, text, (*path, "by_data", "limits", value))) is not None
        }
        if not ck.by_data.limits:
            reporter.add((*path, "by_data", "limits"), "list at least one value and its limit")
    anchors = []
    for i, anchor in enumerate(ck.anchors):
        where = (*path, "anchors", i)
        given = [
            (src, value)
            for src, value in (("clock", anchor.clock), ("payload", anchor.payload),
                               ("data", anchor.data))
            if value is not None
        ]  # fmt: skip
        if len(given) != 1:
            reporter.add(where, "give exactly one of 'clock', 'payload' or 'data'")
            continue
        if anchor.event is not None:
            refs.events_(anchor.event, (*where, "event"))
        source, value = given[0]
        if source == "clock" and value not in refs.clocks:
            reporter.add((*where, "clock"), f"unknown clock {value!r}")
            continue
        anchors.append(ClockAnchor(event=anchor.event, source=source, path=value))
    breach = ck.on_breach or raw.RawBreach()
    if breach.fire is not None:
        refs.events_(breach.fire, (*path, "on_breach", "fire"))
    if breach.at_top is not None:
        refs.events_(breach.at_top, (*path, "on_breach", "at_top"))
        if not breach.move_up:
            reporter.add((*path, "on_breach", "at_top"), "'at_top' needs 'move_up: true'")
    refs.roles_(breach.notify, (*path, "on_breach", "notify"))
    if ck.warn_notify is not None:
        refs.roles_(ck.warn_notify, (*path, "warn_notify"))
    warn = (
        None
        if ck.warn_before is None
        else duration(reporter, ck.warn_before, (*path, "warn_before"))
    )
    if warn is not None:
        _warning_shorter(reporter, warn, limit, {**by_level, **by_data}, (*path, "warn_before"))
    extension = None
    if ck.extension is not None:
        by = duration(reporter, ck.extension.by, (*path, "extension", "by"))
        refs.roles_(ck.extension.roles, (*path, "extension", "roles"))
        refs.roles_(ck.extension.notify, (*path, "extension", "notify"))
        if by is not None:
            extension = Extension(
                by=by,
                times=ck.extension.times,
                roles=tuple(ck.extension.roles),
                reason_required=ck.extension.reason == "required",
                notify=tuple(ck.extension.notify),
            )
    steps = []
    for i, step in enumerate(ck.escalate):
        after = duration(reporter, step.after, (*path, "escalate", i, "after"))
        refs.roles_(step.notify, (*path, "escalate", i, "notify"))
        if step.fire is not None:
            refs.events_(step.fire, (*path, "escalate", i, "fire"))
        if not (step.notify or step.to_org or step.fire):
            reporter.add((*path, "escalate", i), "does nothing: give 'notify', 'to_org' or 'fire'")
        if after is not None:
            steps.append(
                EscalationStep(
                    after=after, notify=tuple(step.notify), to_org=step.to_org, fire=step.fire
                )
            )
    if limit is not None and len(reporter.problems) == n:
        _longest(reporter, path, [limit, *by_level.values(), *by_data.values()], extension, steps)
    if len(reporter.problems) > n or limit is None:
        return None
    return ClockDef(
        name=name,
        limit=limit,
        runs_in=tuple(ck.runs_in),
        starts_on=starts,
        paused_in=tuple(ck.paused_in),
        stops_on=stops,
        on_breach_fire=breach.fire,
        on_breach_notify=tuple(breach.notify),
        on_breach_move_up=breach.move_up,
        on_breach_at_top=breach.at_top,
        by_level=by_level,
        per_item=ck.per_item,
        extension=extension,
        warn_before=warn,
        warn_notify=None if ck.warn_notify is None else tuple(ck.warn_notify),
        escalate=tuple(steps),
        anchors=tuple(anchors),
        by_data_field=ck.by_data.field if ck.by_data is not None else None,
        by_data=by_data,
    )
