"""Eight processes cast for the same voter at once on PostgreSQL: one ballot is stored."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from caseflow import Actor, Engine
from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

CASTER = textwrap.dedent("""\
    import sys, time
    from caseflow import Actor, Engine
    from caseflow.errors import VoteError
    url, workflows, case_id, start_at, choice = sys.argv[1:6]
    engine = Engine(url, workflows=workflows)
    time.sleep(max(0.0, float(start_at) - time.time()))
    try:
        engine.cast_ballot(case_id, choice, actor=Actor("rep07", {"representative"}))
    except VoteError as exc:
        print("duplicate", exc)
    else:
        print("stored")
    engine.close()
    """)


def test_eight_processes_one_ballot(pg_url: str, tmp_path: Path):
    """The primary key on (vote, voter) admits one ballot; the other seven get VoteError."""
    reps = [f"rep{i:02d}" for i in range(15)]
    clock = MovableClock("2026-05-06T09:00")
    with Engine(pg_url, workflows=ROOT / "workflows", clock=clock, auto_upgrade=True) as engine:
        case = engine.start("four_deliberations", data=_data(reps), actor=_branch())
        case = _to_vote(engine, case.id)
    script = tmp_path / "cast.py"
    script.write_text(CASTER)
    start_at = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                pg_url,
                str(ROOT / "workflows"),
                case.id,
                str(start_at),
                "yes" if i % 2 else "no",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    results = sorted(out.split(" ", 1)[0].strip() for out, _err in outputs)
    assert ["duplicate"] * 7 + ["stored"] == results, [err for _out, err in outputs]
    assert all("one ballot per voter" in out for out, _ in outputs if out.startswith("duplicate"))
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        ballots = conn.execute(
            sa.text("select count(*) from cf_ballots where voter = 'rep07'")
        ).scalar_one()
        sealed = conn.execute(
            sa.text("select count(*) from cf_ballots where sealed is not null")
        ).scalar_one()
        counted = conn.execute(sa.text("select sum(count) from cf_vote_tallies")).scalar_one()
    engine.dispose()
    assert (1, 1, 0) == (ballots, sealed, counted)  # sealed: counted only when it closes


def _branch() -> Actor:
    return Actor("branch", {"village_party_branch"}, VILLAGE)


VILLAGE = "zj/lishui/liandu/xiaxiang"


def _data(reps: list[str]) -> dict[str, object]:
    return {"matter": "村道硬化工程", "village": "下乡村", "representatives": reps}


def _to_vote(engine: Engine, case_id: str):
    """四议: the branch proposes, the two committees agree, party members pass, the meeting convenes."""
    steps = [
        (
            "village_party_branch",
            "propose",
            {"proposal": "硬化村道 1.2 公里", "body": "representative_meeting"},
        ),
        ("two_committees", "agree", {"plan": "一事一议筹资"}),
        ("party_members_meeting", "review_passed", {}),
        ("village_committee", "convene", {"meeting": "2026-05-06 村民代表会议"}),
    ]
    case = None
    for role, event, payload in steps:
        case = engine.fire(case_id, event, actor=Actor(role, {role}, VILLAGE), payload=payload)
    assert case is not None
    assert "representative_resolution" == case.state
    return case
