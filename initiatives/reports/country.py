"""A country's profile: its survey indicators and the coverage of its frameworks."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from survey.models import Item
from survey.reports import indicator_rows

from .common import percent


@dataclass
class IndicatorPair:
    item: Item
    country_percent: Decimal | None
    all_percent: Decimal | None
    reference_percent: Decimal | None
    country_responses: int
    all_responses: int


def country_indicators(*, wave, questions, country, sector=None):
    """For each question, the country's survey value beside the all-countries value."""
    result = []
    for question in questions:
        here = indicator_rows(wave=wave, question=question, country=country, sector=sector)
        everywhere = indicator_rows(wave=wave, question=question, sector=sector)
        overall = {row.item.pk: row for row in everywhere}
        pairs = [
            IndicatorPair(
                item=row.item,
                country_percent=row.percent_rounded,
                all_percent=overall[row.item.pk].percent_rounded,
                reference_percent=row.reference_percent,
                country_responses=row.responses,
                all_responses=overall[row.item.pk].responses,
            )
            for row in here
        ]
        result.append((question, pairs))
    return result


@dataclass
class Coverage:
    total: int
    roles_written: int
    accountable_body: int
    budget: int
    self_directed: int

    @property
    def cells(self):
        return [
            (
                "roles_written",
                _("Roles and responsibilities written down"),
                self.roles_written,
                percent(self.roles_written, self.total),
            ),
            (
                "accountable_body",
                _("An accountable body named"),
                self.accountable_body,
                percent(self.accountable_body, self.total),
            ),
            ("budget", _("A budget recorded"), self.budget, percent(self.budget, self.total)),
            (
                "self_directed",
                _("Resources transferred to users (self-directed budgets)"),
                self.self_directed,
                percent(self.self_directed, self.total),
            ),
        ]


def frameworks_coverage(queryset):
    """How many initiatives have each part of the accountability and budget frameworks."""
    counts = queryset.order_by().aggregate(
        total=Count("pk"),
        roles_written=Count("pk", filter=Q(accountability__roles_written=True)),
        accountable_body=Count(
            "pk", filter=Q(accountability__isnull=False) & ~Q(accountability__accountable_body="")
        ),
        with_budget=Count("pk", filter=Q(budget__amount__isnull=False)),
        self_directed=Count("pk", filter=Q(budget__resources_transferred=True)),
    )
    # Not named `budget` in the query: that is the name of the relation.
    counts["budget"] = counts.pop("with_budget")
    return Coverage(**counts)
