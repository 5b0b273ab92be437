"""What every report page shares: the filters, the page and its table files."""

import django_filters
from django.db.models import Q
from django.shortcuts import redirect
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core import reportcache
from core.csvfiles import csv_response
from core.spreadsheets import xlsx_response
from survey.models import Country, Question, Respondent, Sector, Wave, country_choices

from .. import reports
from ..models import Initiative, Level, Stage

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

    def with_latest_wave(self):
        """The query, with the newest survey wave when it names none."""
        data = self.request.GET.copy()
        if not data.get("wave"):
            wave = Wave.objects.order_by("-year", "code").first()
            if wave:
                data["wave"] = wave.code
        return data

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


def stage_header(first, first_label):
    header = [first, first_label]
    for stage in Stage.values:
        header += [stage, f"{stage}_percent"]
    return [*header, "total"]


def stage_rows(rows):
    for row in rows:
        cells = []
        for _stage, _label, count, share in row.cells:
            cells += [count, share]
        yield [row.code or "", row.label, *cells, row.total]
