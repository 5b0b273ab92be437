"""Logging and keeping an initiative: the form with its grid and frameworks, submission,
timeline entries, stage proposals, and the member's dashboard. Each write goes through a
service under the version lock."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.forms.utils import ErrorDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import rules, services
from ..forms import (
    AccountabilityForm,
    ActivityForm,
    BudgetForm,
    InitiativeForm,
    ParticipationGridForm,
    StageProposalForm,
)
from ..models import Activity, Initiative, Membership, PartnerType, ReviewStatus, StageProposal
from .common import (
    active_organisations,
    apply_validation_error,
    editable_initiative,
    visible_initiative,
)


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
                errors.append((_anchor(field), f"{field.label}: {error}"))
    return errors


def _anchor(field):
    """The id a summary links to: the control, or the first of a group of checkboxes."""
    return field.id_for_label or f"{field.auto_id}_0"


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
        if not rules.can_change_any(user) and not active_organisations(user).exists():
            messages.info(
                request, _("Before logging an initiative, create your group or join one.")
            )
            return redirect("initiatives:account")
    else:
        initiative = editable_initiative(request, reference)
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
                    by=user,
                    stage=form.initial_stage(),
                    stage_dates=form.stage_dates(),
                    tags=form.tags(),
                    **form.record_fields(),
                )
            else:
                initiative = services.initiative_update(
                    initiative=initiative,
                    by=user,
                    expected_version=form.cleaned_data.get("version") or 0,
                    fields=form.record_fields(),
                    tags=form.tags(),
                    reason=form.edit_reason(),
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
        apply_validation_error(form, error)
        return _render_edit(request, forms_, initiative, errors=_all_errors(forms_), status=400)

    if "submit" in request.POST:
        return _submit(request, initiative, saved=True)
    if initiative.is_published:
        messages.success(request, _("Saved. The changes are live and kept in the history."))
    else:
        messages.success(request, _("Saved as a draft."))
    return redirect(initiative)


def _missing_errors(forms_, missing):
    """Mark each field still missing for review on the (unbound) edit forms, and return the
    summary's lines, each linked to its field."""
    form, grid = forms_["form"], forms_["grid"]
    form._errors, lines = ErrorDict(), []
    for item in missing:
        message = _("Needed before submitting for review: %(what)s.") % {"what": item}
        if item.field in form.fields:
            form._errors[item.field] = form.error_class([message], renderer=form.renderer)
            lines.append((_anchor(form[item.field]), f"{form[item.field].label}: {message}"))
        else:  # the "who does what" table: said above it, linked to its first cell
            grid._errors = ErrorDict(
                {NON_FIELD_ERRORS: grid.error_class([message], error_class="nonfield")}
            )
            lines.append((_anchor(grid[next(iter(grid.fields))]), message))
    return lines


def _submit(request, initiative, saved=False):
    try:
        services.initiative_submit(initiative=initiative, by=request.user)
    except ValidationError as error:
        prefix = _("Saved as a draft, but not submitted.") + " " if saved else ""
        missing = services.missing_for_submission(initiative)
        if error.code != "incomplete" or not missing:
            messages.error(request, prefix + " ".join(error.messages))
            return redirect("initiatives:edit", reference=initiative.reference)
        # The form again, each missing field marked and linked from the summary.
        if prefix:
            messages.warning(request, _("Saved as a draft, but not submitted."))
        initiative.refresh_from_db()
        forms_ = _edit_forms(request, initiative)
        errors = _missing_errors(forms_, missing)
        return _render_edit(request, forms_, initiative, errors=errors, status=400)
    messages.success(
        request,
        _("Submitted for review. A case officer will check it; you will hear by e-mail."),
    )
    return redirect(initiative)


@login_required
@require_POST
def initiative_submit(request, reference):
    return _submit(request, editable_initiative(request, reference))


@login_required
def activity_add(request, reference):
    initiative = visible_initiative(
        request, reference, Initiative.objects.select_related("organisation")
    )
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
            apply_validation_error(form, error)
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
    initiative = editable_initiative(request, reference)
    form = StageProposalForm(request.POST or None, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_proposal_create(
                initiative=initiative,
                to_stage=form.cleaned_data["to_stage"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                effective_on=form.cleaned_data["effective_on"],
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
        .filter(organisation__in=active_organisations(user))
        .select_related("organisation", "country")
        # What `missing_for_submission` asks of each draft, fetched for all rows at once.
        .prefetch_related(open_proposals, "participations", "objectives")
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
            .exclude(organisation__in=active_organisations(user))
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
