"""Browsing: the home page, the list with its filters and exports, the case page and its
documents. What each visitor sees comes from `Initiative.objects.visible_to` and
`Activity.objects.visible_to`."""

from django import forms
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView

from survey.models import Country, country_choices

from .. import audit, exportlimits, exports, rules, services
from ..filters import InitiativeFilterSet
from ..models import (
    AccountabilityFramework,
    Activity,
    BudgetFramework,
    Initiative,
    Participation,
    PartnerType,
    Phase,
    ReviewStatus,
    StageProposal,
)
from .common import visible_initiative


class HomeView(TemplateView):
    template_name = "initiatives/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        published = Initiative.objects.published()
        context["recent"] = published.select_related("country", "sector", "organisation")[:5]
        context["counts"] = published.aggregate(
            total=Count("pk"),
            pilot=Count("pk", filter=Q(stage="pilot")),
            embedded=Count("pk", filter=Q(stage="embedded")),
        )
        return context


class OneOrMoreSelect(forms.Select):
    """A drop-down for a filter that accepts several values (`?country=FIN&country=CAN`)."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [value for value in values if value]


CHECKBOX_FILTERS = ("sector", "stage", "phase", "partner_type", "objective", "barrier", "factor")
# The order in which the checkbox groups appear beside the list.
FILTER_GROUPS = (
    "stage",
    "sector",
    "level",
    "phase",
    "partner_type",
    "objective",
    "barrier",
    "factor",
    "review_status",
)


def _filterset(request):
    """The shared FilterSet over what the user may see, with widgets that need no JavaScript."""
    queryset = Initiative.objects.visible_to(request.user)
    filterset = InitiativeFilterSet(request.GET or None, queryset=queryset, request=request)
    form = filterset.form
    for name in CHECKBOX_FILTERS:
        field = form.fields[name]
        field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
    country = form.fields["country"]
    # The menu offers the countries where this reader can see an initiative, by name in the
    # reader's language; any country code is still accepted in the address.
    with_data = Country.objects.filter(Exists(queryset.filter(country=OuterRef("pk"))))
    country.widget = OneOrMoreSelect(choices=[("", _("Any country")), *country_choices(with_data)])
    form.fields["verified"].widget = forms.Select(
        choices=[
            ("", _("Any organisation")),
            ("true", _("Verified only")),
            ("false", _("Not verified")),
        ]
    )
    if not request.user.is_authenticated:
        # The public only sees published initiatives; the status filter would be noise.
        del form.fields["review_status"]
    else:
        field = form.fields["review_status"]
        field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
    level = form.fields["level"]
    level.widget = forms.CheckboxSelectMultiple(choices=level.choices)
    # The list's own order (latest update first) is the blank choice, so "-updated" is not
    # offered twice; it stays valid in an address.
    form.fields["ordering"].widget.choices = [
        ("", _("Latest update first")),
        ("updated", _("Oldest update first")),
        ("title", _("Title, A to Z")),
        ("-title", _("Title, Z to A")),
        ("reference", _("Reference, oldest first")),
        ("-reference", _("Reference, newest first")),
    ]
    return filterset


class InitiativeListView(ListView):
    template_name = "initiatives/list.html"
    context_object_name = "initiatives"
    PAGE_SIZES = (20, 50, 100)

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("per_page", self.PAGE_SIZES[0]))
        except ValueError:
            size = self.PAGE_SIZES[0]
        return size if size in self.PAGE_SIZES else self.PAGE_SIZES[0]

    def get_queryset(self):
        self.filterset = _filterset(self.request)
        queryset = self.filterset.qs if self.filterset.is_bound else self.filterset.queryset
        if self.filterset.is_bound and not self.filterset.is_valid():
            queryset = queryset.none()
        if not self.request.GET.get("ordering"):
            queryset = queryset.order_by("-updated_at", "-pk")
        return queryset.select_related("country", "sector", "organisation").prefetch_related(
            Prefetch(
                "participations",
                queryset=Participation.objects.only("initiative_id", "phase", "partner_type"),
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["form"] = self.filterset.form
        context["page_sizes"] = self.PAGE_SIZES
        context["query"] = self.request.GET.urlencode()
        active = [
            name
            for name in self.filterset.form.fields
            if name not in ("q", "ordering") and self.request.GET.getlist(name)
        ]
        context["active_filters"] = active
        form = self.filterset.form
        context["filter_groups"] = [form[name] for name in FILTER_GROUPS if name in form.fields]
        return context


def _export(request, filename, write):
    """The list as a file, with the same filters, sort and visibility as the page; rate and
    concurrency limited (initiatives/exportlimits.py)."""
    return exportlimits.limited(
        request, "initiatives", lambda: _export_now(request, filename, write)
    )


def _export_now(request, filename, write):
    filterset = InitiativeFilterSet(
        request.GET or None, queryset=Initiative.objects.visible_to(request.user), request=request
    )
    if filterset.is_bound and not filterset.is_valid():
        context = {"form": filterset.form}
        return render(request, "initiatives/export_error.html", context, status=400)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    if rules.can_read_all(request.user):
        audit.record_event(audit.DATA_EXPORT, request=request, detail=filename)
    return write(queryset, filename)


def export_csv(request):
    """CSV for programs: no byte order mark."""
    return _export(request, "initiatives.csv", exports.initiatives_csv)


def export_spreadsheet_csv(request):
    """The same CSV with a UTF-8 byte order mark, for spreadsheet programs."""
    return _export(
        request,
        "initiatives-spreadsheet.csv",
        lambda queryset, filename: exports.initiatives_csv(queryset, filename, bom=True),
    )


def export_xlsx(request):
    return _export(request, "initiatives.xlsx", exports.initiatives_xlsx)


def codebook_csv(request):
    return exports.codebook_csv()


def codebook_xlsx(request):
    return exports.codebook_xlsx()


def _matrix(initiative):
    """Rows of the who-does-what table: each phase with the participation of each partner type."""
    cells = {(p.phase, p.partner_type): p for p in initiative.participations.all()}
    return [
        (phase, [cells.get((phase.value, partner.value)) for partner in PartnerType])
        for phase in Phase
    ]


def initiative_detail(request, reference):
    queryset = Initiative.objects.select_related(
        "country", "sector", "organisation", "case_officer", "accountability", "budget"
    ).prefetch_related(
        "participations",
        "objectives",
        "barriers",
        "barriers_addressed",
        "factors",
        Prefetch("stage_changes"),
    )
    initiative = visible_initiative(request, reference, queryset.with_editable(request.user))
    can_edit = initiative.editable
    frameworks = {}
    for name in ("accountability", "budget"):
        try:
            frameworks[name] = getattr(initiative, name)
        except (AccountabilityFramework.DoesNotExist, BudgetFramework.DoesNotExist):
            frameworks[name] = None
    activities = list(
        Activity.objects.visible_to(request.user, initiative).select_related("author")
    )
    for activity in activities:
        activity.author_label = rules.person_label(request.user, initiative, activity.author)
    context = {
        "initiative": initiative,
        "can_edit": can_edit,
        "matrix": _matrix(initiative),
        "partner_types": list(PartnerType),
        "accountability": frameworks["accountability"],
        "budget": frameworks["budget"],
        "stage_changes": list(initiative.stage_changes.all()),
        "activities": sorted(activities, key=lambda a: (a.date, a.created_at), reverse=True),
        "documents": [activity for activity in activities if activity.file],
    }
    if can_edit:
        context["missing"] = (
            services.missing_for_submission(initiative)
            if initiative.review_status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED)
            else []
        )
        context["open_proposals"] = initiative.stage_proposals.filter(
            status=StageProposal.Status.OPEN
        )
    return render(request, "initiatives/detail.html", context)


def document_download(request, reference, pk):
    """A document of the timeline, only for those who may read its entry (404 for others)."""
    initiative = visible_initiative(request, reference)
    activity = get_object_or_404(Activity.objects.visible_to(request.user, initiative), pk=pk)
    if not activity.file:
        raise Http404
    try:
        handle = activity.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    name = activity.file.name.rsplit("/", 1)[-1]
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
