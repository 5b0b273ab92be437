"""An initiative's stage history and the stage changes groups propose."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .common import Stage, long_text
from .initiative import Initiative

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class StageChange(models.Model):
    """One move of an initiative's maturity stage; written only by `initiative_change_stage`."""

    initiative = models.ForeignKey(
        Initiative, models.CASCADE, related_name="stage_changes", verbose_name=_("initiative")
    )
    from_stage = models.CharField(_("from"), max_length=15, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=15, choices=Stage.choices)
    changed_on = models.DateField(_("date"))
    changed_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = long_text(_("reason"), blank=True)
    # A date a group reports is theirs until a case officer confirms it; staff's own entries
    # are confirmed as they are written (`services.stages`). Reports use both (docs/DOMAIN.md).
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )

    # Corrections and removals are kept here, each with its reason.
    history = HistoricalRecords(excluded_fields=["changed_at"])
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"
    #: Why an entry is corrected or removed; kept with it in `history`.
    _change_reason: str | None

    class Meta:
        ordering = ["initiative", "changed_on", "changed_at", "pk"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["to_stage", "changed_on"], name="stagechange_to_date")]

    #: The reason the system gives the first change; kept in English, shown translated.
    RECORDED = gettext_noop("Initiative recorded.")

    def __str__(self):
        return f"{self.from_stage or '—'} → {self.to_stage} ({self.changed_on})"

    def describe_reason(self):
        """The reason in the active language when the system wrote it; people's words as
        they wrote them."""
        return gettext(self.reason) if self.reason == self.RECORDED else self.reason

    @property
    def is_confirmed(self):
        return self.confirmed_at is not None

    def describe(self):
        """The entry as a person names it: “Pilot since 2020-01-15”."""
        return _("“%(stage)s” since %(date)s") % {
            "stage": Stage(self.to_stage).label,
            "date": self.changed_on.isoformat(),
        }


class StageProposal(models.Model):
    """A group member's request to change the stage, confirmed or declined by a case officer."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        SUPERSEDED = "superseded", _("Superseded by a staff change")

    initiative = models.ForeignKey(
        Initiative, models.CASCADE, related_name="stage_proposals", verbose_name=_("initiative")
    )
    to_stage = models.CharField(_("proposed stage"), max_length=15, choices=Stage.choices)
    effective_on = models.DateField(
        _("took effect on"), null=True, blank=True, help_text=_("The date the change happened.")
    )
    reason = long_text(_("reason"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="open")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = long_text(_("decision note"), blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("stage proposal")
        verbose_name_plural = _("stage proposals")

    def __str__(self):
        return f"{self.initiative.reference} → {self.to_stage} ({self.status})"
