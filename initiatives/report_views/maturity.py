"""The maturity pipeline and the survey indicators by stage."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import charts, reports
from ..models import Stage
from .base import IndicatorFilterSet, ReportView, stage_header, stage_rows


class MaturityPipelineView(ReportView):
    template_name = "reports/maturity.html"
    slug = "maturity"
    title = gettext_lazy("Maturity pipeline")
    table_names = ("stages", "sectors", "countries", "conversion", "time", "beyond")

    def build(self, queryset):
        totals = reports.stage_totals(queryset)
        sectors = reports.stages_by(queryset, "sector")
        countries = reports.stages_by(queryset, "country")
        conversion = reports.conversion(queryset)
        timing = reports.time_to_embedding(queryset)
        beyond, all_sectors = reports.beyond_piloting(queryset)
        return {
            "totals": totals,
            "sectors": sectors,
            "countries": countries,
            "conversion": conversion,
            "timing": timing,
            "beyond": beyond,
            "all_sectors": all_sectors,
            "stage_chart": charts.stages_by_sector(sectors),
            "timing_chart": charts.time_to_embedding(timing),
            "stages": Stage.choices,
        }

    def tables(self, report):
        timing = report["timing"]
        return {
            "stages": (
                ["stage", "stage_label", "initiatives", "percent"],
                [
                    [code, label, count, share]
                    for code, label, count, share in report["totals"].cells
                ]
                + [["", _("All initiatives"), report["totals"].total, None]],
            ),
            "sectors": (
                stage_header("sector", "sector_label"),
                stage_rows(report["sectors"]),
            ),
            "countries": (
                stage_header("country", "country_name"),
                stage_rows(report["countries"]),
            ),
            "conversion": (
                ["outcome", "outcome_label", "initiatives", "percent"],
                [
                    [code, label, count, share]
                    for code, label, count, share in report["conversion"].cells
                ]
                + [["", _("Ever a pilot"), report["conversion"].total, None]],
            ),
            "time": (
                [
                    "sector",
                    "sector_label",
                    "initiatives",
                    "q1_days",
                    "median_days",
                    "q3_days",
                    "initiatives_on_reported_dates",
                ],
                [
                    [row.code or "", row.label, row.count, row.q1, row.median, row.q3, row.reported]
                    for row in [*timing.by_sector, timing.overall]
                ],
            ),
            "beyond": (
                [
                    "country",
                    "country_name",
                    "sectors_beyond_piloting",
                    "sectors",
                    "initiatives",
                    "embedded",
                    "sectors_beyond_piloting_codes",
                ],
                [
                    [
                        row.country.code,
                        row.country.name,
                        row.sectors_beyond,
                        row.sectors,
                        row.initiatives,
                        row.embedded,
                        " ".join(sector.code for sector, state in row.cells if state == "embedded"),
                    ]
                    for row in report["beyond"]
                ],
            ),
        }


class MaturityIndicatorsView(ReportView):
    template_name = "reports/indicators.html"
    slug = "maturity-indicators"
    title = gettext_lazy("Maturity against the survey indicators")
    filterset_class = IndicatorFilterSet
    table_names = ("items",)

    def filter_data(self):
        # Defaults that make the page meaningful on the first visit.
        data = self.with_latest_wave()
        if not data.get("question"):
            data["question"] = "factors"
        return data

    def build(self, queryset):
        wave = self.params.get("wave")
        question = self.params["question"]
        rows = reports.maturity_against_indicators(
            queryset,
            wave=wave,
            question=question,
            country=self.params.get("country"),
            sector=self.params.get("sector"),
            on=self.params.get("stage_on"),
        )
        return {
            "wave": wave,
            "question": question,
            "stage_on": self.params.get("stage_on"),
            "rows": rows,
            # The page's table and sentences in the chart's order (largest share of embedded
            # initiatives first, empty ones last); the CSV keeps the items' own order.
            "rows_by_share": sorted(
                rows, key=lambda row: (row.embedded_percent is None, -(row.embedded_percent or 0))
            ),
            # Every row shares the two group totals.
            "compared": bool(rows and (rows[0].embedded_total or rows[0].pilot_total)),
            "chart": charts.maturity_against_indicators(rows, question=question, wave=wave),
        }

    def tables(self, report):
        return {"items": (list(reports.CSV_COLUMNS), [row.as_row() for row in report["rows"]])}
