"""The survey's vocabulary (waves, questions, items, sectors, countries) and its records.

Codes are stable and go in URLs, the API and CSV files; labels are for people and
are translated (see `translation.py`).
"""

from typing import TYPE_CHECKING, ClassVar

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


def _pair_key():
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
        aggregates = {"responses": Count(_pair_key(), distinct=True)}
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
