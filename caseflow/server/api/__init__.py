"""
The JSON API under ``/api/v1``: one router per resource, each route one library call.

:data:`ROUTERS` is the list :func:`caseflow.server.app.create_app` mounts. Resources that
come with later engine calls get a module of their own here and one line in the list:
``by_key`` (``POST /api/v1/workflows/{workflow}/cases/{business_key}/events/{event}``,
``Engine.fire_by_key``) and ``worklist`` (``GET /api/v1/worklist``,
``POST /api/v1/cases/{case_id}/claim``; ``Engine.worklist``, ``Engine.claim``).
"""

from __future__ import annotations

from caseflow.server.api import cases, clocks, operators, supervision, votes

ROUTERS = [cases.router, clocks.router, votes.router, operators.router, supervision.router]
