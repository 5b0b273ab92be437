"""Evidence and budgets, by stage and by sector."""

from django.utils.translation import gettext_lazy

from .. import charts, reports
from .base import ReportView


def _evidence_header(first, first_label):
    header = [first, first_label, "initiatives"]
    for key, _label in reports.EVIDENCE_COLUMNS:
        header += [key, f"{key}_percent"]
    return header


def _evidence_rows(rows):
    for row in rows:
        cells = []
        for _key, _label, count, share in row.cells:
            cells += [count, share]
        yield [row.code or "", row.label, row.total, *cells]


class EvidenceView(ReportView):
    template_name = "reports/evidence.html"
    slug = "evidence"
    title = gettext_lazy("Evidence and business case")
    table_names = ("stages", "sectors", "money")

    def build(self, queryset):
        by_stage = reports.evidence_by(queryset, "stage")
        return {
            "by_stage": by_stage,
            "by_sector": reports.evidence_by(queryset, "sector"),
            "money": reports.money_by_currency(queryset),
            "hours": reports.citizen_hours(queryset),
            "columns": reports.EVIDENCE_COLUMNS,
            "evidence_chart": charts.evidence_by_stage(by_stage),
        }

    def tables(self, report):
        return {
            "stages": (
                _evidence_header("stage", "stage_label"),
                _evidence_rows(report["by_stage"]),
            ),
            "sectors": (
                _evidence_header("sector", "sector_label"),
                _evidence_rows(report["by_sector"]),
            ),
            "money": (
                [
                    "currency",
                    "initiatives",
                    "budget",
                    "with_costs_and_benefits",
                    "estimated_costs",
                    "estimated_benefits",
                    "benefit_cost_ratio",
                    "benefits_at_least_costs",
                ],
                [
                    [
                        row.currency,
                        row.initiatives,
                        row.total_budget,
                        row.with_costs_benefits,
                        row.costs,
                        row.benefits,
                        row.benefit_cost_ratio,
                        row.benefits_at_least_costs,
                    ]
                    for row in report["money"]
                ],
            ),
        }
