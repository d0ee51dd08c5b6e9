"""The default :class:`~caseflow.abc.Notifier`: a structured log line per notification."""

from __future__ import annotations

from typing import Any

import structlog

from caseflow.abc import Notifier


class LoggingNotifier(Notifier):
    """Logs each notification (``caseflow.notify``) instead of sending it anywhere."""

    def __init__(self, logger: Any = None) -> None:
        self.log = logger if logger is not None else structlog.get_logger("caseflow.notify")

    def notify(self, *, case_id: str, roles: tuple[str, ...], org: str, message: str) -> None:
        self.log.warning(
            "notification", case_id=case_id, roles=list(roles), org=org, message=message
        )
