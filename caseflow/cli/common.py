"""Options and helpers shared by the commands."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from caseflow.clocks.time import Clock
    from caseflow.engine import Engine

F = TypeVar("F", bound="Callable[..., Any]")

DEFAULT_DB = "caseflow.db"


def db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db",
        envvar="CASEFLOW_DATABASE_URL",
        default=DEFAULT_DB,
        show_default=True,
        help="Database URL or SQLite file (env CASEFLOW_DATABASE_URL).",
    )(fn)


def workflows_option(fn: F) -> F:
    return click.option(
        "--workflows",
        "workflows",
        envvar="CASEFLOW_WORKFLOWS",
        multiple=True,
        type=click.Path(exists=True),
        help="Workflow YAML files or folders (default: the shipped workflows).",
    )(fn)


def open_engine(db: str, workflows: tuple[str, ...] = (), clock: Clock | None = None) -> Engine:
    from caseflow.engine import Engine

    return Engine(db, workflows=list(workflows) or None, clock=clock)


def operator_name(explicit: str | None) -> str:
    if explicit:
        return explicit
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "operator")


def local_time(value: dt.datetime, tz: str = "Asia/Shanghai") -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
