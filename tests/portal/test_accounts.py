"""Accounts, organisations, memberships and API tokens."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from initiatives.models import ApiToken, Membership, Organisation, SecurityEvent
from tests.factories import MembershipFactory


def test_sign_up_with_email_and_password_signs_the_user_in(client, db):
    response = client.post(
        reverse("initiatives:signup"),
        {
            "email": "Ana@Example.org",
            "first_name": "Ana",
            "password1": "a long walk at dusk",
            "password2": "a long walk at dusk",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="ana@example.org")
    assert user.username == "ana@example.org"
    assert user.check_password("a long walk at dusk")
    assert client.get(reverse("initiatives:account")).status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "too short"), ("password123", "too common"), ("83726154093", "entirely numeric")],
)
def test_sign_up_applies_the_password_validators(client, db, password, message):
    response = client.post(
        reverse("initiatives:signup"),
        {"email": "ana@example.org", "password1": password, "password2": password},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not get_user_model().objects.exists()


def test_sign_up_refuses_an_address_already_registered(client, member):
    response = client.post(
        reverse("initiatives:signup"),
        {
            "email": member.email.upper(),
            "password1": "a long walk at dusk",
            "password2": "a long walk at dusk",
        },
    )
    assert response.status_code == 400
    assert get_user_model().objects.filter(email__iexact=member.email).count() == 1


def _address(length):
    """A valid e-mail address of exactly `length` characters (labels within 63)."""
    domain = "b" * 63 + "." + "c" * 61 + ".org"
    return "a" * (length - len(domain) - 1) + "@" + domain


def test_sign_up_refuses_an_address_longer_than_an_account_name_with_a_clear_message(client, db):
    address = _address(194)
    assert len(address) == 194
    response = client.post(
        reverse("initiatives:signup"),
        {"email": address, "password1": "a long walk at dusk", "password2": "a long walk at dusk"},
    )
    assert response.status_code == 400
    assert "at most 150 characters (this one has 194)" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_sign_up_takes_an_address_of_the_longest_account_name(client, db):
    address = _address(150)
    response = client.post(
        reverse("initiatives:signup"),
        {"email": address, "password1": "a long walk at dusk", "password2": "a long walk at dusk"},
    )
    assert response.status_code == 302
    assert get_user_model().objects.get().username == address


def test_sign_in_goes_to_my_initiatives_and_sign_out_needs_a_post(client, member):
    member.set_password("a long walk at dusk")
    member.save()
    response = client.post(
        reverse("login"), {"username": member.username, "password": "a long walk at dusk"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("initiatives:dashboard")
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("initiatives:dashboard")).status_code == 302


def test_sign_in_takes_the_e_mail_address_in_any_case(client, db):
    client.post(
        reverse("initiatives:signup"),
        {
            "email": "Ana.Virtanen@Example.fi",
            "password1": "a long walk at dusk",
            "password2": "a long walk at dusk",
        },
    )
    client.post(reverse("logout"))
    response = client.post(
        reverse("login"),
        {"username": " Ana.Virtanen@EXAMPLE.fi", "password": "a long walk at dusk"},
    )
    assert response.status_code == 302
    assert client.get(reverse("initiatives:account")).status_code == 200
    client.post(reverse("logout"))
    wrong = client.post(
        reverse("login"), {"username": "ana.virtanen@example.fi", "password": "a long walk"}
    )
    assert wrong.status_code == 200  # the form again, with its error


def test_password_reset_sends_a_link_that_sets_a_new_password(client, member):
    response = client.post(reverse("password_reset"), {"email": member.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "another long walk", "new_password2": "another long walk"}
    )
    assert done.status_code == 302
    member.refresh_from_db()
    assert member.check_password("another long walk")


def test_a_new_user_creates_a_group_and_becomes_its_admin(client, user):
    client.force_login(user)
    response = client.post(
        reverse("initiatives:organisation_create"),
        {"name": "Espoo Parents", "kind": "citizens_group", "country": "FIN"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    assert membership.organisation.name == "Espoo Parents"
    assert (membership.role, membership.status) == ("admin", "active")
    assert membership.organisation.verified is False


def test_asking_to_join_is_pending_until_an_admin_accepts(
    client, user, group_admin, organisation, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("initiatives:organisation_join"), {"organisation": organisation.pk})
    membership = Membership.objects.get(user=user, organisation=organisation)
    assert membership.status == "pending"
    assert mail.outbox[0].to == [group_admin.email]
    client.force_login(group_admin)
    page = client.get(reverse("initiatives:organisation", args=[organisation.pk]))
    assert user.email in page.content.decode()
    client.post(
        reverse("initiatives:membership_change", args=[organisation.pk, membership.pk]),
        {"action": "accept"},
    )
    membership.refresh_from_db()
    assert membership.status == "active"


def test_a_pending_member_cannot_see_the_groups_drafts(client, user, organisation, draft):
    Membership.objects.create(user=user, organisation=organisation)
    client.force_login(user)
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_admins_decline_requests_change_roles_and_remove_members(
    client, group_admin, member, organisation, user
):
    request_ = Membership.objects.create(user=user, organisation=organisation)
    membership = Membership.objects.get(user=member)
    client.force_login(group_admin)
    url = reverse("initiatives:membership_change", args=[organisation.pk, request_.pk])
    client.post(url, {"action": "decline"})
    assert not Membership.objects.filter(pk=request_.pk).exists()
    url = reverse("initiatives:membership_change", args=[organisation.pk, membership.pk])
    client.post(url, {"action": "role", "role": "admin"})
    membership.refresh_from_db()
    assert membership.role == "admin"
    client.post(url, {"action": "remove"})
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_only_admins_manage_members(client, member, group_admin, organisation):
    admin_membership = Membership.objects.get(user=group_admin)
    client.force_login(member)
    response = client.post(
        reverse("initiatives:membership_change", args=[organisation.pk, admin_membership.pk]),
        {"action": "remove"},
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=admin_membership.pk).exists()
    page = client.get(reverse("initiatives:organisation", args=[organisation.pk]))
    assert 'value="remove"' not in page.content.decode()


def test_the_last_admin_cannot_leave_the_group_without_an_admin(client, group_admin, organisation):
    mine = Membership.objects.get(user=group_admin)
    client.force_login(group_admin)
    url = reverse("initiatives:membership_change", args=[organisation.pk, mine.pk])
    client.post(url, {"action": "role", "role": "member"})
    client.post(url, {"action": "remove"})
    mine.refresh_from_db()
    assert mine.role == "admin"


def test_outsiders_do_not_see_an_organisations_members(client, other_member, organisation):
    client.force_login(other_member)
    assert (
        client.get(reverse("initiatives:organisation", args=[organisation.pk])).status_code == 404
    )


def test_verified_organisations_show_a_badge_on_their_initiatives(client, published):
    assert "Verified" not in client.get(published.get_absolute_url()).content.decode()
    organisation = Organisation.objects.get(pk=published.organisation_id)
    organisation.verified = True
    organisation.save(update_fields=["verified"])  # as the admin's action does
    assert "Verified" in client.get(published.get_absolute_url()).content.decode()
    assert "Verified" in client.get(reverse("initiatives:list")).content.decode()


def test_an_api_token_is_shown_once_listed_and_revoked(client, member):
    client.force_login(member)
    response = client.post(reverse("initiatives:account"), {"token-name": "weekly export"})
    token = ApiToken.objects.get(user=member)
    key = response.context["new_key"]
    assert key.startswith(token.prefix)
    assert ApiToken.hash_key(key) == token.key_hash
    assert key in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    later = client.get(reverse("initiatives:account")).content.decode()
    assert key not in later
    assert "weekly export" in later
    assert token.prefix in later
    client.post(reverse("initiatives:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {"token_created", "token_revoked"} <= kinds


def test_nobody_revokes_someone_elses_token(client, member, other_member):
    token, _key = ApiToken.issue(user=other_member, name="theirs")
    client.force_login(member)
    response = client.post(reverse("initiatives:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_account_lists_the_users_organisations(client, member, organisation):
    MembershipFactory(user=member, organisation__name="Second Group", status="pending")
    client.force_login(member)
    page = client.get(reverse("initiatives:account")).content.decode()
    assert organisation.name in page
    assert "Second Group" in page
    assert "Asked to join" in page


def test_the_join_form_offers_only_organisations_the_user_is_not_in(
    client, member, organisation, lonely_org
):
    client.force_login(member)
    page = client.get(reverse("initiatives:organisation_join")).content.decode()
    assert lonely_org.name in page
    assert organisation.name not in page


def test_the_organisation_page_lists_its_initiatives_for_members(
    client, member, organisation, draft
):
    client.force_login(member)
    page = client.get(reverse("initiatives:organisation", args=[organisation.pk]))
    assert draft.reference in page.content.decode()


def test_the_organisation_page_title_is_its_name(client, member, organisation):
    client.force_login(member)
    page = client.get(reverse("initiatives:organisation", args=[organisation.pk]))
    assert f"<title>{organisation.name} · coprod</title>" in page.content.decode()
