"""The initiative changelist's filters beyond plain field filters."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core import reportcache

from .. import rules
from ..models import Participation, PartnerType, Phase, ReviewStatus
from .base import DefaultListFilter


class UsedValuesFilter(admin.RelatedOnlyFieldListFilter):
    """The countries (or sectors) that some initiative uses, kept until the data changes.

    Finding them reads every initiative (a DISTINCT over the table), on every changelist
    page otherwise; the list depends only on the data, so it lives in the report cache.
    """

    def field_choices(self, field, request, model_admin):
        key = ("admin-used-values", model_admin.model._meta.label, self.field_path, get_language())
        return reportcache.cached(
            key, lambda: super(UsedValuesFilter, self).field_choices(field, request, model_admin)
        )


class ArchivedFilter(DefaultListFilter):
    """Active initiatives unless asked: archiving is how the admin deletes."""

    title = _("archive")
    parameter_name = "archived"
    default = "no"

    def lookups(self, request, model_admin):
        return [("no", _("Active")), ("yes", _("Archived")), ("all", _("All"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class ReviewQueueFilter(admin.SimpleListFilter):
    """Submissions waiting for a decision; the admin orders them oldest first."""

    title = _("review queue")
    parameter_name = "queue"
    WAITING = "waiting"

    def lookups(self, request, model_admin):
        return [(self.WAITING, _("Waiting for review, oldest first"))]

    def queryset(self, request, queryset):
        if self.value() == self.WAITING:
            return queryset.filter(review_status=ReviewStatus.SUBMITTED)
        return queryset

    @classmethod
    def is_on(cls, request):
        return request.GET.get(cls.parameter_name) == cls.WAITING


class CaseOfficerFilter(admin.SimpleListFilter):
    """ "My cases", the unassigned ones, or any staff member's."""

    title = _("case officer")
    parameter_name = "officer"

    def lookups(self, request, model_admin):
        officers = rules.case_officers()
        return [("me", _("My cases")), ("none", _("Unassigned"))] + [
            (str(officer.pk), officer.get_full_name() or officer.get_username())
            for officer in officers
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(case_officer=request.user)
        if value == "none":
            return queryset.filter(case_officer__isnull=True)
        if value:
            return queryset.filter(case_officer_id=value) if value.isdigit() else queryset.none()
        return queryset


class _ParticipationFilter(admin.SimpleListFilter):
    """Initiatives with a participation in the chosen phase (or of the chosen partner type).

    An `Exists` rather than a join, so that no initiative is listed twice.
    """

    choices_class = None

    def lookups(self, request, model_admin):
        return self.choices_class.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        cells = Participation.objects.filter(
            initiative=OuterRef("pk"), **{self.parameter_name: self.value()}
        )
        return queryset.filter(Exists(cells))


class PhaseFilter(_ParticipationFilter):
    title = _("phase")
    parameter_name = "phase"
    choices_class = Phase


class PartnerTypeFilter(_ParticipationFilter):
    title = _("partner type")
    parameter_name = "partner_type"
    choices_class = PartnerType
