"""The survey's indicators, computed in the database with the OECD's formula (docs/DOMAIN.md)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q

from core import reportcache
from core.numbers import percent

from .models import Item, ReferenceValue, Response, Wave, pair_key, percent_affirmative

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


@dataclass(frozen=True)
class WaveCell:
    """One item in one wave: its counts, or missing (the item was not asked in that wave)."""

    wave: Wave
    affirmative: int
    responses: int
    asked: bool  # some pair answered this item in this wave
    reference_percent: Decimal | None

    @property
    def percent(self):
        """None when the item is missing from the wave or nobody answered: never 0."""
        if not self.asked:
            return None
        return percent_affirmative(self.affirmative, self.responses)

    @property
    def percent_rounded(self):
        if self.percent is None:
            return None
        return percent(self.affirmative, self.responses)


@dataclass(frozen=True)
class WaveComparisonRow:
    item: Item
    cells: list  # one WaveCell per wave, in the waves' order

    @property
    def changes(self):
        """Per wave after the first: the change in points since the wave before, or None
        when either value is missing."""
        changes = []
        for before, after in zip(self.cells, self.cells[1:], strict=False):
            if before.percent_rounded is None or after.percent_rounded is None:
                changes.append(None)
            else:
                changes.append(after.percent_rounded - before.percent_rounded)
        return changes


def waves_with_data():
    """The waves that have respondents, oldest first."""
    return Wave.objects.filter(respondents__isnull=False).distinct().order_by("year", "code")


def wave_comparison(*, question, waves, country=None, sector=None):
    """One question across `waves` (oldest first): per item, its percentage in each wave.

    Four queries whatever the number of records: the items, the published values, and one
    aggregate over the responses grouped by wave (per item: the affirmative count and how
    many pairs answered it at all, so that an item not asked in a wave is told apart from
    one nobody ticked).
    """
    waves = list(waves)
    items = list(Item.objects.filter(question=question).order_by("order", "code"))
    references = {
        (wave_id, item_id): percent
        for wave_id, item_id, percent in ReferenceValue.objects.filter(
            wave__in=waves, item__in=items
        ).values_list("wave_id", "item_id", "percent")
    }
    responses = Response.objects.filter(item__question=question, respondent__wave__in=waves)
    if country is not None:
        responses = responses.filter(respondent__country=country)
    if sector is not None:
        responses = responses.filter(sector=sector)
    aggregates = {"responses": Count(pair_key(), distinct=True)}
    for item in items:
        aggregates[f"yes_{item.pk}"] = Count("pk", filter=Q(item=item.pk, affirmative=True))
        aggregates[f"asked_{item.pk}"] = Count("pk", filter=Q(item=item.pk))
    groups = {
        group["group"]: group
        for group in responses.order_by().values(group=F("respondent__wave")).annotate(**aggregates)
    }
    rows = []
    for item in items:
        cells = []
        for wave in waves:
            group = groups.get(wave.pk, {})
            cells.append(
                WaveCell(
                    wave=wave,
                    affirmative=group.get(f"yes_{item.pk}", 0),
                    responses=group.get("responses", 0),
                    asked=bool(group.get(f"asked_{item.pk}")),
                    reference_percent=references.get((wave.pk, item.pk)),
                )
            )
        rows.append(WaveComparisonRow(item=item, cells=cells))
    return rows
