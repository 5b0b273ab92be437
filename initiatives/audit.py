"""The security audit log: who signed in, who failed, who was locked out or refused,
which API tokens were made or revoked, and what staff exported.

Call `record_event(kind, request=..., user=..., detail=...)` from this app; `core` (the
middleware, the API's token checks) announces its events with `core.security.report`, which
reaches `record_event` through the receiver below. Each event is also written to the
`coprod.security` logger, so it reaches the log collector even when the database is not
there to keep it.
"""

import logging

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from core import security

from .models import SecurityEvent

logger = logging.getLogger("coprod.security")

SIGN_IN = "sign_in"
SIGN_OUT = "sign_out"
SIGN_IN_FAILED = "sign_in_failed"
LOCKOUT = "lockout"
PERMISSION_DENIED = security.PERMISSION_DENIED
TOKEN_CREATED = "token_created"  # noqa: S105 - an event name, not a secret
TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an event name, not a secret
DATA_EXPORT = security.DATA_EXPORT
USER_PURGED = "user_purged"
RATE_LIMITED = security.RATE_LIMITED

KINDS = (
    SIGN_IN,
    SIGN_OUT,
    SIGN_IN_FAILED,
    LOCKOUT,
    PERMISSION_DENIED,
    TOKEN_CREATED,
    TOKEN_REVOKED,
    DATA_EXPORT,
    USER_PURGED,
    RATE_LIMITED,
)

# Refusals: kept as one row per client address, kind and minute, with a count.
AGGREGATED = (PERMISSION_DENIED, RATE_LIMITED)


def _address(request):
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_event(kind, request=None, user=None, detail="", username=""):
    """Keep one security event; never let the audit log break the request it describes."""
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    if user is not None and not username:
        username = user.get_username()
    if kind == DATA_EXPORT and request is not None:
        request.coprod_export_recorded = True  # AuditMiddleware then adds no second entry
    address = _address(request)
    path = request.get_full_path()[:500] if request is not None else ""
    logger.info("security event %s user=%s ip=%s path=%s %s", kind, username, address, path, detail)
    fields = {
        "kind": kind,
        "user": user if user is not None and user.pk else None,
        "username": (username or "")[:150],
        "ip_address": address,
        "path": path,
        "detail": detail,
    }
    try:
        # A savepoint, so that a failed write does not break an outer transaction.
        with transaction.atomic():
            if kind in AGGREGATED and address:
                return _count_refusal(fields)
            return SecurityEvent.objects.create(**fields)
    except DatabaseError:
        logger.exception("could not store security event %s", kind)
        return None


def _count_refusal(fields):
    """One row per client, kind and minute: the first refusal's details and a count. The
    UPDATE is a short statement of its own (refusals are recorded outside the view's
    transaction), and the unique constraint settles two processes creating the row."""
    minute = timezone.now().replace(second=0, microsecond=0)
    same = SecurityEvent.objects.filter(
        kind=fields["kind"], ip_address=fields["ip_address"], minute=minute
    )
    if same.update(count=F("count") + 1):
        return same.first()
    try:
        with transaction.atomic():
            return SecurityEvent.objects.create(minute=minute, **fields)
    except IntegrityError:
        same.update(count=F("count") + 1)
        return same.first()


@receiver(user_logged_in, dispatch_uid="coprod_audit_logged_in")
def _on_logged_in(sender, request, user, **kwargs):
    record_event(SIGN_IN, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="coprod_audit_logged_out")
def _on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(SIGN_OUT, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="coprod_audit_login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    # `credentials` has the password already masked by Django; keep only the name.
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")
    record_event(SIGN_IN_FAILED, request=request, username=username)


@receiver(user_locked_out, dispatch_uid="coprod_audit_locked_out")
def _on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    logger.warning("sign-in locked out: user=%s ip=%s", username, ip_address)
    record_event(
        LOCKOUT,
        request=request,
        username=str(username or ""),
        detail=f"locked out after repeated failures from {ip_address}",
    )


@receiver(security.security_event, dispatch_uid="audit-security-event")
def _announced(sender, kind, request=None, user=None, detail="", **kwargs):
    record_event(kind, request=request, user=user, detail=detail)
