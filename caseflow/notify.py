"""The default :class:`~caseflow.abc.Notifier`: a structured log line per notification."""

from __future__ import annotations

from typing import Any

from caseflow.abc import Notifier
from caseflow.context import default_logger


class LoggingNotifier(Notifier):
    """Logs each notification (logger ``caseflow.notify``) instead of sending it anywhere."""

    def __init__(self, logger: Any = None) -> None:
        self.log = logger if logger is not None else default_logger("caseflow.notify")

    def notify(
        self,
        *,
        case_id: str,
        roles: tuple[str, ...],
        org: str,
        message: str,
        idempotency_key: str = "",
    ) -> None:
        self.log.warning(
            "notification",
            case_id=case_id,
            roles=list(roles),
            org=org,
            message=message,
            key=idempotency_key,
        )
