"""Writing timeline entries: one service behind the site, the API and the admin."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from initiatives import services
from initiatives.models import Activity, ApiToken, ReviewStatus, Visibility
from survey.models import Item
from tests.factories import StaffFactory, UserFactory, add_participation, make_initiative


@pytest.fixture
def initiative(db, organisation):
    return make_initiative(organisation=organisation, review_status=ReviewStatus.PUBLISHED)


@pytest.fixture
def annotator(db):
    """Staff who write timeline entries, internal ones too, but change no record."""
    person = UserFactory(username="annotator", is_staff=True)
    person.user_permissions.add(Permission.objects.get(codename="add_activity"))
    return person


def _api(user):
    client = APIClient()
    _, key = ApiToken.issue(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _new(initiative, by, **fields):
    values = {"kind": "note", "text": "Met the residents.", **fields}
    return services.activity_create(initiative=initiative, by=by, expected_version=None, **values)


# The service ---------------------------------------------------------------------------


def test_a_members_entry_is_public_unless_they_choose(initiative, member):
    assert _new(initiative, member).visibility == Visibility.PUBLIC
    assert _new(initiative, member, visibility="group").visibility == Visibility.GROUP


def test_a_staff_entry_is_shared_with_the_group_unless_staff_choose(initiative, staff):
    assert _new(initiative, staff).visibility == Visibility.GROUP
    assert _new(initiative, staff, visibility="internal").visibility == Visibility.INTERNAL


def test_members_cannot_write_internal_notes(initiative, member):
    with pytest.raises(ValidationError) as refused:
        _new(initiative, member, visibility="internal")
    assert "visibility" in refused.value.message_dict
    assert not Activity.objects.filter(text="Met the residents.").exists()


def test_annotators_write_internal_notes_only(initiative, annotator):
    assert _new(initiative, annotator).visibility == Visibility.INTERNAL
    with pytest.raises(ValidationError):
        _new(initiative, annotator, visibility="group")


def test_outsiders_add_nothing(initiative, other_member):
    with pytest.raises(PermissionDenied):
        _new(initiative, other_member)


def test_a_document_entry_needs_its_file(initiative, member):
    with pytest.raises(ValidationError) as refused:
        _new(initiative, member, kind="document")
    assert "file" in refused.value.message_dict


def test_workflow_kinds_are_not_written_by_people(initiative, staff):
    with pytest.raises(ValidationError) as refused:
        _new(initiative, staff, kind="review")
    assert "kind" in refused.value.message_dict


def test_an_entry_moves_the_version_on_and_a_stale_one_is_refused(initiative, member):
    seen = initiative.version
    _new(initiative, member)
    assert initiative.version == seen + 1
    with pytest.raises(services.StaleEdit):
        services.activity_create(
            initiative=initiative, by=member, expected_version=seen, kind="note", text="Late."
        )
    assert not Activity.objects.filter(text="Late.").exists()


def test_an_edit_cannot_reach_an_entry_the_editor_may_not_write(initiative, staff, member):
    note = _new(initiative, staff, visibility="internal")
    with pytest.raises(ValidationError):
        services.activity_update(
            activity=note, by=member, expected_version=None, visibility="public"
        )
    note.refresh_from_db()
    assert note.visibility == Visibility.INTERNAL


# The site ------------------------------------------------------------------------------


def test_the_site_form_offers_the_members_visibilities(client, initiative, member):
    client.force_login(member)
    url = reverse("initiatives:activity_add", kwargs={"reference": initiative.reference})
    form = client.get(url).context["form"]
    assert [value for value, _label in form.fields["visibility"].choices] == ["public", "group"]
    assert form["visibility"].value() == "public"
    response = client.post(
        url, {"kind": "note", "date": "2025-02-01", "text": "Hi", "visibility": "internal"}
    )
    assert response.status_code == 400
    assert "visibility" in response.context["form"].errors


def test_the_site_form_defaults_staff_to_the_group(client, initiative, staff):
    client.force_login(staff)
    url = reverse("initiatives:activity_add", kwargs={"reference": initiative.reference})
    form = client.get(url).context["form"]
    assert form["visibility"].value() == "group"
    assert "internal" in [value for value, _label in form.fields["visibility"].choices]
    response = client.post(url, {"kind": "note", "date": "2025-02-01", "text": "For staff"})
    assert response.status_code == 302
    assert Activity.objects.get(text="For staff").visibility == Visibility.GROUP
    response = client.post(
        url, {"kind": "note", "date": "2025-02-01", "text": "Internal", "visibility": "internal"}
    )
    assert response.status_code == 302
    assert Activity.objects.get(text="Internal").visibility == Visibility.INTERNAL


def test_the_site_refuses_a_document_without_its_file(client, initiative, member):
    client.force_login(member)
    url = reverse("initiatives:activity_add", kwargs={"reference": initiative.reference})
    response = client.post(
        url, {"kind": "document", "date": "2025-02-01", "text": "Report", "visibility": "public"}
    )
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


# The API -------------------------------------------------------------------------------


def _url(initiative):
    return f"/api/initiatives/{initiative.reference}/activities/"


def test_the_api_writes_through_the_service(initiative, member):
    seen = initiative.version
    response = _api(member).post(
        _url(initiative), {"kind": "note", "text": "Walk done."}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["visibility"] == "public"
    assert response["ETag"] == f'"{seen + 1}"'
    assert Activity.objects.get(text="Walk done.").author == member


def test_the_api_refuses_an_internal_note_from_a_member(initiative, member):
    response = _api(member).post(
        _url(initiative),
        {"kind": "note", "text": "Secret", "visibility": "internal"},
        format="json",
    )
    assert response.status_code == 400
    assert "visibility" in response.json()["details"]


def test_the_api_takes_the_staff_default_and_a_stale_version_is_412(initiative, staff):
    client = _api(staff)
    response = client.post(_url(initiative), {"kind": "note", "text": "Staff"}, format="json")
    assert response.json()["visibility"] == "group"
    stale = client.post(
        _url(initiative), {"kind": "note", "text": "Late"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412


def test_the_api_refuses_a_document_without_its_file(initiative, member):
    response = _api(member).post(
        _url(initiative), {"kind": "document", "text": "Report"}, format="json"
    )
    assert response.status_code == 400
    assert "file" in response.json()["details"]


# The admin -----------------------------------------------------------------------------


def test_the_admin_adds_entries_through_the_service(client, initiative):
    officer = StaffFactory()
    client.force_login(officer)
    url = reverse("admin:initiatives_activity_add")
    page = client.get(url)
    assert page.context["adminform"].form.fields["visibility"].initial == "group"
    seen = initiative.version
    response = client.post(
        url,
        {
            "initiative": initiative.pk,
            "kind": "note",
            "visibility": "internal",
            "date": "2025-02-01",
            "text": "Checked the accounts.",
        },
    )
    assert response.status_code == 302, response.content
    activity = Activity.objects.get(text="Checked the accounts.")
    assert (activity.visibility, activity.author) == (Visibility.INTERNAL, officer)
    initiative.refresh_from_db()
    assert initiative.version == seen + 1


def test_the_admin_refuses_a_document_without_its_file(client, initiative, staff):
    client.force_login(staff)
    response = client.post(
        reverse("admin:initiatives_activity_add"),
        {
            "initiative": initiative.pk,
            "kind": "document",
            "visibility": "group",
            "date": "2025-02-01",
            "text": "No file",
        },
    )
    assert response.status_code == 200
    assert "file" in response.context["adminform"].form.errors
    assert not Activity.objects.filter(text="No file").exists()


def test_the_admin_edits_entries_through_the_service(client, initiative, staff, member):
    client.force_login(staff)
    note = _new(initiative, member)
    url = reverse("admin:initiatives_activity_change", args=[note.pk])
    response = client.post(
        url, {"kind": "note", "visibility": "group", "date": "2025-02-01", "text": "Edited"}
    )
    assert response.status_code == 302, response.content
    note.refresh_from_db()
    assert (note.visibility, note.text, note.author) == (Visibility.GROUP, "Edited", member)


def test_annotators_add_internal_notes_through_the_site_and_the_api(client, initiative, annotator):
    client.force_login(annotator)
    url = reverse("initiatives:activity_add", kwargs={"reference": initiative.reference})
    form = client.get(url).context["form"]
    assert [value for value, _label in form.fields["visibility"].choices] == ["internal"]
    response = client.post(
        url, {"kind": "note", "date": "2025-02-01", "text": "Site", "visibility": "internal"}
    )
    assert response.status_code == 302
    response = _api(annotator).post(
        _url(initiative), {"kind": "note", "text": "API", "visibility": "internal"}, format="json"
    )
    assert response.status_code == 201
    assert set(Activity.objects.values_list("text", "visibility")) >= {
        ("Site", "internal"),
        ("API", "internal"),
    }


def test_outsiders_are_refused_on_the_site_and_the_api(client, initiative, other_member):
    client.force_login(other_member)
    url = reverse("initiatives:activity_add", kwargs={"reference": initiative.reference})
    assert client.get(url).status_code == 403
    response = _api(other_member).post(
        _url(initiative), {"kind": "note", "text": "Nope"}, format="json"
    )
    assert response.status_code == 403


# System entries: what happened is kept; the words follow the reader -------------------


def test_system_entries_keep_the_event_and_read_in_the_readers_language(
    client, organisation, member, staff
):
    draft = make_initiative(organisation=organisation, stage="pilot")
    add_participation(draft)
    draft.objectives.add(Item.objects.filter(question__code="reasons").first())
    # Submitted by a French reader: the record keeps the event, not French words.
    with translation.override("fr"):
        services.initiative_submit(initiative=draft, by=member)
    services.initiative_approve(initiative=draft, by=staff)
    services.initiative_change_stage(
        initiative=draft,
        to_stage="embedded",
        by=staff,
        reason="Funded by the city.",
        on=timezone.localdate(),
    )
    entries = {a.event: a for a in Activity.objects.filter(initiative=draft).exclude(event="")}
    assert entries["submitted"].text == "Submitted for review."
    assert entries["stage_changed"].params == {
        "from": "pilot",
        "to": "embedded",
        "reason": "Funded by the city.",
    }
    client.force_login(member)
    english = client.get(draft.get_absolute_url()).content.decode()
    assert "Stage changed from “Pilot” to “Embedded”. Funded by the city." in english
    french = client.get(f"/fr{draft.get_absolute_url()}").content.decode()
    assert "Soumise pour examen." in french
    assert "Approuvée et publiée." in french
    assert "Initiative enregistrée." in french  # the first stage's reason
    assert "Submitted for review." not in french
    assert "Initiative recorded." not in french
    assert "Funded by the city." in french  # people's words stay as written
    assert "Review decision" not in english  # submitting is not a decision
