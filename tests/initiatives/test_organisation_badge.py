"""The verified badge vouches for an organisation under its name: renaming it takes the
badge off until staff verify it again, whichever door renames it."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from initiatives.models import Organisation
from tests.factories import MembershipFactory, StaffFactory, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(organisation):
    Organisation.objects.filter(pk=organisation.pk).update(verified=True)
    organisation.refresh_from_db()
    return organisation


@pytest.fixture
def group_admin(verified):
    return MembershipFactory(organisation=verified, role="admin").user


def _badge(organisation):
    return Organisation.objects.get(pk=organisation.pk).verified


def test_any_save_that_renames_takes_the_badge_off(verified):
    verified.contact_name = "Aino"
    verified.save()
    assert _badge(verified) is True  # other details keep it
    verified.name = "Renamed Group"
    verified.save(update_fields=["name"])
    assert _badge(verified) is False
    history = verified.history.order_by("-history_date", "-history_id").first()
    assert (history.name, history.verified) == ("Renamed Group", False)


def test_renaming_through_the_api_takes_the_badge_off(group_admin, verified):
    url = f"/api/organisations/{verified.pk}/"
    response = token_client(group_admin).patch(url, {"name": "Renamed Group"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["verified"] is False
    assert _badge(verified) is False


def test_a_group_cannot_keep_the_badge_by_sending_it_back(group_admin, verified):
    url = f"/api/organisations/{verified.pk}/"
    body = {"name": "Renamed Group", "verified": True}
    response = token_client(group_admin).patch(url, body, format="json")
    assert response.status_code == 200
    assert _badge(verified) is False


def test_staff_who_verify_keep_the_badge_only_when_they_say_so(staff, verified):
    url = f"/api/organisations/{verified.pk}/"
    client = token_client(staff)
    assert client.patch(url, {"name": "Renamed", "verified": True}, format="json").json()[
        "verified"
    ]
    assert _badge(verified) is True
    assert not client.patch(url, {"name": "Renamed again"}, format="json").json()["verified"]
    assert _badge(verified) is False


def _admin_data(organisation, **changes):
    data = {
        "name": organisation.name,
        "kind": organisation.kind,
        "country": organisation.country_id,
        "contact_name": "",
        "contact_email": "",
        "website": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if organisation.verified:
        data["verified"] = "on"
    data.update(changes)
    return data


def test_staff_who_verify_rename_and_keep_it_verified_in_one_admin_save(staff_client, verified):
    url = reverse("admin:initiatives_organisation_change", args=[verified.pk])
    response = staff_client.post(url, _admin_data(verified, name="Renamed Group"))
    assert response.status_code == 302
    assert _badge(verified) is True
    data = _admin_data(verified, name="Renamed once more")
    del data["verified"]
    assert staff_client.post(url, data).status_code == 302
    assert _badge(verified) is False


def test_staff_who_may_not_verify_lose_the_badge_when_renaming_in_the_admin(client, verified):
    editor = StaffFactory(is_superuser=False)
    editor.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_organisation", "change_organisation", "view_membership"]
        )
    )
    client.force_login(editor)
    url = reverse("admin:initiatives_organisation_change", args=[verified.pk])
    response = client.post(url, _admin_data(verified, name="Renamed Group"))
    assert response.status_code == 302
    assert _badge(verified) is False
