"""The case record of a co-production initiative."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from survey.models import Country, Item, Sector

from ..rules import case_officers, editable_initiatives_q, visible_initiatives_q
from .common import PARTICIPANTS_LIMIT, Level, ReviewStatus, Stage, long_text
from .organisations import Organisation

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

    def with_editable(self, user):
        """Each row with `editable`: whether `user` may change it (`editable_by`).

        The flag is read in the same statement as the row, so both answers come from one
        moment: a record archived between two separate queries would be found by the first
        and then refused by the second as if it were not the user's to change.
        """
        editable = self.model.objects.editable_by(user).filter(pk=OuterRef("pk"))
        return self.annotate(editable=Exists(editable))


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
