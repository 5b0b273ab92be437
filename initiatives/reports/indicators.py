"""Maturity against the survey indicators: embedded initiatives vs pilots, item by item."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.numbers import round_half_up
from survey.models import Item
from survey.reports import indicator_rows

from ..models import Stage, StageChange
from .common import TAG_FIELDS, percent


def stage_on(date):
    """An initiative's stage at the end of `date`, from its stage history (None before it)."""
    return Subquery(
        StageChange.objects.filter(initiative=OuterRef("pk"), changed_on__lte=date)
        .order_by("-changed_on", "-changed_at", "-pk")
        .values("to_stage")[:1]
    )


def with_report_stage(queryset, on=None):
    """Annotate `report_stage`: the current stage, or the stage at a date from the history."""
    if on is None:
        return queryset.annotate(report_stage=F("stage"))
    return queryset.annotate(report_stage=stage_on(on))


QUESTION_VERBS = {
    "reasons": gettext_lazy("give it as a reason for partnering"),
    "barriers": gettext_lazy("name it as a barrier"),
    "factors": gettext_lazy("call it critical"),
}

CSV_COLUMNS = (
    "item",
    "item_label",
    "embedded_with_item",
    "embedded_total",
    "embedded_percent",
    "pilot_with_item",
    "pilot_total",
    "pilot_percent",
    "difference_points",
    "survey_percent",
    "reference_percent",
)


def _whole(value):
    return f"{round_half_up(value, 0)}%"


@dataclass
class ItemComparison:
    item: Item
    question_code: str
    embedded_with_item: int
    embedded_total: int
    pilot_with_item: int
    pilot_total: int
    survey_percent: Decimal | None
    reference_percent: Decimal | None
    # The wave's records were generated for demonstration (`Wave.synthetic`).
    synthetic: bool = False

    @property
    def embedded_percent(self):
        return percent(self.embedded_with_item, self.embedded_total)

    @property
    def pilot_percent(self):
        return percent(self.pilot_with_item, self.pilot_total)

    @property
    def difference_points(self):
        """Embedded minus pilot, in percentage points, from the exact shares, then rounded."""
        if not self.embedded_total or not self.pilot_total:
            return None
        exact = Decimal(self.embedded_with_item * 100) / Decimal(self.embedded_total) - Decimal(
            self.pilot_with_item * 100
        ) / Decimal(self.pilot_total)
        return round_half_up(exact)

    def as_row(self):
        """The values in `CSV_COLUMNS` order."""
        return [
            self.item.code,
            self.item.label,
            self.embedded_with_item,
            self.embedded_total,
            self.embedded_percent,
            self.pilot_with_item,
            self.pilot_total,
            self.pilot_percent,
            self.difference_points,
            self.survey_percent,
            self.reference_percent,
        ]

    @property
    def sentence(self):
        """One plain sentence that says what the row shows."""
        item = self.item.label
        if self.embedded_total and self.pilot_total:
            text = _("%(item)s: %(embedded)s of embedded initiatives vs %(pilots)s of pilots") % {
                "item": item,
                "embedded": _whole(self.embedded_percent),
                "pilots": _whole(self.pilot_percent),
            }
        elif self.embedded_total:
            text = _("%(item)s: %(embedded)s of embedded initiatives (no pilots to compare)") % {
                "item": item,
                "embedded": _whole(self.embedded_percent),
            }
        elif self.pilot_total:
            text = _("%(item)s: %(pilots)s of pilots (no embedded initiatives to compare)") % {
                "item": item,
                "pilots": _whole(self.pilot_percent),
            }
        else:
            text = _("%(item)s: no embedded initiative or pilot to compare") % {"item": item}
        verb = QUESTION_VERBS.get(self.question_code, _("ticked it"))
        survey, reference = self.survey_percent, self.reference_percent
        if survey is not None:
            if self.synthetic:
                said = _(
                    "%(percent)s of synthetic survey respondents %(verb)s (demonstration data)"
                )
            else:
                said = _("%(percent)s of survey respondents %(verb)s")
            text += "; " + said % {"percent": _whole(survey), "verb": verb}
            if reference is not None:
                text += " " + _("(OECD published: %(percent)s)") % {"percent": _whole(reference)}
        elif reference is not None:
            text += "; " + _("%(percent)s of OECD respondents %(verb)s (published value)") % {
                "percent": _whole(reference),
                "verb": verb,
            }
        return text + "."


def maturity_against_indicators(queryset, *, wave, question, country=None, sector=None, on=None):
    """One `ItemComparison` per item of `question`, in the item order.

    `queryset` is the initiatives already filtered (country, sector, level, dates);
    `country` and `sector` restrict the survey's value the same way. Stage is the current
    one, or the stage on `on` from the history. Six queries: the survey's three (items,
    reference values, responses), the group totals and the tagged counts per item.
    """
    tag = TAG_FIELDS[question.code]
    if wave is not None:
        survey = indicator_rows(wave=wave, question=question, country=country, sector=sector)
        items = [row.item for row in survey]
        survey_percent = {row.item.pk: row.percent_rounded for row in survey}
        reference = {row.item.pk: row.reference_percent for row in survey}
    else:
        items = list(Item.objects.filter(question=question).order_by("order", "code"))
        survey_percent, reference = {}, {}
    staged = with_report_stage(queryset.order_by(), on)
    by_stage = {
        "embedded": Count("pk", filter=Q(report_stage=Stage.EMBEDDED)),
        "pilot": Count("pk", filter=Q(report_stage=Stage.PILOT)),
    }
    totals = staged.aggregate(**by_stage)
    tagged = {
        row["item_id"]: row
        for row in staged.filter(report_stage__in=[Stage.EMBEDDED, Stage.PILOT])
        .values(item_id=F(tag))
        .annotate(**by_stage)
        if row["item_id"] is not None
    }
    return [
        ItemComparison(
            item=item,
            question_code=question.code,
            embedded_with_item=tagged.get(item.pk, {}).get("embedded", 0),
            embedded_total=totals["embedded"],
            pilot_with_item=tagged.get(item.pk, {}).get("pilot", 0),
            pilot_total=totals["pilot"],
            survey_percent=survey_percent.get(item.pk),
            reference_percent=reference.get(item.pk),
            synthetic=bool(wave and wave.synthetic),
        )
        for item in items
    ]
