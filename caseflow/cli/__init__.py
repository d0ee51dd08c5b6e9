"""
The ``caseflow`` command: thin wrappers around the library.

Every command that reads or writes cases takes ``--db`` (or ``CASEFLOW_DATABASE_URL``;
default ``caseflow.db`` in the current directory), which must exist: only ``db upgrade``
and ``demo`` create a database. Errors print one ``error:`` line and exit non-zero (2 for
a wrong command line, 1 when the command ran and failed); never a traceback, unless
``caseflow --traceback ...``.

Subcommands are imported when they are used, and import the engine when they run, so
``caseflow --help`` loads click and this package only.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from caseflow.cli.common import CaseflowGroup, db_option

if TYPE_CHECKING:
    from collections.abc import Sequence

#: name -> (module, attribute), in the order ``caseflow --help`` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("caseflow.cli.demo", "demo"),
    "workflows": ("caseflow.cli.workflows", "workflows_group"),
    "cases": ("caseflow.cli.cases", "cases_group"),
    "incidents": ("caseflow.cli.incidents", "incidents_group"),
    "timers": ("caseflow.cli.timers", "timers_group"),
    "worker": ("caseflow.cli.timers", "worker"),
    "calendar": ("caseflow.cli.calendar", "calendar_group"),
    "votes": ("caseflow.cli.votes", "votes_group"),
    "orgs": ("caseflow.cli.orgs", "orgs_group"),
    "report": ("caseflow.cli.report", "report_command"),
    "worklist": ("caseflow.cli.worklist", "worklist"),
    "serve": ("caseflow.cli.serve", "serve"),
    "db": ("caseflow.cli.db", "db_group"),
}


class _Root(CaseflowGroup):
    """Loads a subcommand's module when it is asked for; errors as one line (see ``main``)."""

    show_traceback = False

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module, attribute = found
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)  # noqa: S101 - for the type checker
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; report every failure as one ``error:`` line on stderr."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        self.show_traceback = os.environ.get("CASEFLOW_TRACEBACK", "") not in ("", "0")
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            sys.exit(_report_click_error(exc))
        except OSError as exc:
            if exc.errno != errno.EPIPE:  # stdout closed early (`| head`): not an error
                sys.exit(_report_unexpected(exc, self.show_traceback))
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
            sys.exit(_report_unexpected(exc, self.show_traceback))
        sys.exit(result if isinstance(result, int) else 0)


def _report_click_error(exc: click.ClickException) -> int:
    from caseflow.cli.render import one_line

    message = one_line(exc.format_message())
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        message += f" (see `{exc.ctx.command_path} --help`)"
    click.echo(f"error: {message}", err=True)
    return exc.exit_code


def _report_unexpected(exc: BaseException, show_traceback: bool) -> int:
    if show_traceback:
        raise exc
    from caseflow.cli.render import one_line

    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    click.echo(f"error: unexpected {one_line(what)}; run with --traceback for details", err=True)
    return 1


@click.group(cls=_Root, name="caseflow")
@click.option("-v", "--verbose", is_flag=True, help="Log every transition to stderr.")
@click.option(
    "--traceback",
    "show_traceback",
    is_flag=True,
    help="Show the Python traceback of an unexpected error (env CASEFLOW_TRACEBACK=1).",
)
@click.version_option(package_name="caseflow")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, show_traceback: bool) -> None:
    """caseflow: workflows with legal time limits, on SQLite or PostgreSQL."""
    ctx.meta["caseflow.verbose"] = verbose
    if show_traceback:
        root = ctx.command
        assert isinstance(root, _Root)  # noqa: S101 - for the type checker
        root.show_traceback = True


def main() -> None:
    cli(prog_name="caseflow")


__all__ = ["cli", "db_option", "main"]
