"""The case record of a co-production initiative and everything kept with it."""

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from survey.models import Country, Item, Sector

from .rules import case_officers, editable_initiatives_q, visible_initiatives_q
from .validators import validate_document

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class EditHistory(HistoricalRecords):
    """simple-history's records, which also let a service write the one row of an edit.

    simple-history writes a row at each save of the record and at each change of a tracked
    tag list, so one edit of the record and two tag lists would be five rows. The services
    save the record and its tag lists without rows (`skip_history_when_saving`), then write
    one row (`Initiative.edit_history.write`) holding the record and its tag lists as saved.
    """

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            sender.edit_history = self

    def write(self, instance, *, created):
        """The history row of `instance` as it is now saved, its tag lists included; who and
        why come from `instance._history_user` and `instance._change_reason`."""
        self.create_historical_record(instance, "+" if created else "~")


#: The longest text a free-text field holds (descriptions, notes, arrangements): generous,
#: but bounded, and the same through the site, the API and the admin.
LONG_TEXT_LIMIT = 20_000
#: The largest number of participants an initiative can report.
PARTICIPANTS_LIMIT = 1_000_000_000


def long_text(verbose_name, **kwargs):
    """A free-text field with the one length limit, enforced by `full_clean` and every form."""
    return models.TextField(
        verbose_name,
        max_length=LONG_TEXT_LIMIT,
        validators=[MaxLengthValidator(LONG_TEXT_LIMIT)],
        **kwargs,
    )


class Stage(models.TextChoices):
    PLANNED = "planned", _("Planned")
    PILOT = "pilot", _("Pilot")
    EMBEDDED = "embedded", _("Embedded")
    DISCONTINUED = "discontinued", _("Discontinued")


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    PUBLISHED = "published", _("Published")
    RETURNED = "returned", _("Returned")


class Level(models.TextChoices):
    LOCAL = "local", _("Local")
    REGIONAL = "regional", _("Regional")
    NATIONAL = "national", _("National")
    SUPRANATIONAL = "supranational", _("Supranational")


class Phase(models.TextChoices):
    COMMISSION = "commission", _("Commission")
    DESIGN = "design", _("Design")
    DELIVER = "deliver", _("Deliver")
    ASSESS = "assess", _("Assess")


class PartnerType(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    USER = "user", _("Service user or carer")
    COMMUNITY_GROUP = "community_group", _("Community group")
    CSO = "cso", _("Civil-society organisation")
    PROFESSIONAL = "professional", _("Public professional")
    PRIVATE = "private", _("Private business")


class ParticipationLevel(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    GROUP = "group", _("Group")
    COLLECTIVE = "collective", _("Collective")


class EvidenceLevel(models.TextChoices):
    SELF_REPORTED = "self_reported", _("Self-reported")
    MONITORED = "monitored", _("Monitored")
    FORMALLY_EVALUATED = "formally_evaluated", _("Formally evaluated")


class OrganisationKind(models.TextChoices):
    CITIZENS_GROUP = "citizens_group", _("Citizens' group")
    CSO = "cso", _("Civil-society organisation")
    PUBLIC_AGENCY = "public_agency", _("Public agency")
    OTHER = "other", _("Other")


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


class ReferenceSequence(models.Model):
    """The last reference number handed out in a year; locked while one is assigned."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference sequence")

    def __str__(self):
        return f"{self.year}: {self.last}"


class InitiativeQuerySet(models.QuerySet):
    def active(self):
        """Not archived."""
        return self.filter(archived_at__isnull=True)

    def published(self):
        return self.active().filter(review_status=ReviewStatus.PUBLISHED)

    def visible_to(self, user):
        """What a user may read (`rules.read_case`): the public sees published; members
        also their organisation's; staff who read all, everything active."""
        condition = visible_initiatives_q(user)
        return self.active() if condition is None else self.active().filter(condition)

    def editable_by(self, user):
        """What a user may change (`rules.change_case`)."""
        if not user.is_authenticated:
            return self.none()
        condition = editable_initiatives_q(user)
        return self.active() if condition is None else self.active().filter(condition)


def reviewing_staff():
    """Who may be an initiative's case officer: staff whose role reviews cases."""
    return Q(pk__in=case_officers().values("pk"))


def _items_of(question):
    return {"question__code": question}


class Initiative(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    description = long_text(_("description"), blank=True)
    country = models.ForeignKey(
        Country, models.PROTECT, related_name="initiatives", verbose_name=_("country")
    )
    sector = models.ForeignKey(
        Sector, models.PROTECT, related_name="initiatives", verbose_name=_("sector")
    )
    level = models.CharField(_("level of government"), max_length=20, choices=Level.choices)
    lead_public_body = models.CharField(_("lead public body"), max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        models.PROTECT,
        related_name="initiatives",
        verbose_name=_("owner organisation"),
        null=True,
        blank=True,
    )
    case_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        limit_choices_to=reviewing_staff,
        verbose_name=_("case officer"),
    )
    review_status = models.CharField(
        _("review status"),
        max_length=10,
        choices=ReviewStatus.choices,
        default=ReviewStatus.DRAFT,
        editable=False,
    )
    return_reason = long_text(_("reason for return"), blank=True, editable=False)
    stage = models.CharField(
        _("maturity stage"),
        max_length=15,
        choices=Stage.choices,
        default=Stage.PLANNED,
        editable=False,
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    participants = models.PositiveIntegerField(
        _("number of participants"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(PARTICIPANTS_LIMIT)],
    )
    objectives = models.ManyToManyField(
        Item,
        related_name="initiatives_as_objective",
        blank=True,
        limit_choices_to=_items_of("reasons"),
        verbose_name=_("objectives"),
    )
    barriers = models.ManyToManyField(
        Item,
        related_name="initiatives_as_barrier",
        blank=True,
        limit_choices_to=_items_of("barriers"),
        verbose_name=_("barriers met"),
    )
    barriers_addressed = models.ManyToManyField(
        Item,
        related_name="initiatives_addressing",
        blank=True,
        limit_choices_to=_items_of("barriers"),
        verbose_name=_("barriers addressed"),
        help_text=_("Of the barriers met, those the initiative has a plan for."),
    )
    factors = models.ManyToManyField(
        Item,
        related_name="initiatives_as_factor",
        blank=True,
        limit_choices_to=_items_of("factors"),
        verbose_name=_("success factors"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("updated by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = InitiativeQuerySet.as_manager()
    history = EditHistory(
        m2m_fields=[objectives, barriers, barriers_addressed, factors],
        excluded_fields=["version"],
    )
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"
    #: Why (the stage change's reason, the editor's note); `None` when nothing was said.
    _change_reason: str | None
    #: Set on the class by `EditHistory`.
    edit_history: "EditHistory"

    # The survey question whose items each tag list draws from.
    TAG_QUESTIONS = {
        "objectives": "reasons",
        "barriers": "barriers",
        "barriers_addressed": "barriers",
        "factors": "factors",
    }
    TAG_FIELDS = tuple(TAG_QUESTIONS)
    # The tag list that the reports set beside each survey question's figures. "Barriers
    # addressed" shares the barriers vocabulary but does not answer that question.
    REPORTED_TAGS = {"reasons": "objectives", "barriers": "barriers", "factors": "factors"}

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        permissions = [
            ("view_internal", _("Can read every initiative: drafts, history and internal notes")),
            ("review_initiative", _("Can review, publish, return, assign and change stages")),
        ]
        indexes = [
            models.Index(fields=["review_status", "archived_at"], name="initiative_status"),
            models.Index(fields=["stage"], name="initiative_stage"),
            models.Index(fields=["country", "sector"], name="initiative_country_sector"),
            models.Index(fields=["-updated_at"], name="initiative_updated"),
            # Case officers' usual view: one country's initiatives at a stage, latest first.
            models.Index(
                fields=["country", "stage", "-updated_at"], name="initiative_country_stage"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="initiative_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.reference} {self.title}" if self.reference else self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("initiatives:detail", kwargs={"reference": self.reference})

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date is before the start date.")})

    def clean_tags(self, tags):
        """Check the tag lists as they will be once `tags` ({field: items}) is applied.

        Each list takes the items of its own survey question, and a barrier is addressed
        only if it is also met. Lists left out of `tags` keep their stored items.
        """
        errors = {}
        for field, items in tags.items():
            try:
                validate_tags(field, list(items))
            except ValidationError as error:
                errors[field] = error.messages

        def current(field):
            if field in tags:
                return {item.pk for item in tags[field]}
            if self.pk is None:
                return set()
            return set(getattr(self, field).values_list("pk", flat=True))

        if "barriers_addressed" not in errors and current("barriers_addressed") - current(
            "barriers"
        ):
            errors["barriers_addressed"] = [
                _("Tick a barrier as addressed only if it is also ticked as met.")
            ]
        if errors:
            raise ValidationError(errors)

    @property
    def is_archived(self):
        return self.archived_at is not None

    @property
    def is_published(self):
        return self.review_status == ReviewStatus.PUBLISHED


def validate_tags(field, items):
    """Refuse items that belong to another question than the tag list draws from."""
    question = Initiative.TAG_QUESTIONS[field]
    wrong = [item.code for item in items if item.question.code != question]
    if wrong:
        raise ValidationError(
            _("%(field)s must be items of the question “%(question)s”; not: %(wrong)s."),
            params={"field": field, "question": question, "wrong": ", ".join(wrong)},
            code="wrong_question",
        )


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


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    MEETING = "meeting", _("Meeting")
    DOCUMENT = "document", _("Document")
    CONTACT = "contact", _("Contact")
    STAGE = "stage", _("Stage change")
    REVIEW = "review", _("Review")


class ActivityEvent(models.TextChoices):
    """What the system recorded on a timeline; the entry's words are made from it, in the
    reader's language (`Activity.describe`)."""

    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved and published")
    RETURNED = "returned", _("Returned to the group")
    STAGE_CHANGED = "stage_changed", _("Stage changed")
    STAGE_PROPOSED = "stage_proposed", _("Stage change proposed")
    STAGE_RECORDED = "stage_recorded", _("Past stage change recorded")
    STAGE_CORRECTED = "stage_corrected", _("Stage history corrected")
    STAGE_REMOVED = "stage_removed", _("Stage history entry removed")
    STAGE_CONFIRMED = "stage_confirmed", _("Stage dates confirmed")


def _stage_label(code):
    return Stage(code).label if code in Stage.values else code


def _stage_since(code, date):
    return _("“%(stage)s” since %(date)s") % {"stage": _stage_label(code), "date": date}


#: The words of each event; `params` fill them in (stage codes become stage labels).
EVENT_TEXTS = {
    ActivityEvent.SUBMITTED: lambda p: _("Submitted for review."),
    ActivityEvent.APPROVED: lambda p: _("Approved and published."),
    ActivityEvent.RETURNED: lambda p: _("Returned: %(reason)s") % {"reason": p.get("reason", "")},
    ActivityEvent.STAGE_CHANGED: lambda p: (
        _("Stage changed from “%(from)s” to “%(to)s”. %(reason)s")
        % {
            "from": _stage_label(p.get("from", "")),
            "to": _stage_label(p.get("to", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_PROPOSED: lambda p: (
        _("Proposed a stage change to “%(to)s” from %(date)s: %(reason)s")
        % {"to": _stage_label(p.get("to", "")), "date": p["date"], "reason": p.get("reason", "")}
        if p.get("date")
        else _("Proposed a stage change to “%(to)s”: %(reason)s")
        % {"to": _stage_label(p.get("to", "")), "reason": p.get("reason", "")}
    ),
    ActivityEvent.STAGE_RECORDED: lambda p: (
        _("Past stage change recorded: %(entry)s. %(reason)s")
        % {
            "entry": _stage_since(p.get("stage", ""), p.get("date", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_CORRECTED: lambda p: (
        _("Stage history corrected: %(before)s is now %(after)s. %(reason)s")
        % {
            "before": _stage_since(p.get("before_stage", ""), p.get("before_date", "")),
            "after": _stage_since(p.get("stage", ""), p.get("date", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_REMOVED: lambda p: (
        _("Stage history entry removed: %(entry)s. %(reason)s")
        % {
            "entry": _stage_since(p.get("stage", ""), p.get("date", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_CONFIRMED: lambda p: _("Stage dates reported by the group confirmed."),
}


class Visibility(models.TextChoices):
    """Who reads a timeline entry and its document (the rules are in `rules.py`)."""

    PUBLIC = "public", _("Public")
    GROUP = "group", _("Shared with the group")
    INTERNAL = "internal", _("Internal (staff only)")


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user, initiative=None):
        """The entries `user` may read: of `initiative`, or of any initiative (the admin's lists).

        Only the entries' own visibility: whether the initiative itself may be read is asked
        of the initiative (`Initiative.objects.visible_to`, `rules`).
        """
        from . import rules

        if initiative is not None:
            visibilities = rules.activity_visibilities(user, initiative)
            return self.filter(initiative=initiative, visibility__in=visibilities)
        condition = rules.visible_activities_q(user)
        return self if condition is None else self.filter(condition)


def document_path(instance, filename):
    return f"documents/{instance.initiative.reference}/{filename}"


class Activity(models.Model):
    """An entry of the case timeline."""

    initiative = models.ForeignKey(
        Initiative, models.CASCADE, related_name="activities", verbose_name=_("initiative")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    visibility = models.CharField(
        _("visibility"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        help_text=_(
            "Public: everyone who can read the initiative. Shared with the group: the owner "
            "organisation's members and staff. Internal: staff only."
        ),
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    text = long_text(_("text"))
    # Entries the system writes keep what happened; their words follow the reader.
    event = models.CharField(_("event"), max_length=20, choices=ActivityEvent.choices, blank=True)
    params = models.JSONField(_("event details"), default=dict, blank=True)
    file = models.FileField(
        _("file"), upload_to=document_path, blank=True, validators=[validate_document]
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = ActivityQuerySet.as_manager()
    history = HistoricalRecords()
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"

    class Meta:
        ordering = ["initiative", "date", "created_at", "pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["initiative", "date"], name="activity_timeline")]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"

    @classmethod
    def for_event(cls, event, params=None, **fields):
        """An unsaved entry for `event`; its `text` keeps the English words (the API, exports
        and searches read it), `describe()` gives them in the active language."""
        params = params or {}
        with translation.override("en"):
            text = str(EVENT_TEXTS[event](params))
        return cls(event=event, params=params, text=text, **fields)

    def describe(self):
        """The entry's words in the active language."""
        if self.event in EVENT_TEXTS:
            return str(EVENT_TEXTS[self.event](self.params or {}))
        return self.text

    def clean(self):
        if self.kind == ActivityKind.DOCUMENT and not self.file:
            raise ValidationError({"file": _("Attach the document.")}, code="document_file")


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
