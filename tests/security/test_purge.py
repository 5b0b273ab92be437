"""A data-protection purge is explicit (staff, with a reason), logged, keeps the
records, and leaves the person's name and e-mail nowhere, history included."""

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import models
from django.test import Client

from initiatives import audit, services
from initiatives.models import ApiToken, Initiative, Organisation, SecurityEvent
from tests.factories import MembershipFactory, UserFactory, make_initiative

NAME_PARTS = ("marguerite", "okonkwo")


@pytest.fixture
def person(db, organisation):
    user = UserFactory(
        username="marguerite.okonkwo",
        email="m.okonkwo@example.org",
        first_name="Marguerite",
        last_name="Okonkwo",
    )
    MembershipFactory(user=user, organisation=organisation)
    return user


@pytest.fixture
def footprint(person, organisation, staff):
    """Everywhere a member leaves their name in coprod."""
    organisation.contact_name = "Marguerite Okonkwo"
    organisation.contact_email = "m.okonkwo@example.org"
    organisation.save()
    client = Client()
    client.post("/admin/login/", {"username": person.username, "password": "wrong"})
    client.force_login(person)
    audit.record_event(audit.SIGN_IN, user=person)
    initiative = make_initiative(by=person, organisation=organisation)
    services.initiative_update(
        initiative=initiative, by=person, expected_version=1, fields={"title": "Renamed"}
    )
    ApiToken.issue(user=person, name="Marguerite's laptop")
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(person),
        object_id=str(person.pk),
        object_repr=str(person),
        action_flag=CHANGE,
        change_message="changed e-mail",
    )
    return {"initiative": initiative, "client": client}


def _where_it_still_appears(fragments):
    """Every text column of every table that still holds one of the fragments."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        text_fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        ]
        for name in text_fields:
            for fragment in fragments:
                if model._default_manager.filter(**{f"{name}__icontains": fragment}).exists():
                    found.append(f"{model._meta.label}.{name} ~ {fragment}")
    return found


def test_before_a_purge_the_scan_finds_the_person(footprint):
    # Proves the scan below can see what it looks for.
    found = _where_it_still_appears(NAME_PARTS)
    assert any(entry.startswith("auth.User.") for entry in found)
    assert any("HistoricalOrganisation" in entry for entry in found)
    assert any("SecurityEvent" in entry for entry in found)
    assert any("axes." in entry for entry in found)


def test_purge_removes_name_and_email_everywhere_including_history(footprint, person, staff):
    history_before = Initiative.history.count()
    services.user_purge(user=person, by=staff, reason="Request DP-2026-17")
    assert _where_it_still_appears(NAME_PARTS) == []
    person.refresh_from_db()
    assert person.username == f"purged-user-{person.pk}"
    assert not person.is_active
    assert not person.has_usable_password()
    # The records and their history stay, attributed to the anonymous account.
    initiative = Initiative.objects.get(pk=footprint["initiative"].pk)
    assert initiative.created_by == person
    assert Initiative.history.count() == history_before
    assert initiative.history.filter(history_user=person).count() == 2
    assert not ApiToken.objects.filter(user=person, revoked_at__isnull=True).exists()


def test_purge_signs_the_person_out(footprint, person, staff):
    client = footprint["client"]
    assert client.get("/admin/password_change/").status_code in (200, 302)
    services.user_purge(user=person, by=staff, reason="Request DP-2026-17")
    assert "_auth_user_id" not in client.session


def test_purge_is_logged_with_who_and_why(footprint, person, staff):
    services.user_purge(user=person, by=staff, reason="Request DP-2026-17")
    event = SecurityEvent.objects.get(kind=audit.USER_PURGED)
    assert event.user == staff
    assert f"#{person.pk}" in event.detail
    assert "DP-2026-17" in event.detail


def test_only_staff_purge_and_only_with_a_reason(person, member, staff):
    with pytest.raises(PermissionDenied):
        services.user_purge(user=person, by=member, reason="because")
    with pytest.raises(ValidationError):
        services.user_purge(user=person, by=staff, reason="  ")
    with pytest.raises(ValidationError):
        services.user_purge(user=staff, by=staff, reason="myself")
    person.refresh_from_db()
    assert person.username == "marguerite.okonkwo"


def test_purge_command_says_what_it_would_do_until_told_yes(person, staff, capsys):
    call_command("purge_user", person.username, by=staff.username, reason="DP-1")
    person.refresh_from_db()
    assert person.username == "marguerite.okonkwo"
    call_command("purge_user", person.username, by=staff.username, reason="DP-1", yes=True)
    person.refresh_from_db()
    assert person.username == f"purged-user-{person.pk}"


def test_organisation_contact_of_someone_else_is_left_alone(person, staff, organisation):
    organisation.contact_name = "Someone Else"
    organisation.contact_email = "else@example.org"
    organisation.save()
    services.user_purge(user=person, by=staff, reason="DP-2")
    assert Organisation.objects.get(pk=organisation.pk).contact_email == "else@example.org"


@pytest.fixture
def written_about(footprint, person, organisation, staff):
    """Texts that coprod and Django write themselves and that name the person."""
    membership = person.memberships.get(organisation=organisation)
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(membership),
        object_id=str(membership.pk),
        object_repr=str(membership),
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Role"]}}] for M.Okonkwo@Example.org',
    )
    audit.record_event(
        audit.TOKEN_REVOKED, user=staff, detail=f"sync (abcd1234) revoked by {person.username}"
    )
    return footprint


def test_purge_removes_the_person_from_every_text_column_the_admin_log_included(
    written_about, person, staff
):
    fragments = (*NAME_PARTS, "m.okonkwo@example.org")
    before = _where_it_still_appears(fragments)
    assert any(entry.startswith("admin.LogEntry.object_repr") for entry in before)
    assert any(entry.startswith("admin.LogEntry.change_message") for entry in before)
    assert any(entry.startswith("initiatives.SecurityEvent.detail") for entry in before)
    services.user_purge(user=person, by=staff, reason="Request DP-2026-17")
    assert _where_it_still_appears(fragments) == []
    entry = LogEntry.objects.get(object_repr__startswith=f"purged-user-{person.pk} in ")
    assert entry.change_message.endswith(f"for purged-user-{person.pk}")
