"""The survey's public indicator report, as a page with charts and as CSV."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from coprod_site.csvfiles import csv_response

from . import charts
from .forms import IndicatorForm
from .models import Country, Sector
from .reports import cached_indicator_rows

CSV_COLUMNS = (
    "wave",
    "question",
    "item",
    "item_label",
    "country",
    "sector",
    "affirmative",
    "responses",
    "percent",
    "reference_percent",
)


def _group_names(by, codes):
    """Readable names of the countries or sectors in a breakdown, in one query."""
    if by == "country":
        return dict(Country.objects.filter(code__in=codes).values_list("code", "name"))
    return {sector.code: str(sector) for sector in Sector.objects.filter(code__in=codes)}


class IndicatorReportMixin:
    """Reads and checks the parameters shared by the page and its CSV twin."""

    def parameters(self):
        form = IndicatorForm.from_query(self.request.GET)
        if not form.is_valid():
            return form, None
        data = form.cleaned_data
        return form, {
            "wave": data["wave"],
            "question": data["question"],
            "country": data["country"],
            "sector": data["sector"],
            "by": data["by"] or None,
        }

    @staticmethod
    def problems(form):
        return [str(error) for errors in form.errors.values() for error in errors]


class IndicatorsView(IndicatorReportMixin, View):
    template_name = "survey/indicators.html"

    def get(self, request):
        form, params = self.parameters()
        if params is None:
            return render(
                request,
                self.template_name,
                {"form": form, "problems": self.problems(form)},
                status=400,
            )
        wave, question, by = params["wave"], params["question"], params["by"]
        filters = {"country": params["country"], "sector": params["sector"]}
        rows = cached_indicator_rows(wave=wave, question=question, **filters)
        # The table reads in the chart's order: largest share first, items without data last.
        rows = sorted(
            rows, key=lambda row: (row.percent_rounded is None, -(row.percent_rounded or 0))
        )
        scope = [str(v) for v in filters.values() if v is not None]
        title = " · ".join([str(question.label), wave.code, *scope])
        marker = _("Published by the OECD")
        chart = charts.bar_chart(
            title=title,
            rows=[(row.item.label, row.percent_rounded, row.reference_percent) for row in rows],
            marker_label=marker,
            axis_label=_("Share of responses ticking the item (%)"),
            chart_id="indicators-chart",
        )
        context = {
            "form": form,
            "wave": wave,
            "question": question,
            "country": params["country"],
            "sector": params["sector"],
            "by": by,
            "rows": rows,
            "responses": rows[0].responses if rows else 0,
            "title": title,
            "chart": chart,
            "csv_query": urlencode(
                {
                    "wave": wave.code,
                    "question": question.code,
                    "country": params["country"].code if params["country"] else "",
                    "sector": params["sector"].code if params["sector"] else "",
                    "by": by or "",
                }
            ),
        }
        if by:
            context.update(self.breakdown(rows, wave, question, by, filters, marker))
        return render(request, self.template_name, context)

    def breakdown(self, rows, wave, question, by, filters, marker):
        """Items × groups: a table and one small chart per item."""
        detail = cached_indicator_rows(wave=wave, question=question, by=by, **filters)
        codes = sorted({row.group for row in detail})
        names = _group_names(by, codes)
        codes.sort(key=lambda code: names.get(code, code))
        cells = {(row.item.pk, row.group): row for row in detail}
        table = [
            (row.item, [cells.get((row.item.pk, code)) for code in codes], row) for row in rows
        ]
        panels = [
            (
                item.label,
                [
                    (
                        names.get(code, code),
                        cell.percent_rounded if cell else None,
                        overall.reference_percent,
                    )
                    for code, cell in zip(codes, group_cells, strict=True)
                ],
            )
            for item, group_cells, overall in table
        ]
        return {
            "groups": [(code, names.get(code, code)) for code in codes],
            "breakdown": table,
            "multiples": charts.small_multiples(
                title=(
                    _("%(question)s by country") if by == "country" else _("%(question)s by sector")
                )
                % {"question": question.label},
                panels=panels,
                marker_label=marker,
            )
            if codes
            else "",
        }


class IndicatorsCsvView(IndicatorReportMixin, View):
    def get(self, request):
        form, params = self.parameters()
        if params is None:
            message = _("Bad report parameters: %(problems)s") % {
                "problems": " ".join(self.problems(form))
            }
            return HttpResponse(
                message + "\n", status=400, content_type="text/plain; charset=utf-8"
            )
        wave, question, by = params["wave"], params["question"], params["by"]
        country, sector = params["country"], params["sector"]
        rows = cached_indicator_rows(
            wave=wave, question=question, country=country, sector=sector, by=by
        )

        def lines():
            for row in rows:
                yield (
                    wave.code,
                    question.code,
                    row.item.code,
                    row.item.label,
                    row.group if by == "country" else (country.code if country else ""),
                    row.group if by == "sector" else (sector.code if sector else ""),
                    row.affirmative,
                    row.responses,
                    row.percent_rounded if row.responses else "",
                    row.reference_percent,
                )

        name = "-".join(
            part
            for part in (
                "indicators",
                wave.code,
                question.code,
                country.code if country else "",
                sector.code if sector else "",
                f"by-{by}" if by else "",
            )
            if part
        )
        return csv_response(f"{name}.csv", CSV_COLUMNS, lines())
