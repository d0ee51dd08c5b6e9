"""``caseflow votes ...``: look at the votes held in a case (村民代表会议票决, 云票决)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from caseflow.cli.common import db_option, dump, group, local_time, open_engine, workflows_option

if TYPE_CHECKING:
    from rich.console import Console

    from caseflow.cases import HistoryEntry
    from caseflow.definitions.model import WorkflowDef
    from caseflow.views import VoteView
    from caseflow.voting import VoteRule

_HOW = {"in_person": "in person", "online": "online (云票决)"}


@dataclass(frozen=True, slots=True)
class VoteRound:
    """A vote round with what the history says about it: when it opened, closes, closed."""

    view: VoteView
    workflow: str
    state_title: str
    timezone: str
    rule: VoteRule | None
    rounds: list[tuple[str, int]]
    opened_at: dt.datetime | None
    closes_at: dt.datetime | None
    ended_at: dt.datetime | None
    ended_why: str | None


@group("votes")
def votes_group() -> None:
    """Votes held in cases: electorate, attendance, thresholds, tally and result."""


@votes_group.command()
@db_option
@workflows_option
@click.argument("case_id")
@click.option("--round", "round_no", type=int, help="Round number (default: the newest).")
@click.option("--json", "as_json", is_flag=True)
def show(
    db: str,
    workflows: tuple[str, ...],
    case_id: str,
    round_no: int | None,
    as_json: bool,
) -> None:
    """
    Show a vote round: electorate, attendance, quorum and pass thresholds, tally, result.

    Who voted how is shown for open ballots only, never for secret ones.
    """
    from caseflow.cli.render import console

    found = _load(db, workflows, case_id, round_no)
    if as_json:
        dump(_as_json(found))
        return
    print_vote(found, console())


def _load(db: str, workflows: tuple[str, ...], case_id: str, round_no: int | None) -> VoteRound:
    with open_engine(db, workflows, stored_only=True) as engine:
        case = engine.get(case_id)
        # first: loads the case's definition from the database when it is not on disk
        definition = engine.workflow(case.workflow, case.workflow_version)
        view = engine.vote(case_id, round_no)
        history = engine.history(case_id)
    return vote_round(view, definition, history)


def vote_round(view: VoteView, definition: WorkflowDef, history: list[HistoryEntry]) -> VoteRound:
    """A vote round as the engine reports it, with its times from the case history."""
    from caseflow.voting import VoteRule

    state = definition.states.get(view.state)
    vote = state.vote if state is not None else None
    notes = [h for h in history if h.kind == "vote"]
    mine = [
        h
        for h in notes
        if h.details.get("vote") == view.state and h.details.get("round") == view.round
    ]
    opened = next((h for h in mine if h.details.get("action") == "opened"), None)
    ended = next((h for h in mine if h.details.get("action") in ("closed", "cancelled")), None)
    closes = opened.details.get("closes_at") if opened is not None else None
    why = None
    if ended is not None:
        why = ended.details.get("why") or ended.details.get("action")
    return VoteRound(
        view=view,
        workflow=f"{definition.name} v{definition.version}",
        state_title=state.title if state is not None else "",
        timezone=definition.timezone,
        rule=VoteRule.parse(dict(vote.rule)) if vote is not None else None,
        rounds=[
            (str(h.details.get("vote")), int(h.details.get("round", 0)))
            for h in notes
            if h.details.get("action") == "opened"
        ],
        opened_at=opened.at if opened is not None else None,
        closes_at=dt.datetime.fromisoformat(closes) if isinstance(closes, str) else None,
        ended_at=ended.at if ended is not None else None,
        ended_why=str(why) if why is not None else None,
    )


def _attendance(view: VoteView) -> dict[str, int]:
    hows = [how for _, how, _ in view.attendance]
    return {
        "present": view.present,
        "in_person": hows.count("in_person"),
        "online": hows.count("online"),
    }


def _ballots(view: VoteView) -> int:
    return view.cast if view.sealed else view.yes + view.no + view.abstain


def _outcome(view: VoteView) -> str:
    """The stored result, or for an open round where the count stands now."""
    if view.result is not None:
        return str(view.result.get("outcome"))
    if view.status != "open":
        return view.status
    if view.present < view.min_present:
        return "open: below quorum so far"
    if view.sealed:
        return "open: ballots sealed until the vote closes"
    if view.min_yes is not None and view.yes >= view.min_yes:
        return "open: enough yes votes so far"
    return "open: not enough yes votes so far"


def _rule_text(rule: VoteRule | None, view: VoteView) -> tuple[str, str]:
    min_yes = "?" if view.min_yes is None else str(view.min_yes)
    if rule is None:
        return (f"at least {view.min_present} present", f"at least {min_yes} yes")
    q_sign = "≥" if rule.quorum_inclusive else ">"
    p_sign = "≥" if rule.pass_inclusive else ">"
    base = {"present": view.present, "members": view.electorate, "ballots": _ballots(view)}[
        rule.pass_of
    ]
    quorum = (
        f"at least {view.min_present} of {view.electorate} present "
        f"({q_sign} {rule.quorum.numerator}/{rule.quorum.denominator} of the members)"
    )
    passing = (
        f"at least {min_yes} yes "
        f"({p_sign} {rule.pass_fraction.numerator}/{rule.pass_fraction.denominator} "
        f"of {base} {rule.pass_of})"
    )
    return quorum, passing


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _as_json(found: VoteRound) -> dict[str, Any]:
    view = found.view
    ballots: list[dict[str, str | None]] | None = None
    if not view.secret:
        how = {voter: h for voter, h, _ in view.attendance}
        ballots = [
            {"voter": voter, "how": how.get(voter), "choice": choice}
            for voter, choice in view.ballots
        ]
    return {
        "case_id": view.case_id,
        "workflow": found.workflow,
        "state": view.state,
        "state_title": found.state_title,
        "round": view.round,
        "rounds": [{"state": s, "round": r} for s, r in found.rounds],
        "status": view.status,
        "ballot": "secret" if view.secret else "open",
        "opened_at": _iso(found.opened_at),
        "closes_at": _iso(found.closes_at),
        "ended_at": _iso(found.ended_at),
        "ended_why": found.ended_why,
        "electorate": view.electorate,
        "attendance": _attendance(view),
        "rule": found.rule.to_dict() if found.rule is not None else None,
        "thresholds": {"min_present": view.min_present, "min_yes": view.min_yes},
        "tally": {
            "yes": None if view.sealed else view.yes,
            "no": None if view.sealed else view.no,
            "abstain": None if view.sealed else view.abstain,
            "ballots": _ballots(view),
            "present_without_ballot": view.present - _ballots(view),
            "sealed": view.sealed,
        },
        "outcome": _outcome(view),
        "result": view.result,
        "ballots": ballots,
    }


def print_vote(found: VoteRound, out: Console) -> None:
    """Print a round: header, window, counts and thresholds; open ballots only if open."""
    from rich.table import Table

    from caseflow.cli.render import esc, text

    view = found.view
    tz = found.timezone
    title = f" ({esc(found.state_title)})" if found.state_title else ""
    out.print(
        f"[bold]{esc(view.case_id)}[/]  {esc(found.workflow)}  vote [bold]{esc(view.state)}[/]"
        f"{title}  round {view.round} of {_rounds_of(found) or 1}  {esc(view.status)}  "
        f"{'secret' if view.secret else 'open'} ballot"
    )
    when = []
    if found.opened_at is not None:
        when.append(f"opened {local_time(found.opened_at, tz)}")
    if found.closes_at is not None:
        when.append(f"window ends {local_time(found.closes_at, tz)}")
    if found.ended_at is not None:
        when.append(f"{view.status} {local_time(found.ended_at, tz)} ({found.ended_why})")
    if when:
        out.print(esc("; ".join(when) + f" ({tz})"))
    present = _attendance(view)
    quorum, passing = _rule_text(found.rule, view)
    ballots = _ballots(view)
    table = Table(title="Vote", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("electorate", f"{view.electorate} members")
    table.add_row(
        "attendance",
        f"{present['present']} present: {present['in_person']} in person, "
        f"{present['online']} online",
    )
    table.add_row(
        "quorum", esc(quorum) + (" [green]met[/]" if view.present >= view.min_present else "")
    )
    table.add_row("to pass", esc(passing))
    counted = (
        "sealed until the vote closes"
        if view.sealed
        else f"yes {view.yes}, no {view.no}, abstain {view.abstain}"
    )
    table.add_row(
        "tally",
        f"{counted} ({ballots} ballots; {view.present - ballots} present without a ballot)",
    )
    table.add_row("result", _styled(_outcome(view)))
    out.print(table)
    if view.secret:
        out.print("Secret ballot: who voted how is not recorded.")
        return
    how = {voter: h for voter, h, _ in view.attendance}
    who = Table(title="Ballots (open vote)")
    for column in ("voter", "how", "choice"):
        who.add_column(column)
    for voter, choice in view.ballots:
        who.add_row(text(voter), text(_HOW.get(how.get(voter, ""), "-")), text(choice or "-"))
    out.print(who)


def _rounds_of(found: VoteRound) -> int:
    return sum(1 for state, _ in found.rounds if state == found.view.state)


def _styled(outcome: str) -> str:
    from caseflow.cli.render import esc

    style = {"passed": "bold green", "failed": "bold red", "no_quorum": "bold yellow"}.get(outcome)
    return f"[{style}]{esc(outcome)}[/]" if style else esc(outcome)
