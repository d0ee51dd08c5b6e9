"""
Fixtures: every storage test runs on SQLite and on PostgreSQL, each test in its own
database file or PostgreSQL schema, so tests never see each other's rows.

The PostgreSQL leg uses ``CASEFLOW_TEST_PG_URL`` (default: the local server at
127.0.0.1:5432, database ``test``). Without ``CI=true`` an unreachable server skips
that leg with the reason; under ``CI=true`` it is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
import structlog

from caseflow import Engine
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from collections.abc import Iterator

PG_BASE = os.environ.get(
    "CASEFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent
# Secret votes seal their ballots with the deployment's ballot secret; on PostgreSQL it
# must be configured (worker subprocesses inherit it). Tests of the other sources unset it.
os.environ.setdefault("CASEFLOW_BALLOT_SECRET", "caseflow test suite ballot secret")
WORKFLOWS = ROOT / "workflows"

structlog.configure(
    wrapper_class=structlog.make_filtering_bound_logger(30),
    cache_logger_on_first_use=False,
)


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_BASE)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


_PG_ERROR: list[str | None] = []


def pg_schema_url() -> Iterator[str]:
    if not _PG_ERROR:
        _PG_ERROR.append(_pg_available())
    if _PG_ERROR[0] is not None:
        reason = f"PostgreSQL at {PG_BASE} is not reachable ({_PG_ERROR[0]})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " and CI=true requires the PostgreSQL leg")
        pytest.skip(reason)
    schema = f"cf_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_BASE else "?"
    try:
        yield f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'caseflow.db'}"
    else:
        yield from pg_schema_url()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (for PostgreSQL-only tests)."""
    yield from pg_schema_url()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock("2026-09-21T09:00")


@pytest.fixture
def engine(db_url: str, clock: MovableClock) -> Iterator[Engine]:
    eng = Engine(db_url, workflows=WORKFLOWS, clock=clock, auto_upgrade=True)
    yield eng
    eng.close()


class RecordingNotifier:
    """Records notifications; fails the first ``fail`` calls (a flaky SMS gateway)."""

    def __init__(self, fail: int = 0) -> None:
        self.sent: list[dict[str, object]] = []
        self.fail = fail
        self.calls = 0

    def notify(
        self,
        *,
        case_id: str,
        roles: tuple[str, ...],
        org: str,
        message: str,
        idempotency_key: str = "",
    ) -> None:
        self.calls += 1
        if self.calls <= self.fail:
            raise ConnectionError("gateway down")
        self.sent.append({"case_id": case_id, "roles": roles, "org": org, "message": message})


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def make_engine(db_url: str, clock: MovableClock, notifier: RecordingNotifier) -> Iterator[object]:
    """Build engines on this test's database (closed at the end)."""
    made: list[Engine] = []

    def make(**options: object) -> Engine:
        options.setdefault("workflows", WORKFLOWS)
        options.setdefault("clock", clock)
        options.setdefault("notifier", notifier)
        eng = Engine(db_url, auto_upgrade=True, **options)  # type: ignore[arg-type]
        made.append(eng)
        return eng

    yield make
    for eng in made:
        eng.close()
