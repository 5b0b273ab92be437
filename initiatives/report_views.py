"""One page per maturity report, each with its FilterSet and CSV and XLSX twins
(`?format=csv`, `?format=xlsx`).

A report page may hold several tables; `?format=csv&table=<name>` downloads one of them
with exactly the numbers on screen, codes and labels side by side. A computed report is
kept in the cache until the data changes (core/reportcache.py), so the page and its
CSV tables agree and a busy report is computed once per change, not once per visitor.
"""

import django_filters
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core import reportcache
from core.csvfiles import csv_response
from core.spreadsheets import xlsx_response
from survey.models import Country, Question, Respondent, Sector, Wave, country_choices

from . import charts, reports
from .models import Initiative, Level, Stage

#: The files a report table downloads as (`?format=`), beside its page.
TABLE_FORMATS = {"csv": csv_response, "xlsx": xlsx_response}


def countries_with_data():
    """The countries a report can say something about: a published initiative or a survey
    respondent there.

    Two uncorrelated `IN` lists, each read once: the same test as two `EXISTS` joined by OR,
    which PostgreSQL ran once per country as a scan that stops at the first row, and so
    read the whole table for every country without one (52 s at national scale)."""
    return Country.objects.filter(
        Q(pk__in=reports.public_initiatives().values("country"))
        | Q(pk__in=Respondent.objects.values("country"))
    )


class ReportFilterSet(django_filters.FilterSet):
    """The filters every maturity report offers."""

    country = django_filters.ModelChoiceFilter(
        queryset=Country.objects.all(),
        label=gettext_lazy("Country"),
        empty_label=gettext_lazy("Any country"),
    )
    sector = django_filters.ModelChoiceFilter(
        queryset=Sector.objects.all(),
        label=gettext_lazy("Sector"),
        empty_label=gettext_lazy("Any sector"),
    )
    level = django_filters.ChoiceFilter(
        choices=Level.choices,
        label=gettext_lazy("Level of government"),
        empty_label=gettext_lazy("Any level"),
    )
    started_from = django_filters.DateFilter(
        field_name="start_date", lookup_expr="gte", label=gettext_lazy("Started on or after")
    )
    started_to = django_filters.DateFilter(
        field_name="start_date", lookup_expr="lte", label=gettext_lazy("Started on or before")
    )

    class Meta:
        model = Initiative
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("started_from", "started_to"):
            self.form.fields[name].widget.input_type = "date"
        country = self.form.fields.get("country")
        if country is not None:
            # The menu offers the countries with data, by name in the reader's language; any
            # country code is still accepted in the address.
            country.widget.choices = [
                ("", country.empty_label),
                *country_choices(countries_with_data()),
            ]


class CountryFilterSet(ReportFilterSet):
    """The country profile: the country is in the address, not a filter."""

    class Meta(ReportFilterSet.Meta):
        exclude = ["country"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("country", None)
        self.form.fields.pop("country", None)


def _ignore(queryset, name, value):
    return queryset  # read by the view, not a filter on initiatives


def _wave_filter():
    return django_filters.ModelChoiceFilter(
        queryset=Wave.objects.all(),
        to_field_name="code",
        label=gettext_lazy("Survey wave"),
        method=_ignore,
        empty_label=None,
    )


class IndicatorFilterSet(ReportFilterSet):
    wave = _wave_filter()
    question = django_filters.ModelChoiceFilter(
        queryset=Question.objects.filter(code__in=reports.TAG_FIELDS),
        to_field_name="code",
        label=gettext_lazy("Question"),
        method=_ignore,
        empty_label=None,
    )
    stage_on = django_filters.DateFilter(
        label=gettext_lazy("Stage on this date (blank: current stage)"), method=_ignore
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["stage_on"].widget.input_type = "date"


class CountryProfileFilterSet(CountryFilterSet):
    wave = _wave_filter()


class BadParameters(Exception):
    pass


class ReportsIndexView(TemplateView):
    """/reports/: every report, and a country profile to pick."""

    template_name = "reports/index.html"

    def get(self, request, *args, **kwargs):
        code = request.GET.get("country", "").strip().upper()
        if code:
            # The picker's choice (a form that works without JavaScript).
            if Country.objects.filter(code=code).exists():
                return redirect("reports:country", code=code)
            return self.render_to_response(self.get_context_data(unknown_country=code), status=400)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["countries"] = country_choices(countries_with_data())
        return context


class ReportView(TemplateView):
    """A report page: filter, compute, render; or the CSV of one of its tables.

    Subclasses set `filterset_class`, `template_name`, `slug` and implement `build()`
    (returning the context of the report) and `tables()` (name -> (header, rows)).
    A bad parameter (unknown code, bad date, unknown table) gets a 400 with the form's
    errors, never a report computed on half the filters.
    """

    filterset_class = ReportFilterSet
    slug = "report"
    title = ""

    def base_queryset(self):
        return reports.public_initiatives()

    def filter_data(self):
        return self.request.GET

    def get(self, request, *args, **kwargs):
        self.filterset = self.filterset_class(
            self.filter_data(), queryset=self.base_queryset(), request=request
        )
        output = request.GET.get("format", "html")
        if output not in ("html", *TABLE_FORMATS) or not self.filterset.is_valid():
            return self.render_to_response(self.bad_request_context(), status=400)
        self.params = self.filterset.form.cleaned_data
        try:
            report = reportcache.cached(self.cache_key(), lambda: self.build(self.filterset.qs))
        except BadParameters as error:
            return self.render_to_response(self.bad_request_context(str(error)), status=400)
        if output in TABLE_FORMATS:
            return self.table_file(report, output)
        return self.render_to_response(self.get_context_data(report=report, **report))

    def cache_key(self):
        """What the built report depends on: the report, its filters and the language
        (labels and charts are built in it)."""
        params = sorted((name, getattr(value, "pk", value)) for name, value in self.params.items())
        return (type(self).__name__, self.slug, get_language(), params)

    def table_file(self, report, output):
        tables = self.tables(report)
        name = self.request.GET.get("table") or next(iter(tables))
        if name not in tables:
            return self.render_to_response(
                self.bad_request_context(_("Unknown table “%(name)s”.") % {"name": name}),
                status=400,
            )
        header, rows = tables[name]
        return TABLE_FORMATS[output](f"{self.slug}-{name}.{output}", header, rows)

    def bad_request_context(self, message=""):
        return self.get_context_data(bad_request=True, message=message)

    def csv_url(self, table, output="csv"):
        query = self.request.GET.copy()
        query.pop("page", None)  # a table's file holds every row, not one page
        query["format"] = output
        query["table"] = table
        return f"?{query.urlencode()}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(filterset=self.filterset, report_title=self.title, view=self)
        if not kwargs.get("bad_request"):
            context["csv_urls"] = {name: self.csv_url(name) for name in self.table_names}
            context["file_urls"] = {
                name: {output: self.csv_url(name, output) for output in TABLE_FORMATS}
                for name in self.table_names
            }
        return context

    table_names = ()

    def build(self, queryset):
        raise NotImplementedError

    def tables(self, report):
        raise NotImplementedError


def _stage_header(first, first_label):
    header = [first, first_label]
    for stage in Stage.values:
        header += [stage, f"{stage}_percent"]
    return [*header, "total"]


def _stage_rows(rows):
    for row in rows:
        cells = []
        for _stage, _label, count, share in row.cells:
            cells += [count, share]
        yield [row.code or "", row.label, *cells, row.total]


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
                _stage_header("sector", "sector_label"),
                _stage_rows(report["sectors"]),
            ),
            "countries": (
                _stage_header("country", "country_name"),
                _stage_rows(report["countries"]),
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
                ["sector", "sector_label", "initiatives", "q1_days", "median_days", "q3_days"],
                [
                    [row.code or "", row.label, row.count, row.q1, row.median, row.q3]
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
        data = self.request.GET.copy()
        if not data.get("wave"):
            wave = Wave.objects.order_by("-year", "code").first()
            if wave:
                data["wave"] = wave.code
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
        data = self.request.GET.copy()
        if not data.get("wave"):
            wave = Wave.objects.order_by("-year", "code").first()
            if wave:
                data["wave"] = wave.code
        return data

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
                ["country", "country_name", *_stage_header("sector", "sector_label"), "beyond"],
                (
                    [code, name, *row, sector.beyond_piloting]
                    for row, sector in zip(
                        _stage_rows(report["sectors"]), report["sectors"], strict=True
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


class StaffOnlyMixin:
    """Staff whose role reads drafts see the page (`initiatives.read_staff_reports`); others
    who are signed in get 403, the rest are asked to sign in."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not request.user.has_perm("initiatives.read_staff_reports"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ReadinessView(StaffOnlyMixin, ReportView):
    template_name = "reports/readiness.html"
    slug = "readiness"
    title = gettext_lazy("Embedding readiness of pilots")
    table_names = ("pilots",)
    paginate_by = 100

    def base_queryset(self):
        # Staff plan with every active pilot, published or not.
        return Initiative.objects.active()

    def page_number(self):
        number = self.request.GET.get("page") or "1"
        if not number.isdigit() or int(number) < 1:
            raise BadParameters(_("The page number must be a whole number from 1."))
        return int(number)

    def cache_key(self):
        # The page shows one page of pilots (its CSV streams them all, outside the cache).
        return (*super().cache_key(), self.page_number())

    def build(self, queryset):
        summary = reports.readiness_summary(queryset)
        paginator = Paginator(reports.pilots_by_readiness(queryset), self.paginate_by)
        # The summary has already counted the pilots: no second COUNT over them.
        paginator.count = summary.pilots
        number = self.page_number()
        if number > paginator.num_pages:
            raise BadParameters(
                _("There is no page %(number)s: the list has %(pages)s.")
                % {"number": number, "pages": paginator.num_pages}
            )
        page = paginator.page(number)
        # Plain values only: the report is cached, and a Page would carry its queryset.
        return {
            "pilots": [reports.Readiness(initiative) for initiative in page.object_list],
            "page_number": number,
            "page_count": paginator.num_pages,
            "first_shown": page.start_index(),
            "last_shown": page.end_index(),
            "checks": reports.READINESS_CHECKS,
            "summary": summary,
            "summary_chart": charts.readiness_checks(summary),
        }

    def tables(self, report):
        header = [
            "reference",
            "title",
            "country",
            "country_name",
            "sector",
            "sector_label",
            "review_status",
            *[check.key for check in reports.READINESS_CHECKS],
            "score",
            "out_of",
            "ready",
        ]
        rows = (
            [
                pilot.initiative.reference,
                pilot.initiative.title,
                pilot.initiative.country_id,
                pilot.initiative.country.name,
                pilot.initiative.sector_id,
                pilot.initiative.sector.label,
                pilot.initiative.review_status,
                *[met for _check, met in pilot.checks],
                pilot.score,
                pilot.out_of,
                pilot.ready,
            ]
            # Every pilot, streamed, whatever page the link was taken from.
            for pilot in map(
                reports.Readiness,
                reports.pilots_by_readiness(self.filterset.qs).iterator(chunk_size=2000),
            )
        )
        return {"pilots": (header, rows)}
