import pytest

from initiatives.filters import InitiativeFilterSet
from initiatives.models import Initiative
from survey.models import Item
from tests.factories import add_participation, make_initiative

pytestmark = pytest.mark.django_db


def refs(params):
    filterset = InitiativeFilterSet(params, queryset=Initiative.objects.all())
    assert filterset.is_valid(), filterset.errors
    return sorted(i.title for i in filterset.qs)


def test_phase_and_partner_type_apply_to_the_same_participation(staff):
    a = make_initiative(by=staff, title="A")
    add_participation(a, phase="design", partner_type="citizen")
    b = make_initiative(by=staff, title="B")
    add_participation(b, phase="design", partner_type="professional")
    add_participation(b, phase="deliver", partner_type="citizen")
    assert refs({"phase": ["design"], "partner_type": ["citizen"]}) == ["A"]
    assert refs({"partner_type": ["citizen"]}) == ["A", "B"]


def test_tags_filter_by_item_code(staff):
    a = make_initiative(by=staff, title="A")
    a.factors.set([Item.objects.get(question__code="factors", code="frameworks")])
    make_initiative(by=staff, title="B")
    assert refs({"factor": ["frameworks"]}) == ["A"]


def test_country_search_and_unknown_codes(staff):
    make_initiative(by=staff, title="Helsinki walks")
    make_initiative(by=staff, title="Toronto care", country_id="CAN")
    assert refs({"country": ["CAN"]}) == ["Toronto care"]
    assert refs({"q": "walks"}) == ["Helsinki walks"]
    filterset = InitiativeFilterSet({"country": ["XXX"]}, queryset=Initiative.objects.all())
    assert not filterset.is_valid()
