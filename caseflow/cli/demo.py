"""``caseflow demo``: one real approval case on an embedded SQLite file, as a timeline."""

from __future__ import annotations

from pathlib import Path

import click

from caseflow.cases import Actor
from caseflow.cli.render import console as make_console
from caseflow.cli.render import timeline
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
    ("2026-09-24T09:30", REVIEWER, "send_to_experts", {}),
    ("2026-10-09T16:00", REVIEWER, "experts_done", {}),
    ("2026-10-12T11:00", HEAD, "decide", {"decision": "approve", "reason": "材料齐全，符合条件"}),
    ("2026-10-13T09:15", ISSUER, "issue", {"certificate_no": "LS-2026-0917"}),
    ("2026-10-14T15:30", COURIER, "deliver", {"tracking_no": "EMS1188"}),
]


@click.command()
@click.option(
    "--db",
    "db",
    default="caseflow-demo.db",
    show_default=True,
    help="SQLite file for the demo (created in the current directory).",
)
def demo(db: str) -> None:
    """Run an approval case end to end and print its timeline."""
    from caseflow.engine import Engine

    console = make_console()
    clock = MovableClock("2026-09-21T09:12")
    path = Path(db).resolve()
    with Engine(f"sqlite:///{path}", clock=clock) as engine:
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
        console.print(f"[bold]Case {case.id}[/] started: 食品经营许可证 for 张三, delivery by post")
        for when, actor, event, payload in STEPS:
            clock.set(when)
            case = engine.fire(case.id, event, actor=actor, payload=payload)
        definition = engine.workflow(case.workflow, case.workflow_version)
        console.print(timeline(engine.history(case.id), definition))
        console.print(
            f"Final state: [bold green]{case.state}[/] ({case.status}), version {case.version}"
        )
        console.print(f"Database: {path}")
