"""Stage proposals: a group member asks for a stage change, a case officer decides."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.adminforms import ReadOnlyAdmin

from .. import rules, services
from ..models import StageProposal
from .base import (
    DefaultListFilter,
    action_page,
    error_text,
    submitted_form,
)
from .forms import DecisionNoteForm


class ProposalStatusFilter(DefaultListFilter):
    """Open proposals unless asked: they are the ones waiting for a case officer."""

    title = _("status")
    parameter_name = "status"
    default = StageProposal.Status.OPEN

    def lookups(self, request, model_admin):
        return [*StageProposal.Status.choices, ("all", _("All"))]

    def queryset(self, request, queryset):
        if self.value() in StageProposal.Status.values:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(StageProposal)
class StageProposalAdmin(ReadOnlyAdmin):
    list_display = (
        "initiative",
        "current_stage",
        "to_stage",
        "effective_on",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_by",
    )
    list_filter = (ProposalStatusFilter, "to_stage")
    search_fields = ("initiative__reference", "initiative__title", "reason")
    list_select_related = ("initiative", "proposed_by", "decided_by")
    fields = (
        "initiative",
        "to_stage",
        "effective_on",
        "reason",
        "proposed_by",
        "proposed_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields
    actions = ("accept_selected", "decline_selected")

    @admin.display(description=_("current stage"))
    def current_stage(self, obj):
        return obj.initiative.get_stage_display()

    def has_decide_permission(self, request):
        return rules.can_review(request.user)

    def _decide(self, request, queryset, *, accept, note=""):
        count = 0
        for proposal in queryset.select_related("initiative"):
            try:
                services.stage_proposal_decide(
                    proposal=proposal, by=request.user, accept=accept, note=note
                )
            except ValidationError as exc:
                message = f"{proposal.initiative.reference}: {error_text(exc)}"
                self.message_user(request, message, messages.ERROR)
            else:
                count += 1
        if count:
            if accept:
                done = ngettext(
                    "%(count)d proposal accepted.", "%(count)d proposals accepted.", count
                )
            else:
                done = ngettext(
                    "%(count)d proposal declined.", "%(count)d proposals declined.", count
                )
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Accept selected (changes the stage)"), permissions=["decide"])
    def accept_selected(self, request, queryset):
        self._decide(request, queryset, accept=True)

    @admin.action(description=_("Decline selected…"), permissions=["decide"])
    def decline_selected(self, request, queryset):
        form = submitted_form(DecisionNoteForm, request)
        if not form.is_valid():
            return action_page(
                self,
                request,
                queryset.select_related("initiative"),
                form,
                title=gettext("Decline stage proposals"),
                submit=gettext("Decline"),
                action="decline_selected",
            )
        self._decide(request, queryset, accept=False, note=form.cleaned_data["note"])
