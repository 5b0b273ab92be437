"""Memberships through their services: asking to join, accepting, refusing, roles, removal
and leaving. An organisation always keeps an active admin, whichever door changes it."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from initiatives import services
from initiatives.models import Membership
from tests.factories import MembershipFactory, OrganisationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group_admin(organisation):
    return MembershipFactory(organisation=organisation, role="admin").user


def _membership(user, organisation):
    return Membership.objects.get(user=user, organisation=organisation)


def _case_officer():
    """Staff who change any record (CHANGE_ANY), without being a superuser."""
    officer = StaffFactory(is_superuser=False)
    officer.user_permissions.add(Permission.objects.get(codename="change_initiative"))
    return officer


# Asking to join ------------------------------------------------------------------------


def test_asking_to_join_is_pending_and_tells_the_admins(
    user, organisation, group_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_request(
            user=user, organisation=organisation, link="https://coprod.example/o/1/"
        )
    assert (membership.status, membership.role) == ("pending", "member")
    [message] = mail.outbox
    assert message.to == [group_admin.email]
    assert "https://coprod.example/o/1/" in message.body


def test_asking_twice_is_a_validation_error_not_a_crash(user, organisation):
    services.membership_request(user=user, organisation=organisation)
    with pytest.raises(ValidationError) as refused:
        services.membership_request(user=user, organisation=organisation)
    assert refused.value.code == "exists"
    assert Membership.objects.filter(user=user, organisation=organisation).count() == 1


def test_a_second_join_request_on_the_site_is_the_forms_error(client, user, organisation):
    services.membership_request(user=user, organisation=organisation)
    client.force_login(user)
    response = client.post(
        reverse("initiatives:organisation_join"), {"organisation": organisation.pk}
    )
    assert response.status_code == 400
    assert Membership.objects.filter(user=user).count() == 1


# Who manages ---------------------------------------------------------------------------


def test_members_and_outsiders_cannot_accept(user, member, other_member, organisation):
    pending = services.membership_request(user=user, organisation=organisation)
    for outsider in (member, other_member, UserFactory()):
        with pytest.raises(PermissionDenied):
            services.membership_accept(membership=pending, by=outsider)
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_admins_and_case_officers_accept_and_refuse(user, organisation, group_admin):
    pending = services.membership_request(user=user, organisation=organisation)
    services.membership_accept(membership=pending, by=group_admin)
    assert _membership(user, organisation).status == "active"
    with pytest.raises(ValidationError):
        services.membership_accept(membership=pending, by=group_admin)
    with pytest.raises(ValidationError):
        services.membership_refuse(membership=pending, by=group_admin)

    other = services.membership_request(user=UserFactory(), organisation=organisation)
    services.membership_refuse(membership=other, by=_case_officer())
    assert not Membership.objects.filter(pk=other.pk).exists()


def test_staff_without_a_capability_do_not_manage_members(user, organisation, group_admin):
    pending = services.membership_request(user=user, organisation=organisation)
    with pytest.raises(PermissionDenied):
        services.membership_accept(membership=pending, by=StaffFactory(is_superuser=False))


def test_a_role_must_be_one_of_the_roles(member, organisation, group_admin):
    with pytest.raises(ValidationError):
        services.membership_set_role(
            membership=_membership(member, organisation), by=group_admin, role="owner"
        )


# The last admin ------------------------------------------------------------------------


def test_the_last_admin_can_be_neither_demoted_nor_removed(organisation, group_admin):
    mine = _membership(group_admin, organisation)
    with pytest.raises(ValidationError) as refused:
        services.membership_set_role(membership=mine, by=group_admin, role="member")
    assert refused.value.code == "last_admin"
    with pytest.raises(ValidationError):
        services.membership_remove(membership=mine, by=group_admin)
    with pytest.raises(ValidationError):
        services.membership_remove(membership=mine, by=_case_officer())
    mine.refresh_from_db()
    assert (mine.role, mine.status) == ("admin", "active")


def test_an_admin_hands_over_then_leaves(member, organisation, group_admin):
    services.membership_set_role(
        membership=_membership(member, organisation), by=group_admin, role="admin"
    )
    services.membership_remove(membership=_membership(group_admin, organisation), by=group_admin)
    assert list(organisation.memberships.values_list("user", "role")) == [(member.pk, "admin")]


def test_a_member_leaves_without_being_an_admin(member, organisation, group_admin):
    services.membership_remove(membership=_membership(member, organisation), by=member)
    assert not organisation.memberships.filter(user=member).exists()


def test_a_removed_membership_gives_a_clear_refusal(member, organisation, group_admin):
    membership = _membership(member, organisation)
    services.membership_remove(membership=membership, by=group_admin)
    with pytest.raises(ValidationError, match="no longer listed"):
        services.membership_remove(membership=membership, by=group_admin)


def test_the_organisation_page_offers_to_leave(client, member, organisation, group_admin):
    client.force_login(member)
    page = client.get(reverse("initiatives:organisation", args=[organisation.pk]))
    assert 'value="leave"' in page.content.decode()
    url = reverse(
        "initiatives:membership_change",
        args=[organisation.pk, _membership(member, organisation).pk],
    )
    response = client.post(url, {"action": "leave"})
    assert response.status_code == 302
    assert not organisation.memberships.filter(user=member).exists()


def test_leave_is_only_for_ones_own_membership(client, member, organisation, group_admin):
    client.force_login(member)
    url = reverse(
        "initiatives:membership_change",
        args=[organisation.pk, _membership(group_admin, organisation).pk],
    )
    assert client.post(url, {"action": "leave"}).status_code == 403
    assert organisation.memberships.filter(user=group_admin).exists()


def test_the_last_admin_is_told_on_the_site(client, organisation, group_admin):
    client.force_login(group_admin)
    url = reverse(
        "initiatives:membership_change",
        args=[organisation.pk, _membership(group_admin, organisation).pk],
    )
    response = client.post(url, {"action": "leave"}, follow=True)
    assert "at least one admin" in response.content.decode()
    assert organisation.memberships.filter(user=group_admin, role="admin").exists()


# The admin -----------------------------------------------------------------------------


def _posted(form):
    """What a browser posts for a form as it was rendered."""
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if callable(value):
            value = value()
        key = form.add_prefix(name)
        if value is True:
            data[key] = "on"
        elif value not in (None, False):
            data[key] = getattr(value, "pk", value)
    return data


def _organisation_change_data(client, organisation):
    url = reverse("admin:initiatives_organisation_change", args=[organisation.pk])
    response = client.get(url)
    data = _posted(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_posted(formset.management_form))
        for form in formset.forms:
            data.update(_posted(form))
    return url, data


def test_the_admin_refuses_to_demote_the_last_admin(staff_client, organisation, group_admin):
    mine = _membership(group_admin, organisation)
    url = reverse("admin:initiatives_membership_change", args=[mine.pk])
    data = {
        "user": group_admin.pk,
        "organisation": organisation.pk,
        "role": "member",
        "status": "active",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 200  # the form again, with its error
    assert "at least one admin" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == "admin"
    data["role"] = "admin"
    data["organisation"] = OrganisationFactory().pk  # moving the admin away is removing it
    assert "at least one admin" in staff_client.post(url, data).content.decode()
    mine.refresh_from_db()
    assert mine.organisation == organisation


def test_the_admin_refuses_to_delete_the_last_admin(staff_client, organisation, group_admin):
    mine = _membership(group_admin, organisation)
    url = reverse("admin:initiatives_membership_delete", args=[mine.pk])
    response = staff_client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.filter(pk=mine.pk).exists()

    changelist = reverse("admin:initiatives_membership_changelist")
    response = staff_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [mine.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_the_admins_inline_keeps_an_admin_and_allows_a_hand_over(
    staff_client, organisation, group_admin, member
):
    url, data = _organisation_change_data(staff_client, organisation)
    prefix = {
        value: key.rsplit("-", 1)[0]
        for key, value in data.items()
        if key.startswith("memberships-") and key.endswith("-id")
    }
    mine = prefix[_membership(group_admin, organisation).pk]
    theirs = prefix[_membership(member, organisation).pk]

    refused = staff_client.post(url, {**data, f"{mine}-DELETE": "on"})
    assert refused.status_code == 200
    assert "at least one admin" in refused.content.decode()
    assert organisation.memberships.filter(user=group_admin, role="admin").exists()

    # Promote the member and remove the old admin in one save.
    handed_over = staff_client.post(
        url, {**data, f"{theirs}-role": "admin", f"{mine}-DELETE": "on"}
    )
    assert handed_over.status_code == 302
    assert list(organisation.memberships.values_list("user", "role")) == [(member.pk, "admin")]


def test_the_admins_accept_action_uses_the_service(
    staff_client, organisation, group_admin, user, django_capture_on_commit_callbacks
):
    pending = services.membership_request(user=user, organisation=organisation)
    changelist = reverse("admin:initiatives_membership_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            changelist, {"action": "accept_selected", "_selected_action": [pending.pk]}
        )
    pending.refresh_from_db()
    assert pending.status == "active"
    assert [message.to for message in mail.outbox] == [[user.email]]
