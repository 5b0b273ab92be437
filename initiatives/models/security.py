"""API tokens and the security events kept for the audit log."""

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass


class ApiToken(models.Model):
    """A personal API token. Only a hash is kept; the key is shown once, when made."""

    PREFIX_LENGTH = 8
    #: `last_used_at` is kept to within this much: a busy client writes it once per interval.
    USE_RECORDING_INTERVAL = timedelta(minutes=5)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key):
        return hashlib.sha256(key.encode()).hexdigest()

    def use_is_due(self, now):
        return self.last_used_at is None or now - self.last_used_at >= self.USE_RECORDING_INTERVAL

    def record_use(self, now):
        """Write `last_used_at`, unless another request already did within the interval."""
        due = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - self.USE_RECORDING_INTERVAL)
        ApiToken.objects.filter(due, pk=self.pk).update(last_used_at=now)

    #: New prefixes drawn when the one drawn is taken (one in four billion per token held).
    ISSUE_ATTEMPTS = 5

    @classmethod
    def issue(cls, *, user, name):
        """Create a token and return it with its clear key, which is not stored.

        The prefix finds the token and must be unique: on the rare draw of one already
        held (or taken at the same moment by another request), draw again.
        """
        for attempt in range(cls.ISSUE_ATTEMPTS):
            prefix = secrets.token_hex(cls.PREFIX_LENGTH // 2)
            key = f"{prefix}.{secrets.token_urlsafe(32)}"
            try:
                with transaction.atomic():
                    token = cls.objects.create(
                        user=user, name=name, prefix=prefix, key_hash=cls.hash_key(key)
                    )
            except IntegrityError:
                if attempt + 1 == cls.ISSUE_ATTEMPTS:
                    raise
                continue
            return token, key


class SecurityEvent(models.Model):
    """An audit entry for sign-ins, lockouts, denied access, tokens and staff exports."""

    kind = models.CharField(_("kind"), max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # Repeated refusals (a 403, a 429) are one row per client, kind and minute, with a
    # count (initiatives/audit.py): a flood of refusals is not a flood of inserts.
    minute = models.DateTimeField(_("minute"), null=True, blank=True, editable=False)
    count = models.PositiveIntegerField(_("times"), default=1)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "ip_address", "minute"],
                condition=models.Q(minute__isnull=False),
                name="securityevent_one_row_per_client_kind_minute",
            )
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
