"""Security events, announced where they happen and recorded by whoever keeps the log.

The middleware and the API's token checks live in `core`, which knows no app; the security
log is a table of the initiatives app (`SecurityEvent`, `initiatives/audit.py`). So `core`
announces an event with `report()`, and the initiatives app, when it is ready, connects the
receiver that stores it. Without a receiver an event only reaches the `coprod.security` log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.dispatch import Signal

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

logger = logging.getLogger("coprod.security")

PERMISSION_DENIED = "permission_denied"
DATA_EXPORT = "data_export"
RATE_LIMITED = "rate_limited"

#: Sent with `kind`, `request`, `user` (or None: the request's user) and `detail`.
security_event = Signal()


def report(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | None = None,
    detail: str = "",
) -> None:
    """Announce a security event to its recorder (never raises on the recorder's behalf)."""
    if not security_event.has_listeners():
        logger.info("security event %s %s", kind, detail)
        return
    security_event.send(sender=None, kind=kind, request=request, user=user, detail=detail)
