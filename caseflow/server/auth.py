"""
Who is calling: an :class:`Authenticator` turns a request's headers into an
:class:`~caseflow.Actor` (id, roles, org unit), or None.

The default, :class:`TokenFileAuthenticator`, reads bearer tokens from a YAML or JSON
file mapping each token to an actor::

    # tokens.yaml (keep it readable by the server's user only)
    "k3Xq...long random string...":
      id: clerk-7
      roles: [window_clerk]
      org: jiaoling/sanzhen
    "Zt9w...":
      id: ops-1
      roles: [operator]
      org: jiaoling

A deployment plugs in its single sign-on with a class of its own::

    class GatewayAuthenticator(Authenticator):
        def authenticate(self, headers):
            user = headers.get("x-remote-user")  # set by the SSO gateway in front
            ...
            return Actor(user, roles, org)

registered as an entry point (``[project.entry-points."caseflow.authenticators"]``,
``gateway = "mypkg.auth:GatewayAuthenticator"``) and chosen with
``caseflow serve --authenticator gateway``, or named by its Python path
(``--authenticator mypkg.auth:GatewayAuthenticator``). ``--auth-option KEY=VALUE`` passes
keyword arguments to its constructor. ``headers`` is case-insensitive (lower-case names).
The console's login form hands the token it is given to the same authenticator as an
``Authorization: Bearer`` header; the API itself reads no cookies.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import importlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import click

from caseflow.cases import Actor
from caseflow.cli.common import check_actor_text
from caseflow.definitions import safeyaml
from caseflow.errors import CaseflowError

if TYPE_CHECKING:
    from collections.abc import Mapping

ENTRY_POINT_GROUP = "caseflow.authenticators"
#: Tokens shorter than this are refused when the file is loaded (guessable).
MIN_TOKEN_LENGTH = 16


class AuthConfigError(CaseflowError):
    """The authenticator cannot be built: a bad token file or an unknown plugin."""


class Authenticator(abc.ABC):
    """Turns request headers into the actor making the request."""

    @abc.abstractmethod
    def authenticate(self, headers: Mapping[str, str]) -> Actor | None:
        """The actor the headers prove, or None (no or unknown credentials: 401)."""


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    value = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenFileAuthenticator(Authenticator):
    """
    Bearer tokens from a YAML or JSON file: ``{token: {id, roles, org}}``.

    Tokens are kept as SHA-256 digests and compared in constant time. Actor ids and roles
    follow the CLI's rule for operators: not empty, no control characters or surrounding
    spaces, not ``system`` / ``system:...`` (the engine's own identity).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._actors = [(_digest(t), a) for t, a in load_tokens(self.path).items()]

    def authenticate(self, headers: Mapping[str, str]) -> Actor | None:
        token = bearer_token(headers)
        if token is None:
            return None
        wanted = _digest(token)
        found = None
        for digest, actor in self._actors:  # every entry compared: no early exit
            if hmac.compare_digest(digest, wanted):
                found = actor
        return found


def load_tokens(path: Path) -> dict[str, Actor]:
    """
    The token file's entries, read with the workflow loader's protections (bounded size
    and depth, YAML 1.2, which JSON is). Raises :class:`AuthConfigError` naming the fault.
    """
    try:
        document = safeyaml.plain(safeyaml.load(safeyaml.read_file(path), str(path)))
    except CaseflowError as exc:
        raise AuthConfigError(str(exc)) from None
    except OSError as exc:
        raise AuthConfigError(f"cannot read token file {path}: {exc}") from None
    if not isinstance(document, dict):
        raise AuthConfigError(f"{path}: a token file maps tokens to {{id, roles, org}}")
    return {
        _check_token(token, path): _actor(spec, path, n)
        for n, (token, spec) in enumerate(document.items(), 1)
    }


def _check_token(token: object, path: Path) -> str:
    if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH or token != token.strip():
        raise AuthConfigError(
            f"{path}: every token is a string of at least {MIN_TOKEN_LENGTH} characters "
            "without surrounding spaces (use e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
        )
    return token


def _actor(spec: object, path: Path, n: int) -> Actor:
    where = f"{path}: entry {n}"
    if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
        raise AuthConfigError(f"{where}: give {{id, roles, org}} with id a string")
    unknown = set(spec) - {"id", "roles", "org"}
    if unknown:
        raise AuthConfigError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    roles = spec.get("roles", [])
    org = spec.get("org", "")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthConfigError(f"{where}: roles is a list of strings")
    if not isinstance(org, str):
        raise AuthConfigError(f"{where}: org is a string (an org unit path)")
    try:
        check_actor_text(spec["id"], "id")
        for role in roles:
            check_actor_text(role, "role")
    except click.BadParameter as exc:
        raise AuthConfigError(f"{where}: {exc.message}") from None
    return Actor(spec["id"], roles, org)


def load_authenticator(spec: str, options: Mapping[str, str] | None = None) -> Authenticator:
    """
    An authenticator by entry point name (group ``caseflow.authenticators``) or by Python
    path (``package.module:Name``), built with ``options`` as keyword arguments.
    """
    if ":" in spec:
        module, _, attribute = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as exc:
            raise AuthConfigError(f"cannot load authenticator {spec!r}: {exc}") from None
    else:
        found = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == spec]
        if not found:
            known = sorted({e.name for e in entry_points(group=ENTRY_POINT_GROUP)})
            raise AuthConfigError(
                f"no authenticator {spec!r} (entry points {ENTRY_POINT_GROUP}: "
                f"{', '.join(known) or 'none'}; or give module:Name)"
            )
        factory = found[0].load()
    try:
        made = factory(**dict(options or {}))
    except TypeError as exc:
        raise AuthConfigError(f"authenticator {spec!r}: {exc}") from None
    if not isinstance(made, Authenticator):
        raise AuthConfigError(
            f"authenticator {spec!r} made a {type(made).__name__}, not an Authenticator"
        )
    return made
