"""
Helpers for the server's tests: tokens, a seeded database, and real servers on loopback
(uvicorn in a thread around an engine on a MovableClock, or ``caseflow serve`` in a
subprocess on the system clock).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn

from caseflow import Actor, Engine
from caseflow.server.app import create_app
from caseflow.server.auth import Authenticator, TokenFileAuthenticator

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
ORGS = WORKFLOWS / "orgs" / "jiaoling.yaml"

# token -> actor; tokens are long enough for the token file's minimum.
TOKENS = {
    "clerk-token-0000000000000001": {
        "id": "window.li",
        "roles": ["window_clerk"],
        "org": "jiaoling/sanzhen",
    },
    "review-token-000000000000002": {"id": "review.wang", "roles": ["reviewer"], "org": ""},
    "head-token-00000000000000003": {"id": "head.chen", "roles": ["agency_head"], "org": ""},
    "ops-token-000000000000000004": {"id": "ops.zhou", "roles": ["operator"], "org": "jiaoling"},
    "super-token-0000000000000005": {
        "id": "jiancha.xu",
        "roles": ["supervisor"],
        "org": "jiaoling",
    },
    "vote-clerk-token-00000000006": {"id": "vote.clerk", "roles": ["clerk"], "org": ""},
    "proposer-token-0000000000007": {"id": "branch", "roles": ["proposer"], "org": ""},
    # the fuzzer: every role, so that requests get past the role checks
    "fuzz-token-00000000000000008": {
        "id": "fuzzer",
        "roles": ["window_clerk", "reviewer", "agency_head", "operator", "clerk", "proposer"],
        "org": "",
    },
}
CLERK, REVIEWER, HEAD, OPS, SUPER, VOTE_CLERK, PROPOSER, FUZZ = list(TOKENS)

MINI_VOTE = textwrap.dedent("""\
    workflow: mini_vote
    version: 1
    calendar: cn
    title: 村民代表会议表决
    roles: [proposer, clerk]
    data:
      type: object
      properties:
        representatives: {type: array, items: {type: string}}
    states:
      draft: {initial: true}
      voting:
        vote:
          electorate: {data: representatives}
          rule: {preset: representative_meeting}
          ballot: open
          closes_after: 3 days
          clerk_roles: [clerk]
          on_pass: adopt
          on_fail: reject
          on_no_quorum: no_quorum
      adopted: {final: true}
      rejected: {final: true}
    events:
      submit: {from: draft, to: voting, roles: [proposer]}
      adopt: {from: voting, to: adopted, automatic: true}
      reject: {from: voting, to: rejected, automatic: true}
      no_quorum: {from: voting, to: draft, automatic: true}
    """)


#: A fee paid from outside (a message) after an on-site inspection (a child case).
MINI_PERMIT = textwrap.dedent("""\
    workflow: mini_permit
    version: 1
    title: 小额许可 (inspection, then the fee)
    roles: [window_clerk, reviewer]
    data:
      type: object
      properties:
        site: {type: string}
    states:
      submitted: {initial: true, title: 已提交}
      inspecting:
        title: 现场核查
        call:
          workflow: mini_inspection
          data: {site: data.site}
          on_success: inspected
          on_failure: refused_on_site
      awaiting_fee: {title: 待缴费}
      granted: {final: true, outcome: success}
      refused: {final: true, outcome: failure}
    events:
      accept: {from: submitted, to: inspecting, roles: [window_clerk]}
      inspected: {from: inspecting, to: awaiting_fee, automatic: true}
      refused_on_site: {from: inspecting, to: refused, automatic: true}
      fee_paid: {from: awaiting_fee, to: granted, roles: [window_clerk], message: fee_paid}
    """)
MINI_INSPECTION = textwrap.dedent("""\
    workflow: mini_inspection
    version: 1
    title: 现场核查
    roles: [reviewer, window_clerk]
    data:
      type: object
      required: [site]
      properties:
        site: {type: string}
    states:
      scheduled: {initial: true}
      passed: {final: true, outcome: success}
      failed: {final: true, outcome: failure}
    events:
      pass: {from: scheduled, to: passed, roles: [reviewer]}
      fail: {from: scheduled, to: failed, roles: [reviewer]}
      fee_paid: {from: scheduled, to: passed, roles: [window_clerk], message: fee_paid}
    """)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def actor_of(token: str) -> Actor:
    spec = TOKENS[token]
    return Actor(str(spec["id"]), spec["roles"], str(spec["org"]))


def write_tokens(folder: Path) -> Path:
    import json

    path = folder / "tokens.json"
    path.write_text(json.dumps(TOKENS, ensure_ascii=False), encoding="utf-8")
    return path


def workflow_dirs(folder: Path) -> list[Path]:
    extra = folder / "extra-workflows"
    extra.mkdir(exist_ok=True)
    (extra / "mini_vote.yaml").write_text(MINI_VOTE, encoding="utf-8")
    (extra / "mini_permit.yaml").write_text(MINI_PERMIT, encoding="utf-8")
    (extra / "mini_inspection.yaml").write_text(MINI_INSPECTION, encoding="utf-8")
    return [WORKFLOWS, extra]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Seeded:
    breached: str
    breached_org: str
    warned: str
    running: list[str]
    on_time: str
    vote: str


#: Cancels the seed's own misses, whatever the engine's operator roles.
SEEDER = Actor("seed.ops", {"operator", "supervisor"}, "")
APPLICANT = {"applicant": "张三", "matter": "食品经营许可", "delivery": "window"}


def seed(engine: Engine, clock: MovableClock, now: dt.datetime) -> Seeded:
    """
    Approval cases in the Jiaoling org tree, dated back from ``now``: one breached in
    九岭村 (its decision clock past due; the breach swept and recorded), one warned in
    城北社区, running ones, one decided on time this month; and an open vote.
    """
    engine.load_orgs(ORGS)
    clerk, reviewer, head = actor_of(CLERK), actor_of(REVIEWER), actor_of(HEAD)

    def start(org: str, key: str) -> str:
        case = engine.start(
            "administrative_approval", data=APPLICANT, actor=clerk, org=org, business_key=key
        )
        return case.id

    # breached: accepted 45 days ago; swept an hour after its due time
    clock.set(now - dt.timedelta(days=45))
    breached = start("jiaoling/sanzhen/jiuling", "JL-2026-0001")
    engine.fire(breached, "accept", actor=clerk)
    engine.fire(breached, "start_review", actor=reviewer)
    due = next(v.due_at for v in engine.clocks(breached) if v.name == "decision")
    assert due is not None
    clock.set(due + dt.timedelta(hours=1))
    engine.fire_due()
    # warned: accepted so that now is inside the 3-workday warning window
    warned = ""
    for back in range(15, 40):
        clock.set(now - dt.timedelta(days=back))
        candidate = start("jiaoling/jiaocheng/chengbei", f"JL-2026-W{back:02d}")
        engine.fire(candidate, "accept", actor=clerk)
        view = next(v for v in engine.clocks(candidate) if v.name == "decision")
        assert view.state.warn_at is not None
        assert view.due_at is not None
        if view.state.warn_at <= now < view.due_at:
            warned = candidate
            break
        engine.cancel(candidate, actor=SEEDER, reason="seed: outside the window")
    assert warned, "no start date puts the decision clock in its warning window"
    # decided on time, this month
    month_start = now.astimezone(dt.UTC).replace(day=1, hour=2, minute=0)
    clock.set(max(month_start, now - dt.timedelta(days=2)))
    on_time = start("jiaoling/jiaocheng/xiaxing", "JL-2026-0100")
    for actor, event, payload in [
        (clerk, "accept", None),
        (reviewer, "start_review", None),
        (head, "decide", {"decision": "approve"}),
    ]:
        engine.fire(on_time, event, actor=actor, payload=payload)
    clock.set(now - dt.timedelta(hours=3))
    running = [
        start("jiaoling/sanzhen/fangxin", "JL-2026-0201"),
        start("jiaoling/zhengwu", "JL-2026-0202"),
    ]
    engine.fire(running[0], "accept", actor=clerk)
    reps = [f"rep{i:02d}" for i in range(15)]
    vote = engine.start(
        "mini_vote",
        data={"representatives": reps},
        actor=actor_of(PROPOSER),
        org="jiaoling/sanzhen/jiuling",
        business_key="JL-VOTE-01",
    ).id
    engine.fire(vote, "submit", actor=actor_of(PROPOSER))
    for rep in reps[:11]:
        engine.cast_ballot(vote, "yes" if rep != "rep03" else "no", actor=Actor(rep, {"rep"}))
    clock.set(now)
    return Seeded(
        breached=breached,
        breached_org=engine.get(breached).org,
        warned=warned,
        running=running,
        on_time=on_time,
        vote=vote,
    )


@contextlib.contextmanager
def thread_server(engine: Engine, tokens: Path | Authenticator) -> Iterator[str]:
    """uvicorn serving ``engine`` in a thread on a free loopback port; yields the base URL."""
    auth = tokens if isinstance(tokens, Authenticator) else TokenFileAuthenticator(tokens)
    app = create_app(engine, auth)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "uvicorn did not start"
            raise RuntimeError(msg)
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def serve_process(
    db: str, tokens: Path, workflows: list[Path], log: Path, *extra: str
) -> Iterator[str]:
    """``caseflow serve`` in a subprocess on a free loopback port; yields the base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "caseflow",
        "serve",
        "--db",
        db,
        "--tokens",
        str(tokens),
        "--port",
        str(port),
        "--log-level",
        "warning",
        *[arg for w in workflows for arg in ("--workflows", str(w))],
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFLOW_")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                msg = f"caseflow serve exited {process.returncode}: {log.read_text()}"
                raise RuntimeError(msg)
            try:
                if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                msg = f"caseflow serve did not answer: {log.read_text()}"
                raise RuntimeError(msg)
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class GatewayAuthenticator(Authenticator):
    """An SSO gateway in front of the server sets who the user is (a plugin example)."""

    def __init__(self, header: str = "x-remote-user", roles: str = "supervisor") -> None:
        self.header = header.lower()
        self.roles = roles.split(",")

    def authenticate(self, headers: Mapping[str, str]) -> Actor | None:
        user = headers.get(self.header)
        return Actor(user, self.roles, "jiaoling") if user else None
