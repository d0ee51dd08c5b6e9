"""The interface of a step kind: what it loads, and what it adds to a draft, and when."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from caseflow.definitions.model import WorkflowDef
    from caseflow.pipeline.draft import Draft, Move
    from caseflow.records import Timer


class StepKind:
    """
    One kind of step a workflow can have (clocks, votes, parallel work items, side
    effects, ...). Each contributes to the draft of a command at fixed moments:

    - :meth:`on_move`: the case started, changed state or changed org unit;
    - :meth:`on_status`: an operator suspended, resumed or cancelled the case;
    - :meth:`on_timer`: one of its :attr:`timer_kinds` came due;
    - :attr:`commands`: commands of its own (a ballot, an extension, a report).

    :meth:`needs` names the snapshot parts it reads (see :mod:`caseflow.pipeline.snapshot`).
    A new step kind is a module here, its definition model, its exporters' support, and
    one line in :data:`caseflow.pipeline.steps.STEP_KINDS`.
    """

    name: ClassVar[str] = ""
    timer_kinds: ClassVar[frozenset[str]] = frozenset()

    def needs(self, definition: WorkflowDef) -> frozenset[str]:  # noqa: ARG002
        return frozenset()

    def on_move(self, draft: Draft, move: Move) -> None:
        """The case entered a state (``move.entered``), left one, or changed unit."""

    def on_status(self, draft: Draft, change: str) -> None:
        """``suspend``, ``resume`` or ``cancel`` (the case's status already changed)."""

    def on_timer(self, draft: Draft, timer: Timer) -> bool:  # noqa: ARG002
        """A timer of one of :attr:`timer_kinds` came due; whether it had an effect."""
        return False

    @property
    def commands(self) -> Mapping[type[Any], Callable[[Draft, Any], Any]]:
        """Command type -> decider; a decider returns the command's result (or None)."""
        return {}
