"""
Options and helpers shared by the commands.

Import-light on purpose: ``caseflow --help`` and ``caseflow COMMAND --help`` load this
module and click only; the engine, SQLAlchemy and rich are imported when a command runs.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from caseflow.errors import CaseflowError

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from caseflow.clocks.time import Clock
    from caseflow.engine import Engine

F = TypeVar("F", bound="Callable[..., Any]")

DEFAULT_DB = "caseflow.db"
#: Exit status for a command line that names nothing usable (click's usage errors too).
USAGE_EXIT = 2
#: Actor ids the engine uses for itself (timers, breaches, dispatch): never an operator's.
SYSTEM_PREFIX = "system:"
SYSTEM_ROLE = "system"
#: C0 and C1 control characters, DEL, and the Unicode controls that reorder or break lines
#: on a terminal (bidi embeddings, overrides and isolates; line and paragraph separators).
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


class CaseflowGroup(click.Group):
    """A command group whose commands report a :class:`CaseflowError` as one ``error:`` line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CaseflowError as exc:
            fail(str(exc))


def group(name: str) -> Callable[[Callable[..., Any]], CaseflowGroup]:
    """``@click.group(name=...)`` with :class:`CaseflowGroup`."""

    def decorate(fn: Callable[..., Any]) -> CaseflowGroup:
        made = click.group(name=name, cls=CaseflowGroup)(fn)
        assert isinstance(made, CaseflowGroup)  # noqa: S101 - for the type checker
        return made

    return decorate


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: MESSAGE`` (one line, control characters escaped) and exit ``code``."""
    from caseflow.cli.render import one_line

    click.echo(f"error: {one_line(message)}", err=True)
    raise SystemExit(code)


class NoDatabase(click.ClickException):
    """The SQLite file a command was pointed at does not exist (exit 2, nothing created)."""

    exit_code = USAGE_EXIT


def db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db",
        envvar="CASEFLOW_DATABASE_URL",
        default=DEFAULT_DB,
        show_default=True,
        help="Database URL or SQLite file (env CASEFLOW_DATABASE_URL); must exist.",
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


def sqlite_file(db: str) -> Path | None:
    """The file an SQLite ``db`` URL or path names; None for other databases and memory."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from caseflow.store.db import normalise_url

    try:
        url = make_url(normalise_url(db))
    except ArgumentError:
        return None  # the engine reports a malformed URL
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    return Path(database).expanduser()


def require_database(db: str) -> None:
    """Refuse (exit 2) an SQLite file that does not exist: no command but ``db upgrade``
    and ``demo`` creates one, so a mistyped ``--db`` never yields a new empty database."""
    path = sqlite_file(db)
    if path is None or path.exists():
        return
    where = str(path) if path.is_absolute() else f"{path} ({path.resolve()})"
    raise NoDatabase(
        f"no database at {where}; create one with `caseflow db upgrade --db {shlex.quote(db)}`"
    )


def configure_logging() -> None:
    """
    With ``caseflow -v``: the library's log lines (the stdlib logger ``caseflow``) at INFO
    to stderr, control characters escaped, until the command ends. Without: untouched.
    """
    import logging
    import sys

    ctx = click.get_current_context(silent=True)
    if ctx is None or not ctx.meta.get("caseflow.verbose") or ctx.meta.get("caseflow.logging"):
        return
    from caseflow.cli.render import clean

    class _Clean(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return clean(super().format(record), multiline=True)

    logger = logging.getLogger("caseflow")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Clean("%(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    ctx.meta["caseflow.logging"] = True

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)
        ctx.meta.pop("caseflow.logging", None)

    ctx.find_root().call_on_close(restore)


def engine_for(db: str, **options: Any) -> Engine:
    """An :class:`Engine` on ``db``, which must exist (see :func:`require_database`)."""
    require_database(db)
    configure_logging()
    from caseflow.engine import Engine

    return Engine(db, **options)


def open_engine(
    db: str,
    workflows: tuple[str, ...] = (),
    clock: Clock | None = None,
    *,
    stored_only: bool = False,
) -> Engine:
    """
    The engine for a command. ``workflows`` (``--workflows``) or else the shipped ones; with
    ``stored_only`` and no ``--workflows``, none: definitions are read from the database as
    cases need them (read-only commands, which then skip parsing every shipped file).
    """
    files = list(workflows) or (None if not stored_only else [])
    return engine_for(db, workflows=files, clock=clock)


# -- who acts ---------------------------------------------------------------------------


def check_actor_text(value: str, what: str) -> str:
    """``value`` as an id or role: not empty, no control characters, not the engine's own."""
    if not value.strip():
        raise click.BadParameter(f"{what} must not be empty")
    if CONTROL_CHARS.search(value):
        from caseflow.cli.render import clean

        raise click.BadParameter(
            f"{what} '{clean(value)}' contains control characters (newline, escape, ...)"
        )
    if value != value.strip():
        raise click.BadParameter(f"{what} '{value}' has leading or trailing spaces")
    lowered = value.lower()
    if lowered == SYSTEM_ROLE or lowered.startswith(SYSTEM_PREFIX):
        raise click.BadParameter(
            f"{what} '{value}' is reserved for the engine's own actions (system, system:...)"
        )
    return value


def os_user() -> str:
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "operator")


def operator_name(explicit: str | None) -> str:
    """``--operator`` (or ``CASEFLOW_OPERATOR``), else the OS user; checked either way."""
    name = explicit if explicit is not None else os_user()
    return check_actor_text(name, "operator")


def _check_operator(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    return operator_name(value)


def operator_option(fn: F) -> F:
    return click.option(
        "--operator",
        envvar="CASEFLOW_OPERATOR",
        callback=_check_operator,
        help="Who does this, recorded in the history (env CASEFLOW_OPERATOR; default: the OS "
        "user). Not empty, no control characters, not system or system:...",
    )(fn)


def _check_role(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    return check_actor_text(value, "role")


def role_option(fn: F) -> F:
    return click.option(
        "--as",
        "role",
        required=True,
        callback=_check_role,
        help="The role to act in (not system).",
    )(fn)


# -- output -----------------------------------------------------------------------------


def local_time(value: dt.datetime, tz: str = "Asia/Shanghai") -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def dump(value: Any) -> None:
    """``--json`` output: indented, every control character a JSON escape."""
    from caseflow.cli.render import json_text

    click.echo(json_text(value))
