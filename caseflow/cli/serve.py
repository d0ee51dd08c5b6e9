"""``caseflow serve``: the HTTP API and the supervision console (``caseflow[server]``)."""

from __future__ import annotations

import click

from caseflow.cli.common import check_actor_text, db_option, fail, workflows_option

INSTALL_HINT = "install the server extra: pip install 'caseflow[server]'"


def _role(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(check_actor_text(v, "operator role") for v in values)


def _options(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


@click.command()
@db_option
@workflows_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--tokens",
    type=click.Path(exists=True, dir_okay=False),
    envvar="CASEFLOW_TOKENS",
    help="YAML or JSON file: bearer token -> {id, roles, org} (env CASEFLOW_TOKENS).",
)
@click.option(
    "--authenticator",
    help="Another authenticator: an entry point of caseflow.authenticators, or module:Name.",
)
@click.option(
    "--auth-option",
    "auth_options",
    multiple=True,
    callback=_options,
    help="KEY=VALUE for the authenticator's constructor (repeatable).",
)
@click.option(
    "--operator-role",
    "operator_roles",
    multiple=True,
    callback=_role,
    help="A role that may run operators' actions (repeatable; default: operator).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve(
    db: str,
    workflows: tuple[str, ...],
    host: str,
    port: int,
    tokens: str | None,
    authenticator: str | None,
    auth_options: dict[str, str],
    operator_roles: tuple[str, ...],
    log_level: str,
) -> None:
    """
    Serve the JSON API (/api/v1, OpenAPI at /api/v1/openapi.json) and the supervision
    console (/console) on one database. Callers authenticate with a bearer token from
    --tokens, or with --authenticator. One process; run `caseflow worker` beside it for
    the timers.
    """
    if (tokens is None) == (authenticator is None):
        raise click.UsageError("give --tokens FILE or --authenticator NAME (one of them)")
    try:
        import uvicorn

        from caseflow.server.app import create_app
        from caseflow.server.auth import (
            AuthConfigError,
            Authenticator,
            TokenFileAuthenticator,
            load_authenticator,
        )
    except ImportError as exc:
        fail(f"caseflow serve needs {exc.name or 'its extra'}: {INSTALL_HINT}", code=2)
    from caseflow.cli.common import engine_for

    auth: Authenticator
    try:
        if tokens is not None:
            auth = TokenFileAuthenticator(tokens, **auth_options)
        else:
            assert authenticator is not None  # noqa: S101 - checked above
            auth = load_authenticator(authenticator, auth_options)
    except (AuthConfigError, TypeError) as exc:
        fail(str(exc), code=2)
    extra = {"operator_roles": operator_roles} if operator_roles else {}
    engine = engine_for(db, workflows=list(workflows) or None, **extra)
    try:
        app = create_app(engine, auth)
        click.echo(
            f"caseflow serving {engine.db.url.render_as_string(hide_password=True)} on "
            f"http://{host}:{port} (API /api/v1, console /console)",
            err=True,
        )
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
    finally:
        engine.close()
