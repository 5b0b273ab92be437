"""One page per maturity report, each with its FilterSet and CSV and XLSX twins
(`?format=csv`, `?format=xlsx`); one module per report, what they share in `base`.

A report page may hold several tables; `?format=csv&table=<name>` downloads one of them
with exactly the numbers on screen, codes and labels side by side. A computed report is
kept in the cache until the data changes (core/reportcache.py), so the page and its
CSV tables agree and a busy report is computed once per change, not once per visitor.
"""

from .base import ReportsIndexView, ReportView, countries_with_data
from .country import CountryProfileView
from .evidence import EvidenceView
from .maturity import MaturityIndicatorsView, MaturityPipelineView
from .readiness import ReadinessView, StaffOnlyMixin

__all__ = [
    "CountryProfileView",
    "EvidenceView",
    "MaturityIndicatorsView",
    "MaturityPipelineView",
    "ReadinessView",
    "ReportView",
    "ReportsIndexView",
    "StaffOnlyMixin",
    "countries_with_data",
]
