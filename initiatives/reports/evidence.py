"""Evidence of benefit and the business case: budgets, contributions, costs and benefits."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.numbers import round_half_up
from survey.models import Sector

from ..models import BudgetFramework, EvidenceLevel, Stage
from .common import labels_by_code, percent

HAS_BUDGET = Q(budget__amount__isnull=False)
HAS_HOURS = Q(budget__citizen_hours__isnull=False)
HAS_COSTS_AND_BENEFITS = Q(budget__estimated_costs__isnull=False) & Q(
    budget__estimated_benefits__isnull=False
)
NO_EVIDENCE = Q(budget__isnull=True) | Q(budget__evidence_level="")

EVIDENCE_COLUMNS = [
    ("with_budget", gettext_lazy("Budget recorded")),
    ("with_hours", gettext_lazy("Citizens' hours recorded")),
    ("with_costs_benefits", gettext_lazy("Costs and benefits estimated")),
    *[(level, label) for level, label in EvidenceLevel.choices],
    ("no_evidence", gettext_lazy("No evidence level")),
]


def _evidence_counts():
    counts = {
        "total": Count("pk"),
        "with_budget": Count("pk", filter=HAS_BUDGET),
        "with_hours": Count("pk", filter=HAS_HOURS),
        "with_costs_benefits": Count("pk", filter=HAS_COSTS_AND_BENEFITS),
        "no_evidence": Count("pk", filter=NO_EVIDENCE),
    }
    for level in EvidenceLevel.values:
        counts[level] = Count("pk", filter=Q(budget__evidence_level=level))
    return counts


@dataclass
class EvidenceRow:
    code: str | None
    label: str
    total: int
    counts: dict

    @property
    def cells(self):
        return [
            (key, label, self.counts[key], percent(self.counts[key], self.total))
            for key, label in EVIDENCE_COLUMNS
        ]


def evidence_by(queryset, dimension):
    """Evidence of benefit by stage or sector (`dimension`), with an all-initiatives row."""
    base = queryset.order_by()
    rows = list(base.values(dimension).annotate(**_evidence_counts()))
    overall = base.aggregate(**_evidence_counts())
    if dimension == "sector":
        sectors = labels_by_code(Sector, [row["sector"] for row in rows])
        label_of = {code: sector.label for code, sector in sectors.items()}
        order = sorted(label_of)
    else:
        label_of = dict(Stage.choices)
        order = Stage.values
    by_code = {row.pop(dimension): row for row in rows}
    result = [
        EvidenceRow(
            code=code, label=label_of[code], total=by_code[code].pop("total"), counts=by_code[code]
        )
        for code in order
        if code in by_code
    ]
    total = overall.pop("total")
    result.append(EvidenceRow(code=None, label=_("All initiatives"), total=total, counts=overall))
    return result


@dataclass
class CurrencyTotals:
    currency: str
    initiatives: int
    total_budget: Decimal | None
    with_costs_benefits: int
    costs: Decimal | None
    benefits: Decimal | None
    benefits_at_least_costs: int

    def __post_init__(self):
        # Backends differ in the scale of a sum of decimals; money always has two places.
        for name in ("total_budget", "costs", "benefits"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, Decimal(value).quantize(Decimal("0.01")))

    @property
    def benefit_cost_ratio(self):
        """Total estimated benefits over total estimated costs, where both were given."""
        if not self.costs or self.benefits is None:
            return None
        return round_half_up(self.benefits / self.costs, 2)


def money_by_currency(queryset):
    """Budgets, costs and benefits summed per currency; never across currencies."""
    rows = (
        queryset.order_by()
        .filter(budget__isnull=False)
        .exclude(budget__currency="")
        .values(currency=F("budget__currency"))
        .annotate(
            initiatives=Count("pk"),
            total_budget=Sum("budget__amount"),
            with_costs_benefits=Count("pk", filter=HAS_COSTS_AND_BENEFITS),
            costs=Sum("budget__estimated_costs", filter=HAS_COSTS_AND_BENEFITS),
            benefits=Sum("budget__estimated_benefits", filter=HAS_COSTS_AND_BENEFITS),
            benefits_at_least_costs=Count(
                "pk",
                filter=HAS_COSTS_AND_BENEFITS
                & Q(budget__estimated_benefits__gte=F("budget__estimated_costs")),
            ),
        )
        .order_by("currency")
    )
    return [CurrencyTotals(**row) for row in rows]


def citizen_hours(queryset):
    """Citizens' hours of time summed over the initiatives that recorded them."""
    return queryset.order_by().aggregate(
        initiatives=Count("pk", filter=HAS_HOURS), hours=Sum("budget__citizen_hours")
    )


def business_case(initiative):
    """The budget framework of one initiative, or None; one query."""
    return BudgetFramework.objects.filter(initiative=initiative).first()
