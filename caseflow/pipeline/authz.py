"""
Who may do what: every command is authorised here, before the planner decides. Pure.

- events: the roles the event names (an automatic event only by the engine) and, with
  ``org_scope``, the actor's unit (:func:`caseflow.machine.check_org_scope`);
- starting a case: the org scope of the unit it starts in;
- operators' actions (suspend, resume, move, reassign, cancel, retry, skip, migrate,
  recompute): one of the deployment's operator roles (``Engine(operator_roles=...)``)
  and the org scope;
- extending a clock: the extension's roles and the org scope;
- votes: recording someone else's ballot or attendance, and closing, need a clerk role;
- a unit's report: the report roles, and the actor's unit must be that unit (or above
  or below it);
- timers and side-effect results: the engine only.

Only the engine's own identity (:meth:`caseflow.Actor.system`) passes every check; an
actor whose roles include one named ``system`` is an ordinary actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow import machine
from caseflow.errors import Forbidden
from caseflow.orgs import within
from caseflow.pipeline import commands as c

if TYPE_CHECKING:
    from caseflow.cases import Actor, Case
    from caseflow.definitions.model import WorkflowDef
    from caseflow.pipeline.draft import Env
    from caseflow.pipeline.snapshot import Snapshot


def _require(actor: Actor, roles: tuple[str, ...] | frozenset[str], what: str) -> None:
    if actor.is_system or actor.roles.intersection(roles):
        return
    held = ", ".join(sorted(actor.roles)) or "none"
    ordered = tuple(roles) if isinstance(roles, tuple) else tuple(sorted(roles))
    needed = ", ".join(ordered) or "(none configured)"
    raise Forbidden(
        f"{what} requires one of the roles: {needed} (actor {actor.id!r} holds: {held})",
        required_roles=ordered,
    )


def authorise(command: c.Command, snapshot: Snapshot, env: Env) -> None:
    """Raise :class:`~caseflow.errors.Forbidden` unless the command's actor may run it."""
    definition = env.compiled.definition
    actor = command.actor
    if isinstance(command, c.Start):
        org = command.org if command.org is not None else actor.org
        machine.check_org_scope(definition, "(new)", org, actor)
        return
    case = snapshot.case
    if case is None:  # pragma: no cover - the runner raises CaseNotFound first
        return
    if isinstance(command, (c.TimerDue, c.ActionDone, c.TimerFailed, c.ChildStarted)):
        if not actor.is_system:
            raise Forbidden(f"{command.name}: only the engine itself records timers and effects")
        return
    if isinstance(command, c.Fire):
        machine.authorise(env.compiled.event(command.event), actor)
        machine.authorise_org(definition, case, actor)
        return
    if isinstance(command, (c.Operate, c.Migrate, c.ResolveIncidents, c.Recompute)):
        _require(actor, env.operator_roles, f"{command.name} (an operator's action)")
        machine.authorise_org(definition, case, actor)
        return
    if isinstance(command, c.ExtendClock):
        spec = definition.clocks.get(command.clock)
        machine.authorise_org(definition, case, actor)
        if spec is not None and spec.extension is not None:
            _require(actor, spec.extension.roles, f"extending clock {command.clock!r}")
        return
    if isinstance(command, (c.Attend, c.CastBallot, c.CloseVote)):
        vote = definition.states[case.state].vote
        if vote is None:
            return  # the planner says there is no open vote
        if isinstance(command, c.CloseVote):
            _require(actor, vote.clerk_roles, "closing the vote")
        elif command.voter is not None and command.voter != actor.id:
            _require(actor, vote.clerk_roles, "recording another voter")
        return
    if isinstance(command, c.ReportItem):
        par = definition.states[case.state].parallel
        if par is None or actor.is_system:
            return
        _require(actor, par.report_roles, "reporting")
        if not actor.org or not (
            within(actor.org, command.item) or within(command.item, actor.org)
        ):
            raise Forbidden(
                f"actor {actor.id!r} of unit {actor.org or '(none)'!r} cannot report for "
                f"{command.item!r}"
            )
        return
    if isinstance(command, (c.Claim, c.Assign, c.Delegate, c.Release)):
        _task(command, case, env)
        return
    raise Forbidden(f"no authorisation rule for {type(command).__name__}")  # pragma: no cover


def can_work_on(definition: WorkflowDef, state: str, actor: Actor) -> bool:
    """Whether ``actor`` works on cases in ``state``: they may fire one of its events (and
    hold the state's assignee role and belong to its assignee unit, if it names them)."""
    spec = definition.states[state]
    if spec.assignee_role is not None and spec.assignee_role not in actor.roles:
        return False
    if spec.assignee_unit is not None and not within(actor.org, spec.assignee_unit):
        return False
    return any(
        state in e.sources and not e.automatic and actor.roles.intersection(e.roles)
        for e in definition.events.values()
    )


def _task(command: c.Command, case: Case, env: Env) -> None:
    """Claims and hand-overs: who may take, give, pass on or give back the case."""
    definition = env.compiled.definition
    actor = command.actor
    if actor.is_system:
        return
    supervisor = bool(actor.roles.intersection(env.supervisor_roles | env.operator_roles))
    machine.authorise_org(definition, case, actor)
    if isinstance(command, c.Claim):
        if not can_work_on(definition, case.state, actor):
            raise Forbidden(
                f"actor {actor.id!r} does not work on cases in state {case.state!r} "
                "(no event of it is theirs to fire)"
            )
    elif isinstance(command, c.Assign):
        _require(actor, env.supervisor_roles | env.operator_roles, "assigning a case")
    elif (
        isinstance(command, (c.Delegate, c.Release))
        and not supervisor
        and (case.assignee != actor.id)
    ):
        raise Forbidden(
            f"only the case's assignee ({case.assignee or 'nobody'}) or a supervisor may "
            f"{command.name} it",
            required_roles=tuple(sorted(env.supervisor_roles)),
        )
