"""``caseflow workflows ...``: check and list workflow definitions."""

from __future__ import annotations

import click

from caseflow.definitions.loader import load_file, workflow_files
from caseflow.errors import DefinitionError


@click.group(name="workflows")
def workflows_group() -> None:
    """Workflow definitions (YAML)."""


@workflows_group.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths: tuple[str, ...]) -> None:
    """Check workflow files; list every problem as file:line:col and exit 1 if any."""
    failed = 0
    for file in workflow_files(paths):
        try:
            definition = load_file(file)
        except DefinitionError as exc:
            failed += 1
            for problem in exc.problems or ():
                click.echo(str(problem), err=True)
            if not exc.problems:
                click.echo(f"{file}: {exc}", err=True)
            continue
        click.echo(
            f"{file}: ok ({definition.name} v{definition.version}, "
            f"{len(definition.states)} states, {len(definition.events)} events)"
        )
    if failed:
        raise SystemExit(1)
