"""
The JSON API under ``/api/v1``: one router per resource, each route one library call.

:data:`ROUTERS` is the list :func:`caseflow.server.app.create_app` mounts. Resources that
come with later engine calls get a module of their own here and one line in the list, as
``worklists`` did (``GET /api/v1/worklist``, ``POST /api/v1/cases/{case_id}/claim``,
``POST /api/v1/workflows/{workflow}/cases/{business_key}/events/{event}``,
``POST /api/v1/messages``; ``Engine.worklist``, ``Engine.claim``, ``Engine.fire_by_key``,
``Engine.message``).
"""

from __future__ import annotations

from caseflow.server.api import cases, clocks, operators, supervision, votes, worklists

ROUTERS = [
    cases.router,
    clocks.router,
    votes.router,
    operators.router,
    supervision.router,
    worklists.router,
]
