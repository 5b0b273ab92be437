"""Organisations (citizens' groups, CSOs, agencies), their verification and their members."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models import Membership, Organisation
from .base import HistoryAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "status", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)


@admin.register(Organisation)
class OrganisationAdmin(HistoryAdmin):
    list_display = ("name", "kind", "country", "verified", "member_count", "created_at")
    list_filter = ("verified", "kind", ("country", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "contact_name", "contact_email")
    list_select_related = ("country",)
    autocomplete_fields = ("country",)
    inlines = (MembershipInline,)
    actions = ("verify_selected",)

    def get_queryset(self, request):
        active = Q(memberships__status=Membership.Status.ACTIVE)
        members = Count("memberships", filter=active)
        return super().get_queryset(request).annotate(member_count=members)

    @admin.display(description=_("active members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.action(description=_("Verify selected organisations"), permissions=["change"])
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
class MembershipAdmin(HistoryAdmin):
    list_display = ("user", "organisation", "role", "status", "created_at")
    list_filter = ("status", "role")
    search_fields = ("user__username", "user__email", "organisation__name")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")
    actions = ("accept_selected",)

    @admin.action(description=_("Accept selected requests to join"), permissions=["change"])
    def accept_selected(self, request, queryset):
        pending = list(queryset.filter(status=Membership.Status.PENDING))
        for membership in pending:
            membership.status = Membership.Status.ACTIVE
            membership.save(update_fields=["status"])
        count = len(pending)
        self.message_user(
            request,
            ngettext("%(count)d member accepted.", "%(count)d members accepted.", count)
            % {"count": count},
            messages.SUCCESS,
        )
