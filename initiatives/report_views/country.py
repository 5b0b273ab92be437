"""A country profile: its initiatives beside its survey answers."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from survey.models import Country, Question

from .. import charts, reports
from ..models import Stage
from .base import CountryProfileFilterSet, ReportView, stage_header, stage_rows


class CountryProfileView(ReportView):
    template_name = "reports/country.html"
    filterset_class = CountryProfileFilterSet
    table_names = ("indicators", "sectors", "frameworks")

    def get(self, request, *args, **kwargs):
        code = kwargs["code"]
        if code != code.upper():
            raise Http404
        self.country = get_object_or_404(Country, code=code)
        return super().get(request, *args, **kwargs)

    @property
    def slug(self):
        return f"country-{self.country.code}"

    @property
    def title(self):
        return self.country.name

    def base_queryset(self):
        return reports.public_initiatives().filter(country=self.country)

    def filter_data(self):
        return self.with_latest_wave()

    def build(self, queryset):
        wave = self.params.get("wave")
        sector = self.params.get("sector")
        questions = list(Question.objects.filter(code__in=reports.TAG_FIELDS))
        indicators = (
            reports.country_indicators(
                wave=wave, questions=questions, country=self.country, sector=sector
            )
            if wave
            else []
        )
        sectors = reports.stages_by(queryset, "sector")
        return {
            "country": self.country,
            "wave": wave,
            "indicators": indicators,
            # A question nobody answered has no chart, only its published values.
            "indicator_charts": [
                (question, charts.country_indicators(question, pairs, self.country))
                for question, pairs in indicators
                if any(pair.all_percent is not None for pair in pairs)
            ],
            "totals": reports.stage_totals(queryset),
            "sectors": sectors,
            "beyond_sectors": [row for row in sectors if row.beyond_piloting],
            "coverage": reports.frameworks_coverage(queryset),
            "stage_chart": charts.stages_by_sector(sectors),
            "stages": Stage.choices,
        }

    def tables(self, report):
        code, name = self.country.code, self.country.name
        return {
            "indicators": (
                [
                    "country",
                    "country_name",
                    "question",
                    "item",
                    "item_label",
                    "country_percent",
                    "all_countries_percent",
                    "reference_percent",
                ],
                [
                    [
                        code,
                        name,
                        question.code,
                        pair.item.code,
                        pair.item.label,
                        pair.country_percent,
                        pair.all_percent,
                        pair.reference_percent,
                    ]
                    for question, pairs in report["indicators"]
                    for pair in pairs
                ],
            ),
            "sectors": (
                ["country", "country_name", *stage_header("sector", "sector_label"), "beyond"],
                (
                    [code, name, *row, sector.beyond_piloting]
                    for row, sector in zip(
                        stage_rows(report["sectors"]), report["sectors"], strict=True
                    )
                ),
            ),
            "frameworks": (
                ["country", "country_name", "aspect", "aspect_label", "initiatives", "percent"],
                [
                    [code, name, key, label, count, share]
                    for key, label, count, share in report["coverage"].cells
                ],
            ),
        }
