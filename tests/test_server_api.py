"""
The HTTP API, against a real server: uvicorn on a free loopback port in a thread, around
an engine on a MovableClock, on SQLite and PostgreSQL; httpx as the client.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import httpx
import pytest
from server_support import (
    CLERK,
    FUZZ,
    HEAD,
    OPS,
    REVIEWER,
    SUPER,
    VOTE_CLERK,
    actor_of,
    bearer,
    seed,
    thread_server,
    workflow_dirs,
    write_tokens,
)

from caseflow import Actor, Engine
from caseflow.server.auth import AuthConfigError, Authenticator, TokenFileAuthenticator
from caseflow.server.problems import MEDIA_TYPE
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from server_support import Seeded

NOW = "2026-11-20T10:00"
APPROVAL = {"applicant": "李四", "matter": "食品经营许可", "delivery": "post"}


class Served:
    def __init__(self, base: str, engine: Engine, clock: MovableClock, seeded: Seeded) -> None:
        self.base = base
        self.engine = engine
        self.clock = clock
        self.seeded = seeded
        self.http = httpx.Client(base_url=base, timeout=30)

    def call(self, method: str, path: str, token: str | None = CLERK, **kw) -> httpx.Response:
        headers = {**(bearer(token) if token else {}), **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)

    def start(self, token: str = CLERK, **body) -> httpx.Response:
        body.setdefault("workflow", "administrative_approval")
        body.setdefault("data", APPROVAL)
        return self.call("POST", "/api/v1/cases", token, json=body)


def make_served(db_url: str, tmp_path: Path, **engine_options) -> Iterator[Served]:
    clock = MovableClock(NOW)
    engine = Engine(
        db_url, workflows=workflow_dirs(tmp_path), clock=clock, auto_upgrade=True, **engine_options
    )
    seeded = seed(engine, clock, clock.now())
    try:
        with thread_server(engine, write_tokens(tmp_path)) as base:
            served = Served(base, engine, clock, seeded)
            yield served
            served.http.close()
    finally:
        engine.close()


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[Served]:
    yield from make_served(db_url, tmp_path)


def problem(response: httpx.Response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    if error is not None:
        assert body["error"] == error
    return body


class TestCases:
    def test_start_returns_the_case_its_location_and_etag(self, served):
        """A host starts a case: 201, Location of the new case, ETag of its version 1."""
        r = served.start(business_key="HK-1")
        assert r.status_code == 201
        case = r.json()
        assert case["state"] == "submitted"
        assert case["business_key"] == "HK-1"
        assert r.headers["location"] == f"/api/v1/cases/{case['id']}"
        assert r.headers["etag"] == '"1"'
        got = served.call("GET", r.headers["location"])
        assert got.json() == case
        assert got.headers["etag"] == '"1"'

    def test_fire_with_the_current_etag_moves_the_case_on(self, served):
        """If-Match with the version the screen showed: the event fires, a new ETag."""
        case = served.start().json()
        r = served.call(
            "POST", f"/api/v1/cases/{case['id']}/events/accept", headers={"If-Match": '"1"'}
        )
        assert r.status_code == 200
        assert r.json()["state"] == "accepted"
        assert r.headers["etag"] == f'"{r.json()["version"]}"'

    def test_a_stale_if_match_is_412_naming_case_and_version(self, served):
        """Two clerks on one case: the second, with the old ETag, gets 412 and nothing moves."""
        case = served.start().json()
        served.call("POST", f"/api/v1/cases/{case['id']}/events/accept")
        r = served.call(
            "POST",
            f"/api/v1/cases/{case['id']}/events/request_correction",
            headers={"If-Match": '"1"'},
        )
        body = problem(r, 412, "ConcurrencyConflict")
        assert body["case_id"] == case["id"]
        assert body["version"] == 1
        assert served.engine.get(case["id"]).state == "accepted"

    def test_concurrent_writers_with_one_etag_one_wins(self, served):
        """Eight requests at once with the same If-Match: one fires, seven get 412."""
        from concurrent.futures import ThreadPoolExecutor

        case = served.start().json()
        path = f"{served.base}/api/v1/cases/{case['id']}/events/accept"

        def fire(_: int) -> int:
            headers = {**bearer(CLERK), "If-Match": '"1"'}
            return httpx.post(path, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = sorted(pool.map(fire, range(8)))
        assert codes == [200] + [412] * 7
        assert served.engine.get(case["id"]).version == 2

    def test_a_stale_expected_version_in_the_body_is_409(self, served):
        """The body's expected_version is the library's check: a conflict, 409."""
        case = served.start().json()
        served.call("POST", f"/api/v1/cases/{case['id']}/events/accept")
        r = served.call(
            "POST",
            f"/api/v1/cases/{case['id']}/events/start_review",
            token=REVIEWER,
            json={"expected_version": 1},
        )
        problem(r, 409, "ConcurrencyConflict")

    def test_a_malformed_if_match_is_400(self, served):
        """If-Match must be one ETag of a case; anything else is refused before the engine."""
        case = served.start().json()
        r = served.call(
            "POST", f"/api/v1/cases/{case['id']}/events/accept", headers={"If-Match": "v1"}
        )
        problem(r, 400)
        assert served.engine.get(case["id"]).state == "submitted"

    def test_idempotency_key_replays_the_first_result(self, served):
        """A retried request with the same Idempotency-Key returns the first case, writes nothing."""
        case = served.start().json()
        path = f"/api/v1/cases/{case['id']}/events/accept"
        first = served.call("POST", path, headers={"Idempotency-Key": "req-1"})
        again = served.call("POST", path, headers={"Idempotency-Key": "req-1"})
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()
        events = [h.event for h in served.engine.history(case["id"]) if h.kind != "clock"]
        assert events.count("accept") == 1

    def test_a_key_reused_for_another_request_is_409_with_scope_and_key(self, served):
        """The same key for a different request: IdempotencyConflict, its scope and key."""
        case = served.start().json()
        base = f"/api/v1/cases/{case['id']}/events"
        first = served.call("POST", f"{base}/accept", headers={"Idempotency-Key": "k-9"})
        assert first.status_code == 200
        r = served.call(
            "POST", f"{base}/refuse", json={"comment": "x"}, headers={"Idempotency-Key": "k-9"}
        )
        body = problem(r, 409, "IdempotencyConflict")
        assert body["key"] == "k-9"
        assert body["scope"]

    def test_a_duplicate_business_key_is_409_naming_it(self, served):
        """A second case with the same business key: 409 with workflow and business_key."""
        served.start(business_key="HK-dup")
        body = problem(served.start(business_key="HK-dup"), 409, "DuplicateBusinessKey")
        assert body["workflow"] == "administrative_approval"
        assert body["business_key"] == "HK-dup"

    def test_data_against_the_schema_is_422_with_errors(self, served):
        """Case data that breaks the workflow's schema: 422 listing what is wrong."""
        body = problem(served.start(data={"applicant": 7}), 422, "DataValidationError")
        assert body["errors"]

    def test_a_role_the_caller_lacks_is_403_naming_the_roles(self, served):
        """A clerk deciding: 403 with required_roles, so the screen can say who may."""
        case = served.start().json()
        r = served.call("POST", f"/api/v1/cases/{case['id']}/events/decide", json={"payload": {}})
        body = problem(r, 403, "Forbidden")
        assert body["required_roles"] == ["agency_head"]

    def test_an_event_the_state_refuses_is_409(self, served):
        """Deciding a case not under review: InvalidEvent, 409 (the state refuses it now)."""
        case = served.start().json()
        r = served.call(
            "POST",
            f"/api/v1/cases/{case['id']}/events/decide",
            token=HEAD,
            json={"payload": {"decision": "approve"}},
        )
        problem(r, 409, "InvalidEvent")

    def test_an_unknown_case_is_404_and_an_unknown_route_a_problem_too(self, served):
        """Unknown case: 404 CaseNotFound with case_id; unknown path: a 404 problem."""
        body = problem(served.call("GET", "/api/v1/cases/nope"), 404, "CaseNotFound")
        assert body["case_id"] == "nope"
        problem(served.call("GET", "/api/v1/nothing-here"), 404)

    def test_a_body_that_is_not_json_is_400_and_a_wrong_shape_422(self, served):
        """Malformed JSON: 400; a field of the wrong type: 422 naming the field."""
        r = served.call(
            "POST",
            "/api/v1/cases",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        problem(r, 400)
        body = problem(served.start(data="text"), 422, "RequestValidationError")
        assert any(e["loc"][-1] == "data" for e in body["errors"])

    def test_a_body_over_the_limit_is_413_unread(self, served):
        """A 5 MB request body is refused before it is parsed: 413, nothing started."""
        before = len(served.engine.cases(limit=1000))
        big = {"workflow": "administrative_approval", "data": {"x": "y" * 5_000_000}}
        r = served.call("POST", "/api/v1/cases", json=big)
        problem(r, 413)
        assert len(served.engine.cases(limit=1000)) == before

    def test_history_and_available_events(self, served):
        """The timeline in order; the events the caller's roles allow in the state."""
        case = served.start().json()
        served.call("POST", f"/api/v1/cases/{case['id']}/events/accept")
        history = served.call("GET", f"/api/v1/cases/{case['id']}/history").json()
        assert [h["seq"] for h in history] == list(range(1, len(history) + 1))
        assert [h["event"] or h["kind"] for h in history if h["kind"] != "clock"] == [
            "start",
            "accept",
        ]
        events = served.call("GET", f"/api/v1/cases/{case['id']}/events", token=REVIEWER).json()
        assert events == {"case_id": case["id"], "events": ["start_review"]}

    def test_listing_filters_and_pages(self, served):
        """cases?overdue=true lists the breached case; pages say whether more exist."""
        r = served.call("GET", "/api/v1/cases", params={"overdue": "true"})
        page = r.json()
        assert [c["id"] for c in page["items"]] == [served.seeded.breached]
        assert page["items"][0]["clock_status"] == "breached"
        first = served.call("GET", "/api/v1/cases", params={"limit": 2}).json()
        assert len(first["items"]) == 2
        assert first["more"] is True
        org = served.call(
            "GET", "/api/v1/cases", params={"org": "jiaoling/jiaocheng", "status": "active"}
        ).json()
        assert {c["org"] for c in org["items"]} <= {
            "jiaoling/jiaocheng/chengbei",
            "jiaoling/jiaocheng/xiaxing",
        }


class TestAuthentication:
    def test_no_token_is_401_with_a_bearer_challenge(self, served):
        """Without credentials: 401 problem and WWW-Authenticate: Bearer."""
        r = served.call("GET", "/api/v1/cases", token=None)
        problem(r, 401)
        assert r.headers["www-authenticate"].startswith("Bearer")

    def test_an_unknown_token_is_401(self, served):
        """A token not in the file is refused like no token at all."""
        problem(served.call("GET", "/api/v1/cases", token="x" * 40), 401)

    def test_the_actor_is_the_tokens(self, served):
        """Who the history names is the token file's actor: id, roles and org."""
        case = served.start().json()
        entry = served.call("GET", f"/api/v1/cases/{case['id']}/history").json()[0]
        assert entry["actor_id"] == "window.li"
        assert entry["actor_roles"] == ["window_clerk"]
        assert entry["actor_org"] == "jiaoling/sanzhen"

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ('{"short": {"id": "a"}}', "at least 16"),
            ('{"token-0123456789abcdef": {"id": "system:timer"}}', "reserved"),
            ('{"token-0123456789abcdef": {"id": "a", "roles": "operator"}}', "list of strings"),
            ('{"token-0123456789abcdef": {"id": "a", "admin": true}}', "unknown keys"),
            ("[1, 2]", "maps tokens"),
        ],
    )
    def test_a_bad_token_file_is_refused_naming_the_fault(self, tmp_path, content, message):
        """Short tokens, the engine's own ids, wrong shapes: refused when the server starts."""
        path = tmp_path / "tokens.json"
        path.write_text(content, encoding="utf-8")
        with pytest.raises(AuthConfigError, match=message):
            TokenFileAuthenticator(path)

    def test_a_yaml_token_file_works_too(self, tmp_path):
        """The token file may be YAML."""
        path = tmp_path / "tokens.yaml"
        path.write_text(
            '"tok-0123456789abcdef":\n  id: u1\n  roles: [reviewer]\n  org: a/b\n',
            encoding="utf-8",
        )
        auth = TokenFileAuthenticator(path)
        assert auth.authenticate({"authorization": "Bearer tok-0123456789abcdef"}) == Actor(
            "u1", {"reviewer"}, "a/b"
        )
        assert auth.authenticate({"authorization": "Basic dTE6cA=="}) is None


class _Broken(Authenticator):
    def authenticate(self, headers):
        msg = "secret internals: password=hunter2"
        raise RuntimeError(msg)


class TestUnexpectedErrors:
    def test_an_unexpected_error_is_a_500_problem_without_internals(self, db_url, tmp_path):
        """A crash inside the server: 500 problem; the response says nothing of the internals."""

        engine = Engine(db_url, workflows=workflow_dirs(tmp_path), auto_upgrade=True)
        try:
            with thread_server(engine, _Broken()) as base:
                r = httpx.get(f"{base}/api/v1/cases", timeout=10)
        finally:
            engine.close()
        body = problem(r, 500)
        assert "hunter2" not in r.text
        assert "RuntimeError" not in r.text
        assert body["title"] == "Internal Server Error"


class TestClocks:
    def test_clocks_show_status_last_day_and_days_left(self, served):
        """The breached case's decision clock: breached, its last day, negative days left."""
        clocks = served.call("GET", f"/api/v1/cases/{served.seeded.breached}/clocks").json()
        decision = next(c for c in clocks if c["name"] == "decision")
        assert decision["status"] == "breached"
        assert decision["last_day"] is not None
        assert decision["days_left"] < 0

    def test_the_agency_head_extends_once_with_a_reason(self, served):
        """One extension by the agency head; a second is refused with 409."""
        case = served.start().json()
        served.call("POST", f"/api/v1/cases/{case['id']}/events/accept")
        path = f"/api/v1/cases/{case['id']}/clocks/decision/extensions"
        before = served.engine.clocks(case["id"])
        r = served.call("POST", path, token=HEAD, json={"reason": "需现场核查"})
        assert r.status_code == 200, r.text
        assert r.json()["extensions"] == 1
        old_day = next(v.last_day for v in before if v.name == "decision")
        assert r.json()["last_day"] > old_day.isoformat()
        problem(served.call("POST", path, token=HEAD, json={"reason": "again"}), 409)
        problem(served.call("POST", path, token=CLERK, json={"reason": "x"}), 403, "Forbidden")


class TestVotes:
    def test_show_cast_and_close(self, served):
        """Attendance, thresholds and tally; a clerk records a ballot, closes, the case moves."""
        path = f"/api/v1/cases/{served.seeded.vote}/vote"
        vote = served.call("GET", path).json()
        assert (vote["electorate"], vote["present"], vote["min_present"]) == (15, 11, 10)
        r = served.call(
            "POST", f"{path}/ballots", token=VOTE_CLERK, json={"choice": "yes", "voter": "rep12"}
        )
        assert r.status_code == 200, r.text
        again = served.call(
            "POST", f"{path}/ballots", token=VOTE_CLERK, json={"choice": "no", "voter": "rep12"}
        )
        problem(again, 409, "VoteError")
        closed = served.call("POST", f"{path}/close", token=VOTE_CLERK)
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "adopted"
        result = served.call("GET", path).json()
        assert result["status"] == "closed"
        assert result["result"] is not None

    def test_a_case_without_a_vote_is_409(self, served):
        """Asking for the vote of a case that never had one: VoteError."""
        problem(served.call("GET", f"/api/v1/cases/{served.seeded.on_time}/vote"), 409)


class TestOperators:
    def test_operators_actions_need_an_operator_role(self, served):
        """A clerk suspending: 403 naming the operator roles."""
        r = served.call(
            "POST",
            f"/api/v1/cases/{served.seeded.warned}/operator/suspend",
            json={"reason": "x"},
        )
        body = problem(r, 403, "Forbidden")
        assert body["required_roles"] == ["operator"]

    def test_suspend_resume_move_reassign_cancel(self, served):
        """Each action is recorded with the operator and reason; ETags follow the versions."""
        case_id = served.seeded.warned
        base = f"/api/v1/cases/{case_id}/operator"
        version = served.call("GET", f"/api/v1/cases/{case_id}").headers["etag"]
        r = served.call(
            "POST", f"{base}/suspend", OPS, json={"reason": "核查"}, headers={"If-Match": version}
        )
        assert r.json()["status"] == "suspended"
        stale = served.call(
            "POST", f"{base}/resume", OPS, json={"reason": "x"}, headers={"If-Match": version}
        )
        problem(stale, 412, "ConcurrencyConflict")
        r = served.call("POST", f"{base}/resume", OPS, json={"reason": "核查完毕"})
        assert r.json()["status"] == "active"
        r = served.call(
            "POST", f"{base}/move", OPS, json={"to_state": "under_review", "reason": "补录"}
        )
        assert r.json()["state"] == "under_review"
        r = served.call(
            "POST",
            f"{base}/reassign",
            OPS,
            json={"org": "jiaoling/jiaocheng", "assignee": "li", "reason": "转办"},
        )
        assert (r.json()["org"], r.json()["assignee"]) == ("jiaoling/jiaocheng", "li")
        r = served.call("POST", f"{base}/cancel", OPS, json={"reason": "申请人撤回"})
        assert r.json()["status"] == "cancelled"
        ops = [h for h in served.engine.history(case_id) if h.actor_id == "ops.zhou"]
        assert {h.event for h in ops} >= {"suspend", "resume", "move", "reassign", "cancel"}

    def test_retry_and_skip_without_incidents_resolve_nothing(self, served):
        """retry/skip on a case that is not stuck: resolved 0, the case unchanged."""
        base = f"/api/v1/cases/{served.seeded.on_time}/operator"
        r = served.call("POST", f"{base}/retry", OPS)
        assert r.status_code == 200, r.text
        assert r.json()["resolved"] == 0
        r = served.call("POST", f"{base}/skip", OPS, json={"reason": "x"})
        assert r.json()["resolved"] == 0

    def test_operator_roles_are_the_deployments(self, db_url, tmp_path):
        """With Engine(operator_roles=("supervisor",)): the supervisor may, 'operator' may not."""
        for served in make_served(db_url, tmp_path, operator_roles=("supervisor",)):
            path = f"/api/v1/cases/{served.seeded.warned}/operator/suspend"
            problem(served.call("POST", path, OPS, json={"reason": "x"}), 403, "Forbidden")
            r = served.call("POST", path, SUPER, json={"reason": "督办"})
            assert r.status_code == 200, r.text


class TestSupervision:
    def test_overdue_lists_the_breached_case_with_its_clock(self, served):
        """/overdue: the breached case, with the clock that is past due."""
        rows = served.call("GET", "/api/v1/overdue").json()
        assert [(r["case"]["id"], r["clock"]["name"]) for r in rows] == [
            (served.seeded.breached, "decision")
        ]
        assert rows[0]["clock"]["status"] == "breached"

    def test_incidents(self, served):
        """No incidents: an empty list; an unknown incident: 404 IncidentNotFound."""
        assert served.call("GET", "/api/v1/incidents").json() == []
        assert served.call("GET", "/api/v1/incidents", params={"status": "all"}).json() == []
        problem(served.call("GET", "/api/v1/incidents/12345"), 404, "IncidentNotFound")

    def test_the_clock_moves_cases_into_overdue(self, served):
        """Time passes: the warned case becomes overdue in the listing, no sweep needed."""
        served.clock.advance(days=10)
        rows = served.call("GET", "/api/v1/overdue").json()
        assert served.seeded.warned in {r["case"]["id"] for r in rows}


class TestWorklists:
    def test_the_worklist_is_the_callers_most_urgent_first(self, served):
        """The reviewer's list: breached, then warned, then running; each row with its
        state's title, the events the reviewer may fire, and the clock's workdays left."""
        seeded = served.seeded
        page = served.call("GET", "/api/v1/worklist", REVIEWER).json()
        assert [r["id"] for r in page["items"]] == [
            seeded.breached,
            seeded.warned,
            seeded.running[0],
        ]
        assert page["more"] is False
        first = page["items"][0]
        assert first["clock_status"] == "breached"
        assert first["state_title"] == "后台分类审批"
        assert first["events"]
        assert first["clock"]["name"] == "decision"
        assert first["clock"]["left_unit"] == "workdays"
        assert first["clock"]["left"] < 0
        assert page["items"][1]["clock_status"] == "warned"
        clerk = served.call("GET", "/api/v1/worklist", CLERK).json()["items"]
        assert [r["id"] for r in clerk] == [seeded.running[1]]  # submitted: the window's
        assert clerk[0]["events"] == served.engine.available_events(
            seeded.running[1], actor_of(CLERK)
        )

    def test_pages_and_filters(self, served):
        """limit/offset page the same order; workflow, state and org narrow it."""
        seeded = served.seeded
        first = served.call("GET", "/api/v1/worklist", REVIEWER, params={"limit": 1}).json()
        assert [r["id"] for r in first["items"]] == [seeded.breached]
        assert first["more"] is True
        second = served.call(
            "GET", "/api/v1/worklist", REVIEWER, params={"limit": 1, "offset": 1}
        ).json()
        assert [r["id"] for r in second["items"]] == [seeded.warned]
        accepted = served.call(
            "GET", "/api/v1/worklist", REVIEWER, params={"state": "accepted"}
        ).json()
        assert [r["id"] for r in accepted["items"]] == [seeded.warned, seeded.running[0]]
        sanzhen = served.call(
            "GET", "/api/v1/worklist", REVIEWER, params={"org": "jiaoling/sanzhen"}
        ).json()
        assert [r["id"] for r in sanzhen["items"]] == [seeded.breached, seeded.running[0]]
        none = served.call(
            "GET", "/api/v1/worklist", REVIEWER, params={"workflow": "mini_vote"}
        ).json()
        assert none["items"] == []
        problem(served.call("GET", "/api/v1/worklist", REVIEWER, params={"limit": 0}), 422)

    def test_counts_of_the_worklist_and_of_tasks_per_unit(self, served):
        """Per state with the breached among them; task counts per unit, any roles."""
        counts = served.call("GET", "/api/v1/worklist/counts", REVIEWER).json()
        assert counts == [
            {"workflow": "administrative_approval", "state": "accepted", "cases": 2, "breached": 0},
            {
                "workflow": "administrative_approval",
                "state": "under_review",
                "cases": 1,
                "breached": 1,
            },
        ]
        tasks = served.call("GET", "/api/v1/tasks/counts", REVIEWER).json()
        assert {(t["org"], t["state"], t["tasks"], t["breached"]) for t in tasks} == {
            ("jiaoling/sanzhen/jiuling", "under_review", 1, 1),
            ("jiaoling/jiaocheng/chengbei", "accepted", 1, 0),
            ("jiaoling/sanzhen/fangxin", "accepted", 1, 0),
        }
        # a dashboard asks for a role it does not hold, in one unit
        window = served.call(
            "GET",
            "/api/v1/tasks/counts",
            SUPER,
            params={"role": "window_clerk", "org": "jiaoling/zhengwu"},
        ).json()
        assert window == [
            {
                "org": "jiaoling/zhengwu",
                "workflow": "administrative_approval",
                "state": "submitted",
                "tasks": 1,
                "breached": 0,
            }
        ]

    def test_a_claim_takes_the_case_off_the_others_lists_with_its_etag(self, served):
        """The reviewer claims the warned case: assignee, a new ETag; it stays on their
        list and a supervisor sees it; another worker's claim is 409 naming who has it."""
        case_id = served.seeded.warned
        etag = served.call("GET", f"/api/v1/cases/{case_id}").headers["etag"]
        r = served.call(
            "POST", f"/api/v1/cases/{case_id}/claim", REVIEWER, headers={"If-Match": etag}
        )
        assert r.status_code == 200, r.text
        assert r.json()["assignee"] == "review.wang"
        assert r.headers["etag"] == f'"{r.json()["version"]}"' != etag
        mine = served.call("GET", "/api/v1/worklist", REVIEWER).json()["items"]
        assert next(i for i in mine if i["id"] == case_id)["assignee"] == "review.wang"
        sees = served.call("GET", "/api/v1/worklist", SUPER).json()["items"]
        assert case_id in {i["id"] for i in sees}
        body = problem(
            served.call("POST", f"/api/v1/cases/{case_id}/claim", FUZZ), 409, "InvalidEvent"
        )
        assert "already claimed by 'review.wang'" in body["detail"]
        tasks = [h.details for h in served.engine.history(case_id) if h.kind == "task"]
        assert tasks == [{"action": "claimed", "to": "review.wang"}]

    def test_a_stale_claim_is_412_for_if_match_and_409_for_the_body(self, served):
        """A list shown before the case moved on: nothing is claimed."""
        case_id = served.seeded.running[1]
        path = f"/api/v1/cases/{case_id}/claim"
        problem(served.call("POST", path, headers={"If-Match": '"99"'}), 412, "ConcurrencyConflict")
        problem(
            served.call("POST", path, json={"expected_version": 99}), 409, "ConcurrencyConflict"
        )
        problem(
            served.call("POST", path, json={"expected_version": 1}, headers={"If-Match": '"2"'}),
            400,
        )
        assert served.engine.get(case_id).assignee is None

    def test_a_retried_claim_with_its_key_returns_the_first_result(self, served):
        """Idempotency-Key: the same claim twice is one claim, the same answer."""
        path = f"/api/v1/cases/{served.seeded.running[1]}/claim"
        first = served.call("POST", path, headers={"Idempotency-Key": "claim-1"})
        again = served.call("POST", path, headers={"Idempotency-Key": "claim-1"})
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()
        tasks = [h for h in served.engine.history(served.seeded.running[1]) if h.kind == "task"]
        assert len(tasks) == 1

    def test_claiming_outside_ones_states_is_403(self, served):
        """The agency head does not work on submitted cases: 403 Forbidden."""
        r = served.call("POST", f"/api/v1/cases/{served.seeded.running[1]}/claim", HEAD)
        body = problem(r, 403, "Forbidden")
        assert "does not work on cases in state 'submitted'" in body["detail"]
        problem(served.call("POST", "/api/v1/cases/nope/claim"), 404, "CaseNotFound")

    def test_delegate_release_and_assign_follow_who_holds_the_case(self, served):
        """Only the assignee delegates or releases (403 naming the supervisor roles);
        assigning needs a supervisor or operator (403 naming both)."""
        case_id = served.seeded.running[1]
        base = f"/api/v1/cases/{case_id}"
        assert served.call("POST", f"{base}/claim").json()["assignee"] == "window.li"
        body = problem(served.call("POST", f"{base}/release", REVIEWER), 403, "Forbidden")
        assert body["required_roles"] == ["supervisor"]
        body = problem(
            served.call("POST", f"{base}/assign", json={"to": "review.wang"}), 403, "Forbidden"
        )
        assert body["required_roles"] == ["operator", "supervisor"]
        r = served.call("POST", f"{base}/delegate", json={"to": "clerk.zhao"})
        assert r.json()["assignee"] == "clerk.zhao"
        etag = r.headers["etag"]
        r = served.call("POST", f"{base}/release", SUPER, headers={"If-Match": etag})
        assert r.status_code == 200, r.text
        assert r.json()["assignee"] is None
        r = served.call("POST", f"{base}/assign", SUPER, json={"to": "window.li"})
        assert r.json()["assignee"] == "window.li"
        problem(served.call("POST", f"{base}/assign", SUPER, json={}), 422)
        actions = [h.details["action"] for h in served.engine.history(case_id) if h.kind == "task"]
        assert actions == ["claimed", "delegated", "released", "assigned"]


def _to_fee(served: Served, key: str) -> str:
    """A mini_permit case through its inspection (a child case) to awaiting the fee."""
    r = served.call(
        "POST",
        "/api/v1/cases",
        json={"workflow": "mini_permit", "data": {"site": "九岭村"}, "business_key": key},
    )
    case_id = r.json()["id"]
    served.call("POST", f"/api/v1/cases/{case_id}/events/accept")
    served.engine.fire_due()  # the sweep starts the child
    (child,) = served.call("GET", f"/api/v1/cases/{case_id}/children").json()
    served.call("POST", f"/api/v1/cases/{child['id']}/events/pass", REVIEWER)
    served.engine.fire_due()  # its outcome moves the parent on
    assert served.engine.get(case_id).state == "awaiting_fee"
    return case_id


class TestByKeyAndMessages:
    def test_fire_by_business_key(self, served):
        """The host's own reference finds the case; a retry with its key fires once."""
        path = "/api/v1/workflows/administrative_approval/cases/JL-2026-0202/events/accept"
        first = served.call("POST", path, headers={"Idempotency-Key": "acc-1"})
        assert first.status_code == 200, first.text
        assert first.json()["id"] == served.seeded.running[1]
        assert first.json()["state"] == "accepted"
        assert first.headers["etag"] == f'"{first.json()["version"]}"'
        again = served.call("POST", path, headers={"Idempotency-Key": "acc-1"})
        assert again.json() == first.json()
        problem(served.call("POST", path), 409, "InvalidEvent")  # accepted already

    def test_a_business_key_with_slashes_and_an_unknown_one(self, served):
        """Keys such as 海口/2026/7 are addressed as they are; an unknown key is 404."""
        case = served.start(business_key="海口/2026/7").json()
        r = served.call(
            "POST",
            "/api/v1/workflows/administrative_approval/cases/海口/2026/7/events/accept",
            json={"payload": {}},
        )
        assert r.status_code == 200, r.text
        assert r.json()["id"] == case["id"]
        r = served.call(
            "POST", "/api/v1/workflows/administrative_approval/cases/HK-404/events/accept"
        )
        body = problem(r, 404, "MessageNotCorrelated")
        assert (body["business_key"], body["workflow"]) == ("HK-404", "administrative_approval")
        assert "HK-404" in body["detail"]
        body = problem(
            served.call(
                "POST", "/api/v1/workflows/administrative_approval/cases/JL-2026-0202/events/decide"
            ),
            403,
            "Forbidden",
        )
        assert body["required_roles"] == ["agency_head"]

    def test_a_message_fires_on_the_one_case_that_takes_it_once(self, served):
        """fee_paid with the key: the case is granted; the same message id again is the
        first result; the child case is listed under its parent."""
        case_id = _to_fee(served, "SQ-2026-001")
        (child,) = served.call("GET", f"/api/v1/cases/{case_id}/children").json()
        assert child["workflow"] == "mini_inspection"
        assert child["parent_id"] == case_id
        assert child["data"] == {"site": "九岭村"}
        body = {"message": "fee_paid", "business_key": "SQ-2026-001", "message_id": "pay-77"}
        done = served.call("POST", "/api/v1/messages", json=body)
        assert done.status_code == 200, done.text
        assert (done.json()["id"], done.json()["state"]) == (case_id, "granted")
        again = served.call("POST", "/api/v1/messages", json=body)
        assert again.json() == done.json()
        header = served.call(
            "POST",
            "/api/v1/messages",
            json={"message": "fee_paid", "business_key": "SQ-2026-001"},
            headers={"Idempotency-Key": "pay-77"},
        )
        assert header.json() == done.json()
        assert [h.event for h in served.engine.history(case_id)].count("fee_paid") == 1
        clash = served.call(
            "POST", "/api/v1/messages", json=body, headers={"Idempotency-Key": "pay-78"}
        )
        problem(clash, 400)

    def test_a_message_no_case_takes_is_404_naming_the_key(self, served):
        """Nothing takes fee_paid yet (or no case has the key): 404, no candidates."""
        served.call(
            "POST",
            "/api/v1/cases",
            json={"workflow": "mini_permit", "data": {}, "business_key": "SQ-2026-002"},
        )
        for key in ("SQ-2026-002", "no-such-key"):
            r = served.call(
                "POST", "/api/v1/messages", json={"message": "fee_paid", "business_key": key}
            )
            body = problem(r, 404, "MessageNotCorrelated")
            assert (body["message"], body["business_key"], body["candidates"]) == (
                "fee_paid",
                key,
                [],
            )

    def test_a_message_two_cases_could_take_is_409_naming_both(self, served):
        """Two cases with the key take fee_paid now: 409 with both ids; nothing fires."""
        permit = _to_fee(served, "SQ-2026-005")
        other = served.call(
            "POST",
            "/api/v1/cases",
            REVIEWER,
            json={
                "workflow": "mini_inspection",
                "data": {"site": "x"},
                "business_key": "SQ-2026-005",
            },
        ).json()["id"]
        r = served.call(
            "POST",
            "/api/v1/messages",
            json={"message": "fee_paid", "business_key": "SQ-2026-005", "message_id": "m-1"},
        )
        body = problem(r, 409, "MessageNotCorrelated")
        assert sorted(body["candidates"]) == sorted([permit, other])
        assert served.engine.get(permit).state == "awaiting_fee"

    def test_children_of_a_case_without_and_of_no_case(self, served):
        """A case that started none: []; an unknown case: 404."""
        assert served.call("GET", f"/api/v1/cases/{served.seeded.warned}/children").json() == []
        problem(served.call("GET", "/api/v1/cases/nope/children"), 404, "CaseNotFound")


class TestOpenAPI:
    def test_errors_are_documented_as_problem_documents(self, served):
        """Every documented error response is application/problem+json with the Problem schema."""
        doc = served.call("GET", "/api/v1/openapi.json", token=None).json()
        assert "Problem" in doc["components"]["schemas"]
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                for status, answer in operation["responses"].items():
                    if int(status) >= 400:
                        assert list(answer["content"]) == [MEDIA_TYPE], (path, method, status)

    def test_console_routes_are_not_in_the_api_document(self, served):
        """The document describes the JSON API only."""
        doc = served.call("GET", "/api/v1/openapi.json", token=None).json()
        assert all(p.startswith("/api/v1/") for p in doc["paths"])


@contextlib.contextmanager
def login(served: Served, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base, timeout=30) as client:
        r = client.post("/console/login", data={"token": token, "next": "/console/"})
        assert r.status_code == 303
        yield client


class TestConsole:
    def test_pages_need_a_sign_in(self, served):
        """Unsigned: the console redirects to its login page, keeping where to return."""
        r = served.http.get("/console/overdue")
        assert r.status_code == 303
        assert r.headers["location"] == "/console/login?next=/console/overdue"

    def test_a_wrong_token_is_refused_and_next_stays_on_this_server(self, served):
        """Bad token: 401 and the form again; next= pointing elsewhere is ignored."""
        r = served.http.post("/console/login", data={"token": "nope" * 5, "next": "/console/"})
        assert r.status_code == 401
        r = served.http.post("/console/login", data={"token": SUPER, "next": "//evil.example/"})
        assert r.headers["location"] == "/console/"

    def test_the_dashboard_lights_the_breached_unit_red(self, served):
        """九岭村 (the breached case's unit) and its parents are red; the others are not."""
        with login(served, SUPER) as client:
            html = client.get("/console/").text
            assert 'data-org="jiaoling/sanzhen/jiuling" data-light="red"' in html
            assert 'data-org="jiaoling/sanzhen" data-light="red"' in html
            assert 'data-org="jiaoling/jiaocheng/chengbei" data-light="yellow"' in html
            assert 'data-org="jiaoling/sanzhen/fangxin" data-light="green"' in html

    def test_every_page_answers_with_a_strict_csp(self, served):
        """The pages allow scripts from the server only (vendored files), no inline script."""
        with login(served, SUPER) as client:
            for path in [
                "/console/",
                "/console/overdue",
                "/console/ranking",
                "/console/cases",
                f"/console/cases/{served.seeded.breached}",
                f"/console/cases/{served.seeded.vote}/vote",
            ]:
                r = client.get(path)
                assert r.status_code == 200, path
                assert "script-src 'self'" in r.headers["content-security-policy"]
                assert "<script>" not in r.text

    def test_values_from_the_database_are_escaped(self, served):
        """Markup in case data, business keys and orgs is shown as text, never run."""
        evil = "<script>alert(1)</script>"
        case = served.start(
            data={"applicant": evil, "matter": "<img src=x onerror=alert(2)>"},
            business_key='"><b>x',
        ).json()
        with login(served, SUPER) as client:
            html = client.get(f"/console/cases/{case['id']}").text
            assert evil not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            assert "<img src=x" not in html
            assert '"><b>x' not in html

    def test_ranking_and_vote_pages(self, served):
        """The month's ranking lists units with their on-time rate; the vote page its counts."""
        with login(served, SUPER) as client:
            html = client.get("/console/ranking", params={"month": "2026-11"}).text
            assert 'id="ranking-data"' in html
            data = html.split('id="ranking-data">', 1)[1].split("</script>", 1)[0]
            assert json.loads(data)["labels"]
            vote = client.get(f"/console/cases/{served.seeded.vote}/vote").text
            assert "11" in vote
            assert "quorum ≥ 10" in vote
            assert client.get("/console/ranking", params={"month": "2026-13"}).status_code == 422


class TestConsoleWorklist:
    def test_the_worklist_page_lists_the_viewers_cases_by_urgency(self, served):
        """The reviewer's page: the breached case first, red, with workdays left and a
        claim button carrying the case's version; it is in the nav."""
        seeded = served.seeded
        with login(served, REVIEWER) as client:
            r = client.get("/console/worklist")
            assert r.status_code == 200
            assert "script-src 'self'" in r.headers["content-security-policy"]
            html = r.text
        assert 'href="/console/worklist"' in html
        order = [html.index(f'data-case="{c}"') for c in (seeded.breached, seeded.warned)]
        assert order == sorted(order)
        assert f'data-case="{seeded.breached}" data-light="red"' in html
        assert f'data-case="{seeded.warned}" data-light="yellow"' in html
        assert "个工作日" in html
        version = served.engine.get(seeded.breached).version
        assert f'hx-post="/console/worklist/{seeded.breached}/claim"' in html
        assert f'name="version" value="{version}"' in html
        assert seeded.running[1] not in html  # a window clerk's case

    def test_claiming_from_the_page_shows_it_claimed_by_you(self, served):
        """htmx posts the claim: the cell comes back "claimed by you"; a stale version
        says why it was not claimed; a plain form post goes back to the list."""
        case_id = served.seeded.warned
        version = served.engine.get(case_id).version
        with login(served, REVIEWER) as client:
            path = f"/console/worklist/{case_id}/claim"
            stale = client.post(path, data={"version": "1"}, headers={"HX-Request": "true"})
            assert "not claimed" in stale.text
            assert "no longer current" in stale.text
            r = client.post(path, data={"version": str(version)}, headers={"HX-Request": "true"})
            assert r.status_code == 200
            assert "claimed by you" in r.text
            assert 'data-assignee="review.wang"' in r.text
            assert served.engine.get(case_id).assignee == "review.wang"
            html = client.get("/console/worklist").text
            row = html.split(f'data-case="{case_id}"', 1)[1].split("</tr>", 1)[0]
            assert "claimed by you" in row
            plain = client.post(f"/console/worklist/{served.seeded.breached}/claim")
            assert plain.status_code == 303
            assert plain.headers["location"] == "/console/worklist"
            assert served.engine.get(served.seeded.breached).assignee == "review.wang"
        signed_out = served.http.post(
            f"/console/worklist/{served.seeded.running[0]}/claim", headers={"HX-Request": "true"}
        )
        assert signed_out.headers["hx-redirect"] == "/console/login?next=/console/worklist"
        plain = served.http.post(f"/console/worklist/{served.seeded.running[0]}/claim")
        assert plain.headers["location"] == "/console/login?next=/console/worklist"
        assert served.engine.get(served.seeded.running[0]).assignee is None

    def test_a_case_claimed_by_someone_else_is_not_on_the_list(self, served):
        """Once the window clerk claims it, the other window clerk's page has no button."""
        case_id = served.seeded.running[1]
        served.call("POST", f"/api/v1/cases/{case_id}/claim")
        with login(served, FUZZ) as client:  # a window clerk too; operators see all tasks
            html = client.get("/console/worklist").text
        row = html.split(f'data-case="{case_id}"', 1)[1].split("</tr>", 1)[0]
        assert "window.li 已认领" in row
        assert "claim-button" not in row
