"""Optimistic locking: every write on an initiative names the version it was based on."""

import pytest

from initiatives.models import Initiative
from tests.factories import make_initiative
from tests.parallel import archived_right_after_lookup

pytestmark = pytest.mark.django_db


@pytest.fixture
def initiative(staff, organisation):
    return make_initiative(by=staff, organisation=organisation)


def test_reading_gives_the_version_as_etag(as_user, member, initiative):
    response = as_user(member).get(f"/api/initiatives/{initiative.reference}/")
    assert response["ETag"] == '"1"'
    assert response.json()["version"] == 1


@pytest.mark.parametrize("method", ["put", "patch"])
def test_changing_without_if_match_is_428(as_user, member, initiative, method):
    body = {"title": "New", "country": "FIN", "sector": "03", "level": "local"}
    response = getattr(as_user(member), method)(
        f"/api/initiatives/{initiative.reference}/", body, format="json"
    )
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    assert Initiative.objects.get(pk=initiative.pk).title != "New"


def test_two_clients_cannot_lose_each_others_changes(as_user, member, staff, initiative):
    alice, bob = as_user(member), as_user(staff)
    url = f"/api/initiatives/{initiative.reference}/"
    alice_etag = alice.get(url)["ETag"]
    bob_etag = bob.get(url)["ETag"]
    assert alice_etag == bob_etag

    saved = alice.patch(
        url, {"summary": "Alice's summary"}, format="json", HTTP_IF_MATCH=alice_etag
    )
    assert saved.status_code == 200
    assert saved["ETag"] == '"2"'

    stale = bob.patch(url, {"title": "Bob's title"}, format="json", HTTP_IF_MATCH=bob_etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale"
    assert stale["ETag"] == '"2"'
    current = Initiative.objects.get(pk=initiative.pk)
    assert (current.summary, current.title) == ("Alice's summary", initiative.title)

    # Bob reads again and re-applies his change on top of Alice's.
    retry = bob.patch(url, {"title": "Bob's title"}, format="json", HTTP_IF_MATCH=stale["ETag"])
    assert retry.status_code == 200
    current = Initiative.objects.get(pk=initiative.pk)
    assert (current.summary, current.title) == ("Alice's summary", "Bob's title")
    assert current.version == 3


def test_editing_a_part_makes_open_editors_stale(as_user, member, initiative):
    client = as_user(member)
    url = f"/api/initiatives/{initiative.reference}/"
    etag = client.get(url)["ETag"]
    part = client.put(
        f"{url}accountability/",
        {"accountable_body": "City council", "roles_written": True},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert part.status_code == 200
    assert part["ETag"] == '"2"'
    assert client.patch(url, {"title": "x"}, format="json", HTTP_IF_MATCH=etag).status_code == 412


@pytest.mark.parametrize("path", ["accountability/", "budget/"])
def test_frameworks_need_if_match_too(as_user, member, initiative, path):
    url = f"/api/initiatives/{initiative.reference}/{path}"
    client = as_user(member)
    assert client.patch(url, {"notes": "x"}, format="json").status_code == 428
    assert client.patch(url, {}, format="json", HTTP_IF_MATCH='"7"').status_code == 412


def test_a_malformed_if_match_is_a_validation_error(as_user, member, initiative):
    response = as_user(member).patch(
        f"/api/initiatives/{initiative.reference}/",
        {"title": "x"},
        format="json",
        HTTP_IF_MATCH="yesterday",
    )
    assert response.status_code == 400
    assert "If-Match" in response.json()["details"]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_record_archived_during_the_lookup_is_never_refused_as_not_yours(
    as_user, member, initiative, method
):
    # The record is found and its write right read in one statement; archived right after,
    # the write meets the moved version (412), never a 403 telling a member it is not theirs.
    url = f"/api/initiatives/{initiative.reference}/"
    with archived_right_after_lookup(initiative):
        response = getattr(as_user(member), method)(
            url, {"title": "Mine"}, format="json", HTTP_IF_MATCH='"1"'
        )
    assert response.status_code == 412, response.content
    assert response["ETag"] == '"2"'
    assert Initiative.objects.get(pk=initiative.pk).title != "Mine"
