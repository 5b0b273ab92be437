"""The public site's permission table, endpoint by endpoint, role by role.

Anonymous clients read published initiatives only; members also read their organisation's
and change them; staff read and change everything; others' drafts do not exist (404).
"""

import pytest

from initiatives.models import Initiative, Membership
from survey.models import Item
from tests.factories import add_participation, make_initiative

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member_a", "member_b", "staff"]


@pytest.fixture
def draft(staff, organisation):
    return make_initiative(by=staff, title="Draft of A", organisation=organisation)


@pytest.fixture
def published(staff, organisation):
    return make_initiative(
        by=staff, title="Published of A", organisation=organisation, review_status="published"
    )


def version(initiative):
    return f'"{Initiative.objects.get(pk=initiative.pk).version}"'


@pytest.mark.parametrize(
    ("role", "titles"),
    [
        ("anonymous", ["Published of A"]),
        ("member_a", ["Draft of A", "Published of A"]),
        ("member_b", ["Published of A"]),
        ("staff", ["Draft of A", "Published of A"]),
    ],
)
def test_list_shows_what_each_role_may_read(client_as, draft, published, role, titles):
    response = client_as(role).get("/api/initiatives/")
    assert response.status_code == 200
    assert sorted(row["title"] for row in response.json()["results"]) == titles


READ_PATHS = ["", "participations/", "activities/", "history/", "accountability/", "budget/"]


@pytest.mark.parametrize("path", READ_PATHS)
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 404), ("member_a", 200), ("member_b", 404), ("staff", 200)]
)
def test_a_draft_is_read_by_its_members_and_staff_only(client_as, draft, path, role, expected):
    response = client_as(role).get(f"/api/initiatives/{draft.reference}/{path}")
    assert response.status_code == expected
    if expected == 404:
        assert response.json()["code"] == "not_found"


PUBLIC_PATHS = [path for path in READ_PATHS if path != "history/"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
@pytest.mark.parametrize("role", ROLES)
def test_a_published_initiative_is_read_by_everyone(client_as, published, path, role):
    assert client_as(role).get(f"/api/initiatives/{published.reference}/{path}").status_code == 200


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 404), ("member_a", 200), ("member_b", 404), ("staff", 200)]
)
def test_a_published_initiatives_history_is_for_its_members_and_staff(
    client_as, published, role, expected
):
    response = client_as(role).get(f"/api/initiatives/{published.reference}/history/")
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 200), ("member_b", 403), ("staff", 200)]
)
def test_only_the_owner_organisation_and_staff_edit(client_as, published, role, expected):
    response = client_as(role).patch(
        f"/api/initiatives/{published.reference}/",
        {"title": "Edited"},
        format="json",
        HTTP_IF_MATCH=version(published),
    )
    assert response.status_code == expected
    edited = Initiative.objects.get(pk=published.pk).title == "Edited"
    assert edited == (expected == 200)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 200), ("member_b", 404), ("staff", 200)]
)
def test_editing_someone_elses_draft_is_not_found(client_as, draft, role, expected):
    response = client_as(role).put(
        f"/api/initiatives/{draft.reference}/budget/",
        {"currency": "EUR", "amount": "100.00"},
        format="json",
        HTTP_IF_MATCH=version(draft),
    )
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 204), ("member_b", 403), ("staff", 204)]
)
def test_archiving_is_for_staff_and_the_owner_organisation(client_as, published, role, expected):
    response = client_as(role).delete(f"/api/initiatives/{published.reference}/")
    assert response.status_code == expected
    archived = Initiative.objects.get(pk=published.pk).archived_at is not None
    assert archived == (expected == 204)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 201), ("member_b", 403), ("staff", 201)]
)
def test_parts_are_added_by_the_owner_organisation_and_staff(client_as, published, role, expected):
    for path, body in [
        ("participations/", {"phase": "design", "partner_type": "citizen", "level": "group"}),
        ("activities/", {"kind": "note", "text": "Met the residents."}),
    ]:
        response = client_as(role).post(
            f"/api/initiatives/{published.reference}/{path}", body, format="json"
        )
        assert response.status_code == expected, path


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 200), ("member_b", 404), ("staff", 200)]
)
def test_submitting_is_for_the_owner_organisation_and_staff(
    client_as, staff, organisation, role, expected
):
    returned = make_initiative(by=staff, organisation=organisation, review_status="returned")
    add_participation(returned)
    returned.objectives.set(Item.objects.filter(question__code="reasons", code="quality"))
    response = client_as(role).post(f"/api/initiatives/{returned.reference}/submit/")
    assert response.status_code == expected
    submitted = Initiative.objects.get(pk=returned.pk).review_status == "submitted"
    assert submitted == (expected == 200)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 403), ("member_b", 404), ("staff", 200)]
)
def test_approving_and_returning_are_for_staff(client_as, staff, organisation, role, expected):
    submitted = make_initiative(by=staff, organisation=organisation, review_status="submitted")
    client = client_as(role)
    approve = client.post(f"/api/initiatives/{submitted.reference}/approve/")
    assert approve.status_code == expected
    other = make_initiative(by=staff, organisation=organisation, review_status="submitted")
    back = client.post(
        f"/api/initiatives/{other.reference}/return/", {"reason": "Add costs."}, format="json"
    )
    assert back.status_code == expected
    assert (Initiative.objects.get(pk=other.pk).review_status == "returned") == (expected == 200)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 202), ("member_b", 403), ("staff", 201)]
)
def test_staff_change_the_stage_and_members_propose(client_as, published, role, expected):
    response = client_as(role).post(
        f"/api/initiatives/{published.reference}/stage/",
        {"to_stage": "pilot", "reason": "Started in March."},
        format="json",
    )
    assert response.status_code == expected
    stage = Initiative.objects.get(pk=published.pk).stage
    assert stage == ("pilot" if expected == 201 else "planned")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 401), ("member_a", 403), ("admin_a", 200), ("member_b", 403), ("staff", 200)],
)
def test_organisation_details_are_managed_by_its_admins_and_staff(
    as_user, roles, organisation, member, role, expected
):
    if role == "admin_a":
        Membership.objects.filter(user=member).update(role=Membership.Role.ADMIN)
        user = member
    else:
        user = roles[role]
    response = as_user(user).patch(
        f"/api/organisations/{organisation.pk}/", {"website": "https://example.org/"}, format="json"
    )
    assert response.status_code == expected
    organisation.refresh_from_db()
    assert (organisation.website == "https://example.org/") == (expected == 200)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("member_a", 403), ("member_b", 403), ("staff", 200)]
)
def test_survey_records_are_for_staff(client_as, role, expected):
    assert client_as(role).get("/api/survey/responses/").status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_vocabulary_and_indicators_are_public(client_as, role):
    client = client_as(role)
    assert client.get("/api/vocabulary/sectors/").status_code == 200
    assert client.get("/api/organisations/").status_code == 200
    response = client.get("/api/survey/indicators/?wave=OECD-2010&question=barriers")
    assert response.status_code == 200
