"""The survey's indicators, computed in the database with the OECD's formula (docs/DOMAIN.md)."""

from dataclasses import dataclass
from decimal import Decimal

from core import reportcache
from core.numbers import percent

from .models import Item, ReferenceValue, Response, percent_affirmative

BREAKDOWNS = {"country": "respondent__country", "sector": "sector"}


@dataclass(frozen=True)
class IndicatorRow:
    item: Item
    group: str | None  # the country or sector code when broken down, else None
    affirmative: int
    responses: int
    reference_percent: Decimal | None

    @property
    def percent(self):
        """Exact percentage, or None when nobody answered the question here."""
        return percent_affirmative(self.affirmative, self.responses)

    @property
    def percent_rounded(self):
        """Rounded to one decimal, half away from zero, as in CSV and on screen."""
        return percent(self.affirmative, self.responses)


def indicator_rows(*, wave, question, country=None, sector=None, by=None):
    """One row per item (per item and group when `by` is `country` or `sector`).

    Three queries whatever the number of records: the items, the reference values,
    and one aggregate over the responses.
    """
    items = list(Item.objects.filter(question=question).order_by("order", "code"))
    references = dict(
        ReferenceValue.objects.filter(wave=wave, item__in=items).values_list("item_id", "percent")
    )
    responses = Response.objects.for_question(
        wave=wave, question=question, country=country, sector=sector
    )
    groups = responses.indicator_counts(items, by=BREAKDOWNS[by] if by else None)
    rows = []
    for group in groups:
        for item in items:
            rows.append(
                IndicatorRow(
                    item=item,
                    group=group.get("group"),
                    affirmative=group[f"yes_{item.pk}"] or 0,
                    responses=group["responses"] or 0,
                    reference_percent=references.get(item.pk),
                )
            )
    return rows


def cached_indicator_rows(*, wave, question, country=None, sector=None, by=None):
    """`indicator_rows`, kept in the cache until the survey data changes (the rows carry
    their items with every language's label, so one entry serves every language)."""
    key = (
        "indicator_rows",
        wave.pk,
        question.pk,
        getattr(country, "pk", None),
        getattr(sector, "pk", None),
        by,
    )
    return reportcache.cached(
        key,
        lambda: indicator_rows(wave=wave, question=question, country=country, sector=sector, by=by),
    )
