"""caseflow: declarative workflows on a persistent case state machine."""

from __future__ import annotations

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
from caseflow.errors import StorageError as StorageError
from caseflow.errors import VoteError as VoteError
from caseflow.errors import WorkflowNotFound as WorkflowNotFound
from caseflow.records import Incident as Incident
from caseflow.records import Timer as Timer
from caseflow.records import WorkItem as WorkItem
from caseflow.services.migration import MigrationReport as MigrationReport
from caseflow.services.sweeper import SweepReport as SweepReport
from caseflow.views import CaseRow as CaseRow
from caseflow.views import ClockView as ClockView
from caseflow.views import EventChoice as EventChoice
from caseflow.views import PendingAction as PendingAction
from caseflow.views import VoteView as VoteView

__all__ = [
    "Actor",
    "Case",
    "CaseNotFound",
    "CaseRow",
    "CaseflowError",
    "ClockView",
    "ConcurrencyConflict",
    "DataValidationError",
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
    "MigrationReport",
    "PendingAction",
    "StorageError",
    "SweepReport",
    "Timer",
    "VoteError",
    "VoteView",
    "WorkItem",
    "WorkflowNotFound",
]
