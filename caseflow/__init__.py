"""
caseflow: declarative workflows on a persistent case state machine.

The public API, curated: every name in ``__all__`` is importable from here. Names are
imported when first used (``import caseflow`` alone loads nothing heavy), so the CLI
starts fast.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from caseflow.cases import Actor as Actor
    from caseflow.cases import Case as Case
    from caseflow.cases import HistoryEntry as HistoryEntry
    from caseflow.engine import Engine as Engine
    from caseflow.errors import CaseflowError as CaseflowError
    from caseflow.errors import CaseNotFound as CaseNotFound
    from caseflow.errors import ConcurrencyConflict as ConcurrencyConflict
    from caseflow.errors import DataValidationError as DataValidationError
    from caseflow.errors import DefinitionError as DefinitionError
    from caseflow.errors import DuplicateBusinessKey as DuplicateBusinessKey
    from caseflow.errors import Forbidden as Forbidden
    from caseflow.errors import IdempotencyConflict as IdempotencyConflict
    from caseflow.errors import IncidentNotFound as IncidentNotFound
    from caseflow.errors import InvalidEvent as InvalidEvent
    from caseflow.errors import MessageNotCorrelated as MessageNotCorrelated
    from caseflow.errors import StorageError as StorageError
    from caseflow.errors import VoteError as VoteError
    from caseflow.errors import WorkflowNotFound as WorkflowNotFound
    from caseflow.records import Incident as Incident
    from caseflow.records import Timer as Timer
    from caseflow.records import WorkItem as WorkItem
    from caseflow.services.migration import MigrationReport as MigrationReport
    from caseflow.services.sweeper import SweepReport as SweepReport
    from caseflow.views import CalendarStatus as CalendarStatus
    from caseflow.views import CaseRow as CaseRow
    from caseflow.views import ClockView as ClockView
    from caseflow.views import DeadlineMove as DeadlineMove
    from caseflow.views import EventChoice as EventChoice
    from caseflow.views import PendingAction as PendingAction
    from caseflow.views import UnitCounts as UnitCounts
    from caseflow.views import VoteView as VoteView
    from caseflow.views import WorkRow as WorkRow

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    "Actor": "caseflow.cases",
    "Case": "caseflow.cases",
    "HistoryEntry": "caseflow.cases",
    "Engine": "caseflow.engine",
    "CaseflowError": "caseflow.errors",
    "CaseNotFound": "caseflow.errors",
    "ConcurrencyConflict": "caseflow.errors",
    "DataValidationError": "caseflow.errors",
    "DefinitionError": "caseflow.errors",
    "DuplicateBusinessKey": "caseflow.errors",
    "Forbidden": "caseflow.errors",
    "IdempotencyConflict": "caseflow.errors",
    "IncidentNotFound": "caseflow.errors",
    "MessageNotCorrelated": "caseflow.errors",
    "InvalidEvent": "caseflow.errors",
    "StorageError": "caseflow.errors",
    "VoteError": "caseflow.errors",
    "WorkflowNotFound": "caseflow.errors",
    "Incident": "caseflow.records",
    "Timer": "caseflow.records",
    "WorkRow": "caseflow.views",
    "CalendarStatus": "caseflow.views",
    "DeadlineMove": "caseflow.views",
    "WorkItem": "caseflow.records",
    "MigrationReport": "caseflow.services.migration",
    "SweepReport": "caseflow.services.sweeper",
    "CaseRow": "caseflow.views",
    "ClockView": "caseflow.views",
    "EventChoice": "caseflow.views",
    "PendingAction": "caseflow.views",
    "UnitCounts": "caseflow.views",
    "VoteView": "caseflow.views",
}

__all__ = [
    "Actor",
    "CalendarStatus",
    "Case",
    "CaseNotFound",
    "CaseRow",
    "CaseflowError",
    "ClockView",
    "ConcurrencyConflict",
    "DataValidationError",
    "DeadlineMove",
    "DefinitionError",
    "DuplicateBusinessKey",
    "Engine",
    "EventChoice",
    "Forbidden",
    "HistoryEntry",
    "IdempotencyConflict",
    "Incident",
    "IncidentNotFound",
    "InvalidEvent",
    "MessageNotCorrelated",
    "MigrationReport",
    "PendingAction",
    "StorageError",
    "SweepReport",
    "Timer",
    "UnitCounts",
    "VoteError",
    "VoteView",
    "WorkItem",
    "WorkRow",
    "WorkflowNotFound",
]


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module 'caseflow' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(_importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
