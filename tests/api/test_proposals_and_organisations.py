"""Stage proposals decided by case officers, and organisations created, over the API."""

import pytest

from initiatives import services
from initiatives.models import Initiative, Membership, Organisation, StageChange, StageProposal
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(staff, organisation):
    return make_initiative(by=staff, organisation=organisation)


@pytest.fixture
def published(staff, organisation):
    return make_initiative(by=staff, organisation=organisation, review_status="published")


def propose(initiative, member, to_stage="pilot"):
    return services.stage_proposal_create(
        initiative=initiative, to_stage=to_stage, by=member, reason="The first sessions ran"
    )


def proposals_url(initiative):
    return f"/api/initiatives/{initiative.reference}/proposals/"


def decide_url(proposal):
    return f"{proposals_url(proposal.initiative)}{proposal.pk}/decide/"


# Listing follows the initiative's visibility.


@pytest.mark.parametrize(
    ("role", "on_draft", "on_published"),
    [
        ("anonymous", 404, 404),
        ("member_a", 200, 200),
        ("member_b", 404, 404),
        ("staff", 200, 200),
    ],
)
def test_proposals_are_listed_to_the_owner_group_and_staff(
    client_as, member, draft, published, role, on_draft, on_published
):
    for initiative, expected in ((draft, on_draft), (published, on_published)):
        propose(initiative, member)
        response = client_as(role).get(proposals_url(initiative))
        assert response.status_code == expected
        if expected == 200:
            [row] = response.json()["results"]
            assert row["to_stage"] == "pilot"
            assert row["status"] == "open"
            assert row["proposed_by"] == member.username


def test_a_member_proposal_made_through_the_api_is_listed(as_user, member, draft):
    client = as_user(member)
    response = client.post(
        f"/api/initiatives/{draft.reference}/stage/",
        {"to_stage": "pilot", "reason": "Ready"},
        format="json",
    )
    assert response.status_code == 202
    listed = client.get(proposals_url(draft)).json()["results"]
    assert [row["id"] for row in listed] == [response.json()["id"]]


# Deciding is for staff.


def test_staff_accepting_changes_the_stage_and_writes_the_history(as_user, staff, member, draft):
    proposal = propose(draft, member)
    response = as_user(staff).post(
        decide_url(proposal), {"accept": True, "note": "Agreed"}, format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["status"] == "accepted"
    assert data["decided_by"] == staff.username
    assert data["decision_note"] == "Agreed"
    assert Initiative.objects.get(pk=draft.pk).stage == "pilot"
    change = StageChange.objects.filter(initiative=draft).latest("changed_at")
    assert (change.to_stage, change.changed_by) == ("pilot", staff)


def test_staff_declining_leaves_the_stage(as_user, staff, member, draft):
    proposal = propose(draft, member)
    changes = StageChange.objects.filter(initiative=draft).count()
    response = as_user(staff).post(
        decide_url(proposal), {"accept": False, "note": "Not yet"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert Initiative.objects.get(pk=draft.pk).stage == "planned"
    assert StageChange.objects.filter(initiative=draft).count() == changes


def test_a_proposal_is_decided_once(as_user, staff, member, draft):
    proposal = propose(draft, member)
    client = as_user(staff)
    assert client.post(decide_url(proposal), {"accept": False}, format="json").status_code == 200
    again = client.post(decide_url(proposal), {"accept": True}, format="json")
    assert again.status_code == 400
    assert "already decided" in again.json()["message"]
    assert StageProposal.objects.get(pk=proposal.pk).status == "declined"
    assert Initiative.objects.get(pk=draft.pk).stage == "planned"


def test_the_decision_must_say_accept_or_not(as_user, staff, member, draft):
    proposal = propose(draft, member)
    response = as_user(staff).post(decide_url(proposal), {"note": "?"}, format="json")
    assert response.status_code == 400
    assert "accept" in response.json()["details"]
    assert StageProposal.objects.get(pk=proposal.pk).status == "open"


@pytest.mark.parametrize(
    ("role", "on_draft", "on_published"),
    [
        ("anonymous", 401, 401),
        ("member_a", 403, 403),
        ("member_b", 404, 404),
    ],
)
def test_others_may_not_decide(client_as, member, draft, published, role, on_draft, on_published):
    for initiative, expected in ((draft, on_draft), (published, on_published)):
        proposal = propose(initiative, member)
        response = client_as(role).post(decide_url(proposal), {"accept": True}, format="json")
        assert response.status_code == expected
        assert StageProposal.objects.get(pk=proposal.pk).status == "open"
        assert Initiative.objects.get(pk=initiative.pk).stage == "planned"


def test_a_proposal_of_another_initiative_is_not_found(as_user, staff, member, draft, published):
    proposal = propose(draft, member)
    url = f"{proposals_url(published)}{proposal.pk}/decide/"
    response = as_user(staff).post(url, {"accept": True}, format="json")
    assert response.status_code == 404
    assert StageProposal.objects.get(pk=proposal.pk).status == "open"


# Organisations: any signed-in user creates one and becomes its admin.

NEW_ORGANISATION = {
    "name": "Riverside Parents",
    "kind": "citizens_group",
    "country": "FIN",
    "contact_name": "Aino",
    "contact_email": "aino@example.org",
    "website": "https://riverside.example.org",
}


@pytest.mark.parametrize("role", ["member_a", "member_b", "staff"])
def test_the_creator_becomes_the_active_admin(client_as, roles, role):
    response = client_as(role).post("/api/organisations/", NEW_ORGANISATION, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["verified"] is False
    assert data["contact_email"] == "aino@example.org"
    organisation = Organisation.objects.get(pk=data["id"])
    assert organisation.name == "Riverside Parents"
    membership = Membership.objects.get(organisation=organisation)
    assert membership.user == roles[role]
    assert membership.role == Membership.Role.ADMIN
    assert membership.status == Membership.Status.ACTIVE


def test_anonymous_may_not_create_an_organisation(api):
    response = api.post("/api/organisations/", NEW_ORGANISATION, format="json")
    assert response.status_code == 401
    assert not Organisation.objects.filter(name="Riverside Parents").exists()


def test_a_taken_name_is_refused(as_user, member, organisation):
    body = {**NEW_ORGANISATION, "name": organisation.name}
    response = as_user(member).post("/api/organisations/", body, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["details"]
    assert Organisation.objects.filter(name=organisation.name).count() == 1


def test_only_staff_create_a_verified_organisation(as_user, member, staff):
    body = {**NEW_ORGANISATION, "verified": True}
    refused = as_user(member).post("/api/organisations/", body, format="json")
    assert refused.status_code == 400
    assert "verified" in refused.json()["details"]
    assert not Organisation.objects.filter(name="Riverside Parents").exists()
    created = as_user(staff).post("/api/organisations/", body, format="json")
    assert created.status_code == 201
    assert Organisation.objects.get(name="Riverside Parents").verified is True


def test_the_site_form_makes_the_creator_admin_too(client, user):
    client.force_login(user)
    body = {**NEW_ORGANISATION, "country": "FIN"}
    response = client.post("/organisations/new/", body)
    assert response.status_code == 302
    membership = Membership.objects.get(organisation__name="Riverside Parents")
    assert (membership.user, membership.role, membership.status) == (
        user,
        Membership.Role.ADMIN,
        Membership.Status.ACTIVE,
    )
