"""
The ``caseflow`` command: thin wrappers around the library.

Every command takes ``--db`` (or ``CASEFLOW_DATABASE_URL``; default ``caseflow.db`` in the
current directory). Errors print one line naming what is wrong and exit non-zero;
never a traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
import structlog

from caseflow.cli.common import db_option
from caseflow.errors import CaseflowError


class _Root(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CaseflowError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Root)
@click.option("-v", "--verbose", is_flag=True, help="Log every transition to stderr.")
@click.version_option(package_name="caseflow")
def cli(verbose: bool) -> None:
    """caseflow: workflows with legal time limits, on SQLite or PostgreSQL."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.INFO if verbose else logging.WARNING
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


def _register() -> None:
    from caseflow.cli import cases, db, demo, timers, workflows
    from caseflow.cli.calendar import calendar_group
    from caseflow.cli.incidents import incidents_group
    from caseflow.cli.orgs import orgs_group
    from caseflow.cli.report import report_command
    from caseflow.cli.votes import votes_group

    for command in (
        demo.demo,
        workflows.workflows_group,
        cases.cases_group,
        incidents_group,
        timers.timers_group,
        timers.worker,
        calendar_group,
        votes_group,
        orgs_group,
        report_command,
        db.db_group,
    ):
        cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="caseflow")


__all__ = ["cli", "db_option", "main"]
