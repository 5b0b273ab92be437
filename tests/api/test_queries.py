"""Every list costs the same number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from initiatives.models import Activity, Organisation
from survey.models import Item
from tests.factories import (
    OrganisationFactory,
    StaffFactory,
    WaveFactory,
    add_participation,
    answer,
    make_initiative,
)

pytestmark = pytest.mark.django_db

PHASES = ["commission", "design", "deliver", "assess"]
PARTNERS = ["citizen", "user", "community_group", "cso", "professional", "private"]


@pytest.fixture(scope="module")
def module_staff(module_transaction, django_db_blocker):
    with django_db_blocker.unblock():
        return StaffFactory()


@pytest.fixture(scope="module")
def many(module_transaction, module_staff, django_db_blocker):
    """A register with enough of everything to page through, made once for the module."""
    with django_db_blocker.unblock():
        return _many(module_staff, OrganisationFactory())


@pytest.fixture
def staff(module_staff):
    return module_staff


def _many(staff, organisation):
    reasons = list(Item.objects.filter(question__code="reasons"))
    first = None
    for number in range(25):
        initiative = make_initiative(
            by=staff, title=f"Initiative {number}", organisation=organisation
        )
        initiative.objectives.set(reasons[: 1 + number % 3])
        first = first or initiative
    for phase in PHASES:
        for partner in PARTNERS:
            add_participation(first, phase=phase, partner_type=partner)
    for number in range(25):
        Activity.objects.create(initiative=first, kind="note", text=f"Note {number}", author=staff)
        Organisation.objects.create(name=f"Group {number}", kind="cso", country_id="FIN")
    for number in range(1, 25):
        first.title = f"Renamed {number}"
        first.save()
    wave = WaveFactory(code="Q-2024")
    for number in range(25):
        answer(wave, "FIN", f"r{number}", "07", "barriers", {"resources": True, "evidence": False})
    return first


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize(
    "path",
    [
        "/api/initiatives/",
        "/api/initiatives/{ref}/participations/",
        "/api/initiatives/{ref}/activities/",
        "/api/initiatives/{ref}/history/",
        "/api/organisations/",
        "/api/vocabulary/sectors/",
        "/api/vocabulary/countries/",
        "/api/vocabulary/waves/",
        "/api/vocabulary/questions/",
        "/api/vocabulary/reference-values/",
        "/api/survey/responses/",
    ],
)
def test_a_list_costs_the_same_at_any_page_size(as_user, staff, many, path):
    client = as_user(staff)
    url = path.format(ref=many.reference)
    separator = "&" if "?" in url else "?"
    client.get(url)  # the token's first use is written once; later requests do not write it
    small = queries(client, f"{url}{separator}page_size=2")
    large = queries(client, f"{url}{separator}page_size=20")
    assert small == large
    assert large <= 12


def test_the_indicators_cost_the_same_at_any_size(api, many):
    small = queries(api, "/api/survey/indicators/?wave=Q-2024&question=barriers")
    large = queries(api, "/api/survey/indicators/?wave=Q-2024&question=barriers&by=country")
    assert small == large
