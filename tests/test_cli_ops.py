"""
The operator CLI: list filters, cases retry/skip/move/suspend/resume/reassign/cancel/fire,
incidents, cases migrate; end to end in subprocesses on real SQLite files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from caseflow import Actor, Engine, listing
from caseflow.abc import ActionHandler
from caseflow.cli import cases as cases_cli
from caseflow.cli import cli
from caseflow.cli import incidents as incidents_cli
from caseflow.cli.common import operator_name
from caseflow.store import incidents as incident_rows
from caseflow.store.tables import cases, clocks, history, timers
from caseflow.testing import MovableClock

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
CLERK = Actor("clerk-1", {"window_clerk"}, "hainan/lingshui/yingzhou")
DATA = {"applicant": "张三", "matter": "食品经营许可"}

# -- in-process: CliRunner on both databases, the engine's clock held by the test ----------


@pytest.fixture
def run(db_url: str, clock: MovableClock, monkeypatch: pytest.MonkeyPatch):
    """Invoke `caseflow ...` in-process on this test's database, at the test clock's time."""

    def opener(
        db: str, workflows: tuple[str, ...] = (), _clock: object = None, **_options: object
    ) -> Engine:
        return Engine(db, workflows=list(workflows) or WORKFLOWS, clock=clock, auto_upgrade=True)

    monkeypatch.setattr(cases_cli, "open_engine", opener)
    monkeypatch.setattr(incidents_cli, "open_engine", opener)
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(cli, [*args, "--db", db_url], input=stdin, env=env)

    return invoke


def accepted(engine, clock, when, org=CLERK.org):
    clock.set(when)
    case = engine.start("administrative_approval", data=DATA, actor=CLERK, org=org)
    return engine.fire(case.id, "accept", actor=CLERK).id


@pytest.fixture
def listing_mix(engine, clock):
    """Seen on Tue 29 Dec 2026 at noon: one case per clock status, one stuck, one done."""
    mix = {
        "breached": accepted(engine, clock, "2026-09-21T09:00"),  # due 26 Oct
        "late": accepted(engine, clock, "2026-10-12T09:00", "hainan/haikou"),  # due 9 Nov
        "warned": accepted(engine, clock, "2026-12-01T09:00", "hainan/lingshui"),  # due 29 Dec
    }
    clock.set("2026-12-23T09:00")
    mix["running"] = engine.start("administrative_approval", data=DATA, actor=CLERK).id
    clock.set("2026-12-28T09:00")  # the correction window reaches into 2027
    mix["provisional"] = engine.start(
        "administrative_approval", data=DATA, actor=CLERK, org="hainan/haikou"
    ).id
    mix["done"] = engine.start("administrative_approval", data=DATA, actor=CLERK).id
    engine.fire(mix["done"], "withdraw", actor=Actor("zhang", {"applicant"}, CLERK.org))
    with engine.db.begin() as conn:
        incident_rows.open_incident(conn, mix["running"], 0, "notify", "boom", 3, clock.now())
    clock.set("2026-12-29T12:00")
    return mix


def listed(result):
    assert 0 == result.exit_code, result.output
    return [c["id"] for c in json.loads(result.output)]


class TestList:
    def test_filters(self, run, listing_mix):
        """--stuck, --warned, --provisional, --overdue (with a filter) and --since."""
        m = listing_mix
        assert [m["running"]] == listed(run("cases", "list", "--stuck", "--json"))
        assert [m["warned"]] == listed(run("cases", "list", "--warned", "--json"))
        assert [m["provisional"]] == listed(run("cases", "list", "--provisional", "--json"))
        assert [m["breached"], m["late"]] == listed(
            run("cases", "list", "--overdue", "--status", "active", "--json")
        )
        assert [m["late"]] == listed(
            run("cases", "list", "--overdue", "--org", "hainan/haikou", "--json")
        )
        assert [m["late"], m["breached"]] == listed(
            run("cases", "list", "--overdue", "--sort", "updated", "--json")
        )
        assert [m["running"], m["provisional"], m["done"]] == listed(
            run("cases", "list", "--since", "2026-12-23", "--json")
        )
        assert [] == listed(run("cases", "list", "--stuck", "--warned", "--json"))
        assert [] == listed(run("cases", "list", "--overdue", "--warned", "--json"))
        assert [] == listed(run("cases", "list", "--overdue", "--provisional", "--json"))
        assert [m["late"]] == listed(
            run("cases", "list", "--overdue", "--since", "2026-10-01", "--json")
        )

    def test_overdue_alone_lists_clocks(self, run, listing_mix):
        """--overdue alone is the index-driven list: one row per overdue clock."""
        out = json.loads(run("cases", "list", "--overdue", "--json").output)
        assert [
            (listing_mix["breached"], "decision", "breached"),
            (listing_mix["late"], "decision", "breached"),
        ] == [(c["id"], c["overdue_clock"], c["clock_status"]) for c in out]

    def test_sort_and_paging(self, run, listing_mix):
        """--sort due: soonest running clock first, cases without one last; --limit/--offset."""
        m = listing_mix
        by_due = [m["breached"], m["late"], m["warned"], m["running"], m["provisional"], m["done"]]
        assert by_due == listed(run("cases", "list", "--sort", "due", "--json"))
        assert by_due[1:3] == listed(
            run("cases", "list", "--sort", "due", "--limit", "2", "--offset", "1", "--json")
        )
        latest = listed(run("cases", "list", "--sort", "updated", "--json"))
        assert [m["done"], m["provisional"]] == latest[:2]

    def test_org_children(self, run, listing_mix):
        """Sub-units are included (--with-children says so); --exact-org is the unit only."""
        m = listing_mix
        subtree = [m["breached"], m["warned"], m["running"], m["done"]]
        assert subtree == listed(run("cases", "list", "--org", "hainan/lingshui", "--json"))
        assert subtree == listed(
            run("cases", "list", "--org", "hainan/lingshui", "--with-children", "--json")
        )
        assert [m["warned"]] == listed(
            run("cases", "list", "--org", "hainan/lingshui", "--exact-org", "--json")
        )
        both = run("cases", "list", "--exact-org", "--with-children")
        assert 2 == both.exit_code
        assert "exclude each other" in both.output
        assert 2 == run("cases", "list", "--since", "yesterday").exit_code

    def test_rows_coloured_by_clock_status(self, run, listing_mix):
        """Red breached, yellow warned, green running (FORCE_COLOR: colours on a pipe)."""
        out = run("cases", "list", env={"FORCE_COLOR": "1", "TERM": "xterm"}).output
        rows = {
            k: next(line for line in out.splitlines() if v in line) for k, v in listing_mix.items()
        }
        assert "\x1b[31m" in rows["breached"]
        assert "\x1b[33m" in rows["warned"]
        assert "\x1b[32m" in rows["running"]
        assert "\x1b[3" not in rows["done"]


TWO_CLOCKS = """\
workflow: two_clocks
version: 1
roles: [clerk]
states:
  open: {initial: true}
  done: {final: true}
events:
  close: {from: open, to: done, roles: [clerk]}
clocks:
  short: {limit: 1 workdays, runs_in: [open]}
  long: {limit: 2 workdays, runs_in: [open]}
"""


class TestOverdueOrder:
    def test_each_case_once_most_overdue_first(self, make_engine, clock, tmp_path):
        """Two overdue clocks per case: listed once, by its soonest clock, paged."""
        (tmp_path / "two.yaml").write_text(TWO_CLOCKS)
        engine = make_engine(workflows=tmp_path / "two.yaml")
        clerk = Actor("c", {"clerk"})
        ids = []
        for day in ("2026-09-21", "2026-09-14", "2026-09-16"):
            clock.set(f"{day}T09:00")
            ids.append(engine.start("two_clocks", actor=clerk).id)
        clock.set("2026-10-30T09:00")
        page = listing.list_cases(engine, overdue=True, limit=2)
        assert [ids[1], ids[2]] == [r.case.id for r in page]
        assert [ids[0]] == [r.case.id for r in listing.list_cases(engine, overdue=True, offset=2)]
        assert {"breached"} == {r.clock_status for r in page}


class TestShow:
    def test_incidents_and_next_events(self, run, listing_mix):
        """show: open incidents and the events the case can take, in JSON and as text."""
        out = json.loads(run("cases", "show", listing_mix["running"], "--json").output)
        assert [("notify", "boom", "open")] == [
            (i["action"], i["error"], i["status"]) for i in out["incidents"]
        ]
        events = {e["name"]: (e["roles"], e["automatic"]) for e in out["events"]}
        assert (["window_clerk"], False) == events["accept"]
        assert ([], True) == events["deemed_accepted"]
        text = run("cases", "show", listing_mix["running"]).output
        assert "incident" in text
        assert "boom" in text
        assert "next events: request_correction" in " ".join(text.split())
        done = json.loads(run("cases", "show", listing_mix["done"], "--json").output)
        assert [] == done["events"]


class TestOperatorCommands:
    def test_suspend_resume_reassign_cancel(self, run, engine, clock):
        """Each command is one library call; the history names --operator and --reason."""
        case_id = accepted(engine, clock, "2026-09-21T09:00")
        ok = run("cases", "suspend", case_id, "--reason", "abroad", "--operator", "ops-7")
        assert 0 == ok.exit_code, ok.output
        assert f"case {case_id}: suspended as operator ops-7; now accepted (suspended)" in ok.output
        assert "paused" == engine.clocks(case_id)[-1].status
        assert (
            0
            == run("cases", "resume", case_id, "--reason", "back", "--operator", "ops-7").exit_code
        )
        moved = run(
            "cases", "reassign", case_id, "--org", "hainan/haikou", "--user", "rev-2",
            "--reason", "workload", "--operator", "ops-7",
        )  # fmt: skip
        assert "reassigned to org hainan/haikou, rev-2 as operator ops-7" in moved.output
        assert 0 == run("cases", "cancel", case_id, "--reason", "withdrawn", "--yes").exit_code
        notes = [h for h in engine.history(case_id) if h.kind == "operator"]
        assert [
            ("suspend", "ops-7", "abroad"),
            ("resume", "ops-7", "back"),
            ("reassign", "ops-7", "workload"),
            ("cancel", operator_name(None), "withdrawn"),  # default: the OS user
        ] == [(h.event, h.actor_id, h.details["reason"]) for h in notes]
        again = run("cases", "suspend", case_id, "--reason", "x")
        assert 1 == again.exit_code
        assert "error: case" in again.output
        assert "is cancelled: only an active case can be suspended" in again.output

    def test_reason_is_required(self, run, engine, clock):
        """No --reason: a usage error (exit 2); nothing written."""
        case_id = accepted(engine, clock, "2026-09-21T09:00")
        for command in ("suspend", "resume", "cancel", "move", "skip", "reassign"):
            result = run("cases", command, case_id, "--to", "x", "--org", "y", "--yes")
            assert 2 == result.exit_code
            assert "Missing option '--reason'" in result.output or "No such option" in result.output
        assert 2 == engine.get(case_id).version

    def test_destructive_commands_ask_first(self, run, engine, clock):
        """move and cancel ask; answering no writes nothing, yes goes ahead."""
        case_id = accepted(engine, clock, "2026-09-21T09:00")
        no = run("cases", "move", case_id, "--to", "approved", "--reason", "paper", stdin="n\n")
        assert 1 == no.exit_code
        assert "Move case" in no.output
        assert "Aborted" in no.output
        assert "accepted" == engine.get(case_id).state
        yes = run("cases", "move", case_id, "--to", "approved", "--reason", "paper", stdin="y\n")
        assert 0 == yes.exit_code, yes.output
        assert "approved" == engine.get(case_id).state
        assert 1 == run("cases", "cancel", case_id, "--reason", "x", stdin="n\n").exit_code
        assert "active" == engine.get(case_id).status

    def test_fire_as_role(self, run, engine, clock):
        """fire acts as Actor(operator, {ROLE}): roles and schemas apply."""
        clock.set("2026-09-21T09:00")
        case_id = engine.start("administrative_approval", data=DATA, actor=CLERK).id
        wrong = run("cases", "fire", case_id, "accept", "--as", "reviewer", "--operator", "ops-7")
        assert 1 == wrong.exit_code
        assert "error: event 'accept' requires one of the roles: window_clerk" in wrong.output
        bad = run("cases", "fire", case_id, "request_correction", "--as", "window_clerk",
                  "--payload", "{oops")  # fmt: skip
        assert 2 == bad.exit_code
        ok = run(
            "cases", "fire", case_id, "request_correction", "--as", "window_clerk",
            "--payload", '{"missing_documents": ["营业执照"]}', "--operator", "ops-7",
        )  # fmt: skip
        assert 0 == ok.exit_code, ok.output
        last = [h for h in engine.history(case_id) if h.kind == "transition"][-1]
        assert ("request_correction", "ops-7", ("window_clerk",)) == (
            last.event,
            last.actor_id,
            last.actor_roles,
        )
        assert ["营业执照"] == engine.get(case_id).data["missing_documents"]

    def test_skip_and_incidents(self, run, engine, listing_mix):
        """skip resolves the incident; incidents list/show (--all, --json)."""
        case_id = listing_mix["running"]
        [open_one] = json.loads(run("incidents", "list", "--json").output)
        assert (case_id, "notify", 3) == (
            open_one["case_id"],
            open_one["action"],
            open_one["attempts"],
        )
        skipped = run(
            "cases", "skip", case_id, "--reason", "phoned", "--yes", "--operator", "ops-7"
        )
        assert "skipped 1 incident(s) as operator ops-7" in skipped.output
        assert [] == json.loads(run("incidents", "list", "--json").output)
        [closed] = json.loads(run("incidents", "list", "--all", "--json").output)
        assert ("skipped", "ops-7", "phoned") == (
            closed["status"],
            closed["resolved_by"],
            closed["reason"],
        )
        shown = json.loads(run("incidents", "show", str(closed["id"]), "--json").output)
        assert ["skip"] == [a["event"] for a in shown["attempts"]]
        missing = run("incidents", "show", "999")
        assert (1, "error: incident 999 not found\n") == (missing.exit_code, missing.output)
        nothing = run("cases", "skip", case_id, "--reason", "again", "--yes")
        assert 1 == nothing.exit_code
        assert "has no open incident" in nothing.output
        assert 2 == run("cases", "retry").exit_code  # an ID or --all-stuck


class Flaky(ActionHandler):
    """Fails while ``fail`` is set."""

    def __init__(self) -> None:
        self.fail = True
        self.calls = 0

    def run(self, *, case_id, data, params, idempotency_key):
        self.calls += 1
        if self.fail:
            raise ConnectionError("SMS gateway down")


class TestRetryAllStuck:
    def test_progress_then_one_sweep(self, db_url, clock, tmp_path, monkeypatch):
        """--all-stuck re-arms every stuck case, sweeps once, and reports each case."""
        (tmp_path / "notice.yaml").write_text(NOTICE)
        flaky = Flaky()

        def opener(
            db: str, workflows: tuple[str, ...] = (), _clock: object = None, **_options: object
        ) -> Engine:
            return Engine(
                db,
                workflows=tmp_path / "notice.yaml",
                clock=clock,
                actions={"notify_applicant": flaky},
                auto_upgrade=True,
            )

        monkeypatch.setattr(cases_cli, "open_engine", opener)
        clerk = Actor("c", {"clerk"})
        with opener(db_url) as engine:
            ids = []
            for _ in range(3):
                ids.append(engine.start("notice_test", actor=clerk).id)
                engine.fire(ids[-1], "notify", actor=clerk)
            engine.fire_due()
            assert sorted(ids) == sorted(engine.stuck())
        runner = CliRunner()
        args = ["cases", "retry", "--all-stuck", "--operator", "ops-7", "--db", db_url]
        still = runner.invoke(cli, args)
        assert 1 == still.exit_code
        assert 3 == still.output.count("still stuck")
        flaky.fail = False
        calls = flaky.calls
        done = runner.invoke(cli, args)
        assert 0 == done.exit_code, done.output
        assert sorted(f"case {i}: retried as operator ops-7: done" for i in ids) == sorted(
            done.stdout.splitlines()
        )
        assert calls + 3 == flaky.calls
        assert "no stuck cases" in runner.invoke(cli, args).output


class TestRetryReason:
    def test_reason_printed_with_the_outcome(self, tmp_path, clock, monkeypatch):
        """retry --reason: in the summary and in the case history, as the operator."""
        (tmp_path / "notice.yaml").write_text(NOTICE)
        flaky = Flaky()
        db = f"sqlite:///{tmp_path / 'r.db'}"

        def opener(url: str, workflows: tuple[str, ...] = (), *_args: object, **_kw: object):
            return Engine(url, workflows=tmp_path / "notice.yaml", clock=clock,
                          actions={"notify_applicant": flaky})  # fmt: skip

        monkeypatch.setattr(cases_cli, "open_engine", opener)
        clerk = Actor("c", {"clerk"})
        with opener(db) as engine:
            case_id = engine.start("notice_test", actor=clerk).id
            engine.fire(case_id, "notify", actor=clerk)
            engine.fire_due()
        flaky.fail = False
        result = CliRunner().invoke(
            cli, ["cases", "retry", case_id, "--reason", "gateway back", "--db", db],
            env={"CASEFLOW_OPERATOR": "ops-9"},
        )  # fmt: skip
        assert 0 == result.exit_code, result.output
        assert f"case {case_id}: retried as operator ops-9 (reason: gateway back): done\n" == (
            result.stdout
        )
        assert "" == result.stderr
        with opener(db) as engine:
            [retried] = [h for h in engine.history(case_id) if h.kind == "operator"]
        assert ("retry", "ops-9", "gateway back") == (
            retried.event,
            retried.actor_id,
            retried.details.get("reason"),
        )


# -- end to end: real processes on a real SQLite file ----------------------------------

NOTICE = """\
workflow: notice_test
version: 1
roles: [clerk]
actions:
  notify_applicant: {retries: 2, backoff_seconds: 0}
states:
  open: {initial: true}
  notified:
    on_enter: [notify_applicant]
  closed: {final: true}
events:
  notify: {from: open, to: notified, roles: [clerk]}
  close: {from: notified, to: closed, roles: [clerk]}
"""

# An action handler registered as a real `caseflow.actions` entry point (a dist-info on
# PYTHONPATH), so the `caseflow` command itself runs it; and a driver for the sweeps.
HELPER = '''\
import datetime as dt, logging, os, sys, time
from pathlib import Path

import structlog
from caseflow.abc import ActionHandler

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


class Handler(ActionHandler):
    """Records the key, sleeps while CF_SLEEP exists, fails while CF_MARKER exists."""

    def run(self, *, case_id, data, params, idempotency_key):
        with open(os.environ["CF_LOG"], "a") as log:
            log.write(idempotency_key + "\\n")
            log.flush()
            os.fsync(log.fileno())
        deadline = time.monotonic() + 60
        while Path(os.environ["CF_SLEEP"]).exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the effect is done, not yet acknowledged: kill -9 here
        if Path(os.environ["CF_MARKER"]).exists():
            raise ConnectionError("SMS gateway down")


if __name__ == "__main__":
    from caseflow import Actor, Engine

    mode, db, workflows = sys.argv[1:4]
    with Engine(db, workflows=workflows) as engine:
        if mode == "start":
            clerk = Actor("clerk-1", {"clerk"})
            case = engine.start("notice_test", actor=clerk)
            engine.fire(case.id, "notify", actor=clerk)
            print(case.id)
        else:
            report = engine.fire_due(lease=dt.timedelta(seconds=float(sys.argv[4])))
            print(f"fired {dict(report.fired)} failed {report.failed}")
'''


class Sandbox:
    """A folder with the workflow, the helper and its entry point, and a SQLite file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workflow = root / "notice.yaml"
        self.workflow.write_text(NOTICE)
        (root / "cfhelper.py").write_text(HELPER)
        info = root / "cfhelper-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cfhelper\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(
            "[caseflow.actions]\nnotify_applicant = cfhelper:Handler\n"
        )
        self.db = f"sqlite:///{root / 'ops.db'}"
        self.log, self.marker, self.sleep = root / "calls.log", root / "down", root / "sleep"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(root),
            "PYTHONIOENCODING": "utf-8",
            "CF_LOG": str(self.log),
            "CF_MARKER": str(self.marker),
            "CF_SLEEP": str(self.sleep),
        }
        self.env.pop("CASEFLOW_DATABASE_URL", None)

    def helper(self, *args: str) -> list[str]:
        return [
            sys.executable,
            str(self.root / "cfhelper.py"),
            args[0],
            self.db,
            str(self.workflow),
            *args[1:],
        ]

    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def caseflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            [
                sys.executable,
                "-m",
                "caseflow",
                *args,
                "--db",
                self.db,
                "--workflows",
                str(self.workflow),
            ]
        )

    def json(self, *args: str):
        result = self.caseflow(*args, "--json")
        assert 0 == result.returncode, result.stderr
        return json.loads(result.stdout)

    def keys(self) -> list[str]:
        return self.log.read_text().split()

    def action_timer(self, case_id: str):
        db = sa.create_engine(self.db)
        with db.connect() as conn:
            row = conn.execute(
                sa.select(timers.c.id, timers.c.status, timers.c.attempts).where(
                    timers.c.case_id == case_id, timers.c.kind == "action"
                )
            ).one()
        db.dispose()
        return row


def action_history(shown):
    return [
        (h["details"]["status"], h["details"].get("attempt"))
        for h in shown["history"]
        if h["kind"] == "action"
    ]


@pytest.mark.slow
class TestEndToEnd:
    def test_stuck_case_found_and_retried(self, tmp_path: Path):
        """Three failures open an incident; the CLI lists it, retries it, and shows it all."""
        box = Sandbox(tmp_path)
        box.marker.touch()
        started = box.run(box.helper("start"))
        assert 0 == started.returncode, started.stderr
        case_id = started.stdout.split()[-1]
        swept = box.caseflow("timers", "fire-due")  # the CLI runs the entry-point handler
        assert "failed 1" in swept.stdout, swept.stderr
        [stuck] = box.json("cases", "list", "--stuck")
        assert (case_id, 1) == (stuck["id"], stuck["open_incidents"])
        [incident] = box.json("incidents", "list")
        assert (case_id, 3, "ConnectionError: SMS gateway down") == (
            incident["case_id"],
            incident["attempts"],
            incident["error"],
        )

        still = box.caseflow("cases", "retry", case_id, "--operator", "ops")
        assert 1 == still.returncode
        assert f"case {case_id}: retried as operator ops: still stuck" in still.stdout
        box.marker.unlink()  # the gateway is back
        fixed = box.caseflow("cases", "retry", case_id, "--operator", "ops")
        assert 0 == fixed.returncode, fixed.stderr
        assert f"case {case_id}: retried as operator ops: done" in fixed.stdout
        assert [] == box.json("cases", "list", "--stuck")

        shown = box.json("cases", "show", case_id)
        one_round = [("failed", 1), ("failed", 2), ("failed", 3), ("incident", None)]
        assert [*one_round, *one_round, ("done", 1)] == action_history(shown)
        assert [("retry", "ops"), ("retry", "ops")] == [
            (h["event"], h["actor"]) for h in shown["history"] if h["kind"] == "operator"
        ]
        assert [] == shown["incidents"]
        timer_id, status, _ = box.action_timer(case_id)
        assert [f"{case_id}:{timer_id}"] * 7 == box.keys()  # one key for every attempt
        assert "done" == status
        every = box.json("incidents", "list", "--all")
        assert ["retried", "retried"] == [i["status"] for i in every]

    def test_kill_9_between_effect_and_acknowledgment(self, tmp_path: Path):
        """The dispatcher dies after the effect: after the lease the effect runs again, same key."""
        box = Sandbox(tmp_path)
        case_id = box.run(box.helper("start")).stdout.split()[-1]
        box.sleep.touch()
        first = subprocess.Popen(box.helper("sweep", "1"), env=box.env, cwd=tmp_path)
        deadline = time.monotonic() + 60
        while not (box.log.exists() and box.keys()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 1 == len(box.keys()), "the handler never ran"
        os.kill(first.pid, signal.SIGKILL)
        assert -signal.SIGKILL == first.wait(timeout=30)
        # a worker that died is not a failed attempt: attempts counts failures only
        assert ("pending", 0) == tuple(box.action_timer(case_id))[1:]
        box.sleep.unlink()
        time.sleep(1.2)  # the 1 s lease runs out
        second = box.run(box.helper("sweep", "1"))
        assert "fired {'action': 1} failed 0" in second.stdout, second.stderr
        timer_id, status, attempts = box.action_timer(case_id)
        assert [f"{case_id}:{timer_id}"] * 2 == box.keys()
        assert ("done", 0) == (status, attempts)
        shown = box.json("cases", "show", case_id)
        assert [("done", 1)] == action_history(shown)  # acknowledged once
        again = box.run(box.helper("sweep", "1"))
        assert "fired {} failed 0" in again.stdout
        assert 2 == len(box.keys())


# -- cases migrate on 10,000 cases, through the real command ------------------------------

PERMIT_V1 = """\
workflow: permit
version: 1
roles: [clerk]
data: {type: object}
states:
  received: {initial: true}
  checking: {}
  legacy_review: {}
  decided: {final: true}
events:
  check: {from: received, to: checking, roles: [clerk]}
  review: {from: checking, to: legacy_review, roles: [clerk]}
  decide: {from: [checking, legacy_review], to: decided, roles: [clerk]}
clocks:
  intake: {limit: 5 workdays, runs_in: [received]}
  check: {limit: 10 workdays, runs_in: [checking, legacy_review]}
  legacy: {limit: 3 workdays, runs_in: [legacy_review]}
"""
PERMIT_V2 = (
    PERMIT_V1.replace("version: 1", "version: 2")
    .replace("legacy_review", "expert_review")
    .replace("intake: {limit: 5", "intake: {limit: 3")
    .replace("check: {limit: 10", "check: {limit: 15")
    .replace(
        "  legacy: {limit: 3 workdays, runs_in: [expert_review]}\n",
        "  review: {limit: 5 workdays, runs_in: [expert_review]}\n"
        "  audit: {limit: 20 workdays, runs_in: [checking]}\n",
    )
)
TEMPLATES = {"received": (), "checking": ("check",), "legacy_review": ("check", "review")}


def seed_permits(url: str, workflows: list[Path], layout: list[tuple[str, int]]) -> list[str]:
    """
    Cases of permit v1 started on Mon 21 Sep 2026, in ``layout`` order (state, count):
    one real case per state through the engine, copied row for row (case, clocks,
    timers, history) under new, ordered ids.
    """
    clerk = Actor("clerk-1", {"clerk"})
    with Engine(url, workflows=workflows, clock=MovableClock("2026-09-21T09:00")) as engine:
        made = {}
        for state, events in TEMPLATES.items():
            case = engine.start("permit", actor=clerk, version=1)
            for event in events:
                engine.fire(case.id, event, actor=clerk)
            made[state] = case.id
        ids: list[str] = []
        rows: dict[sa.Table, list[dict[str, object]]] = {
            t: [] for t in (cases, clocks, timers, history)
        }
        with engine.db.begin() as conn:
            template = {
                state: {
                    t: [
                        {k: v for k, v in r._mapping.items() if k != "id" or t is cases}  # noqa: SLF001
                        for r in conn.execute(
                            sa.select(t).where((t.c.id if t is cases else t.c.case_id) == case_id)
                        )
                    ]
                    for t in rows
                }
                for state, case_id in made.items()
            }
            for state, count in layout:
                for _ in range(count):
                    new_id = f"{len(ids):013x}{'0' * 16}"
                    ids.append(new_id)
                    for t, template_rows in template[state].items():
                        key = "id" if t is cases else "case_id"
                        rows[t] += [{**r, key: new_id} for r in template_rows]
            conn.execute(cases.delete().where(cases.c.id.in_(list(made.values()))))
            for t, new_rows in rows.items():
                conn.execute(t.insert(), new_rows)
    return ids


def scalar(url: str, query: sa.Select) -> object:
    db = sa.create_engine(url)
    with db.connect() as conn:
        value = conn.execute(query).scalar_one()
    db.dispose()
    return value


@pytest.mark.slow
class TestMigrateCommand:
    def test_dry_run_refused_batch_and_real_run_on_10000_cases(self, tmp_path: Path):
        """
        --dry-run lists what would move and writes nothing; a refused state holds back its
        batch of 500 untouched; the run with the mapping moves the rest, clocks recomputed.
        """
        v1, v2 = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
        v1.write_text(PERMIT_V1)
        v2.write_text(PERMIT_V2)
        url = f"sqlite:///{tmp_path / 'permits.db'}"
        # cases 4000-4099 are in legacy_review: all in the 9th batch (4000-4499)
        ids = seed_permits(
            url, [v1, v2], [("received", 4000), ("legacy_review", 100), ("checking", 5900)]
        )
        box = Sandbox(tmp_path)

        def migrate(*args: str) -> subprocess.CompletedProcess[str]:
            return box.run(
                [sys.executable, "-m", "caseflow", "cases", "migrate", "--db", url,
                 "--workflows", str(v1), "--workflows", str(v2), "--workflow", "permit",
                 "--from", "1", "--to", "2", "--operator", "ops", *args]
            )  # fmt: skip

        def state_of_db() -> tuple[object, ...]:
            return (
                scalar(url, sa.select(sa.func.count()).where(cases.c.workflow_version == 1)),
                scalar(url, sa.select(sa.func.sum(cases.c.row_version))),
                scalar(url, sa.select(sa.func.count()).select_from(history)),
                scalar(url, sa.select(sa.func.count()).where(timers.c.status == "pending")),
            )

        before = state_of_db()
        assert (10000, 4000 * 1 + 100 * 3 + 5900 * 2, 38200, 10100) == before
        dry = migrate("--dry-run", "--map", "legacy_review=expert_review")
        assert 0 == dry.returncode, dry.stderr
        assert [
            "permit v1 -> v2 as operator ops: would move 10000 case(s) in 20 batch(es)",
            "  checking -> checking: 5900",
            "  legacy_review -> expert_review: 100",
            "  received -> received: 4000",
        ] == dry.stdout.splitlines()
        assert before == state_of_db()

        refused = migrate("--yes", "--json")  # no mapping for legacy_review
        assert 1 == refused.returncode
        report = json.loads(refused.stdout)
        assert (9500, 100, 400) == (
            len(report["moved"]),
            len(report["refused"]),
            len(report["held_back"]),
        )
        assert [b["committed"] for b in report["batches"]] == [True] * 8 + [False] + [True] * 11
        held = set(ids[4000:4500])
        assert held == {r["case_id"] for r in report["refused"]} | set(report["held_back"])
        untouched = sa.select(sa.func.count(), sa.func.sum(cases.c.row_version)).where(
            cases.c.id.in_(sorted(held)), cases.c.workflow_version == 1
        )
        db = sa.create_engine(url)
        with db.connect() as conn:
            assert (500, 100 * 3 + 400 * 2) == tuple(conn.execute(untouched).one())
            migrated = conn.execute(
                sa.select(history.c.case_id).where(history.c.event == "migrate")
            ).scalars()
            assert set(ids) - held == set(migrated)
        db.dispose()
        assert 500 == scalar(url, sa.select(sa.func.count()).where(cases.c.workflow_version == 1))

        done = migrate("--yes", "--map", "legacy_review=expert_review")
        assert 0 == done.returncode, done.stderr
        assert "permit v1 -> v2 as operator ops: moved 500 case(s) in 1 batch(es)" in done.stdout
        assert 0 == scalar(url, sa.select(sa.func.count()).where(cases.c.workflow_version == 1))
        assert 10000 == scalar(url, sa.select(sa.func.count()).where(history.c.event == "migrate"))

        def clocks_where(name: str, phase: str, last_day: str | None = None) -> object:
            query = sa.select(sa.func.count()).where(clocks.c.name == name, clocks.c.phase == phase)
            if last_day is not None:
                query = query.where(clocks.c.last_day == last_day)
            return scalar(url, query)

        assert 4000 == clocks_where("intake", "running", "2026-09-24")  # 3 workdays now
        assert 6000 == clocks_where("check", "running", "2026-10-19")  # 15 workdays now
        assert 5900 == clocks_where("audit", "running")  # new in v2, covers checking
        assert (100, 100) == (clocks_where("review", "running"), clocks_where("legacy", "stopped"))
        pending = sa.select(sa.func.count()).where(timers.c.status == "pending")
        assert 0 == scalar(url, pending.where(timers.c.clock == "legacy"))
        assert 4000 + 6000 + 5900 + 100 == scalar(url, pending)
        shown = json.loads(
            box.run(
                [sys.executable, "-m", "caseflow", "cases", "show", ids[4050], "--json",
                 "--db", url, "--workflows", str(v2)]
            ).stdout
        )  # fmt: skip
        assert ("expert_review", 2) == (shown["state"], shown["workflow_version"])
        [entry] = [h for h in shown["history"] if h["kind"] == "operator"]
        assert ("migrate", "ops", "legacy_review", "expert_review") == (
            entry["event"],
            entry["actor"],
            entry["from"],
            entry["to"],
        )
