"""Reports that tie initiative maturity (pilot versus embedded) to the survey's indicators.

Every figure is computed by the database (`annotate`, `Count(filter=...)`, `values()`,
subqueries); Python only arranges the few aggregated rows that come back. Each report
runs a fixed number of queries whatever the number of initiatives.

The reports count what the public sees (`Initiative.objects.published()`: published
and not archived) except the readiness list, which is for staff and counts every
active pilot. Survey figures come from `survey.reports.indicator_rows`, so that the
OECD formula lives in one place.
"""

from .common import (
    ONE_DECIMAL,
    TAG_FIELDS,
    labels_by_code,
    percent,
    public_initiatives,
    rounded,
)
from .country import (
    Coverage,
    IndicatorPair,
    country_indicators,
    frameworks_coverage,
)
from .evidence import (
    EVIDENCE_COLUMNS,
    HAS_BUDGET,
    HAS_COSTS_AND_BENEFITS,
    HAS_HOURS,
    NO_EVIDENCE,
    CurrencyTotals,
    EvidenceRow,
    business_case,
    citizen_hours,
    evidence_by,
    money_by_currency,
)
from .indicators import (
    CSV_COLUMNS,
    QUESTION_VERBS,
    ItemComparison,
    maturity_against_indicators,
    stage_on,
    with_report_stage,
)
from .pipeline import (
    Conversion,
    CountryBeyond,
    DaysBetween,
    PercentileCont,
    Quartiles,
    StageRow,
    TimeToEmbedding,
    beyond_piloting,
    conversion,
    ever_piloted,
    percentile_cont,
    stage_totals,
    stages_by,
    time_to_embedding,
    with_days_to_embedding,
)
from .readiness import (
    ENGAGED_PARTNERS,
    EVIDENCE_ENOUGH,
    READINESS_CHECKS,
    Check,
    Readiness,
    ReadinessSummary,
    pilots_by_readiness,
    readiness_of,
    readiness_summary,
    with_readiness,
)

__all__ = [
    "CSV_COLUMNS",
    "ENGAGED_PARTNERS",
    "EVIDENCE_COLUMNS",
    "EVIDENCE_ENOUGH",
    "HAS_BUDGET",
    "HAS_COSTS_AND_BENEFITS",
    "HAS_HOURS",
    "NO_EVIDENCE",
    "ONE_DECIMAL",
    "QUESTION_VERBS",
    "READINESS_CHECKS",
    "TAG_FIELDS",
    "Check",
    "Conversion",
    "CountryBeyond",
    "Coverage",
    "CurrencyTotals",
    "DaysBetween",
    "EvidenceRow",
    "IndicatorPair",
    "ItemComparison",
    "PercentileCont",
    "Quartiles",
    "Readiness",
    "ReadinessSummary",
    "StageRow",
    "TimeToEmbedding",
    "beyond_piloting",
    "business_case",
    "citizen_hours",
    "conversion",
    "country_indicators",
    "ever_piloted",
    "evidence_by",
    "frameworks_coverage",
    "labels_by_code",
    "maturity_against_indicators",
    "money_by_currency",
    "percent",
    "percentile_cont",
    "pilots_by_readiness",
    "public_initiatives",
    "readiness_of",
    "readiness_summary",
    "rounded",
    "stage_on",
    "stage_totals",
    "stages_by",
    "time_to_embedding",
    "with_days_to_embedding",
    "with_readiness",
    "with_report_stage",
]
