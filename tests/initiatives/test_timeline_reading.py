"""Reading timeline entries: each audience reads the entries of its visibility, everywhere."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from initiatives import services
from initiatives.models import Activity, ReviewStatus, Visibility
from tests.factories import UserFactory, document_entry, make_initiative, token_client

TEXTS = {"public": "Open walk", "group": "Group rota", "internal": "Officer doubts"}


@pytest.fixture
def initiative(db, organisation, staff):
    initiative = make_initiative(organisation=organisation, review_status=ReviewStatus.PUBLISHED)
    for visibility, text in TEXTS.items():
        document_entry(initiative, by=staff, visibility=visibility, text=text)
    return initiative


@pytest.fixture
def readers(db, member, other_member, staff):
    return {"anonymous": None, "other": other_member, "member": member, "staff": staff}


EXPECTED = {
    "anonymous": {"public"},
    "other": {"public"},
    "member": {"public", "group"},
    "staff": {"public", "group", "internal"},
}


def _client(client, user):
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("reader", EXPECTED)
def test_the_case_page_shows_the_readers_entries(client, initiative, readers, reader):
    page = _client(client, readers[reader]).get(initiative.get_absolute_url()).content.decode()
    shown = {visibility for visibility, text in TEXTS.items() if text in page}
    assert shown == EXPECTED[reader]
    for visibility in TEXTS:
        assert (f"{visibility}.pdf" in page) == (visibility in EXPECTED[reader])


@pytest.mark.parametrize("reader", EXPECTED)
def test_documents_download_only_for_readers_of_their_entry(client, initiative, readers, reader):
    client = _client(client, readers[reader])
    for activity in initiative.activities.all():
        url = reverse(
            "initiatives:document", kwargs={"reference": initiative.reference, "pk": activity.pk}
        )
        expected = 200 if activity.visibility in EXPECTED[reader] else 404
        assert client.get(url).status_code == expected, activity.visibility


@pytest.mark.parametrize("reader", EXPECTED)
def test_the_api_lists_and_shows_the_readers_entries(initiative, readers, reader):
    client = token_client(readers[reader])
    url = f"/api/initiatives/{initiative.reference}/activities/"
    listed = client.get(url).json()["results"]
    assert {entry["visibility"] for entry in listed} == EXPECTED[reader]
    for activity in initiative.activities.all():
        expected = 200 if activity.visibility in EXPECTED[reader] else 404
        assert client.get(f"{url}{activity.pk}/").status_code == expected


@pytest.mark.parametrize("reader", EXPECTED)
def test_exports_carry_no_timeline_entry(client, initiative, readers, reader):
    response = _client(client, readers[reader]).get(reverse("initiatives:export"))
    body = b"".join(response.streaming_content).decode()
    assert initiative.reference in body
    assert not any(text in body for text in TEXTS.values())


def test_the_admin_export_carries_no_timeline_entry(client, initiative, staff):
    client.force_login(staff)
    response = client.post(
        reverse("admin:initiatives_initiative_changelist"),
        {"action": "export_csv", "_selected_action": [initiative.pk]},
    )
    body = b"".join(response.streaming_content).decode()
    assert initiative.reference in body
    assert not any(text in body for text in TEXTS.values())


def test_no_entry_is_mailed_to_anyone(db, initiative, member, staff):
    mail.outbox.clear()
    services.activity_create(
        initiative=initiative,
        by=staff,
        expected_version=None,
        kind="note",
        visibility="internal",
        text="Do not tell the group",
    )
    assert mail.outbox == []


def test_a_return_reason_is_mailed_to_the_group_and_kept_from_the_public(
    django_capture_on_commit_callbacks, client, organisation, member, staff
):
    initiative = make_initiative(organisation=organisation, review_status=ReviewStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_return(initiative=initiative, by=staff, reason="Add the budget")
    [message] = mail.outbox
    assert message.to == [member.email]
    entry = initiative.activities.get(kind="review")
    assert entry.visibility == Visibility.GROUP


def test_review_and_proposal_entries_are_shared_with_the_group(organisation, member, staff):
    initiative = make_initiative(organisation=organisation, review_status=ReviewStatus.SUBMITTED)
    services.initiative_approve(initiative=initiative, by=staff)
    services.stage_proposal_create(
        initiative=initiative, to_stage="pilot", by=member, reason="We started"
    )
    assert set(initiative.activities.values_list("kind", "visibility")) == {
        ("review", "group"),
        ("note", "group"),
    }


def test_the_admin_lists_internal_entries_only_to_staff_who_read_all(client, initiative):
    officer = UserFactory(username="limited", is_staff=True)
    officer.user_permissions.add(
        Permission.objects.get(codename="view_activity"),
        Permission.objects.get(codename="change_initiative"),
    )
    client.force_login(officer)
    page = client.get(reverse("admin:initiatives_activity_changelist")).content.decode()
    assert TEXTS["public"] in page
    assert TEXTS["internal"] not in page
    assert TEXTS["group"] not in page
    internal = initiative.activities.get(visibility="internal")
    url = reverse("admin:initiatives_activity_change", args=[internal.pk])
    assert client.get(url).status_code in (302, 404)
    assert Activity.objects.visible_to(officer).count() == 1


@pytest.mark.parametrize("reader", EXPECTED)
def test_authors_are_named_as_the_page_names_them(client, initiative, readers, reader, staff):
    staff.first_name, staff.last_name = "Ada", "Officer"
    staff.save()
    sees = reader in ("member", "staff")
    listed = token_client(readers[reader]).get(
        f"/api/initiatives/{initiative.reference}/activities/"
    )
    authors = {entry["author"] for entry in listed.json()["results"]}
    assert authors == ({staff.username} if sees else {"Ada Officer"})
    page = _client(client, readers[reader]).get(initiative.get_absolute_url()).content.decode()
    assert "Ada Officer" in page
    assert staff.username not in page


@pytest.mark.parametrize("reader", EXPECTED)
def test_no_username_or_id_of_a_person_goes_to_outsiders(initiative, readers, reader, staff):
    initiative.case_officer = staff
    initiative.save()
    client = token_client(readers[reader])
    record = client.get(f"/api/initiatives/{initiative.reference}/").json()
    sees = reader in ("member", "staff")
    assert record["case_officer"] == (staff.pk if sees else None)
    history = client.get(f"/api/initiatives/{initiative.reference}/history/")
    assert history.status_code == (200 if sees else 404)
    proposals = client.get(f"/api/initiatives/{initiative.reference}/proposals/")
    assert proposals.status_code == (200 if sees else 404)
