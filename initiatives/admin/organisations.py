"""Organisations (citizens' groups, CSOs, agencies), their verification and their members."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.adminforms import LabelledInlineFormSet

from .. import rules, services
from ..models import Membership, Organisation
from .base import HistoryAdmin, error_text


class MembershipForm(forms.ModelForm):
    """The admin's membership form: refuses early what the services refuse under the lock."""

    class Meta:
        model = Membership
        fields = ("user", "organisation", "role", "status")

    def _post_clean(self):
        super()._post_clean()  # sets the edited values on the instance; clean() reads them
        if self.instance.pk and not self.errors:
            try:
                services.check_keeps_an_admin(self.instance)
            except ValidationError as error:
                self.add_error(None, error)


class MembershipFormSet(LabelledInlineFormSet):
    """The members of one organisation, edited together: an organisation that has an active
    admin keeps one."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms) or self.instance.pk is None:
            return
        had_admin = (
            Membership.objects.active()
            .filter(organisation=self.instance, role=Membership.Role.ADMIN)
            .exists()
        )
        admins = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("role") == Membership.Role.ADMIN
            and form.cleaned_data.get("status") == Membership.Status.ACTIVE
        ]
        if had_admin and not admins:
            raise ValidationError(
                gettext("An organisation needs at least one admin: make someone else admin first.")
            )


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    fields = ("user", "role", "status", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)


class RefusalAsMessage:
    """A refusal that a service finds only under its lock (someone changed the members while
    the form was open) comes back to the page as a message, not as a server error. The
    admin's views are atomic, so nothing of the refused save is kept."""

    def _refused(self, request, error):
        self.message_user(request, error_text(error), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ValidationError as error:
            return self._refused(request, error)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except ValidationError as error:
            return self._refused(request, error)

    def changelist_view(self, request, *args, **kwargs):
        try:
            return super().changelist_view(request, *args, **kwargs)
        except ValidationError as error:
            return self._refused(request, error)


@admin.register(Organisation)
class OrganisationAdmin(RefusalAsMessage, HistoryAdmin):
    list_display = ("name", "kind", "country", "verified", "member_count", "created_at")
    list_filter = ("verified", "kind", ("country", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "contact_name", "contact_email")
    list_select_related = ("country",)
    autocomplete_fields = ("country",)
    inlines = (MembershipInline,)
    actions = ("verify_selected",)

    def save_model(self, request, obj, form, change):
        if change:
            services.organisation_update(organisation=obj, by=request.user)
        else:
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        # New admins first, removals last, so that a hand-over passes the last-admin rule.
        memberships.sort(key=lambda membership: membership.role != Membership.Role.ADMIN)
        for membership in memberships:
            services.membership_save(membership=membership, by=request.user)
        for membership in formset.deleted_objects:
            services.membership_remove(membership=membership, by=request.user)
        formset.save_m2m()

    def get_queryset(self, request):
        active = Q(memberships__status=Membership.Status.ACTIVE)
        members = Count("memberships", filter=active)
        return super().get_queryset(request).annotate(member_count=members)

    @admin.display(description=_("active members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def has_verify_permission(self, request):
        return rules.can_verify(request.user)

    @admin.action(description=_("Verify selected organisations"), permissions=["verify"])
    def verify_selected(self, request, queryset):
        unverified = list(queryset.filter(verified=False))
        for organisation in unverified:
            organisation.verified = True
            organisation.save(update_fields=["verified"])  # its history says who verified it
        count = len(unverified)
        self.message_user(
            request,
            ngettext("%(count)d organisation verified.", "%(count)d organisations verified.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Membership)
class MembershipAdmin(RefusalAsMessage, HistoryAdmin):
    form = MembershipForm
    list_display = ("user", "organisation", "role", "status", "created_at")
    list_filter = ("status", "role")
    search_fields = ("user__username", "user__email", "organisation__name")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")
    actions = ("accept_selected",)

    @admin.action(description=_("Accept selected requests to join"), permissions=["change"])
    def accept_selected(self, request, queryset):
        count = 0
        for membership in queryset.filter(status=Membership.Status.PENDING):
            try:
                services.membership_accept(membership=membership, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{membership}: {error_text(error)}", messages.ERROR)
            else:
                count += 1
        self.message_user(
            request,
            ngettext("%(count)d member accepted.", "%(count)d members accepted.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        services.membership_save(membership=obj, by=request.user)

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj, by=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        # All or none: a refusal (the last admin of an organisation) undoes the others.
        for membership in queryset.select_related("organisation").order_by("organisation_id"):
            services.membership_remove(membership=membership, by=request.user)
