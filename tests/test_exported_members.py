from __future__ import annotations

import caseflow

#: The public API, pinned: adding or removing a name is a decision, made here on purpose.
EXPORTED = [
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


class TestPublicAPI:
    def test_exported_names_are_pinned(self):
        """The curated names, exactly: a new export (or a lost one) fails until it is pinned."""
        assert EXPORTED == caseflow.__all__

    def test_import_caseflow_is_light(self):
        """`import caseflow` loads no engine, database or schema library until a name is used."""
        import json
        import subprocess
        import sys

        probe = "import caseflow, json, sys; print(json.dumps(sorted(sys.modules)))"
        loaded = json.loads(
            subprocess.run(
                [sys.executable, "-c", probe], capture_output=True, text=True, check=True
            ).stdout
        )
        heavy = {"sqlalchemy", "alembic", "jsonschema", "transitions", "caseflow.engine"}
        assert set() == heavy.intersection(loaded)

    def test_all_is_sorted_and_complete(self):
        """__all__ is sorted and every name in it is importable from caseflow."""
        assert sorted(caseflow.__all__) == caseflow.__all__
        for name in caseflow.__all__:
            assert getattr(caseflow, name) is not None

    def test_no_accidental_exports(self):
        """Public names not in __all__ are modules only (subpackages), never stray objects."""
        import types

        public = {n for n in dir(caseflow) if not n.startswith("_")} - {"annotations"}
        extra = {
            n
            for n in public - set(caseflow.__all__)
            if not isinstance(getattr(caseflow, n), types.ModuleType)
        }
        assert set() == extra

    def test_errors_share_one_base(self):
        """Every exported exception is a CaseflowError; lookups are also LookupErrors."""
        for name in caseflow.__all__:
            obj = getattr(caseflow, name)
            if isinstance(obj, type) and issubclass(obj, Exception):
                assert issubclass(obj, caseflow.CaseflowError)
        assert issubclass(caseflow.CaseNotFound, LookupError)
        assert issubclass(caseflow.WorkflowNotFound, LookupError)
