"""The survey's vocabulary (waves, questions, items, sectors, countries) and its records.

Codes are stable and go in URLs, the API and CSV files; labels are for people and
are translated (see `translation.py`).
"""

import unicodedata
import uuid
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Count, ExpressionWrapper, F, IntegerField, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    # The translated models (`translation.py`) get modeltranslation's manager when the app
    # loads, a class made at run time that type checkers cannot find: their managers are
    # declared for them (`objects`, and `_default_manager` where reverse relations use it).
    from modeltranslation.manager import MultilingualManager

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    _("Use letters, digits, '-', '_' or '.', starting with a letter or digit."),
)


class Wave(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    title = models.CharField(_("title"), max_length=200)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1900), MaxValueValidator(2200)]
    )
    synthetic = models.BooleanField(
        _("synthetic"), default=False, help_text=_("Generated data for demonstration, not real.")
    )
    notes = models.TextField(_("notes"), blank=True)

    objects: ClassVar["MultilingualManager[Wave]"]

    class Meta:
        ordering = ["-year", "code"]
        verbose_name = _("survey wave")
        verbose_name_plural = _("survey waves")

    def __str__(self):
        return self.code


class Question(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    label = models.CharField(_("label"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects: ClassVar["MultilingualManager[Question]"]

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self):
        return self.label


class ItemQuerySet(models.QuerySet["Item"]):
    def of_question(self, code: str) -> "ItemQuerySet":
        return self.filter(question__code=code)


ItemManager = models.Manager.from_queryset(ItemQuerySet)


class Item(models.Model):
    question = models.ForeignKey(
        Question, models.PROTECT, related_name="items", verbose_name=_("question")
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    label = models.CharField(_("label"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects: ClassVar["ItemManager[Item]"] = ItemManager()
    _default_manager: ClassVar["ItemManager[Item]"]

    class Meta:
        ordering = ["question__order", "order", "code"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="item_unique_per_question")
        ]

    def __str__(self):
        return self.label


class Sector(models.Model):
    """A COFOG division (`01`..`10`), the OECD's grouping of public services."""

    code = models.CharField(
        _("code"),
        max_length=2,
        primary_key=True,
        validators=[RegexValidator(r"^(0[1-9]|10)$", _("A COFOG division, 01 to 10."))],
    )
    label = models.CharField(_("label"), max_length=200)

    objects: ClassVar["MultilingualManager[Sector]"]

    class Meta:
        ordering = ["code"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self):
        return f"{self.code} {self.label}"


class Country(models.Model):
    """A country by its ISO 3166-1 alpha-3 code, the OECD's own convention."""

    code = models.CharField(
        _("code"),
        max_length=3,
        primary_key=True,
        validators=[
            RegexValidator(r"^[A-Z]{3}$", _("Three capital letters (ISO 3166-1 alpha-3)."))
        ],
    )
    name = models.CharField(_("name"), max_length=200)

    objects: ClassVar["MultilingualManager[Country]"]

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self):
        return self.name


def reading_key(text):
    """Sort key for a name as a reader expects it: accents and case do not count
    ("Égypte" sorts among the E's, not after "Zambie")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def country_choices(countries):
    """(code, name) pairs for a menu, sorted by name in the active language."""
    return sorted(((c.code, c.name) for c in countries), key=lambda pair: reading_key(pair[1]))


class ReferenceValue(models.Model):
    """A percentage the OECD published. Reference data: never computed here."""

    wave = models.ForeignKey(
        Wave, models.CASCADE, related_name="reference_values", verbose_name=_("wave")
    )
    item = models.ForeignKey(
        Item, models.CASCADE, related_name="reference_values", verbose_name=_("item")
    )
    percent = models.DecimalField(
        _("published percent"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["wave", "item"]
        verbose_name = _("reference value")
        verbose_name_plural = _("reference values")
        constraints = [
            models.UniqueConstraint(fields=["wave", "item"], name="reference_unique_per_wave_item")
        ]

    def __str__(self):
        return f"{self.wave} {self.item.code}: {self.percent if self.percent is not None else '—'}"


class Respondent(models.Model):
    wave = models.ForeignKey(
        Wave, models.CASCADE, related_name="respondents", verbose_name=_("wave")
    )
    country = models.ForeignKey(
        Country, models.PROTECT, related_name="respondents", verbose_name=_("country")
    )
    code = models.CharField(_("code or name"), max_length=200)

    class Meta:
        ordering = ["wave", "country", "code"]
        verbose_name = _("respondent")
        verbose_name_plural = _("respondents")
        constraints = [
            models.UniqueConstraint(fields=["wave", "code"], name="respondent_unique_per_wave")
        ]

    def __str__(self):
        return f"{self.code} ({self.country_id}, {self.wave})"


def pair_key():
    """One integer per (respondent, sector) pair, so that the pairs can be counted distinct.

    Sector codes are COFOG divisions `01`..`10`, so `respondent * 100 + sector` is unique
    per pair, and counting distinct integers is much cheaper than distinct strings.
    """
    return ExpressionWrapper(
        F("respondent_id") * 100 + Cast("sector_id", IntegerField()), output_field=IntegerField()
    )


class ResponseQuerySet(models.QuerySet):
    def for_question(self, *, wave, question, country=None, sector=None):
        """The records behind one question of one wave, optionally for one country or sector."""
        qs = self.filter(respondent__wave=wave, item__question=question)
        if country is not None:
            qs = qs.filter(respondent__country=country)
        if sector is not None:
            qs = qs.filter(sector=sector)
        return qs

    def indicator_counts(self, items, by=None):
        """Affirmative counts per item and the question's response count, in one query.

        `self` must already be narrowed to one question (see `for_question`). The
        response count is the number of (respondent, sector) pairs that answered the
        question at all, ticked or not, exactly as the OECD defines its percentages.
        Returns dicts with `responses` and `yes_<item id>` keys, grouped by the field
        named in `by` (`respondent__country` or `sector`) when one is given.
        """
        aggregates = {"responses": Count(pair_key(), distinct=True)}
        for item in items:
            aggregates[f"yes_{item.pk}"] = Count("pk", filter=Q(item=item.pk, affirmative=True))
        qs = self.order_by()
        if by is None:
            return [qs.aggregate(**aggregates)]
        return list(qs.values(group=F(by)).annotate(**aggregates).order_by("group"))


def percent_affirmative(affirmative, responses):
    """The survey percentage, or None when nobody answered (undefined, never 0)."""
    if not responses:
        return None
    return 100 * affirmative / responses


class Response(models.Model):
    """One answer: a respondent ticked (or not) an item of a question for a sector."""

    # No single-column indexes on the keys: the unique constraint (respondent first) and
    # the two composite indexes below serve those lookups, and every extra index slows
    # the import of a million rows.
    respondent = models.ForeignKey(
        Respondent,
        models.CASCADE,
        related_name="responses",
        verbose_name=_("respondent"),
        db_index=False,
    )
    sector = models.ForeignKey(
        Sector, models.PROTECT, related_name="responses", verbose_name=_("sector"), db_index=False
    )
    item = models.ForeignKey(
        Item, models.PROTECT, related_name="responses", verbose_name=_("item"), db_index=False
    )
    affirmative = models.BooleanField(_("answer"), help_text=_("Ticked (yes) or not (no)."))

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        permissions = [("import_response", _("Can import, replace and delete survey records"))]
        constraints = [
            models.UniqueConstraint(
                fields=["respondent", "sector", "item"], name="response_unique_per_pair_item"
            )
        ]
        indexes = [
            models.Index(fields=["item", "sector"], name="response_item_sector"),
            models.Index(fields=["sector", "item"], name="response_sector_item"),
        ]

    def __str__(self):
        return f"{self.respondent} {self.sector_id} {self.item.code}: {self.affirmative}"


class ColumnMapping(models.Model):
    """How to read a wide survey file: one row per respondent (or respondent and sector),
    one column per option of a multiple-choice question. See `survey/mappings.py`."""

    TICKED = "ticked"
    FILLED = "filled"
    SHOWN = "shown"
    ALL = "all"
    ANSWERED_CHOICES = [
        (TICKED, _("the question was answered when at least one of its options is ticked")),
        (FILLED, _("the question was answered when any of its cells is filled (ticked or no)")),
        (SHOWN, _("a “question shown” column says whether the question was answered")),
        (ALL, _("every row answered every question: a blank cell is no")),
    ]
    PRESETS = [
        ("limesurvey", "LimeSurvey"),
        ("kobo", "KoboToolbox"),
        ("qualtrics", "Qualtrics"),
    ]
    #: The fields that say how a file is read: what a preview shows, the admin's "save this
    #: mapping" link carries and the API reads and writes, beside the name.
    READING_FIELDS = (
        "respondent_column",
        "country_column",
        "sector_column",
        "columns",
        "answered",
        "shown_columns",
        "yes_values",
        "no_values",
        "skip_rows",
    )

    name = models.CharField(
        _("name"),
        max_length=64,
        unique=True,
        validators=[code_validator],
        help_text=_("Chosen by this name in the import form, the command and the API."),
    )
    description = models.TextField(_("description"), blank=True)
    preset = models.CharField(
        _("proposed from"), max_length=16, choices=PRESETS, blank=True, editable=False
    )
    respondent_column = models.CharField(
        _("respondent column"), max_length=200, default="respondent"
    )
    country_column = models.CharField(_("country column"), max_length=200, default="country")
    sector_column = models.CharField(
        _("sector column"),
        max_length=200,
        default="sector",
        blank=True,
        help_text=_("Blank when each answer column names its sector (“@ 03” below)."),
    )
    columns = models.TextField(
        _("answer columns"),
        help_text=_(
            "One line per column of the file: “column = question/item”, with “@ sector” "
            "when the sector is part of the column (e.g. “Q3[SQ002] = barriers/resources” or "
            "“barriers[resources_03] = barriers/resources @ 03”). Columns not listed here, "
            "nor named above, are ignored."
        ),
    )
    answered = models.CharField(
        _("answered when"), max_length=8, choices=ANSWERED_CHOICES, default=TICKED
    )
    shown_columns = models.TextField(
        _("“question shown” columns"),
        blank=True,
        help_text=_(
            "Only for the “question shown” rule: one line per question, “column = question” "
            "(with “@ sector” when the sector is part of the column). A yes there means the "
            "question was shown and answered."
        ),
    )
    yes_values = models.CharField(
        _("values read as ticked"),
        max_length=200,
        default="1, y, yes, true, x",
        help_text=_(
            "Comma-separated, any case. The item's label and the option's code in the column "
            "name are read as ticked too."
        ),
    )
    no_values = models.CharField(
        _("values read as not ticked"),
        max_length=200,
        default="0, n, no, false",
        help_text=_("Comma-separated, any case. A blank cell is not ticked too."),
    )
    skip_rows = models.PositiveSmallIntegerField(
        _("rows to skip under the header"),
        default=0,
        validators=[MaxValueValidator(20)],
        help_text=_("Qualtrics writes the question texts and import ids on two rows there."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")

    def __str__(self):
        return self.name

    def clean(self):
        from .mappings import check_mapping

        check_mapping(self)


class Job(models.Model):
    """Long work run by a background worker (survey/jobs.py): what it is, how far it got,
    and how it ended. The task engine only carries the job's id; this row is the truth."""

    class Kind(models.TextChoices):
        SURVEY_IMPORT = "survey_import", _("survey import")
        SURVEY_EXPORT = "survey_export", _("survey export")
        # Run by the initiatives app's runner (initiatives/jobs.py), which the survey
        # cannot import.
        REGISTER_IMPORT = "register_import", _("register import")

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting for a worker")
        RUNNING = "running", _("running")
        DONE = "done", _("finished")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="jobs", verbose_name=_("owner")
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # Jobs with the same lock run one at a time (survey imports share one: see jobs.py).
    lock = models.CharField(_("lock"), max_length=64, blank=True)
    rows_read = models.PositiveBigIntegerField(_("rows read"), default=0)
    rows_total = models.PositiveBigIntegerField(_("rows in all (about)"), null=True, blank=True)
    rows_written = models.PositiveBigIntegerField(_("rows written"), default=0)
    phase = models.CharField(_("phase"), max_length=200, blank=True)
    message = models.TextField(_("outcome"), blank=True)
    outcome = models.JSONField(_("details"), default=dict, blank=True)
    result_file = models.CharField(_("file"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heard of"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        constraints = [
            models.UniqueConstraint(
                fields=["lock"],
                condition=models.Q(status="running") & ~models.Q(lock=""),
                name="job_one_running_per_lock",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {str(self.pk)[:8]}"

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self):
        """How far the reading got, 0..100, or None when the total is unknown."""
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return None
        return min(99, int(100 * self.rows_read / self.rows_total))
