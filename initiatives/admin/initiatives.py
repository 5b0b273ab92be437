"""The initiative admin: the changelist staff work from, the case file, the review actions."""

import os
import secrets
import tempfile

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.adminforms import LabelledInlineFormSet

from .. import audit, rules, services
from ..imports import import_initiatives
from ..models import (
    AccountabilityFramework,
    Activity,
    BudgetFramework,
    Initiative,
    Participation,
    PartnerType,
    Phase,
    Stage,
    StageChange,
    StageProposal,
)
from .base import (
    HistoryAdmin,
    action_page,
    error_text,
    framework_name,
    framework_values,
    in_choice_order,
    limit_entry_choices,
    submitted_form,
)
from .exports import initiatives_csv
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
    CaseOfficerForm,
    ConfirmForm,
    InitiativeAddForm,
    InitiativeChangeForm,
    RegisterImportForm,
    ReturnForm,
    StageForm,
    StageHistoryForm,
    stale_message,
)

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
    fields = ("proposed_at", "to_stage", "reason", "proposed_by", "status", "decided_by")
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


@admin.register(Initiative)
class InitiativeAdmin(HistoryAdmin):
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
    inlines = (
        ParticipationInline,
        AccountabilityInline,
        BudgetInline,
        StageChangeInline,
        StageProposalInline,
        TimelineInline,
        NewActivityInline,
    )
    actions = (
        "approve_selected",
        "return_selected",
        "assign_to_me",
        "assign_case_officer",
        "change_stage_selected",
        "confirm_stage_dates_selected",
        "export_csv",
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
        return [
            (None, {"fields": ("reference", *DESCRIPTION, "opened_version")}),
            WHERE_AND_WHO,
            DATES,
            TAGS,
            (_("Maturity and review"), {"fields": REVIEW}),
            (_("Record"), {"classes": ("collapse",), "fields": RECORD}),
        ]

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

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_change_stage"
        stage_view = self.admin_site.admin_view(self.change_stage_view)
        history_view = self.admin_site.admin_view(self.stage_history_view)
        history_name = f"{self.opts.app_label}_{self.opts.model_name}_stage_history"
        import_view = self.admin_site.admin_view(self.import_view)
        import_name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [
            path("import/", import_view, name=import_name),
            path("<path:object_id>/change-stage/", stage_view, name=name),
            path("<path:object_id>/stage-history/", history_view, name=history_name),
            *super().get_urls(),
        ]

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

    # Actions ---------------------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "Archive selected" takes its place
        return actions

    def has_review_permission(self, request):
        """Approve, return, assign and change stages: a case officer's work."""
        return rules.can_review(request.user)

    def has_archive_permission(self, request):
        return rules.can_change_any(request.user)

    def _apply(self, request, queryset, work, done):
        """Run a service on each selected initiative; report each refusal, then `done(count)`.

        Each service call is atomic on its own, so one refusal leaves the others done.
        """
        count = 0
        for initiative in queryset:
            try:
                work(initiative)
            except (ValidationError, PermissionDenied, services.StaleEdit) as exc:
                message = f"{initiative.reference}: {error_text(exc)}"
                self.message_user(request, message, messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done(count), messages.SUCCESS)

    @admin.action(description=_("Approve and publish selected…"), permissions=["review"])
    def approve_selected(self, request, queryset):
        # Publishing is seen by everyone at once: the selection is confirmed first.
        if not submitted_form(ConfirmForm, request).is_valid():
            return action_page(
                self,
                request,
                queryset,
                ConfirmForm(),
                title=gettext("Approve and publish"),
                submit=gettext("Approve and publish"),
                action="approve_selected",
                description=gettext(
                    "These initiatives will be published on the public site at once, and "
                    "their groups told by e-mail."
                ),
            )
        self._apply(
            request,
            queryset,
            lambda initiative: services.initiative_approve(initiative=initiative, by=request.user),
            lambda n: (
                ngettext(
                    "%(count)d initiative approved and published.",
                    "%(count)d initiatives approved and published.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Return with reason…"), permissions=["review"])
    def return_selected(self, request, queryset):
        form = submitted_form(ReturnForm, request)
        if not form.is_valid():
            return action_page(
                self,
                request,
                queryset,
                form,
                title=gettext("Return to the group"),
                submit=gettext("Return"),
                action="return_selected",
                description=gettext(
                    "The group is told by e-mail and sees your reason on their dashboard; "
                    "they can change the initiative and submit it again."
                ),
            )
        reason = form.cleaned_data["reason"]
        self._apply(
            request,
            queryset,
            lambda initiative: services.initiative_return(
                initiative=initiative, by=request.user, reason=reason
            ),
            lambda n: (
                ngettext("%(count)d initiative returned.", "%(count)d initiatives returned.", n)
                % {"count": n}
            ),
        )

    def _assign(self, request, queryset, officer):
        self._apply(
            request,
            queryset,
            lambda initiative: services.initiative_update(
                initiative=initiative,
                by=request.user,
                expected_version=initiative.version,
                fields={"case_officer": officer},
            ),
            lambda n: (
                ngettext(
                    "%(count)d initiative assigned to %(officer)s.",
                    "%(count)d initiatives assigned to %(officer)s.",
                    n,
                )
                % {"count": n, "officer": officer.get_full_name() or officer.get_username()}
            ),
        )

    @admin.action(description=_("Assign to me"), permissions=["review"])
    def assign_to_me(self, request, queryset):
        self._assign(request, queryset, request.user)

    @admin.action(description=_("Assign a case officer…"), permissions=["review"])
    def assign_case_officer(self, request, queryset):
        form = submitted_form(CaseOfficerForm, request, initial={"case_officer": request.user.pk})
        if not form.is_valid():
            return action_page(
                self,
                request,
                queryset,
                form,
                title=gettext("Assign a case officer"),
                submit=gettext("Assign"),
                action="assign_case_officer",
            )
        self._assign(request, queryset, form.cleaned_data["case_officer"])

    @staticmethod
    def _change_stage(request, initiative, form):
        services.initiative_change_stage(
            initiative=initiative,
            to_stage=form.cleaned_data["to_stage"],
            by=request.user,
            reason=form.cleaned_data["reason"],
            on=form.cleaned_data["on"],
        )

    @admin.action(description=_("Change stage…"), permissions=["review"])
    def change_stage_selected(self, request, queryset):
        form = submitted_form(StageForm, request)
        if not form.is_valid():
            return action_page(
                self,
                request,
                queryset,
                form,
                title=gettext("Change the maturity stage"),
                submit=gettext("Change stage"),
                action="change_stage_selected",
            )
        self._apply(
            request,
            queryset,
            lambda initiative: self._change_stage(request, initiative, form),
            lambda n: (
                ngettext(
                    "%(count)d initiative moved to the stage “%(stage)s”.",
                    "%(count)d initiatives moved to the stage “%(stage)s”.",
                    n,
                )
                % {"count": n, "stage": Stage(form.cleaned_data["to_stage"]).label}
            ),
        )

    def change_stage_view(self, request, object_id):
        """The change page's "Change stage" button: stage, date and reason, then the service."""
        initiative = self.get_object(request, unquote(object_id))
        if initiative is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm("initiatives.review_case", initiative):
            raise PermissionDenied
        change_url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
        form = submitted_form(StageForm, request)
        if form.is_valid():
            try:
                self._change_stage(request, initiative, form)
            except ValidationError as exc:
                self.message_user(request, error_text(exc), messages.ERROR)
            else:
                stage = Stage(form.cleaned_data["to_stage"]).label
                self.message_user(
                    request,
                    gettext("%(reference)s is now at the stage “%(stage)s”.")
                    % {"reference": initiative.reference, "stage": stage},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        return action_page(
            self,
            request,
            [initiative],
            form,
            title=gettext("Change the maturity stage"),
            submit=gettext("Change stage"),
            description=gettext("It is now at the stage “%(stage)s”.")
            % {"stage": initiative.get_stage_display()},
            original=initiative,
            cancel_url=change_url,
        )

    IMPORT_SESSION_KEY = "initiatives-register-import"

    def import_view(self, request):
        """Upload a register: a preview first (a dry run), then "Apply" imports the same file.

        The uploaded file waits in a temporary file, named in the session, between the two.
        """
        if not request.user.has_perm("initiatives.import_register"):
            raise PermissionDenied
        form = RegisterImportForm(request.POST or None, request.FILES or None)
        result, token, status = None, None, 200
        pending = request.session.get(self.IMPORT_SESSION_KEY) or {}
        if request.method == "POST" and request.POST.get("apply"):
            path = pending.get(request.POST["apply"])
            if path is None or not os.path.exists(path):
                self.message_user(
                    request, gettext("Choose the file again: the preview expired."), messages.ERROR
                )
                return HttpResponseRedirect(request.path)
            try:
                result = import_initiatives(path, by=request.user)
            finally:
                os.unlink(path)
                pending.pop(request.POST["apply"], None)
                request.session[self.IMPORT_SESSION_KEY] = pending
            form = RegisterImportForm()
            if result.written:
                self.message_user(request, str(result.summary()), messages.SUCCESS)
        elif request.method == "POST" and form.is_valid():
            path = _keep_upload(request.FILES["file"])
            result = import_initiatives(path, by=request.user, dry_run=True)
            if result.ok:
                token = secrets.token_urlsafe(16)
                pending[token] = path
                request.session[self.IMPORT_SESSION_KEY] = pending
            else:
                os.unlink(path)
        if result is not None and not result.ok:
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import a register of initiatives"),
            "form": form,
            "result": result,
            "token": token,
        }
        return TemplateResponse(
            request, "admin/initiatives/initiative/import.html", context, status=status
        )

    @staticmethod
    def _edit_history(request, initiative, form):
        data = form.cleaned_data
        operation = data["operation"]
        if operation == StageHistoryForm.RECORD:
            services.stage_history_record(
                initiative=initiative,
                to_stage=data["to_stage"],
                on=data["on"],
                by=request.user,
                reason=data["reason"],
            )
        elif operation == StageHistoryForm.CORRECT:
            services.stage_history_correct(
                entry=data["entry"],
                by=request.user,
                reason=data["reason"],
                on=data["on"],
                to_stage=data["to_stage"] or None,
            )
        elif operation == StageHistoryForm.REMOVE:
            services.stage_history_remove(
                entry=data["entry"], by=request.user, reason=data["reason"]
            )
        else:
            services.stage_history_confirm(initiative=initiative, by=request.user)

    def stage_history_view(self, request, object_id):
        """The change page's "Stage history" button: record, correct, remove, confirm."""
        initiative = self.get_object(request, unquote(object_id))
        if initiative is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm("initiatives.review_case", initiative):
            raise PermissionDenied
        form = submitted_form(StageHistoryForm, request, initiative=initiative)
        status = 200
        if form.is_valid():
            try:
                self._edit_history(request, initiative, form)
            except ValidationError as exc:
                self.message_user(request, error_text(exc), messages.ERROR)
                status = 400
            else:
                self.message_user(request, gettext("The stage history is saved."), messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        history = "; ".join(
            "{} ({})".format(
                entry.describe(),
                gettext("confirmed") if entry.is_confirmed else gettext("reported"),
            )
            for entry in initiative.stage_changes.order_by("changed_on", "changed_at", "pk")
        )
        response = action_page(
            self,
            request,
            [initiative],
            form,
            title=gettext("Stage history"),
            submit=gettext("Save"),
            description=gettext("As recorded: %(history)s.") % {"history": history},
            original=initiative,
            cancel_url=reverse("admin:initiatives_initiative_change", args=[initiative.pk]),
        )
        response.status_code = status
        return response

    @admin.action(description=_("Confirm reported stage dates"), permissions=["review"])
    def confirm_stage_dates_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda initiative: services.stage_history_confirm(
                initiative=initiative, by=request.user
            ),
            lambda n: (
                ngettext(
                    "Stage dates of %(count)d initiative confirmed.",
                    "Stage dates of %(count)d initiatives confirmed.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Archive selected"), permissions=["archive"])
    def archive_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda initiative: services.initiative_archive(
                initiative=initiative, by=request.user, expected_version=initiative.version
            ),
            lambda n: (
                ngettext("%(count)d initiative archived.", "%(count)d initiatives archived.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Restore selected"), permissions=["archive"])
    def restore_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda initiative: services.initiative_restore(
                initiative=initiative, by=request.user, expected_version=initiative.version
            ),
            lambda n: (
                ngettext("%(count)d initiative restored.", "%(count)d initiatives restored.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        count = queryset.count()
        audit.record_event(audit.DATA_EXPORT, request=request, detail=f"admin: {count} initiatives")
        return initiatives_csv(queryset)


def _keep_upload(upload):
    """Copy an upload to a temporary file that outlives the request (until it is applied)."""
    handle, path = tempfile.mkstemp(prefix="coprod-register-", suffix=".upload")
    with os.fdopen(handle, "wb") as file:
        for chunk in upload.chunks():
            file.write(chunk)
    return path
