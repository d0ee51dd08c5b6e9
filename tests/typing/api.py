"""Checked by mypy --strict: the public API as a host application uses it."""

from __future__ import annotations

from caseflow import Actor, Case, CaseflowError, Engine, HistoryEntry


def host(url: str) -> list[str]:
    engine = Engine(url)
    clerk = Actor("clerk-7", roles={"window_clerk"}, org="hainan/haikou/longhua")
    case: Case = engine.start(
        "administrative_approval",
        data={"applicant": "a", "matter": "m"},
        actor=clerk,
        business_key="HK-2026-0001",
    )
    try:
        case = engine.fire(case.id, "accept", actor=clerk, idempotency_key="req-123")
    except CaseflowError as exc:
        return [str(exc)]
    history: list[HistoryEntry] = engine.history(case.id)
    events: list[str] = engine.available_events(case.id, actor=clerk)
    engine.close()
    return [h.kind for h in history] + events
