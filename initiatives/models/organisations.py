"""The groups that keep initiatives, and their members."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from survey.models import Country

from .common import OrganisationKind

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    country = models.ForeignKey(
        Country, models.PROTECT, related_name="organisations", verbose_name=_("country")
    )
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    verified = models.BooleanField(
        _("verified"), default=False, help_text=_("Checked by staff; shown as a badge.")
    )
    members: "models.ManyToManyField[User, Membership]" = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="organisations",
        verbose_name=_("members"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        permissions = [("verify_organisation", _("Can verify organisations"))]

    def __str__(self):
        return self.name

    def save(self, *args, keep_verified=False, **kwargs):
        """Save; a renamed organisation loses its verified badge until staff verify it again.

        The badge vouches for the organisation under its name: whoever renames it (its
        admins on the site or through the API, staff in the admin) takes the badge off.
        `keep_verified`: this very save also verifies it, by someone who may
        (see `services.organisation_update`).
        """
        if self.pk is not None and self.verified and not keep_verified:
            stored = type(self).objects.filter(pk=self.pk).values_list("name", flat=True).first()
            if stored is not None and stored != self.name:
                self.verified = False
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "verified"}
        super().save(*args, **kwargs)


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Membership.Status.ACTIVE)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    class Status(models.TextChoices):
        PENDING = "pending", _("Asked to join")
        ACTIVE = "active", _("Active")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "user"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")
        ]

    def __str__(self):
        return f"{self.user} in {self.organisation} ({self.role}, {self.status})"
