"""``caseflow serve``: its command line, its help screen's imports, authenticator plugins."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx
import pytest
from click.testing import CliRunner
from server_support import (
    OPS,
    SUPER,
    GatewayAuthenticator,
    bearer,
    seed,
    serve_process,
    workflow_dirs,
    write_tokens,
)

from caseflow import Actor, Engine
from caseflow.cli import cli
from caseflow.server.auth import AuthConfigError, TokenFileAuthenticator, load_authenticator
from caseflow.testing import MovableClock

if TYPE_CHECKING:
    from pathlib import Path

SERVER_MODULES = ("fastapi", "starlette", "uvicorn", "jinja2", "caseflow.server", "pydantic")
PROBE = """\
import json, sys
from caseflow.cli import cli
code = cli.main(["serve", "--help"], prog_name="caseflow", standalone_mode=False)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'caseflow.db'}"
    Engine(url).close()
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


class TestCommandLine:
    def test_help_imports_no_server_library(self):
        """`caseflow serve --help` stays fast: FastAPI and friends load only when serving."""
        done = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        )
        modules = json.loads(done.stdout.splitlines()[-1])
        assert [m for m in modules if m.split(".")[0] in SERVER_MODULES] == []
        assert "caseflow.server" not in modules

    def test_serve_needs_tokens_or_an_authenticator(self, database):
        """Without a way to tell callers apart the server does not start (exit 2)."""
        code, out = run("serve", "--db", database)
        assert code == 2
        assert "give --tokens FILE or --authenticator NAME" in out

    def test_a_bad_token_file_is_one_error_line(self, database, tmp_path):
        """A token file with a short token: exit 2, one error line saying why."""
        path = tmp_path / "t.json"
        path.write_text('{"abc": {"id": "x"}}', encoding="utf-8")
        code, out = run("serve", "--db", database, "--tokens", str(path))
        assert code == 2
        assert out.count("error:") == 1
        assert "at least 16 characters" in out

    def test_a_missing_database_is_refused(self, tmp_path):
        """As every command: a --db that names no database is exit 2, nothing created."""
        tokens = write_tokens(tmp_path)
        code, out = run("serve", "--db", str(tmp_path / "nope.db"), "--tokens", str(tokens))
        assert code == 2
        assert "no database at" in out
        assert not (tmp_path / "nope.db").exists()

    def test_an_unknown_authenticator_names_the_entry_point_group(self, database):
        """--authenticator with an unknown name lists what caseflow.authenticators offers."""
        code, out = run("serve", "--db", database, "--authenticator", "ldap")
        assert code == 2
        assert "caseflow.authenticators" in out
        assert "tokens" in out

    def test_a_reserved_operator_role_is_refused(self, database, tmp_path):
        """--operator-role system is the engine's own role: refused like --operator system."""
        tokens = write_tokens(tmp_path)
        code, out = run(
            "serve", "--db", database, "--tokens", str(tokens), "--operator-role", "system"
        )
        assert code == 2
        assert "reserved" in out


class TestAuthenticatorPlugins:
    def test_by_python_path_with_options(self):
        """module:Name with --auth-option values as keyword arguments."""
        auth = load_authenticator(
            "server_support:GatewayAuthenticator", {"header": "X-User", "roles": "a,b"}
        )
        assert isinstance(auth, GatewayAuthenticator)
        assert auth.authenticate({"x-user": "u1"}) == Actor("u1", {"a", "b"}, "jiaoling")
        assert auth.authenticate({}) is None

    def test_the_token_file_is_the_tokens_entry_point(self, tmp_path):
        """The default is registered as caseflow.authenticators 'tokens' (option: path)."""
        auth = load_authenticator("tokens", {"path": str(write_tokens(tmp_path))})
        assert isinstance(auth, TokenFileAuthenticator)
        assert auth.authenticate(bearer(SUPER)) is not None

    def test_a_plugin_that_is_not_an_authenticator_is_refused(self):
        """An object without the Authenticator interface is a configuration error."""
        with pytest.raises(AuthConfigError, match="not an Authenticator"):
            load_authenticator("collections:OrderedDict")


class TestServeProcess:
    def test_operator_role_decides_who_runs_operators_actions(self, tmp_path):
        """`caseflow serve --operator-role supervisor`: the supervisor may suspend, the
        'operator' token may not."""
        db = f"sqlite:///{tmp_path / 'caseflow.db'}"
        workflows = workflow_dirs(tmp_path)
        clock = MovableClock("2026-11-20T10:00")
        with Engine(db, workflows=workflows, clock=clock) as engine:
            seeded = seed(engine, clock, clock.now())
        with serve_process(
            db,
            write_tokens(tmp_path),
            workflows,
            tmp_path / "serve.log",
            "--operator-role",
            "supervisor",
        ) as base:
            path = f"{base}/api/v1/cases/{seeded.running[0]}/operator/suspend"
            refused = httpx.post(path, json={"reason": "x"}, headers=bearer(OPS), timeout=30)
            allowed = httpx.post(path, json={"reason": "督办"}, headers=bearer(SUPER), timeout=30)
        assert refused.status_code == 403
        assert refused.json()["required_roles"] == ["supervisor"]
        assert allowed.status_code == 200
        assert allowed.json()["status"] == "suspended"


class TestPackaging:
    def test_every_static_file_a_page_names_is_in_the_package(self):
        """The console's scripts and styles live inside caseflow/server/static (in the wheel):
        every /static/ path a template names exists there, and nothing is fetched elsewhere."""
        import re
        from pathlib import Path

        import caseflow.server

        package = Path(caseflow.server.__file__).parent
        named = set()
        for template in (package / "templates").glob("*.html"):
            text = template.read_text(encoding="utf-8")
            named |= set(re.findall(r'(?:src|href)="/static/([^"]+)"', text))
            assert not re.search(r'(?:src|href)="(?:https?:)?//', text), template.name
        assert {"console.js", "console.css"} <= named
        assert any(n.startswith("vendor/mermaid") for n in named)
        for name in named:
            assert (package / "static" / name).is_file(), name
