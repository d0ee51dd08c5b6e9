"""The org half of the :class:`~caseflow.Engine` API: the tree, levels, parallel work items."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from caseflow._parts import EngineParts
from caseflow.cases import Actor, Case, HistoryEntry, note_entry
from caseflow.clocks import runtime
from caseflow.clockwork import persist_plan
from caseflow.errors import CaseNotFound, DefinitionError, Forbidden, InvalidEvent
from caseflow.orgs import OrgTree, OrgUnit, parse_tree, within
from caseflow.store import clockrepo, orgrepo, repo

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

    from caseflow.definitions.model import ParallelDef, WorkflowDef
    from caseflow.store.orgrepo import WorkItem

SYSTEM = Actor.system("org")


def _entry(
    case: Case, actor: Actor, now: dt.datetime, kind: str, details: dict[str, Any]
) -> HistoryEntry:
    return note_entry(case, actor, now, kind, details)


class OrgAPI(EngineParts):
    """Units and levels; parallel handling by several units (部门联动处置)."""

    def reload_orgs(self) -> None:
        with self._read() as conn:
            self.orgs = OrgTree(orgrepo.load_units(conn))

    def load_orgs(self, source: str | Path | Sequence[OrgUnit]) -> int:
        """Replace the org tree with a YAML file's (nested units with levels) or given units."""
        if isinstance(source, (str, Path)):
            try:
                document = YAML(typ="safe").load(Path(source).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DefinitionError(f"{source}: cannot read the org tree: {exc}") from exc
            units = parse_tree(document, str(source))
        else:
            units = list(source)
        with self._write() as conn:
            orgrepo.replace_units(conn, units)
        self.reload_orgs()
        return len(units)

    # -- hooks called from Engine._follow_up ------------------------------------------

    def _org_hooks(
        self,
        conn: Connection,
        definition: WorkflowDef,
        case: Case,
        old_org: str,
        left: str | None,
        entered: str | None,
        now: dt.datetime,
    ) -> list[HistoryEntry]:
        entries: list[HistoryEntry] = []
        calendar = self.calendars.for_workflow(definition) if definition.clocks else None
        if case.org != old_org and calendar is not None:
            states = clockrepo.load_clocks(conn, case.id)
            plan = runtime.restart_at_level(
                definition,
                states,
                self.orgs.level(case.org),
                now,
                calendar,
                f"moved from {old_org} to {case.org}",
            )
            persist_plan(conn, case, plan, list(states), now)
            entries += [_entry(case, SYSTEM, now, "clock", n) for n in plan.notes]
        par_left = definition.states[left].parallel if left is not None else None
        if left is not None and par_left is not None:
            entries += self._close_items(conn, case, left, par_left, now)
        par = definition.states[entered].parallel if entered is not None else None
        if entered is not None and par is not None:
            entries += self._open_items(conn, definition, case, entered, par, now)
        return entries

    def _open_items(
        self,
        conn: Connection,
        definition: WorkflowDef,
        case: Case,
        state: str,
        par: ParallelDef,
        now: dt.datetime,
    ) -> list[HistoryEntry]:
        items = case.data.get(par.key)
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise InvalidEvent(
                f"entering {state!r} needs {par.source}.{par.key}: a non-empty "
                "list of the units that handle the case in parallel"
            )
        if len(self.orgs) and (unknown := [i for i in items if i not in self.orgs]):
            raise InvalidEvent(f"unknown org units: {', '.join(unknown)}")
        orgrepo.open_items(conn, case.id, state, items, now)
        entries = [
            _entry(
                case, SYSTEM, now, "item", {"action": "opened", "items": items, "join": par.join}
            )
        ]
        if par.clock is not None:
            clock = definition.clocks[par.clock]
            calendar = self.calendars.for_workflow(definition)
            existing = clockrepo.load_clocks(conn, case.id)
            plan = runtime.ClockPlan()
            for item in items:
                name = f"{clock.name}@{item}"
                fresh = runtime.ClockState(
                    name, "running", now, level=self.orgs.level(item), org=item
                )
                fresh, timers = runtime.schedule(clock, fresh, calendar, definition.timezone, now)
                plan.changed[name] = fresh
                plan.cancel.add(name)
                plan.arm.extend(timers)
                entries.append(
                    _entry(
                        case,
                        SYSTEM,
                        now,
                        "clock",
                        {
                            "clock": name,
                            "action": "started",
                            "org": item,
                            "due_at": fresh.due_at.isoformat() if fresh.due_at else None,
                            "last_day": fresh.last_day.isoformat() if fresh.last_day else None,
                        },
                    )
                )
            persist_plan(conn, case, plan, list(existing), now)
        return entries

    def _close_items(
        self, conn: Connection, case: Case, state: str, par: ParallelDef, now: dt.datetime
    ) -> list[HistoryEntry]:
        entries = []
        for item in orgrepo.items_of(conn, case.id, state):
            if item.status == "open":
                orgrepo.close_item(
                    conn, case.id, state, item.item, "cancelled", SYSTEM.id, None, now
                )
                entries.append(
                    _entry(case, SYSTEM, now, "item", {"action": "cancelled", "item": item.item})
                )
        if par.clock is not None:
            states = clockrepo.load_clocks(conn, case.id)
            mine = {n: s for n, s in states.items() if n.startswith(f"{par.clock}@")}
            plan = runtime.stop_all(mine, now, "stopped (left the joint handling)")
            persist_plan(conn, case, plan, list(states), now)
        return entries

    # -- public calls --------------------------------------------------------------

    def report_item(
        self, case_id: str, item: str, *, actor: Actor, result: dict[str, Any] | None = None
    ) -> Case:
        """A unit reports its part done; when the join is met the case moves on."""
        now = self.clock.now()
        with self._write() as conn:
            case = repo.load_case(conn, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            definition = self.workflow(case.workflow, case.workflow_version)
            par = definition.states[case.state].parallel
            if par is None or case.status != "active":
                raise InvalidEvent(
                    f"case {case_id!r} is not being handled in parallel (state {case.state!r})"
                )
            if not actor.is_system:
                if not actor.roles.intersection(par.report_roles):
                    raise Forbidden(
                        f"reporting requires one of the roles: {', '.join(par.report_roles)}",
                        required_roles=par.report_roles,
                    )
                if actor.org and not within(actor.org, item) and not within(item, actor.org):
                    raise Forbidden(
                        f"actor {actor.id!r} of unit {actor.org!r} cannot report for {item!r}"
                    )
            if not orgrepo.close_item(
                conn, case.id, case.state, item, "done", actor.id, result, now
            ):
                raise InvalidEvent(f"{item!r} has no open work item on case {case_id!r}")
            entries = [
                _entry(
                    case, actor, now, "item", {"action": "reported", "item": item, "result": result}
                )
            ]
            if par.clock is not None:
                states = clockrepo.load_clocks(conn, case.id)
                name = f"{par.clock}@{item}"
                plan = runtime.stop_all(
                    {name: states[name]} if name in states else {}, now, "stopped (reported)"
                )
                persist_plan(conn, case, plan, list(states), now)
            repo.insert_history(conn, entries)
            items = orgrepo.items_of(conn, case.id, case.state)
            done = sum(i.status == "done" for i in items)
            needed = len(items) if par.join == "all" else min(int(par.join), len(items))
            if done >= needed:
                return self._transition(
                    conn,
                    case,
                    par.on_complete,
                    SYSTEM,
                    None,
                    now,
                    f"{done} of {len(items)} units reported",
                )
            return case

    def work_items(self, case_id: str) -> list[WorkItem]:
        """Every work item the case has had, by state and unit."""
        with self._read() as conn:
            return orgrepo.items_of(conn, case_id)
