"""Maturity pipeline: stages by sector and country, pilots converted, time to embedding."""

from dataclasses import dataclass, field
from decimal import Decimal

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
    Min,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from survey.models import Country, Sector

from ..models import Stage, StageChange
from .common import labels_by_code, percent, rounded


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
    objects = labels_by_code(model, [row[dimension] for row in rows])
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


def with_days_to_embedding(queryset):
    """One row per initiative that went from pilot to embedded: its sector and the days it took.

    From the stage history, not the current stage: the days from the first entry into
    `pilot` to the first entry into `embedded`. An initiative embedded before it was ever a
    pilot is left out (a negative time means it never went from pilot to embedded). One
    grouped pass over the initiatives joined to their stage history, grouped by initiative:
    the sector comes from the same row, so the initiatives are read once and the history
    once, whatever their number. `on_reported_dates` is 1 when the first pilot date or the
    first embedded date is still only reported (a group's date no case officer confirmed).
    """

    def confirmed(stage):
        return Q(stage_changes__to_stage=stage, stage_changes__confirmed_at__isnull=False)

    joined = {join.table_name for join in queryset.query.alias_map.values()}
    if StageChange._meta.db_table in joined:
        # The queryset already filters through the stage history: an annotation would reuse
        # that join and see only the matching changes. Start again from its initiatives.
        queryset = queryset.model.objects.filter(pk__in=queryset.values("pk"))
    return (
        queryset.order_by()
        .values("pk", "sector")
        .annotate(
            first_pilot=Min(
                "stage_changes__changed_on", filter=Q(stage_changes__to_stage=Stage.PILOT)
            ),
            first_embedded=Min(
                "stage_changes__changed_on", filter=Q(stage_changes__to_stage=Stage.EMBEDDED)
            ),
            confirmed_pilot=Min("stage_changes__changed_on", filter=confirmed(Stage.PILOT)),
            confirmed_embedded=Min("stage_changes__changed_on", filter=confirmed(Stage.EMBEDDED)),
        )
        .filter(first_pilot__isnull=False, first_embedded__gte=F("first_pilot"))
        .annotate(
            days_to_embedding=DaysBetween("first_embedded", "first_pilot"),
            # The two dates measured from are confirmed ones (the earliest of each stage).
            on_reported_dates=Case(
                When(
                    Q(confirmed_pilot=F("first_pilot"), confirmed_embedded=F("first_embedded")),
                    then=Value(0),
                ),
                default=Value(1),
            ),
        )
        .values("sector", "days_to_embedding", "on_reported_dates")
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
    # Of `count`, the initiatives whose pilot or embedded date is still only reported.
    reported: int = 0

    @classmethod
    def of(cls, code, label, values, link=None, reported=0):
        return cls(
            code=code,
            label=label,
            count=len(values),
            q1=rounded(percentile_cont(values, 0.25)),
            median=rounded(percentile_cont(values, 0.5)),
            q3=rounded(percentile_cont(values, 0.75)),
            link=link,
            reported=reported,
        )


@dataclass
class TimeToEmbedding:
    overall: Quartiles
    by_sector: list


def _quartile_aggregates(suffix="", **filter_):
    days = F("days_to_embedding")
    condition = Q(**filter_) if filter_ else None
    return {
        f"count{suffix}": Count("days_to_embedding", filter=condition),
        f"reported{suffix}": Coalesce(Sum("on_reported_dates", filter=condition), 0),
        f"q1{suffix}": PercentileCont(days, 0.25, filter=condition),
        f"median{suffix}": PercentileCont(days, 0.5, filter=condition),
        f"q3{suffix}": PercentileCont(days, 0.75, filter=condition),
    }


def time_to_embedding(queryset, *, in_database=None):
    """Median and quartiles of the days from first pilot to first embedded, overall and by sector.

    On PostgreSQL `percentile_cont` computes them, every sector in the same query (one
    FILTER per sector); on other backends one query fetches the per-initiative durations
    and the same interpolation is done here. Two queries either way (the sectors are the
    second). `in_database` forces one path (the tests compare both).
    """
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    timed = with_days_to_embedding(queryset)
    sectors = Sector.objects.in_bulk()
    if in_database:
        aggregates = _quartile_aggregates()
        for code in sectors:
            aggregates.update(_quartile_aggregates(f"_{code}", sector=code))
        row = timed.aggregate(**aggregates)

        def quartiles(code, label, suffix="", link=None):
            return Quartiles(
                code=code,
                label=label,
                count=row[f"count{suffix}"],
                q1=rounded(row[f"q1{suffix}"]),
                median=rounded(row[f"median{suffix}"]),
                q3=rounded(row[f"q3{suffix}"]),
                link=link,
                reported=row[f"reported{suffix}"],
            )

        result = TimeToEmbedding(
            overall=quartiles(None, _("All sectors")),
            by_sector=[
                quartiles(code, sector.label, f"_{code}", sector)
                for code, sector in sectors.items()
                if row[f"count_{code}"]
            ],
        )
    else:
        durations = list(timed.values_list("sector", "days_to_embedding", "on_reported_dates"))
        per_sector, reported = {}, {}
        for sector, days, on_reported_dates in durations:
            per_sector.setdefault(sector, []).append(days)
            reported[sector] = reported.get(sector, 0) + on_reported_dates
        result = TimeToEmbedding(
            overall=Quartiles.of(
                None,
                _("All sectors"),
                [days for _s, days, _r in durations],
                reported=sum(reported.values()),
            ),
            by_sector=[
                Quartiles.of(code, sectors[code].label, values, sectors[code], reported[code])
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

    Countries come sorted by the number of sectors beyond piloting (most first), then by
    embedded initiatives. One grouped query gives the country-by-sector cells (at most
    countries x sectors rows); the country totals are added up from those cells, so the
    initiatives are read once. Two more queries fetch the names.
    """
    cells = (
        queryset.order_by()
        .values("country", "sector")
        .annotate(
            initiatives=Count("pk"),
            embedded=Count("pk", filter=Q(stage=Stage.EMBEDDED)),
            pilot=Count("pk", filter=Q(stage=Stage.PILOT)),
        )
    )
    state, totals = {}, {}
    for cell in cells:
        country = cell["country"]
        if cell["embedded"]:
            state[(country, cell["sector"])] = "embedded"
        elif cell["pilot"]:
            state[(country, cell["sector"])] = "pilot"
        else:
            state[(country, cell["sector"])] = "other"
        total = totals.setdefault(
            country, {"sectors_beyond": 0, "sectors": 0, "initiatives": 0, "embedded": 0}
        )
        total["sectors"] += 1
        total["sectors_beyond"] += 1 if cell["embedded"] else 0
        total["initiatives"] += cell["initiatives"]
        total["embedded"] += cell["embedded"]
    names = labels_by_code(Country, totals)
    sectors = list(Sector.objects.all())
    result = [
        CountryBeyond(
            country=names[code],
            cells=[(sector, state.get((code, sector.code), "")) for sector in sectors],
            **total,
        )
        for code, total in totals.items()
    ]
    result.sort(key=lambda row: (-row.sectors_beyond, -row.embedded, row.country.name))
    return result, sectors
