"""The survey's public indicator report, as a page with charts and as CSV; the pages of
background jobs."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from core import charts
from core.csvfiles import csv_response
from core.spreadsheets import xlsx_response

from .forms import IndicatorForm, WaveComparisonForm
from .jobs import (
    applicable,
    export_available,
    export_expires_at,
    job_apply,
    job_retry,
    preview_expired,
    reap_stale_jobs,
    visible_jobs,
)
from .models import Country, Sector
from .reports import cached_indicator_rows, wave_comparison
from .uploads import KEEP_HOURS

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


class ReportParametersMixin:
    """Reads and checks the parameters a report page shares with its CSV twin, and refuses
    bad ones: the page shows the form's problems, the file says them in plain text.
    Subclasses name the `form_class` (a form with `from_query`)."""

    template_name = ""

    def parameters(self):
        """(form, parameters), or (form, None) when the query is not valid."""
        form = self.form_class.from_query(self.request.GET)
        if not form.is_valid():
            return form, None
        return form, self.clean_parameters(form.cleaned_data)

    def clean_parameters(self, data):
        return data

    @staticmethod
    def problems(form):
        return [str(error) for errors in form.errors.values() for error in errors]

    def refused_page(self, form):
        context = {"form": form, "problems": self.problems(form)}
        return render(self.request, self.template_name, context, status=400)

    def refused_file(self, form):
        message = _("Bad report parameters: %(problems)s") % {
            "problems": " ".join(self.problems(form))
        }
        return HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")


class IndicatorReportMixin(ReportParametersMixin):
    form_class = IndicatorForm

    def clean_parameters(self, data):
        return {
            "wave": data["wave"],
            "question": data["question"],
            "country": data["country"],
            "sector": data["sector"],
            "by": data["by"] or None,
        }


class IndicatorsView(IndicatorReportMixin, View):
    template_name = "survey/indicators.html"

    def get(self, request):
        form, params = self.parameters()
        if params is None:
            return self.refused_page(form)
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
            return self.refused_file(form)
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
        if request.GET.get("format") == "xlsx":
            return xlsx_response(f"{name}.xlsx", CSV_COLUMNS, lines())
        return csv_response(f"{name}.csv", CSV_COLUMNS, lines())


class JobMixin(LoginRequiredMixin):
    """A person's own background job; anyone else's is not found."""

    def get_job(self, pk):
        return get_object_or_404(visible_jobs(self.request.user), pk=pk)


class JobView(JobMixin, View):
    """How a background job is doing: progress while it runs, its outcome after."""

    def get(self, request, pk):
        reap_stale_jobs()
        job = self.get_job(pk)
        return render(request, "survey/job.html", job_context(job))


def job_context(job):
    return {
        "job": job,
        "download": export_available(job),
        "expires_at": export_expires_at(job),
        "keep_hours": settings.JOB_KEEP_HOURS,
        "refresh_seconds": 2,
        "applicable": applicable(job),
        "preview_expired": preview_expired(job),
        "upload_keep_hours": KEEP_HOURS,
    }


class JobRetryView(JobMixin, View):
    def post(self, request, pk):
        job = job_retry(job=self.get_job(pk), by=request.user)
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("jobs:detail", args=[job.pk])
        return redirect(target)


class JobApplyView(JobMixin, View):
    """Run for real a dry run that found nothing wrong; on to the new job's page (in the
    admin when asked from there)."""

    def post(self, request, pk):
        job = job_apply(job=self.get_job(pk), by=request.user)
        if request.POST.get("admin"):
            return redirect("admin:survey_job_change", job.pk)
        return redirect("jobs:detail", job.pk)


class JobDownloadView(JobMixin, View):
    """An export's file, for its owner only, while it is kept (JOB_KEEP_HOURS)."""

    def get(self, request, pk):
        job = self.get_job(pk)
        if not export_available(job):
            raise Http404
        name = f"survey-{job.params.get('wave') or 'all'}.csv"
        return FileResponse(
            default_storage.open(job.result_file, "rb"),
            as_attachment=True,
            filename=name,
            content_type="text/csv; charset=utf-8",
        )


WAVE_CSV_COLUMNS = (
    "question",
    "item",
    "item_label",
    "wave",
    "country",
    "sector",
    "affirmative",
    "responses",
    "percent",
    "change_points",
    "reference_percent",
)


class WaveComparisonMixin(ReportParametersMixin):
    form_class = WaveComparisonForm

    @staticmethod
    def rows(params):
        return wave_comparison(
            question=params["question"],
            waves=params["wave"],
            country=params["country"],
            sector=params["sector"],
        )

    @staticmethod
    def query(params):
        return urlencode(
            [("question", params["question"].code)]
            + [("wave", wave.code) for wave in params["wave"]]
            + [
                ("country", params["country"].code if params["country"] else ""),
                ("sector", params["sector"].code if params["sector"] else ""),
            ]
        )


class WaveComparisonView(WaveComparisonMixin, View):
    """One question across survey waves: each item's percentage per wave and its change."""

    template_name = "survey/waves.html"

    def get(self, request):
        form, params = self.parameters()
        if params is None:
            return self.refused_page(form)
        rows = self.rows(params)
        question, waves = params["question"], params["wave"]
        scope = [str(v) for v in (params["country"], params["sector"]) if v is not None]
        title = " · ".join([str(question.label), _("waves compared"), *scope])
        chart = charts.grouped_bar_chart(
            title=title,
            series=[wave.code for wave in waves],
            rows=[
                (
                    row.item.label,
                    [cell.percent_rounded for cell in row.cells],
                    next(
                        (
                            cell.reference_percent
                            for cell in reversed(row.cells)
                            if cell.reference_percent is not None
                        ),
                        None,
                    ),
                )
                for row in rows
            ],
            marker_label=_("Published by the OECD"),
            axis_label=_("Share of responses ticking the item (%)"),
            sort=False,
            chart_id="waves-chart",
        )
        table = [(row, list(zip(row.cells, [None, *row.changes], strict=True))) for row in rows]
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "question": question,
                "waves": waves,
                "table": table,
                "title": title,
                "chart": chart if waves and rows else "",
                "csv_query": self.query(params),
            },
        )


class WaveComparisonCsvView(WaveComparisonMixin, View):
    """The report's rows as CSV, or as XLSX with `format="xlsx"` (its URL)."""

    def get(self, request, **kwargs):
        form, params = self.parameters()
        if params is None:
            return self.refused_file(form)
        rows = self.rows(params)
        question = params["question"]
        country = params["country"].code if params["country"] else ""
        sector = params["sector"].code if params["sector"] else ""

        def lines():
            for row in rows:
                for cell, change in zip(row.cells, [None, *row.changes], strict=True):
                    yield (
                        question.code,
                        row.item.code,
                        row.item.label,
                        cell.wave.code,
                        country,
                        sector,
                        cell.affirmative if cell.asked else "",
                        cell.responses if cell.asked else "",
                        "" if cell.percent_rounded is None else cell.percent_rounded,
                        "" if change is None else change,
                        cell.reference_percent,
                    )

        name = "-".join(part for part in ("waves", question.code, country, sector) if part)
        if self.kwargs.get("format") == "xlsx":
            return xlsx_response(
                f"{name}.xlsx", WAVE_CSV_COLUMNS, lines(), sheet=question.code[:31]
            )
        return csv_response(f"{name}.csv", WAVE_CSV_COLUMNS, lines())
