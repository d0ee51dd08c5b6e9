"""``caseflow demo``: one real approval case on an embedded SQLite file, as a timeline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from caseflow.cases import Actor

if TYPE_CHECKING:
    from rich.console import Console

    from caseflow.engine import Engine
    from caseflow.testing import MovableClock

APPLICANT = Actor("zhang.san", {"applicant"}, "hainan/lingshui/yingzhou")
CLERK = Actor("window.li", {"window_clerk"}, "hainan/lingshui/service-centre")
REVIEWER = Actor("review.wang", {"reviewer"}, "hainan/lingshui/market-bureau")
HEAD = Actor("head.chen", {"agency_head"}, "hainan/lingshui/market-bureau")
ISSUER = Actor("issue.zhao", {"issuing_clerk"}, "hainan/lingshui/service-centre")
COURIER = Actor("post.liu", {"postal_courier"}, "hainan/lingshui/post")

# (local time, actor, event, payload): Lingshui's 受理—办结—出证—领证 with postal delivery.
STEPS: list[tuple[str, Actor, str, dict[str, object]]] = [
    ("2026-09-21T09:40", CLERK, "request_correction", {"missing_documents": ["场地使用证明"]}),
    ("2026-09-22T10:05", APPLICANT, "resubmit", {}),
    ("2026-09-22T10:20", CLERK, "accept", {}),
    ("2026-09-23T14:00", REVIEWER, "start_review", {}),
    (
        "2026-09-24T09:30",
        REVIEWER,
        "send_to_experts",
        {"excluded": {"procedure": "专家评审", "time_needed": "十个工作日"}},
    ),
    ("2026-10-09T16:00", REVIEWER, "experts_done", {}),
    ("2026-10-12T11:00", HEAD, "decide", {"decision": "approve", "reason": "材料齐全，符合条件"}),
    ("2026-10-13T09:15", ISSUER, "issue", {"certificate_no": "LS-2026-0917"}),
    ("2026-10-14T15:30", COURIER, "deliver", {"tracking_no": "EMS1188"}),
    ("2026-10-15T10:00", APPLICANT, "rate", {"satisfaction": "非常满意"}),  # 好差评
]


@click.command()
@click.option(
    "--db",
    "db",
    default="caseflow-demo.db",
    show_default=True,
    help="SQLite file for the demo (created in the current directory).",
)
@click.argument("which", type=click.Choice(["approval", "sunshine-vote"]), default="approval")
def demo(db: str, which: str) -> None:
    """Run a real case end to end and print its timeline.

    approval (default): an administrative approval with its legal clocks and a breach;
    sunshine-vote: the six-step village 阳光票决 with a representative meeting vote.
    """
    from caseflow.cli.common import configure_logging
    from caseflow.cli.render import clocks_table, timeline
    from caseflow.cli.render import console as make_console
    from caseflow.engine import Engine
    from caseflow.testing import MovableClock

    configure_logging()
    if which == "sunshine-vote":
        from caseflow.cli.demo_vote import run_sunshine_vote_demo

        run_sunshine_vote_demo(Path(db).resolve(), make_console())
        return

    console = make_console()
    clock = MovableClock("2026-09-21T09:12")
    path = Path(db).resolve()
    with Engine(f"sqlite:///{path}", clock=clock) as engine:
        definition = engine.workflow("administrative_approval")
        console.rule("[bold]Case 1: 食品经营许可证 for 张三, delivered by post")
        case = engine.start(
            "administrative_approval",
            data={
                "applicant": "张三",
                "matter": "食品经营许可证 (新办)",
                "delivery": "post",
                "address": "陵水县椰林镇文化路 8 号",
                "category": "市场监管",
            },
            actor=CLERK,
        )
        for when, actor, event, payload in STEPS:
            clock.set(when)
            case = engine.fire(case.id, event, actor=actor, payload=payload)
        console.print(clocks_table(engine.clocks(case.id), definition.timezone, clock.now()))
        console.print(timeline(engine.history(case.id), definition))
        console.print(
            f"Case {case.id}: [bold green]{case.state}[/] ({case.status}); the expert "
            "review (Sep 24 - Oct 9) did not count against the 20-workday decision limit."
        )

        console.rule("[bold]Case 2: nobody answers an application (行政许可法 art. 32)")
        clock.set("2026-09-25T10:00")
        late = engine.start(
            "administrative_approval",
            data={"applicant": "李四", "matter": "户外广告设置许可", "delivery": "window"},
            actor=CLERK,
        )
        window = next(c for c in engine.clocks(late.id) if c.name == "correction_window")
        console.print(
            f"Submitted Fri 2026-09-25 (Mid-Autumn Festival). 5 workdays skip the holiday, the "
            f"weekend and National Day (Oct 1-7): the window ends at 24:00 of {window.last_day}."
        )
        clock.set("2026-10-10T00:00")
        report = engine.fire_due()
        late = engine.get(late.id)
        console.print(
            f"Test clock moved to 2026-10-10 00:00; one sweep fired {report.total} "
            f"timer(s): the case is now [bold]{late.state}[/] (deemed accepted)."
        )
        console.print(clocks_table(engine.clocks(late.id), definition.timezone, clock.now()))
        console.print(timeline(engine.history(late.id), definition))
        _worklist_demo(engine, clock, console)
        _provisional_demo(engine, clock, console)
        console.print(f"Database: {path}")


def _worklist_demo(engine: Engine, clock: MovableClock, console: Console) -> None:
    """Cases 3-5: the reviewers' worklist, most urgent first, before and after a claim."""
    console.rule("[bold]Cases 3-5: the reviewers' worklist, most urgent first")
    colleague = Actor("review.sun", {"reviewer"}, REVIEWER.org)
    accepted = {}
    for when, name in (("09-01", "王五"), ("09-22", "赵六"), ("10-12", "钱七")):
        clock.set(f"2026-{when}T09:00")
        data = {"applicant": name, "matter": "小餐饮登记", "delivery": "window"}
        case = engine.start("administrative_approval", data=data, actor=CLERK)
        accepted[engine.fire(case.id, "accept", actor=CLERK).id] = f"{name}, accepted {when}"
    clock.set("2026-10-23T15:00")
    engine.fire_due()

    def show(actor: Actor) -> None:
        for row in engine.worklist(actor):
            if row.case.id in accepted:
                who = f"claimed by {row.case.assignee}" if row.case.assignee else "unclaimed"
                console.print(
                    f"  [{_STYLE[row.clock_status or '']}]{row.clock_status or '-':9}[/] "
                    f"last day {row.last_day}  {row.case.id}  {accepted[row.case.id]}  ({who})"
                )

    console.print("Fri 2026-10-23 15:00, what review.wang and review.sun both see:")
    show(colleague)
    first = next(r.case.id for r in engine.worklist(REVIEWER) if r.case.id in accepted)
    engine.claim(first, actor=REVIEWER)
    console.print(f"review.wang claims {first}; review.sun's worklist now:")
    show(colleague)


_STYLE = {"breached": "bold red", "warned": "yellow", "running": "green", "": "dim"}


# A stand-in for the State Council's 2027 notice (the real one is loaded the same way).
_NOTICE_2027 = "years:\n  2027:\n    holidays: ['2027-01-01..2027-01-04']\n    workdays: []\n"


def _provisional_demo(engine: Engine, clock: MovableClock, console: Console) -> None:
    """Case 6: a deadline in 2027, provisional until the year's holiday notice is loaded."""
    import tempfile

    console.rule("[bold]Case 6: a deadline in 2027, before the State Council's notice")
    clock.set("2026-12-28T10:00")
    data = {"applicant": "孙八", "matter": "食品经营许可证 (延续)", "delivery": "window"}
    case = engine.start("administrative_approval", data=data, actor=CLERK)
    window = next(c for c in engine.clocks(case.id) if c.name == "correction_window")
    if not window.provisional:
        console.print(
            f"Submitted Mon 2026-12-28; the correction window ends at 24:00 of "
            f"{window.last_day}. (This database already holds the 2027 notice from an "
            "earlier demo run: delete it to see the deadline move.)"
        )
        return
    console.print(
        f"Submitted Mon 2026-12-28. The 5-workday correction window ends at 24:00 of "
        f"{window.last_day}: [yellow]provisional[/], counted with 2027's statutory days "
        "only (元旦 on 1 Jan), not yet the notice's days off."
    )
    with tempfile.TemporaryDirectory() as tmp:
        notice = Path(tmp) / "cn-2027.yaml"
        notice.write_text(_NOTICE_2027, encoding="utf-8")
        engine.load_calendar_overlay(notice)
    operator = Actor("ops.wu", {"operator"}, "hainan/lingshui")
    for move in engine.recompute_provisional(actor=operator):
        console.print(
            f"A notice giving Fri 1 - Mon 4 Jan 2027 off is loaded (`caseflow calendar load`): "
            f"{move.clock} of {move.case_id} moves from {move.old_last_day} to "
            f"[bold]{move.new_last_day}[/] ({move.shift:+d} day), "
            f"{'still provisional' if move.provisional else 'now official'}."
        )
