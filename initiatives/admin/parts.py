"""Parts of an initiative on their own pages, mainly for their history (who, when, what).

They are edited on the initiative's page too; an edit here moves the initiative's version
on, so that anyone with the initiative open learns that it changed.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import AccountabilityFramework, Activity, ActivityKind, BudgetFramework, Participation
from .base import (
    HistoryAdmin,
    error_text,
    framework_name,
    framework_values,
    limit_entry_choices,
)


class PartOfInitiativeAdmin(HistoryAdmin):
    list_select_related = ("initiative",)
    autocomplete_fields = ("initiative",)
    #: Parts edited on the initiative's own page stay off the admin's index (their lists
    #: still answer at their addresses).
    in_index = True

    def get_model_perms(self, request):
        return super().get_model_perms(request) if self.in_index else {}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.initiative_touch(initiative=obj.initiative, by=request.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.initiative_touch(initiative=obj.initiative, by=request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # a framework is emptied, a timeline entry stays: nothing is lost


class VersionedPartAdmin(PartOfInitiativeAdmin):
    """A part written through its service, under the initiative's version as loaded.

    A part stays with its initiative: the initiative is chosen when the part is added.
    """

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "initiative") if obj is not None else readonly

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (services.StaleEdit, ValidationError) as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)

    @staticmethod
    def values(form):
        return {name: value for name, value in form.cleaned_data.items() if name != "initiative"}


@admin.register(Participation)
class ParticipationAdmin(VersionedPartAdmin):
    in_index = False
    list_display = ("initiative", "phase", "partner_type", "level", "organisation")
    list_filter = ("phase", "partner_type", "level")
    search_fields = ("initiative__reference", "initiative__title", "organisation__name")
    list_select_related = ("initiative", "organisation")
    autocomplete_fields = ("initiative", "organisation")

    def has_delete_permission(self, request, obj=None):
        # Taking a partner out of a cell is an ordinary edit of the matrix, kept in history.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def save_model(self, request, obj, form, change):
        initiative = obj.initiative
        if change:
            saved = services.participation_update(
                participation=obj,
                by=request.user,
                expected_version=initiative.version,
                **self.values(form),
            )
        else:
            saved = services.participation_create(
                initiative=initiative,
                by=request.user,
                expected_version=initiative.version,
                **self.values(form),
            )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.participation_delete(
            participation=obj, by=request.user, expected_version=obj.initiative.version
        )


@admin.register(Activity)
class ActivityAdmin(VersionedPartAdmin):
    list_display = ("date", "initiative", "kind", "visibility", "short_text", "author")
    list_filter = ("kind", "visibility")
    search_fields = ("initiative__reference", "initiative__title", "text")
    list_select_related = ("initiative", "author")
    date_hierarchy = "date"
    readonly_fields = ("author", "created_at")

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return Truncator(obj.text).chars(80)

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.kind in (ActivityKind.STAGE, ActivityKind.REVIEW):
            # Written by the stage and review workflows: the record of what happened.
            return (
                "initiative",
                "kind",
                "visibility",
                "date",
                "text",
                "file",
                "author",
                "created_at",
            )
        return super().get_readonly_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        limit_entry_choices(form.base_fields, request.user, obj.initiative if obj else None)
        return form

    def save_model(self, request, obj, form, change):
        values = {name: getattr(obj, name) for name in form.changed_data if name != "initiative"}
        if change:
            services.activity_update(
                activity=obj, by=request.user, expected_version=obj.initiative.version, **values
            )
            return
        values = {name: getattr(obj, name) for name in form.cleaned_data if name != "initiative"}
        saved = services.activity_create(
            initiative=obj.initiative,
            by=request.user,
            expected_version=obj.initiative.version,
            **values,
        )
        obj.pk = saved.pk


class FrameworkAdmin(VersionedPartAdmin):
    in_index = False

    def save_model(self, request, obj, form, change):
        saved = services.framework_save(
            initiative=obj.initiative,
            name=framework_name(obj),
            by=request.user,
            expected_version=obj.initiative.version,
            values=framework_values(obj),
        )
        obj.pk = saved.pk


@admin.register(AccountabilityFramework)
class AccountabilityFrameworkAdmin(FrameworkAdmin):
    list_display = ("initiative", "accountable_body", "reporting_frequency", "roles_written")
    list_filter = ("roles_written",)
    search_fields = ("initiative__reference", "initiative__title", "accountable_body")


@admin.register(BudgetFramework)
class BudgetFrameworkAdmin(FrameworkAdmin):
    list_display = ("initiative", "amount", "currency", "resources_transferred", "evidence_level")
    list_filter = ("resources_transferred", "evidence_level", "funded_beyond_pilot")
    search_fields = ("initiative__reference", "initiative__title", "funding_sources")
