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
from caseflow.errors import Forbidden as Forbidden
from caseflow.errors import IncidentNotFound as IncidentNotFound
from caseflow.errors import InvalidEvent as InvalidEvent
from caseflow.errors import StorageError as StorageError
from caseflow.errors import WorkflowNotFound as WorkflowNotFound

__all__ = [
    "Actor",
    "Case",
    "CaseNotFound",
    "CaseflowError",
    "ConcurrencyConflict",
    "DataValidationError",
    "DefinitionError",
    "Engine",
    "Forbidden",
    "HistoryEntry",
    "IncidentNotFound",
    "InvalidEvent",
    "StorageError",
    "WorkflowNotFound",
]
