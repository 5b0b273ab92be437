"""The one FilterSet behind the public list, its CSV export and the API."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from survey.models import Country, Item, Sector

from .models import Initiative, Level, Participation, PartnerType, Phase, ReviewStatus, Stage


def _tag_filter(field, question, label):
    return django_filters.ModelMultipleChoiceFilter(
        field_name=field,
        to_field_name="code",
        queryset=Item.objects.filter(question__code=question),
        label=label,
        method="filter_tag",
    )


class InitiativeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    country = django_filters.ModelMultipleChoiceFilter(
        queryset=Country.objects.all(), label=_("Country")
    )
    sector = django_filters.ModelMultipleChoiceFilter(
        queryset=Sector.objects.all(), label=_("Sector")
    )
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, label=_("Maturity stage"))
    level = django_filters.MultipleChoiceFilter(
        choices=Level.choices, label=_("Level of government")
    )
    review_status = django_filters.MultipleChoiceFilter(
        choices=ReviewStatus.choices, label=_("Review status")
    )
    phase = django_filters.MultipleChoiceFilter(
        choices=Phase.choices, label=_("Phase"), method="filter_participation"
    )
    partner_type = django_filters.MultipleChoiceFilter(
        choices=PartnerType.choices, label=_("Partner type"), method="filter_participation"
    )
    objective = _tag_filter("objectives", "reasons", _("Objective"))
    barrier = _tag_filter("barriers", "barriers", _("Barrier"))
    factor = _tag_filter("factors", "factors", _("Success factor"))
    verified = django_filters.BooleanFilter(
        field_name="organisation__verified", label=_("Verified organisation")
    )
    ordering = django_filters.OrderingFilter(
        fields=(("updated_at", "updated"), ("title", "title"), ("reference", "reference")),
        field_labels={"updated_at": _("Updated"), "title": _("Title"), "reference": _("Reference")},
        label=_("Sort by"),
    )

    class Meta:
        model = Initiative
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(summary__icontains=value)
            | Q(lead_public_body__icontains=value)
            | Q(organisation__name__icontains=value)
        )

    def filter_participation(self, queryset, name, value):
        # Phase and partner type are combined on the same participation when both are
        # given ("citizens take part in design"), so the work happens in `filter_queryset`.
        return queryset

    def filter_tag(self, queryset, name, value):
        for item in value:  # every chosen item must be tagged
            queryset = queryset.filter(**{name: item})
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        phases = self.form.cleaned_data.get("phase")
        partner_types = self.form.cleaned_data.get("partner_type")
        if phases or partner_types:
            cells = Participation.objects.filter(initiative=OuterRef("pk"))
            if phases:
                cells = cells.filter(phase__in=phases)
            if partner_types:
                cells = cells.filter(partner_type__in=partner_types)
            queryset = queryset.filter(Exists(cells))
        return queryset
