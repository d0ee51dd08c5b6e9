"""
Errors raised by caseflow.

Every error caseflow raises is a :class:`CaseflowError`; catching that one class is
enough for a host application. Errors raised by the libraries underneath
(``transitions``, pydantic, SQLAlchemy, the database drivers) are translated at the
boundary with ``raise ... from exc`` and never reach callers bare.

::

    CaseflowError
    ├── DefinitionError            a workflow file is wrong (every problem, with file:line:col)
    ├── CaseNotFound (LookupError) no case with that id
    ├── WorkflowNotFound (LookupError) no workflow (version) with that name
    ├── IncidentNotFound (LookupError) no incident with that id
    ├── MessageNotCorrelated (LookupError) no case, or more than one, takes the message
    ├── InvalidEvent               the event does not exist or is not allowed in this state
    │   └── VoteError              inconsistent vote counts, a second ballot, a closed vote
    ├── Forbidden                  the actor lacks a role (or org unit) the event requires
    ├── ConcurrencyConflict        the case changed under us: names the case and the version
    ├── IdempotencyConflict        a key was used before for a different request
    ├── DuplicateBusinessKey       the workflow already has a case with that business key
    ├── DataValidationError        case data or payload does not match the workflow's schema,
    │                              or a value given to the API is not acceptable (names it)
    └── StorageError               the database is unreachable or its schema is behind
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


class CaseflowError(Exception):
    """Base class of every error caseflow raises."""


@dataclass(frozen=True)
class Problem:
    """One problem in a workflow file: where it is, which element, and what is wrong."""

    file: str
    line: int
    column: int
    element: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return (
            f"{where}: {self.element}: {self.message}"
            if self.element
            else f"{where}: {self.message}"
        )


class DefinitionError(CaseflowError):
    """A workflow definition is invalid; :attr:`problems` lists every problem found."""

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            self.problems: tuple[Problem, ...] = ()
            super().__init__(problems)
            return
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in workflow definition"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class CaseNotFound(CaseflowError, LookupError):  # noqa: N818 - named after what it reports
    """No case has the given id."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id!r} not found")


class WorkflowNotFound(CaseflowError, LookupError):  # noqa: N818
    """No workflow (or no such version of it) is registered."""

    def __init__(self, name: str, version: int | None = None, known: Sequence[str] = ()) -> None:
        self.name = name
        self.version = version
        what = f"workflow {name!r}" + (f" version {version}" if version is not None else "")
        hint = f"; known workflows: {', '.join(known)}" if known else ""
        super().__init__(f"{what} is not registered{hint}")


class IncidentNotFound(CaseflowError, LookupError):  # noqa: N818
    """No incident has the given id."""

    def __init__(self, incident_id: int) -> None:
        self.incident_id = incident_id
        super().__init__(f"incident {incident_id} not found")


class MessageNotCorrelated(CaseflowError, LookupError):  # noqa: N818
    """A message (or a business key) matches no case that can take it now, or several.
    From :meth:`~caseflow.Engine.fire_by_key`, ``message`` is the event and ``workflow``
    the workflow whose case has no such business key."""

    def __init__(
        self,
        message: str,
        business_key: str,
        candidates: Sequence[str] = (),
        *,
        workflow: str | None = None,
    ) -> None:
        self.message = message
        self.business_key = business_key
        self.candidates = tuple(candidates)
        self.workflow = workflow
        if workflow is not None:
            what = f"no {workflow} case has this business key"
        elif not candidates:
            what = "no case takes it now"
        else:
            what = f"{len(candidates)} cases could take it ({', '.join(candidates)})"
        super().__init__(f"{message!r} for business key {business_key!r}: {what}")


class InvalidEvent(CaseflowError):  # noqa: N818
    """The event does not exist in the workflow or cannot fire in the case's current state."""


class Forbidden(CaseflowError):  # noqa: N818
    """The actor may not do this; the message names the roles (or org unit) required."""

    def __init__(self, message: str, *, required_roles: Sequence[str] = ()) -> None:
        self.required_roles = tuple(required_roles)
        super().__init__(message)


class ConcurrencyConflict(CaseflowError):  # noqa: N818
    """Another writer changed the case first; nothing was written."""

    def __init__(self, case_id: str, version: int) -> None:
        self.case_id = case_id
        self.version = version
        super().__init__(
            f"case {case_id!r} was changed by someone else: expected version {version}, "
            "which is no longer current; reload the case and try again"
        )


class IdempotencyConflict(CaseflowError):  # noqa: N818
    """An idempotency key was used before, in the same scope, for a different request."""

    def __init__(self, scope: str, key: str) -> None:
        self.scope = scope
        self.key = key
        super().__init__(
            f"idempotency key {key!r} ({scope}) was already used for a different request; "
            "use a new key for a new request"
        )


class DuplicateBusinessKey(CaseflowError):  # noqa: N818
    """The workflow already has a case with this business key; nothing was written."""

    def __init__(self, workflow: str, business_key: str | None) -> None:
        self.workflow = workflow
        self.business_key = business_key
        super().__init__(
            f"workflow {workflow!r} already has a case with business key {business_key!r}"
        )


class DataValidationError(CaseflowError):
    """Case data (or an event payload merged into it) does not match the workflow's schema."""

    def __init__(self, message: str, *, errors: Sequence[str] = ()) -> None:
        self.errors = tuple(errors)
        super().__init__(message)


class StorageError(CaseflowError):
    """The database cannot be used: unreachable, or its schema is behind the code."""


class VoteError(InvalidEvent):
    """Vote counts are inconsistent, a ballot is refused, or the vote is not open."""
