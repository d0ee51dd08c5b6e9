"""
The sunshine-vote demo: one 阳光票决 case through its six steps on an embedded SQLite file.

Time is moved with a :class:`~caseflow.testing.MovableClock` (Labour Day 2026 included), so
the legal and local clocks, the vote window and the publicity periods run as they would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from caseflow.abc import Notifier
from caseflow.cases import Actor
from caseflow.cli.render import clocks_table, esc, timeline
from caseflow.cli.votes import print_vote, vote_round
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from caseflow.engine import Engine

VILLAGE = "zhejiang/lishui/liandu/bihu/huangnidun"
REPRESENTATIVES = [f"rep{i:02d}" for i in range(1, 16)]

PARTY_MEMBER = Actor("ye.dangyuan", {"party_member"}, VILLAGE)
VILLAGER = Actor("wu.cunmin", {"villager"}, VILLAGE)
BRANCH = Actor("branch.secretary", {"village_party_branch"}, VILLAGE)
COMMITTEES = Actor("liangwei.meeting", {"two_committees"}, VILLAGE)
TOWNSHIP = Actor("bihu.dangwei", {"township_party_committee"}, "zhejiang/lishui/liandu/bihu")
VILLAGE_COMMITTEE = Actor("cunweihui.director", {"village_committee"}, VILLAGE)
CLERK = Actor("jianpiao.clerk", {"vote_clerk"}, VILLAGE)
SUPERVISION = Actor("jianweihui.chair", {"supervision_committee"}, VILLAGE)

# (local time, actor, event, payload) for steps ② to ④, after the suggestion window.
DELIBERATION: list[tuple[str, Actor, str, dict[str, Any]]] = [
    ("2026-05-07T10:00", BRANCH, "propose", {"proposal": "原址改造文化礼堂，增设老年食堂"}),
    ("2026-05-08T15:00", COMMITTEES, "agree_plan", {"plan": "方案一：原址翻修，预算 48 万元"}),
    (
        "2026-05-12T10:00",
        TOWNSHIP,
        "return_for_revision",
        {"review_opinion": "筹资筹劳标准需列明，补充预算明细"},
    ),
    ("2026-05-13T16:00", COMMITTEES, "agree_plan", {"plan": "方案二：原址翻修，按户筹劳，附预算"}),
    ("2026-05-20T10:00", TOWNSHIP, "file", {"filing_no": "碧湖备〔2026〕12号"}),  # noqa: RUF001
]


class _Collected(Notifier):
    """A notifier that keeps the messages, to print them (督办) instead of logging them."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def notify(
        self,
        *,
        case_id: str,
        roles: tuple[str, ...],
        org: str,
        message: str,
        idempotency_key: str = "",  # noqa: ARG002 - no gateway to dedup here
    ) -> None:
        self.sent.append(f"to {', '.join(roles)} at {org}: {message} [{case_id}]")


def run_sunshine_vote_demo(db_path: Path, console: Console) -> None:
    """
    Run one sunshine-vote case end to end on the SQLite file ``db_path``; print it.

    The township returns the plan once; the representative meeting votes in the hall and
    online (云票决); an objection during the publicity is dismissed; the supervision
    committee follows the implementation; the result is published and the case closes.
    """
    from caseflow.engine import Engine

    clock = MovableClock("2026-04-24T09:00")
    notifier = _Collected()
    with Engine(f"sqlite:///{db_path.resolve()}", clock=clock, notifier=notifier) as engine:
        definition = engine.workflow("sunshine_vote")
        console.rule("[bold]阳光票决: 黄泥墩村文化礼堂改造 (Liandu six-step sunshine vote)")
        case_id = _run(engine, clock, console)
        case = engine.get(case_id)
        console.print(clocks_table(engine.clocks(case_id), definition.timezone, clock.now()))
        console.print(timeline(engine.history(case_id), definition))
        found = vote_round(engine.vote(case_id), definition, engine.history(case_id))
        print_vote(found, console)
        for line in notifier.sent:
            console.print(f"notification {esc(line)}")
        title = definition.states[case.state].title
        console.print(
            f"Case {case.id}: [bold green]{case.state}[/] ({title}), {case.status}. "
            f"Vote result: [bold]{found.view.result and found.view.result['outcome']}[/]."
        )
        console.print(f"Database: {db_path.resolve()}")


def _run(engine: Engine, clock: MovableClock, console: Console) -> str:
    # ① Suggestions from Fri 24 Apr: 7 days end on 1 May (Labour Day), so Wed 6 May.
    case = engine.start(
        "sunshine_vote",
        data={
            "category": "公益事业的兴办和筹资筹劳方案及建设承包方案",
            "matter": "黄泥墩村文化礼堂改造及筹资筹劳方案",
            "village": "莲都区碧湖镇黄泥墩村",
            "budget_yuan": 480000,
            "representatives": REPRESENTATIVES,
            "suggestions": [{"by": PARTY_MEMBER.id, "text": "文化礼堂漏雨，建议整体改造"}],
        },
        actor=PARTY_MEMBER,
    )
    window = next(c for c in engine.clocks(case.id) if c.name == "suggestion_window")
    console.print(
        f"Suggestions open Fri 2026-04-24 for 7 days; the 7th day is Labour Day, so the "
        f"window ends at 24:00 of {window.last_day}."
    )
    clock.set("2026-04-27T10:00")
    engine.fire(
        case.id,
        "suggest",
        actor=VILLAGER,
        payload={
            "suggestions": [
                *case.data["suggestions"],
                {"by": VILLAGER.id, "text": "改造时增设老年食堂"},
            ]
        },
    )
    clock.set("2026-05-07T00:00")
    engine.fire_due()
    for when, actor, event, payload in DELIBERATION:
        clock.set(when)
        engine.fire(case.id, event, actor=actor, payload=payload)

    # ⑤ The representative meeting, Fri 29 May: 10 in the hall, 4 online (云票决).
    clock.set("2026-05-29T09:00")
    engine.fire(
        case.id,
        "open_vote",
        actor=VILLAGE_COMMITTEE,
        payload={"meeting": "5月29日9时，村民议事大厅，线上同步"},
    )
    in_hall = ["yes"] * 8 + ["no", "abstain"]
    for voter, choice in zip(REPRESENTATIVES[:10], in_hall, strict=True):
        engine.cast_ballot(case.id, choice, actor=CLERK, voter=voter)
    online = ["yes", "yes", "yes", "no"]
    for voter, choice in zip(REPRESENTATIVES[10:14], online, strict=True):
        engine.cast_ballot(case.id, choice, actor=Actor(voter, {"representative"}, VILLAGE))
    clock.set("2026-05-29T11:30")
    engine.close_vote(case.id, actor=CLERK)

    # Publicity (5 days); an objection on Mon 1 Jun is dismissed on Tue 2 Jun.
    clock.set("2026-06-01T20:00")
    engine.fire(
        case.id, "raise_objection", actor=VILLAGER, payload={"objection": "投工按户还是按人"}
    )
    clock.set("2026-06-02T15:00")
    engine.fire(
        case.id,
        "dismiss_objection",
        actor=SUPERVISION,
        payload={"objection_finding": "方案已写明按户投工"},
    )
    clock.set("2026-06-05T00:00")
    engine.fire_due()

    # ⑥ Implementation under the supervision committee, then the result is published.
    progress: list[dict[str, Any]] = []
    for when, actor, note, percent in (
        ("2026-06-15T10:00", VILLAGE_COMMITTEE, "完成招标", 10),
        ("2026-07-01T10:00", SUPERVISION, "现场检查：屋面完工", 60),
    ):
        clock.set(when)
        progress = [*progress, {"by": actor.id, "note": note, "percent": percent}]
        engine.fire(case.id, "report_progress", actor=actor, payload={"progress": progress})
    clock.set("2026-07-20T10:00")
    engine.fire(
        case.id,
        "confirm_implemented",
        actor=SUPERVISION,
        payload={"implementation_result": "改造完成，决算 46.2 万元"},
    )
    clock.set("2026-07-28T00:00")
    engine.fire_due()
    return case.id
