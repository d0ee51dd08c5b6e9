"""``caseflow workflows ...``: check, list, lint, draw, diff and describe workflow definitions."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from caseflow.cli.common import dump, fail, group, workflows_option
from caseflow.errors import CaseflowError, DefinitionError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from caseflow.definitions.model import WorkflowDef


@group("workflows")
def workflows_group() -> None:
    """Workflow definitions (YAML)."""


def _load_each(paths: Sequence[str], failed: list[int]) -> Iterator[tuple[Path, WorkflowDef]]:
    """Each loadable file's definition; every problem of the others to stderr, counted."""
    from caseflow.cli.render import clean
    from caseflow.definitions.loader import load_file, workflow_files

    for file in workflow_files(paths):
        try:
            definition = load_file(file)
        except DefinitionError as exc:
            failed[0] += 1
            for problem in exc.problems or ():
                click.echo(clean(problem), err=True)
            if not exc.problems:
                click.echo(clean(f"{file}: {exc}"), err=True)
            continue
        yield file, definition


@workflows_group.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--db",
    "db",
    default=None,
    help="Also check against the versions this database registered (a changed file under "
    "a registered version stops the engine at start-up).",
)
def validate(paths: tuple[str, ...], db: str | None) -> None:
    """Check workflow files; list every problem as file:line:col and exit 1 if any."""
    from caseflow.cli.render import clean

    failed = [0]
    loaded = []
    for file, definition in _load_each(paths, failed):
        loaded.append(definition)
        click.echo(
            clean(
                f"{file}: ok ({definition.name} v{definition.version}, "
                f"{len(definition.states)} states, {len(definition.events)} events)"
            )
        )
    if db is not None:
        from caseflow.cli.common import require_database
        from caseflow.services.admin import changed_registrations

        require_database(db)
        with _errors():
            changed = changed_registrations(db, loaded)
        for problem in changed:
            click.echo(clean(problem), err=True)
        failed[0] += len(changed)
    if failed[0]:
        raise SystemExit(1)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Definition problems as file:line:col lines, other errors as one ``error:`` line."""
    try:
        yield
    except DefinitionError as exc:
        from caseflow.cli.render import clean

        for problem in exc.problems:
            click.echo(clean(problem), err=True)
        fail(str(exc).splitlines()[0])
    except (CaseflowError, OSError) as exc:
        fail(str(exc))


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


def _sources(workflows: tuple[str, ...]) -> list[str | Path]:
    from caseflow.definitions.registry import shipped_workflows_dir

    return list(workflows) or [shipped_workflows_dir()]


def _resolve(target: str, workflows: tuple[str, ...], version: int | None) -> WorkflowDef:
    """A workflow file, or a workflow name looked up in ``--workflows`` (or the shipped)."""
    from caseflow.definitions.loader import load_file

    if Path(target).is_file() or target.endswith((".yaml", ".yml")):
        return load_file(target)
    from caseflow.definitions.registry import Registry

    return Registry.from_paths(_sources(workflows)).get(target, version)


@workflows_group.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file.")
@click.option(
    "--check",
    "check",
    type=click.Path(exists=True, dir_okay=False),
    help="Exit 1 if this file differs from the generated schema (for CI).",
)
def schema(output: str | None, check: str | None) -> None:
    """The JSON Schema (draft 2020-12) of a workflow file, for editors and CI."""
    from caseflow.export.schema import schema_text

    text = schema_text()
    if check is not None:
        if Path(check).read_text(encoding="utf-8") != text:
            fail(f"{check} is stale: run `caseflow workflows schema --output {check}`")
        click.echo(f"{check}: up to date")
        return
    with _errors():
        _write(text, output)


@workflows_group.command()
@click.argument("workflow")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "bpmn"]),
    default="mermaid",
    show_default=True,
)
@click.option("--workflow-version", type=int, help="Version of a named workflow (default newest).")
@workflows_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file.")
def graph(
    workflow: str,
    fmt: str,
    workflow_version: int | None,
    workflows: tuple[str, ...],
    output: str | None,
) -> None:
    """
    Draw WORKFLOW (a YAML file or a workflow name) with its clocks and roles.

    Mermaid stateDiagram-v2, Graphviz DOT (`| dot -Tsvg`), or BPMN 2.0 XML with a
    diagram that bpmn.io and Camunda Modeler open.
    """
    from caseflow.export.graph import render

    with _errors():
        definition = _resolve(workflow, workflows, workflow_version)
        _write(render(definition, fmt), output)


@workflows_group.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--strict", is_flag=True, help="Exit 1 when there are warnings.")
@click.option(
    "--ignore", multiple=True, metavar="CHECK", help="Skip a check by code (CF101) or name."
)
@click.option("--json", "as_json", is_flag=True)
def lint(paths: tuple[str, ...], strict: bool, ignore: tuple[str, ...], as_json: bool) -> None:
    """
    Warn about workflows that load but probably do not mean what they say.

    \b
    CF101 unclocked-state    a case can wait in a state with no clock
    CF102 unfired-automatic  an automatic event nothing fires
    CF103 clock-never-stops  once started, nothing can stop the clock
    CF104 clock-runs-to-end  a clock with neither runs_in nor stops_on
    CF105 dead-branch        a branch that can never be taken
    CF106 undeclared-field   a guard reads a field no schema declares

    Silence one reviewed warning with a comment on its line: `# lint: ignore[CF101]`.
    Exit 0 with warnings (1 with --strict); 1 if a file does not load.
    """
    from caseflow.export.lint import CHECKS
    from caseflow.export.lint import lint as lint_definition

    unknown = [c for c in ignore if c not in CHECKS and c not in CHECKS.values()]
    if unknown:
        fail(f"unknown check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    failed, found = [0], []
    for _file, definition in _load_each(paths, failed):
        found.extend(lint_definition(definition, ignore))
    if as_json:
        rows = [{**dataclasses.asdict(w), "check": w.check} for w in found]
        dump(rows)
    else:
        from caseflow.cli.render import clean

        for warning in found:
            click.echo(clean(warning))
        count = len(found)
        click.echo(f"{count} warning{'s' if count != 1 else ''}", err=True)
    if failed[0] or (strict and found):
        raise SystemExit(1)


@workflows_group.command()
@click.argument("args", nargs=-1, required=True, metavar="A B | NAME V1 V2")
@click.option(
    "--db",
    envvar="CASEFLOW_DATABASE_URL",
    help="Database to read stored versions from (for NAME V1 V2).",
)
@click.option("--json", "as_json", is_flag=True)
def diff(args: tuple[str, ...], db: str | None, as_json: bool) -> None:
    """
    What changed between two workflow versions.

    Either two YAML files (A B), or a workflow NAME and two stored VERSIONS read from the
    database (--db).
    """
    from caseflow.cli.render import clean
    from caseflow.definitions.loader import load_file
    from caseflow.export.diff import diff as diff_definitions

    with _errors():
        if len(args) == 2:
            old, new = load_file(args[0]), load_file(args[1])
        elif len(args) == 3:
            versions = [_version(v) for v in args[1:]]
            old, new = (_stored(db, args[0], v) for v in versions)
        else:
            fail("give two files (A B), or a name and two versions (NAME V1 V2) with --db", 2)
    result = diff_definitions(old, new)
    if as_json:
        dump(result.to_json())
        return
    for side, d in (("---", old), ("+++", new)):
        click.echo(clean(f"{side} {d.name} v{d.version} ({d.content_hash[:12]}) {d.source_file}"))
    if result.identical:
        click.echo("no differences")
    for line in result.lines():
        click.echo(clean(line))


def _version(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        fail(f"version must be a whole number, got {text!r}", 2)


def _stored(db: str | None, name: str, version: int) -> WorkflowDef:
    """A definition version as the engine stored it (table cf_definitions)."""
    from caseflow.cli.common import require_database
    from caseflow.services.admin import stored_definition

    if db is None:
        fail("NAME V1 V2 reads stored versions: give --db (or CASEFLOW_DATABASE_URL)", 2)
    require_database(db)
    return stored_definition(db, name, version)


@workflows_group.command(name="list")
@workflows_option
@click.option(
    "--db",
    "db",
    envvar="CASEFLOW_DATABASE_URL",
    default=None,
    help="Also list the versions stored there, with their running cases.",
)
@click.option("--json", "as_json", is_flag=True)
def list_workflows(workflows: tuple[str, ...], db: str | None, as_json: bool) -> None:
    """Workflow definitions: name, version, content hash, title (and running cases)."""
    from rich.table import Table

    from caseflow.cli.render import console, text
    from caseflow.definitions.registry import Registry
    from caseflow.export import catalog

    with _errors():
        if db is None:
            entries = catalog(Registry.from_paths(_sources(workflows)))
        else:
            entries = _stored_catalog(db, workflows)
    if as_json:
        dump([e.to_json() for e in entries])
        return
    table = Table()
    for column in ("workflow", "version", "hash", "running cases", "title", "file"):
        table.add_column(column)
    for e in entries:
        running = "-" if e.cases is None else str(e.cases)
        table.add_row(
            text(e.name),
            str(e.version),
            text(e.short_hash),
            running,
            text(e.title),
            text(e.source_file),
        )
    console().print(table)


def _stored_catalog(db: str, workflows: tuple[str, ...]) -> list[Any]:
    """Every version in the files or stored in the database, with running cases per version."""
    from caseflow.cli.common import open_engine
    from caseflow.export import catalog
    from caseflow.listing import running_counts

    with open_engine(db, workflows) as engine:
        stored = engine.stored_versions()
        definitions = [engine.workflow(name, version) for name, version in stored]
        return catalog(definitions, running_counts(engine))
