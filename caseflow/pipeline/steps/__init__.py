"""
Step kinds, registered in one place.

The order is the order in which they see a move: clocks first (so a vote or a work item
opened by the move sees the clocks as they are after it), then votes, parallel work
items, who works on the case (tasks), child cases (calls), and the side effects last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from caseflow.pipeline.steps.base import StepKind
from caseflow.pipeline.steps.call import CallStep
from caseflow.pipeline.steps.clock import ClockStep
from caseflow.pipeline.steps.outbox import OutboxStep
from caseflow.pipeline.steps.parallel import ParallelStep
from caseflow.pipeline.steps.task import TaskStep
from caseflow.pipeline.steps.vote import VoteStep

if TYPE_CHECKING:
    from collections.abc import Callable

    from caseflow.definitions.model import WorkflowDef
    from caseflow.pipeline.draft import Draft

STEP_KINDS: tuple[StepKind, ...] = (
    ClockStep(),
    VoteStep(),
    ParallelStep(),
    TaskStep(),
    CallStep(),
    OutboxStep(),
)

#: Timer kind -> the step kind that decides its effect.
TIMER_OWNERS: dict[str, StepKind] = {k: kind for kind in STEP_KINDS for k in kind.timer_kinds}

#: Command type -> decider, for the commands step kinds own.
STEP_COMMANDS: dict[type[Any], Callable[[Draft, Any], Any]] = {
    command: decider for kind in STEP_KINDS for command, decider in kind.commands.items()
}


def snapshot_parts(definition: WorkflowDef) -> frozenset[str]:
    """The snapshot parts the workflow's step kinds read."""
    return frozenset().union(*(kind.needs(definition) for kind in STEP_KINDS))


__all__ = ["STEP_COMMANDS", "STEP_KINDS", "TIMER_OWNERS", "StepKind", "snapshot_parts"]
