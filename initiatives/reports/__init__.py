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
    "ONE_DECIMAL",
    "TAG_FIELDS",
    "percent",
    "rounded",
    "public_initiatives",
    "labels_by_code",
    "StageRow",
    "stage_totals",
    "stages_by",
    "ever_piloted",
    "Conversion",
    "conversion",
    "DaysBetween",
    "PercentileCont",
    "with_days_to_embedding",
    "percentile_cont",
    "Quartiles",
    "TimeToEmbedding",
    "time_to_embedding",
    "CountryBeyond",
    "beyond_piloting",
    "stage_on",
    "with_report_stage",
    "QUESTION_VERBS",
    "CSV_COLUMNS",
    "ItemComparison",
    "maturity_against_indicators",
    "IndicatorPair",
    "country_indicators",
    "Coverage",
    "frameworks_coverage",
    "HAS_BUDGET",
    "HAS_HOURS",
    "HAS_COSTS_AND_BENEFITS",
    "NO_EVIDENCE",
    "EVIDENCE_COLUMNS",
    "EvidenceRow",
    "evidence_by",
    "CurrencyTotals",
    "money_by_currency",
    "citizen_hours",
    "business_case",
    "ENGAGED_PARTNERS",
    "EVIDENCE_ENOUGH",
    "Check",
    "READINESS_CHECKS",
    "with_readiness",
    "Readiness",
    "pilots_by_readiness",
    "readiness_of",
    "ReadinessSummary",
    "readiness_summary",
]
