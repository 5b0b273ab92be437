"""The initiative admin's actions on a selection: review, assignment, stages, archiving
and export. Each runs a service on every selected initiative, as the site and the API do."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import audit, rules, services
from ..models import Stage
from .base import action_page, error_text, submitted_form
from .exports import initiatives_csv, initiatives_xlsx
from .forms import CaseOfficerForm, ConfirmForm, ReturnForm, StageForm


def change_stage(request, initiative, form):
    """Move one initiative to the stage the form asks for (the action and the button), at
    the version the page showed, or, for a selection, the version as the list was read."""
    opened = form.cleaned_data.get("opened_version")
    services.initiative_change_stage(
        initiative=initiative,
        to_stage=form.cleaned_data["to_stage"],
        by=request.user,
        reason=form.cleaned_data["reason"],
        on=form.cleaned_data["on"],
        expected_version=initiative.version if opened is None else opened,
    )


class InitiativeActions:
    """The actions of `InitiativeAdmin` (mixed into it)."""

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
            lambda initiative: change_stage(request, initiative, form),
            lambda n: (
                ngettext(
                    "%(count)d initiative moved to the stage “%(stage)s”.",
                    "%(count)d initiatives moved to the stage “%(stage)s”.",
                    n,
                )
                % {"count": n, "stage": Stage(form.cleaned_data["to_stage"]).label}
            ),
        )

    @admin.action(description=_("Confirm reported stage dates"), permissions=["review"])
    def confirm_stage_dates_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda initiative: services.stage_history_confirm(
                initiative=initiative, by=request.user, expected_version=initiative.version
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

    @admin.action(description=_("Export selected as XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        count = queryset.count()
        audit.record_event(audit.DATA_EXPORT, request=request, detail=f"admin: {count} initiatives")
        return initiatives_xlsx(queryset)
