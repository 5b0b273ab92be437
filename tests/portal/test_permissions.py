"""Every URL of the site as each role: anonymous, a member of the owner organisation,
a member of another organisation, and staff."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from initiatives.models import Activity, ActivityKind
from tests.portal.helpers import csv_rows

ROLES = ["anonymous", "member", "other_member", "staff"]


@pytest.fixture
def people(member, other_member, staff):
    return {"anonymous": None, "member": member, "other_member": other_member, "staff": staff}


@pytest.fixture
def records(published, draft):
    return {"published": published, "draft": draft}


def _url(name, initiative):
    return reverse(f"initiatives:{name}", kwargs={"reference": initiative.reference})


LOGIN = "login"

# (page, record) -> expected status for each role; "login" means a redirect to sign in.
GET_EXPECTATIONS = {
    ("detail", "published"): {"anonymous": 200, "member": 200, "other_member": 200, "staff": 200},
    ("detail", "draft"): {"anonymous": 404, "member": 200, "other_member": 404, "staff": 200},
    ("edit", "published"): {"anonymous": LOGIN, "member": 200, "other_member": 403, "staff": 200},
    ("edit", "draft"): {"anonymous": LOGIN, "member": 200, "other_member": 404, "staff": 200},
    ("activity_add", "published"): {
        "anonymous": LOGIN,
        "member": 200,
        "other_member": 403,
        "staff": 200,
    },
    ("activity_add", "draft"): {
        "anonymous": LOGIN,
        "member": 200,
        "other_member": 404,
        "staff": 200,
    },
    ("stage_proposal", "published"): {
        "anonymous": LOGIN,
        "member": 200,
        "other_member": 403,
        "staff": 200,
    },
    ("stage_proposal", "draft"): {
        "anonymous": LOGIN,
        "member": 200,
        "other_member": 404,
        "staff": 200,
    },
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "record"), list(GET_EXPECTATIONS))
def test_pages_answer_each_role_as_the_permission_table_says(
    as_user, people, records, role, page, record
):
    client = as_user(people[role])
    response = client.get(_url(page, records[record]))
    expected = GET_EXPECTATIONS[(page, record)][role]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    # The draft is incomplete: those allowed to submit get the form back, its gaps marked.
    [("anonymous", LOGIN), ("member", 400), ("other_member", 404), ("staff", 400)],
)
def test_submitting_a_draft_needs_membership_of_its_organisation(
    as_user, people, draft, role, expected
):
    client = as_user(people[role])
    response = client.post(_url("submit", draft))
    if expected == LOGIN:
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "sees_draft"),
    [("anonymous", False), ("member", True), ("other_member", False), ("staff", True)],
)
def test_list_and_export_show_drafts_only_to_their_group_and_staff(
    as_user, people, published, draft, role, sees_draft
):
    client = as_user(people[role])
    page = client.get(reverse("initiatives:list")).content.decode()
    assert published.reference in page
    assert (draft.reference in page) is sees_draft
    references = {row["reference"] for row in csv_rows(client.get(reverse("initiatives:export")))}
    assert published.reference in references
    assert (draft.reference in references) is sees_draft


def test_another_groups_member_cannot_change_a_published_initiative(
    as_user, other_member, published
):
    client = as_user(other_member)
    response = client.post(
        _url("edit", published), {"title": "Hijacked", "version": published.version}
    )
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.title == "Safer streets together"


def _document(initiative, member):
    return Activity.objects.create(
        initiative=initiative,
        kind=ActivityKind.DOCUMENT,
        author=member,
        text="Minutes",
        file=SimpleUploadedFile("minutes.txt", b"We met."),
    )


@pytest.mark.parametrize(
    ("role", "record", "expected"),
    [
        ("anonymous", "published", 200),
        ("anonymous", "draft", 404),
        ("other_member", "published", 200),
        ("other_member", "draft", 404),
        ("member", "draft", 200),
        ("staff", "draft", 200),
    ],
)
def test_documents_download_only_for_those_who_may_read_the_initiative(
    as_user, people, records, member, role, record, expected
):
    initiative = records[record]
    document = _document(initiative, member)
    client = as_user(people[role])
    response = client.get(
        reverse(
            "initiatives:document",
            kwargs={"reference": initiative.reference, "pk": document.pk},
        )
    )
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Disposition"].startswith("attachment;")
        assert b"".join(response.streaming_content) == b"We met."


def test_documents_are_not_reachable_through_another_initiatives_url(
    as_user, member, published, draft
):
    secret = _document(draft, member)
    response = as_user(None).get(
        reverse("initiatives:document", kwargs={"reference": published.reference, "pk": secret.pk})
    )
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["dashboard", "account", "create"])
def test_personal_pages_ask_anonymous_visitors_to_sign_in(client, db, name):
    response = client.get(reverse(f"initiatives:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
