"""
caseflow's HTTP API and supervision console (督办 / 电子监察): ``caseflow serve``.

An optional extra (``pip install 'caseflow[server]'``: FastAPI, uvicorn, Jinja2). Every
endpoint is one or two calls of the library the CLI uses (:class:`caseflow.Engine`,
:mod:`caseflow.listing`, :func:`caseflow.reports.report`); no rule is implemented here.

Layout:

- :mod:`caseflow.server.app`: :func:`~caseflow.server.app.create_app` builds the FastAPI
  application around an engine and an :class:`~caseflow.server.auth.Authenticator`.
- :mod:`caseflow.server.auth`: the authenticator interface and the token-file default.
- :mod:`caseflow.server.problems`: errors as RFC 9457 problem details.
- :mod:`caseflow.server.api`: one router per resource (``cases``, ``clocks``, ``votes``,
  ``operators``, ``supervision``, ``worklists``: the worklist, claims and hand-overs,
  fire by business key, messages, child cases), listed in
  :data:`caseflow.server.api.ROUTERS`. A new resource is a new module with its own
  ``router`` added to that list.
- :mod:`caseflow.server.console`: the server-rendered pages (Jinja2, vendored htmx,
  Chart.js and Mermaid under ``static/``).
"""

from __future__ import annotations
