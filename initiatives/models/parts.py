"""The parts of a case record: who does what, and its accountability and budget frameworks."""

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .common import EvidenceLevel, ParticipationLevel, PartnerType, Phase, long_text
from .initiative import Initiative
from .organisations import Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Participation(models.Model):
    """Who does what: a partner type taking part in one phase of an initiative."""

    initiative = models.ForeignKey(
        Initiative, models.CASCADE, related_name="participations", verbose_name=_("initiative")
    )
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices)
    partner_type = models.CharField(_("partner type"), max_length=20, choices=PartnerType.choices)
    organisation = models.ForeignKey(
        Organisation,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="participations",
        verbose_name=_("organisation"),
    )
    level = models.CharField(
        _("participation level"), max_length=12, choices=ParticipationLevel.choices
    )
    role = models.CharField(_("role"), max_length=500, blank=True)

    history = HistoricalRecords()
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"

    class Meta:
        ordering = ["initiative", "phase", "partner_type"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "phase", "partner_type"], name="participation_one_per_cell"
            )
        ]

    def __str__(self):
        return f"{self.get_phase_display()}: {self.get_partner_type_display()}"


class AccountabilityFramework(models.Model):
    initiative = models.OneToOneField(
        Initiative, models.CASCADE, related_name="accountability", verbose_name=_("initiative")
    )
    accountable_body = models.CharField(_("accountable body"), max_length=200, blank=True)
    reporting_line = models.CharField(_("reporting line"), max_length=200, blank=True)
    reporting_frequency = models.CharField(_("reporting frequency"), max_length=100, blank=True)
    roles_written = models.BooleanField(_("roles and responsibilities written down"), default=False)
    risk_arrangements = long_text(_("risk arrangements"), blank=True)
    probity_arrangements = long_text(_("probity arrangements"), blank=True)
    notes = long_text(_("notes"), blank=True)

    history = HistoricalRecords()
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"

    class Meta:
        verbose_name = _("accountability framework")
        verbose_name_plural = _("accountability frameworks")

    def __str__(self):
        return str(_("Accountability framework of %(ref)s") % {"ref": self.initiative.reference})


class BudgetFramework(models.Model):
    initiative = models.OneToOneField(
        Initiative, models.CASCADE, related_name="budget", verbose_name=_("initiative")
    )
    amount = models.DecimalField(
        _("budget"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(
        _("currency"), max_length=3, blank=True, help_text=_("ISO 4217 code, e.g. EUR.")
    )
    funding_sources = long_text(_("funding sources"), blank=True)
    funded_beyond_pilot = models.BooleanField(_("funding secured beyond the pilot"), default=False)
    resources_transferred = models.BooleanField(
        _("resources transferred to users (self-directed budgets)"), default=False
    )
    transferred_amount = models.DecimalField(
        _("amount transferred to users"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    financial_incentives = long_text(_("financial incentives"), blank=True)
    citizen_hours = models.DecimalField(
        _("citizens' hours of time"),
        max_digits=12,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    citizen_knowledge = long_text(_("citizens' knowledge contributed"), blank=True)
    citizen_effort = long_text(_("citizens' effort contributed"), blank=True)
    estimated_costs = models.DecimalField(
        _("estimated costs"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    estimated_benefits = models.DecimalField(
        _("estimated benefits"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    evidence_level = models.CharField(
        _("level of evidence"), max_length=20, choices=EvidenceLevel.choices, blank=True
    )

    history = HistoricalRecords()
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"

    class Meta:
        verbose_name = _("budget framework")
        verbose_name_plural = _("budget frameworks")

    def __str__(self):
        return str(_("Budget framework of %(ref)s") % {"ref": self.initiative.reference})

    def clean(self):
        money = [
            self.amount,
            self.transferred_amount,
            self.estimated_costs,
            self.estimated_benefits,
        ]
        if any(value is not None for value in money) and not self.currency:
            raise ValidationError({"currency": _("Give the currency of the amounts.")})
        if self.currency and not (len(self.currency) == 3 and self.currency.isalpha()):
            raise ValidationError({"currency": _("Use a three-letter ISO 4217 code.")})
        self.currency = self.currency.upper()

    @property
    def benefit_cost_ratio(self):
        if self.estimated_costs and self.estimated_benefits is not None:
            return self.estimated_benefits / self.estimated_costs
        return None
