"""The README's "Who sees what" table, cell by cell, through the page, the API and the export.

`TABLE` is the README's table: a row per record or field, a column per audience. Each row
has a probe that asks every door that shows the record (the case page, the API, the CSV
export, the document download) whether the audience sees it; every door must answer as
the table says.
"""

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from initiatives import services
from initiatives.models import ApiToken, ReviewStatus
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
    document_entry,
    make_initiative,
)

AUDIENCES = ("public", "another_group", "owner_group", "staff")

# Mirrors the README, row by row ("own" drafts of the owner group are theirs: yes).
TABLE = {
    "published initiative": "yes yes yes yes",
    "draft": "no no yes yes",
    "public entry and document": "yes yes yes yes",
    "group entry and document": "no no yes yes",
    "internal entry and document": "no no no yes",
    "author display name": "yes yes yes yes",
    "usernames, e-mails, user ids": "no no yes yes",
    "history": "no no yes yes",
    "return reason": "no no yes yes",
    "proposals": "no no yes yes",
    "export: published": "yes yes yes yes",
    "export: drafts": "no no yes yes",
}

CELLS = [
    (row, audience, answer == "yes")
    for row, answers in TABLE.items()
    for audience, answer in zip(AUDIENCES, answers.split(), strict=True)
]

ENTRIES = {"public": "Open walk", "group": "Group rota", "internal": "Officer doubts"}


@pytest.fixture
def world(db):
    owner = OrganisationFactory(name="Owner Group")
    member = MembershipFactory(organisation=owner).user
    outsider = MembershipFactory(organisation=OrganisationFactory(name="Other Group")).user
    staff = StaffFactory(first_name="Ada", last_name="Officer")
    published = make_initiative(
        title="Published walk", organisation=owner, review_status=ReviewStatus.PUBLISHED
    )
    published.case_officer = staff
    published.save()
    draft = make_initiative(title="Draft walk", organisation=owner)
    returned = make_initiative(
        title="Returned walk", organisation=owner, review_status=ReviewStatus.SUBMITTED
    )
    services.initiative_return(initiative=returned, by=staff, reason="Add the budget please")
    entries = {}
    for visibility, text in ENTRIES.items():
        entries[visibility] = document_entry(published, by=staff, visibility=visibility, text=text)
    services.stage_proposal_create(
        initiative=published, to_stage="pilot", by=member, reason="We run it now"
    )
    return {
        "users": {"public": None, "another_group": outsider, "owner_group": member, "staff": staff},
        "staff": staff,
        "published": published,
        "draft": draft,
        "returned": returned,
        "entries": entries,
    }


class Doors:
    """What one audience gets from the page, the API and the export."""

    def __init__(self, client, world, audience):
        self.world = world
        user = world["users"][audience]
        self.site = client
        self.api = APIClient()
        if user is not None:
            self.site.force_login(user)
            _, key = ApiToken.issue(user=user, name="matrix")
            self.api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    def page(self, initiative):
        response = self.site.get(initiative.get_absolute_url())
        return response.content.decode() if response.status_code == 200 else None

    def record(self, initiative):
        response = self.api.get(f"/api/initiatives/{initiative.reference}/")
        return response.json() if response.status_code == 200 else None

    def api_list(self, initiative, part):
        response = self.api.get(f"/api/initiatives/{initiative.reference}/{part}/")
        return response.json()["results"] if response.status_code == 200 else None

    def export(self):
        response = self.site.get(reverse("initiatives:export"))
        body = b"".join(response.streaming_content).decode()
        return {row["reference"] for row in csv.DictReader(io.StringIO(body))}

    def download(self, entry):
        url = reverse(
            "initiatives:document",
            kwargs={"reference": entry.initiative.reference, "pk": entry.pk},
        )
        return self.site.get(url).status_code == 200


def _initiative_seen(doors, initiative):
    return {
        "page": doors.page(initiative) is not None,
        "api": doors.record(initiative) is not None,
    }


def _entry_seen(visibility):
    def probe(doors, world):
        published = world["published"]
        text = ENTRIES[visibility]
        listed = doors.api_list(published, "activities") or []
        return {
            "page": text in doors.page(published),
            "api": any(entry["text"] == text for entry in listed),
            "document": doors.download(world["entries"][visibility]),
        }

    return probe


def _author_name(doors, world):
    published = world["published"]
    authors = {entry["author_name"] for entry in doors.api_list(published, "activities")}
    return {"page": "Ada Officer" in doors.page(published), "api": "Ada Officer" in authors}


def _people(doors, world):
    staff, published = world["staff"], world["published"]
    page = doors.page(published)
    # The page names people by their display name: a username only for those who see people.
    authors = {entry["author"] for entry in doors.api_list(published, "activities")}
    proposals = doors.api_list(published, "proposals") or []
    return {
        "page": (staff.username in page or staff.email in page) or None,
        "api author": staff.username in authors,
        "api case officer": doors.record(published)["case_officer"] == staff.pk,
        "api proposals": any(row["proposed_by"] for row in proposals) or None,
    }


def _history(doors, world):
    return {"api": doors.api_list(world["published"], "history") is not None}


def _return_reason(doors, world):
    returned = world["returned"]
    page = doors.page(returned) or ""
    record = doors.record(returned) or {}
    timeline = doors.api_list(returned, "activities") or []
    reason = "Add the budget please"
    return {
        "page": reason in page,
        "api record": record.get("return_reason") == reason,
        "api timeline": any(reason in entry["text"] for entry in timeline),
    }


def _proposals(doors, world):
    published = world["published"]
    return {
        "page": "Stage change to" in doors.page(published),
        "api": doors.api_list(published, "proposals") is not None,
    }


PROBES = {
    "published initiative": lambda doors, world: _initiative_seen(doors, world["published"]),
    "draft": lambda doors, world: _initiative_seen(doors, world["draft"]),
    "public entry and document": _entry_seen("public"),
    "group entry and document": _entry_seen("group"),
    "internal entry and document": _entry_seen("internal"),
    "author display name": _author_name,
    "usernames, e-mails, user ids": _people,
    "history": _history,
    "return reason": _return_reason,
    "proposals": _proposals,
    "export: published": lambda doors, world: {
        "csv": world["published"].reference in doors.export()
    },
    "export: drafts": lambda doors, world: {"csv": world["draft"].reference in doors.export()},
}


def test_the_table_covers_every_probe():
    assert set(PROBES) == set(TABLE)


@pytest.mark.parametrize(("row", "audience", "sees"), CELLS)
def test_each_audience_sees_what_the_table_says(client, world, row, audience, sees):
    answers = PROBES[row](Doors(client, world, audience), world)
    # A door that has nothing to show for this audience answers None (nothing to judge).
    judged = {door: seen for door, seen in answers.items() if seen is not None}
    assert judged == dict.fromkeys(judged, sees), (row, audience)


def test_no_internal_entry_reaches_an_export_whoever_asks(client, world):
    for audience in AUDIENCES:
        doors = Doors(client, world, audience)
        response = doors.site.get(reverse("initiatives:export"))
        body = b"".join(response.streaming_content).decode()
        assert not any(text in body for text in ENTRIES.values()), audience
