"""API tokens and the security log: read-only; tokens can be revoked, never read."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.adminforms import ReadOnlyAdmin

from .. import audit
from ..models import ApiToken, SecurityEvent
from .base import has_model_permission


class TokenStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are made by their users; staff see and revoke them. The key hash is never shown."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (TokenStatusFilter,)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke_selected",)

    def has_revoke_permission(self, request):
        return has_model_permission(request, self.opts, "change")

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        now = timezone.now()
        for token in tokens:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            audit.record_event(
                audit.TOKEN_REVOKED,
                request=request,
                user=token.user,
                detail=f"{token.name} ({token.prefix}) revoked by {request.user.get_username()}",
            )
        count = len(tokens)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "count", "username", "ip_address", "path")
    list_filter = ("kind",)
    search_fields = ("username", "ip_address", "path", "detail")
    date_hierarchy = "created_at"
    fields = ("created_at", "kind", "count", "user", "username", "ip_address", "path", "detail")
    readonly_fields = fields
