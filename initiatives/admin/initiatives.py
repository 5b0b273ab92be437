"""The initiative admin: the changelist staff work from, the case file, the review actions."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.adminforms import LabelledInlineFormSet

from .. import services
from ..models import (
    AccountabilityFramework,
    Activity,
    BudgetFramework,
    Initiative,
    Participation,
    PartnerType,
    Phase,
    StageChange,
    StageProposal,
)
from .base import (
    HistoryAdmin,
    error_text,
    framework_name,
    framework_values,
    in_choice_order,
    limit_entry_choices,
)
from .filters import (
    ArchivedFilter,
    CaseOfficerFilter,
    PartnerTypeFilter,
    PhaseFilter,
    ReviewQueueFilter,
    UsedValuesFilter,
)
from .forms import (
    TAG_FIELDS,
    InitiativeAddForm,
    InitiativeChangeForm,
    stale_message,
)
from .initiative_actions import InitiativeActions
from .initiative_pages import InitiativePages

# Inlines ---------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """A record the workflows keep: shown on the case file, never edited here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ParticipationInline(admin.TabularInline):
    """Who does what, phase by phase, so that it reads like the phase-by-partner matrix."""

    model = Participation
    formset = LabelledInlineFormSet
    extra = 1
    fields = ("phase", "partner_type", "level", "organisation", "role")
    autocomplete_fields = ("organisation",)
    verbose_name_plural = _("who does what")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "organisation":
            # One line a row: organisations are added and changed on their own pages.
            widget = field.widget
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
        return field

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("organisation")
            .order_by(in_choice_order("phase", Phase), in_choice_order("partner_type", PartnerType))
        )


# The case file is long: past the record and who does what, each part folds away (open it
# to read or change it).
FOLDED = ("collapse",)


class AccountabilityInline(admin.StackedInline):
    model = AccountabilityFramework
    can_delete = False
    max_num = 1
    classes = FOLDED


class BudgetInline(admin.StackedInline):
    model = BudgetFramework
    can_delete = False
    max_num = 1
    classes = FOLDED


class StageChangeInline(ReadOnlyInline):
    model = StageChange
    fields = (
        "changed_on",
        "from_stage",
        "to_stage",
        "reason",
        "changed_by",
        "changed_at",
        "confirmed_at",
        "confirmed_by",
    )
    verbose_name_plural = _("stage history")
    classes = FOLDED

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by", "confirmed_by")


class StageProposalInline(ReadOnlyInline):
    model = StageProposal
    fields = (
        "proposed_at",
        "to_stage",
        "effective_on",
        "reason",
        "proposed_by",
        "status",
        "decided_by",
    )
    classes = FOLDED

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposed_by", "decided_by")


class TimelineInline(ReadOnlyInline):
    model = Activity
    fields = ("date", "kind", "visibility", "text", "file", "author")
    verbose_name_plural = _("timeline")
    classes = FOLDED

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("author")


class NewActivityInline(admin.StackedInline):
    """Adds to the timeline; the entries already in it are listed (read-only) above."""

    model = Activity
    extra = 1
    can_delete = False
    fields = ("kind", "visibility", "date", "text", "file")
    verbose_name = _("new timeline entry")
    verbose_name_plural = _("add to the timeline")
    classes = FOLDED

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        limit_entry_choices(formset.form.base_fields, request.user, obj)
        return formset


# The admin -------------------------------------------------------------------------------

DESCRIPTION = ("title", "summary", "description")
WHERE_AND_WHO = (
    _("Where and who"),
    {"fields": ("country", "sector", "level", "lead_public_body", "organisation", "case_officer")},
)
DATES = (_("Dates and size"), {"fields": ("start_date", "end_date", "participants")})
TAGS = (
    _("Objectives, barriers and success factors"),
    {
        "classes": FOLDED,
        "fields": TAG_FIELDS,
        "description": _(
            "From the survey's vocabulary: objectives are reasons for partnering, barriers "
            "met and addressed are barriers, success factors are factors."
        ),
    },
)
REVIEW = ("stage", "review_status", "return_reason", "submitted_at", "published_at", "archived_at")
RECORD = ("version", "created_by", "created_at", "updated_by", "updated_at")

# The case file, in the order staff look for things: what it is and where it stands (the
# first screen), who reviews it, then the facts, which read two or three to a line. The
# long text and the lists that change rarely are folded.
CASE_FILE = [
    (
        None,
        {"fields": ("title", ("reference", "stage", "review_status"), "summary", "opened_version")},
    ),
    (
        _("Review"),
        {
            "fields": (
                "case_officer",
                "return_reason",
                ("submitted_at", "published_at", "archived_at"),
            )
        },
    ),
    (
        _("Where and who"),
        {"fields": (("country", "sector"), ("level", "lead_public_body"), "organisation")},
    ),
    (_("Dates and size"), {"fields": (("start_date", "end_date", "participants"),)}),
    (_("Description"), {"classes": FOLDED, "fields": ("description",)}),
    TAGS,
    (_("Record"), {"classes": FOLDED, "fields": RECORD}),
]


@admin.register(Initiative)
class InitiativeAdmin(InitiativeActions, InitiativePages, HistoryAdmin):
    list_display = (
        "reference",
        "title",
        "country",
        "sector",
        "stage",
        "review_status",
        "officer",
        "updated_at",
    )
    list_display_links = ("reference", "title")
    list_filter = (
        ArchivedFilter,
        ReviewQueueFilter,
        CaseOfficerFilter,
        "review_status",
        "stage",
        ("country", UsedValuesFilter),
        ("sector", UsedValuesFilter),
        PhaseFilter,
        PartnerTypeFilter,
        "updated_at",
    )
    # A filtered list counts its own rows only; "show all" replaces a second COUNT of the table.
    show_full_result_count = False
    search_fields = ("reference", "title", "organisation__name")
    search_help_text = _("Search by reference, title or organisation name.")
    list_select_related = ("country", "sector", "case_officer")
    # Case officers are few, and choosing one must not need the right to read every account.
    autocomplete_fields = ("country", "organisation")
    readonly_fields = ("reference", *REVIEW, *RECORD)
    # Who does what stays open; the histories, then the frameworks, fold.
    inlines = (
        ParticipationInline,
        StageChangeInline,
        StageProposalInline,
        TimelineInline,
        NewActivityInline,
        AccountabilityInline,
        BudgetInline,
    )
    actions = (
        "approve_selected",
        "return_selected",
        "assign_to_me",
        "assign_case_officer",
        "change_stage_selected",
        "confirm_stage_dates_selected",
        "export_csv",
        "export_xlsx",
        "archive_selected",
        "restore_selected",
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            maturity = (
                _("Maturity"),
                {
                    "fields": (
                        "initial_stage",
                        "planned_since",
                        "pilot_since",
                        "embedded_since",
                        "discontinued_since",
                    )
                },
            )
            return [(None, {"fields": DESCRIPTION}), WHERE_AND_WHO, DATES, TAGS, maturity]
        return CASE_FILE

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is None:  # nothing yet of what the workflows record
            return [inline for inline in inlines if not isinstance(inline, ReadOnlyInline)]
        return inlines

    def get_ordering(self, request):
        if ReviewQueueFilter.is_on(request):
            return ("submitted_at", "pk")
        return ("-updated_at", "pk")

    def get_list_display(self, request):
        if ReviewQueueFilter.is_on(request):
            # The queue: what staff decide on, and how long each has waited; no more
            # columns than fit beside the filters at 1280 px.
            return ("reference", "title", "country", "stage", "officer", "waiting")
        return self.list_display

    @admin.display(description=_("case officer"), ordering="case_officer__last_name")
    def officer(self, initiative):
        """The officer's name, as the case officer filter shows it."""
        officer = initiative.case_officer
        if officer is None:
            return "—"
        return officer.get_full_name() or officer.get_username()

    @admin.display(description=_("waiting"), ordering="submitted_at")
    def waiting(self, initiative):
        """Days since the submission (the queue is oldest first)."""
        if initiative.submitted_at is None:
            return "—"
        days = (timezone.now() - initiative.submitted_at).days
        return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}

    # Saving: through the services, under the version lock ------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.StaleEdit as stale:
            # Someone saved between the form's version check and ours: all was rolled back.
            opened = request.POST.get("opened_version", "?")
            self.message_user(request, stale_message(opened, stale.current_version), messages.ERROR)
            return HttpResponseRedirect(request.path)
        except ValidationError as exc:
            # A rule only the write itself can check (a cell taken meanwhile): rolled back too.
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if "change_reason" in form.fields:
            context["reason_fieldset"] = helpers.Fieldset(
                form, name=gettext("Your change"), fields=("change_reason",)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = InitiativeAddForm if obj is None else InitiativeChangeForm
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user  # the rules of creation depend on who creates
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return  # saved in save_related, under the version check, before any inline
        created = services.initiative_create(
            by=request.user,
            stage=form.cleaned_data["initial_stage"],
            stage_dates=form.stage_dates,
            tags=form.tag_values(TAG_FIELDS),
            **form.record_values(form.cleaned_data),
        )
        # The admin carries on with its own object (the inlines hang on it): make it the new one.
        for field in Initiative._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request, form, formsets, change):
        if change and (form.edited() or any(fs.has_changed() for fs in formsets)):
            # One version check covers the record and its inlines: all is saved, or nothing.
            services.initiative_update(
                initiative=form.instance,
                by=request.user,
                expected_version=form.cleaned_data["opened_version"],
                fields=form.record_values(form.edited()),
                tags=form.tag_values(form.edited()),
                reason=form.cleaned_data["change_reason"],
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        # Saved after the record's version was claimed (save_model / save_related), in the
        # same transaction: the parts go through the same writes as the site's and the API's.
        for instance in formset.save(commit=False):
            if isinstance(instance, Participation):
                services.write_participation(participation=instance, by=request.user, values={})
                continue
            if isinstance(instance, AccountabilityFramework | BudgetFramework):
                services.write_framework(
                    initiative=form.instance,
                    name=framework_name(instance),
                    by=request.user,
                    values=framework_values(instance),
                )
                continue
            if isinstance(instance, Activity):
                services.write_activity(activity=instance, by=request.user, values={})
                continue
            instance.save()
        for instance in formset.deleted_objects:
            instance.delete()
        formset.save_m2m()

    # Deleting archives -----------------------------------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        extra_context = {"title": gettext("Archive"), **(extra_context or {})}
        try:
            return super().delete_view(request, object_id, extra_context)
        except services.StaleEdit as stale:
            opened = request.POST.get("opened_version", "?")
            self.message_user(request, stale_message(opened, stale.current_version), messages.ERROR)
            return HttpResponseRedirect(request.path)

    @staticmethod
    def _opened_version(request, obj):
        """The version on the confirmation page the person saw (or, without it, as loaded)."""
        opened = request.POST.get("opened_version", "")
        return int(opened) if opened.isdigit() else obj.version

    def delete_model(self, request, obj):
        services.initiative_archive(
            initiative=obj, by=request.user, expected_version=self._opened_version(request, obj)
        )

    def delete_queryset(self, request, queryset):
        for initiative in queryset:
            services.initiative_archive(
                initiative=initiative, by=request.user, expected_version=initiative.version
            )

    def get_deleted_objects(self, objs, request):
        # Archiving keeps everything: nothing related goes, no other permission is needed.
        return [str(obj) for obj in objs], {}, set(), []

    def log_deletions(self, request, queryset):
        return LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=queryset,
            action_flag=CHANGE,
            change_message=gettext("Archived."),
        )

    def response_delete(self, request, obj_display, obj_id):
        if IS_POPUP_VAR in request.POST:
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(
            request,
            gettext(
                "“%(name)s” was archived: it is hidden from the lists and the public site and "
                "kept with its history. Find it under Archive › Archived to restore it."
            )
            % {"name": obj_display},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:initiatives_initiative_changelist"))
