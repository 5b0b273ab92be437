"""Pages of the public site: browsing and exporting, logging and keeping initiatives,
accounts, organisations and API tokens.

Every rule about who may do what comes from the model querysets (`visible_to`,
`editable_by`) and every workflow from `services`; the views only connect them to forms.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView, TemplateView

from . import audit, exports, rules, services
from .filters import InitiativeFilterSet
from .forms import (
    AccountabilityForm,
    ActivityForm,
    ApiTokenForm,
    BudgetForm,
    InitiativeForm,
    JoinOrganisationForm,
    MembershipRoleForm,
    OrganisationForm,
    ParticipationGridForm,
    SignUpForm,
    StageProposalForm,
)
from .models import (
    AccountabilityFramework,
    Activity,
    ApiToken,
    BudgetFramework,
    Initiative,
    Membership,
    Organisation,
    Participation,
    PartnerType,
    Phase,
    ReviewStatus,
    StageProposal,
)

# ---------------------------------------------------------------------------
# Looking up an initiative with the user's rights


def _visible(request, reference, queryset=None):
    """The initiative if the user may read it; otherwise 404, so drafts stay secret."""
    queryset = queryset if queryset is not None else Initiative.objects.all()
    return get_object_or_404(queryset.visible_to(request.user), reference=reference)


def _editable(request, reference):
    """The initiative if the user may change it: 404 if unseen, 403 if only readable."""
    initiative = _visible(request, reference, Initiative.objects.select_related("organisation"))
    if not Initiative.objects.editable_by(request.user).filter(pk=initiative.pk).exists():
        raise PermissionDenied(_("Only members of the owner organisation can change this."))
    return initiative


def _active_organisations(user):
    return Organisation.objects.filter(
        memberships__user=user, memberships__status=Membership.Status.ACTIVE
    )


def _template_exists(name):
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


# ---------------------------------------------------------------------------
# Browsing


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
    country.widget = OneOrMoreSelect(choices=[("", _("Any country")), *country.choices])
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
    ordering = form.fields["ordering"]
    ordering.widget.choices = [
        ("", _("Most recently updated")) if value == "" else (value, label)
        for value, label in ordering.choices
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


def export_csv(request):
    """The list as CSV, with the same filters and the same visibility as the page."""
    filterset = InitiativeFilterSet(
        request.GET or None, queryset=Initiative.objects.visible_to(request.user), request=request
    )
    if filterset.is_bound and not filterset.is_valid():
        context = {"form": filterset.form}
        return render(request, "initiatives/export_error.html", context, status=400)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    if rules.can_read_all(request.user):
        audit.record_event(audit.DATA_EXPORT, request=request, detail="initiatives.csv")
    return exports.initiatives_csv(queryset)


def codebook_csv(request):
    return exports.codebook_csv()


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
    initiative = _visible(request, reference, queryset)
    can_edit = Initiative.objects.editable_by(request.user).filter(pk=initiative.pk).exists()
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
        "has_readiness": _template_exists("initiatives/_readiness.html"),
        "has_business_case": _template_exists("initiatives/_business_case.html"),
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
    initiative = _visible(request, reference)
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


# ---------------------------------------------------------------------------
# Logging and keeping an initiative


def _framework_form(form_class, initiative, name, data, prefix):
    instance = None
    if initiative is not None and initiative.pk:
        instance = form_class._meta.model.objects.filter(initiative=initiative).first()
    return form_class(data, instance=instance, prefix=prefix)


def _save_framework(form, initiative, name, by):
    """Save an optional section if it holds anything; returns True if it was saved."""
    if not form.has_changed():
        return False
    values = {field: form.cleaned_data[field] for field in form._meta.fields}
    services.write_framework(initiative=initiative, name=name, by=by, values=values)
    return True


def _edit_forms(request, initiative, data=None):
    return {
        "form": InitiativeForm(data, instance=initiative, user=request.user),
        "grid": ParticipationGridForm(data, initiative=initiative),
        "accountability_form": _framework_form(
            AccountabilityForm, initiative, "accountability", data, "accountability"
        ),
        "budget_form": _framework_form(BudgetForm, initiative, "budget", data, "budget"),
    }


def _all_errors(forms_):
    """Every error of the page, with the id of its field, for the error summary."""
    errors = []
    for form in forms_.values():
        for error in form.non_field_errors():
            errors.append(("", error))
        for field in form:
            for error in field.errors:
                errors.append((field.id_for_label, f"{field.label}: {error}"))
    return errors


def _apply_validation_error(form, error):
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def _render_edit(request, forms_, initiative, errors=(), status=200, stale=False):
    context = {
        **forms_,
        "initiative": initiative,
        "errors": list(errors),
        "partner_types": list(PartnerType),
        "stale": stale,
    }
    return render(request, "initiatives/form.html", context, status=status)


@login_required
def initiative_edit(request, reference=None):
    """Create (no reference) or edit an initiative: the record, the grid and the frameworks."""
    user = request.user
    if reference is None:
        initiative = None
        if not rules.can_change_any(user) and not _active_organisations(user).exists():
            messages.info(
                request, _("Before logging an initiative, create your group or join one.")
            )
            return redirect("initiatives:account")
    else:
        initiative = _editable(request, reference)
    if request.method != "POST":
        return _render_edit(request, _edit_forms(request, initiative), initiative)

    forms_ = _edit_forms(request, initiative, request.POST)
    if not all(form.is_valid() for form in forms_.values()):
        return _render_edit(request, forms_, initiative, errors=_all_errors(forms_), status=400)
    form, grid = forms_["form"], forms_["grid"]
    try:
        with transaction.atomic():
            if initiative is None:
                initiative = services.initiative_create(
                    by=user, stage=form.initial_stage(), tags=form.tags(), **form.record_fields()
                )
            else:
                initiative = services.initiative_update(
                    initiative=initiative,
                    by=user,
                    expected_version=form.cleaned_data.get("version") or 0,
                    fields=form.record_fields(),
                    tags=form.tags(),
                )
            # Under the version just claimed: the record and its parts are one write.
            services.write_grid(initiative=initiative, by=user, cells=grid.cells())
            _save_framework(forms_["accountability_form"], initiative, "accountability", user)
            _save_framework(forms_["budget_form"], initiative, "budget", user)
    except services.StaleEdit as stale:
        # Keep what the user typed; the next save is made against the current version,
        # after they have had the chance to look at it.
        data = request.POST.copy()
        data["version"] = str(stale.current_version)
        initiative = Initiative.objects.get(pk=initiative.pk)
        forms_ = _edit_forms(request, initiative, data)
        message = _(
            "Someone else saved this initiative after you opened the form, so your changes "
            "were not saved. Your input is kept below: open the current version in another "
            "tab, compare, then save again to replace it."
        )
        return _render_edit(
            request, forms_, initiative, errors=[("", message)], status=409, stale=True
        )
    except ValidationError as error:
        _apply_validation_error(form, error)
        return _render_edit(request, forms_, initiative, errors=_all_errors(forms_), status=400)

    if "submit" in request.POST:
        return _submit(request, initiative, saved=True)
    if initiative.is_published:
        messages.success(request, _("Saved. The changes are live and kept in the history."))
    else:
        messages.success(request, _("Saved as a draft."))
    return redirect(initiative)


def _submit(request, initiative, saved=False):
    try:
        services.initiative_submit(initiative=initiative, by=request.user)
    except ValidationError as error:
        prefix = _("Saved as a draft, but not submitted.") + " " if saved else ""
        messages.error(request, prefix + " ".join(error.messages))
        return redirect("initiatives:edit", reference=initiative.reference)
    messages.success(
        request,
        _("Submitted for review. A case officer will check it; you will hear by e-mail."),
    )
    return redirect(initiative)


@login_required
@require_POST
def initiative_submit(request, reference):
    return _submit(request, _editable(request, reference))


@login_required
def activity_add(request, reference):
    initiative = _visible(request, reference, Initiative.objects.select_related("organisation"))
    if not request.user.has_perm("initiatives.add_timeline_entry", initiative):
        raise PermissionDenied(_("Only members of the owner organisation and staff add entries."))
    form = ActivityForm(
        request.POST or None,
        request.FILES or None,
        instance=Activity(initiative=initiative, author=request.user),
        user=request.user,
        initiative=initiative,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_create(
                initiative=initiative,
                by=request.user,
                expected_version=None,
                **form.entry_fields(),
            )
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, _("Added to the timeline."))
            return redirect(initiative)
    return render(
        request,
        "initiatives/activity_form.html",
        {"form": form, "initiative": initiative},
        status=400 if form.errors else 200,
    )


@login_required
def stage_proposal(request, reference):
    initiative = _editable(request, reference)
    form = StageProposalForm(request.POST or None, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_proposal_create(
                initiative=initiative,
                to_stage=form.cleaned_data["to_stage"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Stage change proposed. A case officer will confirm or decline it.")
            )
            return redirect(initiative)
    return render(
        request,
        "initiatives/stage_form.html",
        {"form": form, "initiative": initiative},
        status=400 if form.errors else 200,
    )


@login_required
def dashboard(request):
    user = request.user
    open_proposals = Prefetch(
        "stage_proposals",
        queryset=StageProposal.objects.filter(status=StageProposal.Status.OPEN),
        to_attr="open_proposals",
    )
    mine = (
        Initiative.objects.active()
        .filter(organisation__in=_active_organisations(user))
        .select_related("organisation", "country")
        .prefetch_related(open_proposals)
        .order_by("organisation__name", "-updated_at")
    )
    rows = []
    for initiative in mine:
        missing = []
        if initiative.review_status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED):
            missing = services.missing_for_submission(initiative)
        rows.append((initiative, missing))
    memberships = (
        Membership.objects.filter(user=user).select_related("organisation").order_by("organisation")
    )
    admin_of = [
        m.organisation_id
        for m in memberships
        if m.role == Membership.Role.ADMIN and m.status == Membership.Status.ACTIVE
    ]
    pending = (
        Membership.objects.filter(organisation__in=admin_of, status=Membership.Status.PENDING)
        .select_related("organisation", "user")
        .order_by("created_at")
    )
    cases = []
    if rules.can_review(user):
        cases = (
            Initiative.objects.active()
            .filter(case_officer=user)
            .exclude(organisation__in=_active_organisations(user))
            .select_related("organisation")
            .order_by("-updated_at")
        )
    return render(
        request,
        "initiatives/dashboard.html",
        {
            "rows": rows,
            "memberships": memberships,
            "pending_requests": pending,
            "cases": cases,
        },
    )


# ---------------------------------------------------------------------------
# Accounts, organisations and API tokens


def signup(request):
    if request.user.is_authenticated:
        return redirect("initiatives:dashboard")
    form = SignUpForm(request.POST or None)
    user = form.save() if request.method == "POST" and form.is_valid() else None
    if user is not None:
        login(request, user, backend="initiatives.backends.EmailBackend")
        messages.success(
            request, _("Welcome! Now create your group, or ask to join one that is already here.")
        )
        return redirect("initiatives:account")
    return _render_form(request, "registration/signup.html", form)


def _render_form(request, template, form, **context):
    """A page with one form; 400 when it comes back with errors."""
    status = 400 if form.errors else 200
    return render(request, template, {"form": form, **context}, status=status)


@login_required
def account(request):
    user = request.user
    token_form = ApiTokenForm(request.POST or None, prefix="token")
    new_key = None
    if request.method == "POST" and token_form.is_valid():
        token, new_key = ApiToken.issue(user=user, name=token_form.cleaned_data["name"])
        audit.record_event(
            audit.TOKEN_CREATED, request=request, detail=f"{token.name} ({token.prefix})"
        )
        token_form = ApiTokenForm(prefix="token")
    context = {
        "memberships": Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name"),
        "tokens": user.api_tokens.order_by("revoked_at", "-created_at"),
        "token_form": token_form,
        "new_key": new_key,
    }
    response = render(request, "initiatives/account.html", context)
    if new_key:
        # The key is in this page only; keep it out of caches and history.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record_event(
            audit.TOKEN_REVOKED, request=request, detail=f"{token.name} ({token.prefix})"
        )
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("initiatives:account")


@login_required
def organisation_create(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = services.organisation_create(by=request.user, **form.cleaned_data)
        messages.success(
            request,
            _("“%(name)s” is created and you are its admin. You can now log initiatives.")
            % {"name": organisation.name},
        )
        return redirect("initiatives:dashboard")
    return _render_form(request, "initiatives/organisation_form.html", form)


@login_required
def organisation_join(request):
    form = JoinOrganisationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        link = request.build_absolute_uri(
            reverse("initiatives:organisation", args=[organisation.pk])
        )
        try:
            services.membership_request(user=request.user, organisation=organisation, link=link)
        except ValidationError as error:
            form.add_error("organisation", error)
        else:
            messages.success(
                request,
                _("Your request to join “%(name)s” is sent. Its admins will answer it.")
                % {"name": organisation.name},
            )
            return redirect("initiatives:account")
    return _render_form(request, "initiatives/organisation_join.html", form)


def _membership_of(user, organisation):
    return Membership.objects.filter(user=user, organisation=organisation).first()


@login_required
def organisation_detail(request, pk):
    """An organisation's members; its admins also manage them here."""
    organisation = get_object_or_404(Organisation, pk=pk)
    if not request.user.has_perm("initiatives.read_organisation_privately", organisation):
        raise Http404
    mine = _membership_of(request.user, organisation)
    is_admin = request.user.has_perm("initiatives.manage_members", organisation)
    memberships = organisation.memberships.select_related("user").order_by("status", "user__email")
    return render(
        request,
        "initiatives/organisation_detail.html",
        {
            "organisation": organisation,
            "is_admin": is_admin,
            "mine": mine,
            "active": [m for m in memberships if m.status == Membership.Status.ACTIVE],
            "pending": [m for m in memberships if m.status == Membership.Status.PENDING],
            "roles": Membership.Role.choices,
            "initiatives": organisation.initiatives.active().order_by("-updated_at"),
        },
    )


@login_required
@require_POST
def membership_change(request, pk, membership_pk):
    """Accept, decline, change the role of, or remove a member (admins), or leave (oneself).

    The services check who may, under the organisation's lock; this only asks early so that
    an outsider learns nothing about which memberships exist.
    """
    organisation = get_object_or_404(Organisation, pk=pk)
    own = Membership.objects.filter(pk=membership_pk, user=request.user).exists()
    if not own and not request.user.has_perm("initiatives.manage_members", organisation):
        raise PermissionDenied(_("Only the organisation's admins manage its members."))
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, organisation=organisation
    )
    action = request.POST.get("action")
    name = membership.user.get_full_name() or membership.user.get_username()
    try:
        if action == "accept":
            services.membership_accept(membership=membership, by=request.user)
            messages.success(request, _("%(name)s is now a member.") % {"name": name})
        elif action == "decline":
            services.membership_refuse(membership=membership, by=request.user)
            messages.success(request, _("%(name)s is no longer listed.") % {"name": name})
        elif action == "remove" or (action == "leave" and own):
            services.membership_remove(membership=membership, by=request.user)
            if own:
                messages.success(request, _("You left “%(name)s”.") % {"name": organisation.name})
                return redirect("initiatives:account")
            messages.success(request, _("%(name)s is no longer listed.") % {"name": name})
        elif action == "role":
            form = MembershipRoleForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose a valid role."))
            else:
                membership = services.membership_set_role(
                    membership=membership, by=request.user, role=form.cleaned_data["role"]
                )
                messages.success(
                    request,
                    _("%(name)s is now %(role)s.")
                    % {"name": name, "role": membership.get_role_display().lower()},
                )
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("initiatives:organisation", pk=organisation.pk)
