"""Reports that tie initiative maturity (pilot versus embedded) to the survey's indicators.

Every figure is computed by the database (`annotate`, `Count(filter=...)`, `values()`,
subqueries); Python only arranges the few aggregated rows that come back. Each report
runs a fixed number of queries whatever the number of initiatives.

The reports count what the public sees (`Initiative.objects.published()`: published
and not archived) except the readiness list, which is for staff and counts every
active pilot. Survey figures come from `survey.reports.indicator_rows`, so that the
OECD formula lives in one place.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from survey.models import Country, Item, Sector
from survey.reports import indicator_rows

from .models import (
    AccountabilityFramework,
    BudgetFramework,
    EvidenceLevel,
    Initiative,
    Participation,
    PartnerType,
    Stage,
    StageChange,
)

ONE_DECIMAL = Decimal("0.1")

# The tag list of an initiative that speaks the vocabulary of each survey question.
TAG_FIELDS = {"reasons": "objectives", "barriers": "barriers", "factors": "factors"}


def percent(part, whole):
    """`part` as a percentage of `whole`, one decimal, half away from zero; None if whole is 0.

    The same rounding as the survey's indicators, so that the two columns compare.
    """
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def rounded(value):
    if value is None:
        return None
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def public_initiatives():
    """What the reports count: what the public sees (published, not archived)."""
    return Initiative.objects.published()


def _labels(model, codes):
    """Objects by code in one query; their labels follow the active language."""
    return model.objects.in_bulk([code for code in codes if code is not None])


# --- 1. Maturity pipeline ----------------------------------------------------------------


def _stage_counts():
    counts = {stage: Count("pk", filter=Q(stage=stage)) for stage in Stage.values}
    counts["total"] = Count("pk")
    return counts


@dataclass
class StageRow:
    """Initiatives of one group (a sector, a country, or all) counted by current stage."""

    code: str | None
    label: str
    counts: dict
    total: int
    link: object = None  # the group's own vocabulary object (Country, Sector), if any

    @property
    def cells(self):
        """(stage, stage label, count, share of the group) in stage order."""
        return [
            (stage, label, self.counts[stage], percent(self.counts[stage], self.total))
            for stage, label in Stage.choices
        ]

    @property
    def beyond_piloting(self):
        return self.counts[Stage.EMBEDDED] > 0


def stage_totals(queryset):
    """All initiatives of the queryset by stage; one query."""
    counts = queryset.order_by().aggregate(**_stage_counts())
    total = counts.pop("total")
    return StageRow(code=None, label=_("All initiatives"), counts=counts, total=total)


def stages_by(queryset, dimension):
    """Initiatives by stage for each sector or country (`dimension`); two queries."""
    rows = list(queryset.order_by().values(dimension).annotate(**_stage_counts()))
    model = Sector if dimension == "sector" else Country
    objects = _labels(model, [row[dimension] for row in rows])
    result = []
    for row in rows:
        code = row.pop(dimension)
        total = row.pop("total")
        obj = objects.get(code)
        label = obj.label if dimension == "sector" else obj.name
        result.append(StageRow(code=code, label=label, counts=row, total=total, link=obj))
    # Sectors in COFOG order, countries by name in the reader's language.
    result.sort(key=lambda row: row.code if dimension == "sector" else row.label)
    return result


def ever_piloted():
    """True for an initiative whose stage history ever entered `pilot`."""
    return Exists(StageChange.objects.filter(initiative=OuterRef("pk"), to_stage=Stage.PILOT))


@dataclass
class Conversion:
    total: int
    embedded: int
    discontinued: int
    pilot: int
    planned: int

    @property
    def cells(self):
        return [
            ("embedded", _("Now embedded"), self.embedded, percent(self.embedded, self.total)),
            (
                "discontinued",
                _("Discontinued"),
                self.discontinued,
                percent(self.discontinued, self.total),
            ),
            ("pilot", _("Still a pilot"), self.pilot, percent(self.pilot, self.total)),
            ("planned", _("Back to planned"), self.planned, percent(self.planned, self.total)),
        ]


def conversion(queryset):
    """Of the initiatives that ever were pilots, where they are now; one query."""
    counts = queryset.order_by().filter(ever_piloted()).aggregate(**_stage_counts())
    return Conversion(
        total=counts["total"],
        embedded=counts[Stage.EMBEDDED],
        discontinued=counts[Stage.DISCONTINUED],
        pilot=counts[Stage.PILOT],
        planned=counts[Stage.PLANNED],
    )


class DaysBetween(Func):
    """Whole days from the second date to the first."""

    arity = 2
    output_field = IntegerField()
    arg_joiner = " - "
    template = "(%(expressions)s)"  # PostgreSQL: date - date is a number of days

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation between neighbours)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction, **extra):
        # The fraction is one of our own constants, never user input.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _first_entry(stage, *, on_or_after=None):
    """The date an initiative first entered `stage` (optionally on or after a date)."""
    changes = StageChange.objects.filter(initiative=OuterRef("pk"), to_stage=stage)
    if on_or_after:
        changes = changes.filter(changed_on__gte=OuterRef(on_or_after))
    return Subquery(changes.order_by("changed_on", "changed_at", "pk").values("changed_on")[:1])


def with_days_to_embedding(queryset):
    """Initiatives that went from pilot to embedded, with the days it took.

    From the stage history, not the current stage: the first entry into `pilot`, then
    the first entry into `embedded` on or after it. An initiative embedded again after
    being discontinued still counts from its first embedding.
    """
    return (
        queryset.order_by()
        .annotate(first_pilot=_first_entry(Stage.PILOT))
        .annotate(first_embedded=_first_entry(Stage.EMBEDDED, on_or_after="first_pilot"))
        .annotate(days_to_embedding=DaysBetween("first_embedded", "first_pilot"))
        .filter(days_to_embedding__isnull=False)
    )


def percentile_cont(values, fraction):
    """The same percentile as PostgreSQL's `percentile_cont`: linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass
class Quartiles:
    code: str | None
    label: str
    count: int
    q1: Decimal | None
    median: Decimal | None
    q3: Decimal | None
    link: object = None

    @classmethod
    def of(cls, code, label, values, link=None):
        return cls(
            code=code,
            label=label,
            count=len(values),
            q1=rounded(percentile_cont(values, 0.25)),
            median=rounded(percentile_cont(values, 0.5)),
            q3=rounded(percentile_cont(values, 0.75)),
            link=link,
        )


@dataclass
class TimeToEmbedding:
    overall: Quartiles
    by_sector: list


def _quartile_aggregates():
    days = F("days_to_embedding")
    return {
        "count": Count("pk"),
        "q1": PercentileCont(days, 0.25),
        "median": PercentileCont(days, 0.5),
        "q3": PercentileCont(days, 0.75),
    }


def time_to_embedding(queryset, *, in_database=None):
    """Median and quartiles of the days from first pilot to first embedded, overall and by sector.

    On PostgreSQL the percentiles are computed by `percentile_cont` (three queries); on
    other backends one query fetches the per-initiative durations and the same
    interpolation is done here. `in_database` forces one path (the tests compare both).
    """
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    timed = with_days_to_embedding(queryset)
    if in_database:
        overall = timed.aggregate(**_quartile_aggregates())
        groups = list(timed.values("sector").annotate(**_quartile_aggregates()))
        sectors = _labels(Sector, [row["sector"] for row in groups])

        def quartiles(code, label, row, link=None):
            return Quartiles(
                code=code,
                label=label,
                count=row["count"],
                q1=rounded(row["q1"]),
                median=rounded(row["median"]),
                q3=rounded(row["q3"]),
                link=link,
            )

        by_sector = [
            quartiles(row["sector"], sectors[row["sector"]].label, row, sectors[row["sector"]])
            for row in groups
        ]
        result = TimeToEmbedding(
            overall=quartiles(None, _("All sectors"), overall), by_sector=by_sector
        )
    else:
        durations = list(timed.values_list("sector", "days_to_embedding"))
        per_sector = {}
        for sector, days in durations:
            per_sector.setdefault(sector, []).append(days)
        sectors = _labels(Sector, per_sector)
        result = TimeToEmbedding(
            overall=Quartiles.of(None, _("All sectors"), [days for _s, days in durations]),
            by_sector=[
                Quartiles.of(code, sectors[code].label, values, sectors[code])
                for code, values in per_sector.items()
            ],
        )
    result.by_sector.sort(key=lambda row: row.code)
    return result


@dataclass
class CountryBeyond:
    country: Country
    sectors_beyond: int
    sectors: int
    initiatives: int
    embedded: int
    cells: list = field(default_factory=list)  # (sector, state) for every sector


def beyond_piloting(queryset):
    """For each country and sector, whether it has at least one embedded initiative.

    Countries come sorted by the number of sectors beyond piloting (most first). Three
    queries: the country totals, the country-by-sector cells and the labels.
    """
    base = queryset.order_by()
    countries = list(
        base.values("country")
        .annotate(
            sectors_beyond=Count("sector", distinct=True, filter=Q(stage=Stage.EMBEDDED)),
            sectors=Count("sector", distinct=True),
            initiatives=Count("pk"),
            embedded=Count("pk", filter=Q(stage=Stage.EMBEDDED)),
        )
        .order_by("-sectors_beyond", "-embedded", "country")
    )
    cells = base.values("country", "sector").annotate(
        embedded=Count("pk", filter=Q(stage=Stage.EMBEDDED)),
        pilot=Count("pk", filter=Q(stage=Stage.PILOT)),
    )
    state = {}
    for cell in cells:
        if cell["embedded"]:
            value = "embedded"
        elif cell["pilot"]:
            value = "pilot"
        else:
            value = "other"
        state[(cell["country"], cell["sector"])] = value
    names = _labels(Country, [row["country"] for row in countries])
    sectors = list(Sector.objects.all())
    result = []
    for row in countries:
        code = row.pop("country")
        result.append(
            CountryBeyond(
                country=names[code],
                cells=[(sector, state.get((code, sector.code), "")) for sector in sectors],
                **row,
            )
        )
    return result, sectors


# --- 2. Maturity against the survey indicators ------------------------------------------


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
    return f"{value.quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


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
        return exact.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)

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
        if self.embedded_total:
            embedded = _("%(percent)s of embedded initiatives") % {
                "percent": _whole(self.embedded_percent)
            }
        else:
            embedded = _("no embedded initiatives to compare")
        if self.pilot_total:
            pilots = _("%(percent)s of pilots") % {"percent": _whole(self.pilot_percent)}
        else:
            pilots = _("no pilots to compare")
        text = _("%(item)s: %(embedded)s vs %(pilots)s") % {
            "item": self.item.label,
            "embedded": embedded,
            "pilots": pilots,
        }
        verb = QUESTION_VERBS.get(self.question_code, _("ticked it"))
        if self.survey_percent is not None:
            text += "; " + _("%(percent)s of survey respondents %(verb)s") % {
                "percent": _whole(self.survey_percent),
                "verb": verb,
            }
        if self.reference_percent is not None:
            text += "; " + _("%(percent)s of OECD respondents %(verb)s (published)") % {
                "percent": _whole(self.reference_percent),
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
        )
        for item in items
    ]


# --- 3. Country profile ------------------------------------------------------------------


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
            "pk",
            filter=Q(accountability__isnull=False) & ~Q(accountability__accountable_body=""),
        ),
        with_budget=Count("pk", filter=Q(budget__amount__isnull=False)),
        self_directed=Count("pk", filter=Q(budget__resources_transferred=True)),
    )
    # Not named `budget` in the query: that is the name of the relation.
    counts["budget"] = counts.pop("with_budget")
    return Coverage(**counts)


# --- 4. Evidence and business case -------------------------------------------------------

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
        sectors = _labels(Sector, [row["sector"] for row in rows])
        label_of = {code: sector.label for code, sector in sectors.items()}
        order = sorted(label_of)
    else:
        label_of = dict(Stage.choices)
        order = Stage.values
    by_code = {row.pop(dimension): row for row in rows}
    result = [
        EvidenceRow(
            code=code,
            label=label_of[code],
            total=by_code[code].pop("total"),
            counts=by_code[code],
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
        return (self.benefits / self.costs).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


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


# --- 5. Embedding readiness --------------------------------------------------------------

ENGAGED_PARTNERS = (PartnerType.CITIZEN, PartnerType.USER)
EVIDENCE_ENOUGH = (EvidenceLevel.MONITORED, EvidenceLevel.FORMALLY_EVALUATED)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    next_step: str


# The rule, in the order shown to people; README "Embedding readiness" says the same.
READINESS_CHECKS = (
    Check(
        "leadership",
        gettext_lazy("Senior leadership commitment recorded"),
        gettext_lazy(
            "Record the commitment of senior public officials (tag the success factor "
            "“Leadership and commitment from senior public officials”)."
        ),
    ),
    Check(
        "engagement",
        gettext_lazy("Citizens or service users take part in at least two phases"),
        gettext_lazy(
            "Involve citizens or service users in at least two of the phases commission, "
            "design, deliver and assess, and record it in “who does what”."
        ),
    ),
    Check(
        "accountability",
        gettext_lazy("Accountable body named and roles written down"),
        gettext_lazy(
            "Name the accountable body and write down roles and responsibilities in the "
            "accountability framework."
        ),
    ),
    Check(
        "funding",
        gettext_lazy("Funding secured beyond the pilot"),
        gettext_lazy("Secure funding beyond the pilot and record it in the budget framework."),
    ),
    Check(
        "evidence",
        gettext_lazy("Evidence at least monitored"),
        gettext_lazy(
            "Monitor the results (or have them formally evaluated) and record the level of "
            "evidence in the budget framework."
        ),
    ),
    Check(
        "barriers",
        gettext_lazy("Barriers met are listed and each is addressed"),
        gettext_lazy(
            "List the barriers the initiative met and, for each one, record that it is addressed."
        ),
    ),
)


def _engaged_phases():
    """Distinct phases in which citizens or service users take part, as a subquery."""
    phases = (
        Participation.objects.filter(initiative=OuterRef("pk"), partner_type__in=ENGAGED_PARTNERS)
        .order_by()
        .values("initiative")
        .annotate(phases=Count("phase", distinct=True))
        .values("phases")
    )
    return Subquery(phases, output_field=IntegerField())


def _barriers_all_addressed():
    barriers = Initiative.barriers.through.objects.filter(initiative=OuterRef("pk"))
    addressed = Initiative.barriers_addressed.through.objects.filter(
        initiative=OuterRef(OuterRef("pk"))
    ).values("item")
    return Exists(barriers) & ~Exists(barriers.exclude(item__in=addressed))


def with_readiness(queryset):
    """Annotate each readiness check (`check_<key>`, a boolean) and `readiness_score`."""
    leadership = Initiative.factors.through.objects.filter(
        initiative=OuterRef("pk"), item__question__code="factors", item__code="leadership"
    )
    accountability = AccountabilityFramework.objects.filter(
        initiative=OuterRef("pk"), roles_written=True
    ).exclude(accountable_body="")
    budgets = BudgetFramework.objects.filter(initiative=OuterRef("pk"))
    annotated = queryset.annotate(
        engaged_phases=_engaged_phases(),
        check_leadership=Exists(leadership),
        check_accountability=Exists(accountability),
        check_funding=Exists(budgets.filter(funded_beyond_pilot=True)),
        check_evidence=Exists(budgets.filter(evidence_level__in=EVIDENCE_ENOUGH)),
        check_barriers=_barriers_all_addressed(),
    ).annotate(
        check_engagement=Case(
            When(engaged_phases__gte=2, then=Value(True)),
            default=Value(False),
        )
    )
    score = sum(
        (
            Case(When(**{f"check_{check.key}": True}, then=Value(1)), default=Value(0))
            for check in READINESS_CHECKS
        ),
        start=Value(0),
    )
    return annotated.annotate(readiness_score=score)


@dataclass
class Readiness:
    initiative: Initiative

    @property
    def checks(self):
        """(check, met) in the order of the rule."""
        return [
            (check, bool(getattr(self.initiative, f"check_{check.key}")))
            for check in READINESS_CHECKS
        ]

    @property
    def missing(self):
        return [check for check, met in self.checks if not met]

    @property
    def score(self):
        return self.initiative.readiness_score

    @property
    def out_of(self):
        return len(READINESS_CHECKS)

    @property
    def ready(self):
        return self.score == self.out_of


def readiness_list(queryset):
    """Pilots with their checks, readiest first; one query."""
    pilots = (
        with_readiness(queryset.filter(stage=Stage.PILOT))
        .select_related("country", "sector")
        .order_by("-readiness_score", "reference")
    )
    return [Readiness(initiative) for initiative in pilots]


def readiness_of(initiative):
    """The checklist of one pilot; None when the initiative is not a pilot. One query."""
    if initiative.stage != Stage.PILOT:
        return None
    annotated = with_readiness(Initiative.objects.filter(pk=initiative.pk)).first()
    return Readiness(annotated) if annotated else None


@dataclass
class ReadinessSummary:
    pilots: int
    ready: int
    counts: dict

    @property
    def cells(self):
        """(check, pilots meeting it, share of pilots) in the order of the rule."""
        return [
            (check, self.counts[check.key], percent(self.counts[check.key], self.pilots))
            for check in READINESS_CHECKS
        ]


def readiness_summary(queryset):
    """How many pilots meet each check, and how many meet them all; one query."""
    annotated = with_readiness(queryset.filter(stage=Stage.PILOT).order_by())
    aggregates = {
        check.key: Count("pk", filter=Q(**{f"check_{check.key}": True}))
        for check in READINESS_CHECKS
    }
    counts = annotated.aggregate(
        pilots=Count("pk"),
        ready=Count("pk", filter=Q(readiness_score=len(READINESS_CHECKS))),
        **aggregates,
    )
    return ReadinessSummary(pilots=counts.pop("pilots"), ready=counts.pop("ready"), counts=counts)
