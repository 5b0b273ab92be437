"""Initiatives and their parts through the API, with the services' rules."""

import pytest
from django.utils import timezone

from initiatives.models import Initiative, StageChange, StageProposal
from survey.models import Item
from tests.factories import add_participation, make_initiative

pytestmark = pytest.mark.django_db


@pytest.fixture
def initiative(staff, organisation):
    return make_initiative(by=staff, organisation=organisation)


def etag(initiative):
    return f'"{Initiative.objects.get(pk=initiative.pk).version}"'


def test_creating_assigns_a_reference_and_starts_the_stage_history(as_user, member, organisation):
    body = {
        "title": "Care circles",
        "country": "FIN",
        "sector": "07",
        "level": "local",
        "organisation": organisation.pk,
        "stage": "planned",
        "objectives": ["quality", "involvement"],
        "factors": ["frameworks"],
    }
    response = as_user(member).post("/api/initiatives/", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["reference"].startswith("COP-")
    assert response["ETag"] == '"1"'
    assert sorted(data["objectives"]) == ["involvement", "quality"]
    created = Initiative.objects.get(reference=data["reference"])
    assert created.created_by == member
    assert created.stage == "planned"
    assert list(created.stage_changes.values_list("to_stage", flat=True)) == ["planned"]
    assert {record.history_user for record in created.history.all()} == {member}


def test_the_list_uses_the_public_filters(api, staff):
    walks = make_initiative(by=staff, title="Walks", review_status="published")
    add_participation(walks, phase="design", partner_type="citizen")
    walks.factors.set(Item.objects.filter(question__code="factors", code="frameworks"))
    make_initiative(by=staff, title="Care", country_id="CAN", review_status="published")
    make_initiative(by=staff, title="Hidden draft")

    def titles(query):
        response = api.get(f"/api/initiatives/?{query}")
        assert response.status_code == 200
        return [row["title"] for row in response.json()["results"]]

    assert titles("country=CAN") == ["Care"]
    assert titles("phase=design&partner_type=citizen") == ["Walks"]
    assert titles("factor=frameworks") == ["Walks"]
    assert titles("q=Walks") == ["Walks"]
    assert titles("ordering=title") == ["Care", "Walks"]
    assert titles("ordering=-title&page_size=1") == ["Walks"]


def test_the_stage_is_changed_only_through_the_stage_action(as_user, staff, initiative):
    today = timezone.localdate()
    client = as_user(staff)
    url = f"/api/initiatives/{initiative.reference}/"
    edited = client.patch(url, {"stage": "embedded"}, format="json", HTTP_IF_MATCH=etag(initiative))
    assert edited.status_code == 200
    assert edited.json()["stage"] == "planned"

    moved = client.post(
        f"{url}stage/",
        {"to_stage": "pilot", "reason": "Funding came.", "date": str(today)},
        format="json",
    )
    assert moved.status_code == 201
    assert moved.json()["from_stage"] == "planned"
    assert moved["ETag"] == etag(initiative)
    change = StageChange.objects.filter(initiative=initiative).order_by("pk").last()
    assert (change.to_stage, change.changed_on, change.changed_by) == ("pilot", today, staff)
    timeline = client.get(f"{url}activities/").json()["results"]
    assert any(entry["kind"] == "stage" for entry in timeline)


def test_a_member_proposes_a_stage_change_for_a_case_officer(as_user, member, initiative):
    response = as_user(member).post(
        f"/api/initiatives/{initiative.reference}/stage/",
        {"to_stage": "pilot", "reason": "We started."},
        format="json",
    )
    assert response.status_code == 202
    proposal = StageProposal.objects.get()
    assert (proposal.to_stage, proposal.proposed_by, proposal.status) == ("pilot", member, "open")
    assert Initiative.objects.get(pk=initiative.pk).stage == "planned"


def test_submit_approve_and_return_follow_the_review_workflow(as_user, member, staff, initiative):
    add_participation(initiative)
    initiative.objectives.set(Item.objects.filter(question__code="reasons", code="quality"))
    url = f"/api/initiatives/{initiative.reference}/"
    submitted = as_user(member).post(f"{url}submit/")
    assert submitted.status_code == 200
    assert submitted.json()["review_status"] == "submitted"

    no_reason = as_user(staff).post(f"{url}return/", {"reason": ""}, format="json")
    assert no_reason.status_code == 400
    returned = as_user(staff).post(f"{url}return/", {"reason": "Add the costs."}, format="json")
    assert returned.json()["review_status"] == "returned"
    assert returned.json()["return_reason"] == "Add the costs."

    as_user(member).post(f"{url}submit/")
    approved = as_user(staff).post(f"{url}approve/")
    assert approved.json()["review_status"] == "published"
    assert approved.json()["published_at"]


def test_a_participation_is_one_per_phase_and_partner_type(as_user, member, initiative):
    client = as_user(member)
    url = f"/api/initiatives/{initiative.reference}/participations/"
    body = {"phase": "design", "partner_type": "citizen", "level": "group"}
    first = client.post(url, body, format="json")
    assert first.status_code == 201
    assert first["ETag"] == '"2"'
    duplicate = client.post(url, body, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "conflict"

    item = f"{url}{first.json()['id']}/"
    assert client.patch(item, {"level": "collective"}, format="json").status_code == 428
    changed = client.patch(
        item, {"level": "collective"}, format="json", HTTP_IF_MATCH=etag(initiative)
    )
    assert changed.status_code == 200
    assert changed.json()["level"] == "collective"
    assert client.delete(item).status_code == 204
    assert client.get(url).json()["count"] == 0
    assert Initiative.objects.get(pk=initiative.pk).version == 4


def test_timeline_entries_are_added_in_date_order_and_workflow_kinds_are_refused(
    as_user, member, initiative
):
    client = as_user(member)
    url = f"/api/initiatives/{initiative.reference}/activities/"
    client.post(url, {"kind": "meeting", "text": "Second", "date": "2025-02-01"}, format="json")
    client.post(url, {"kind": "note", "text": "First", "date": "2025-01-01"}, format="json")
    refused = client.post(url, {"kind": "review", "text": "Approved!"}, format="json")
    assert refused.status_code == 400
    entries = client.get(url).json()["results"]
    texts = [entry["text"] for entry in entries if entry["kind"] in ("note", "meeting")]
    assert texts == ["First", "Second"]
    assert entries[-1]["author"] == member.username


def test_budget_amounts_need_a_currency(as_user, member, initiative):
    client = as_user(member)
    url = f"/api/initiatives/{initiative.reference}/budget/"
    refused = client.put(url, {"amount": "1000.00"}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400
    assert "currency" in refused.json()["details"]
    saved = client.put(
        url,
        {
            "amount": "1000.00",
            "currency": "eur",
            "estimated_costs": "200",
            "estimated_benefits": "500",
        },
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert saved.status_code == 200
    assert saved.json()["currency"] == "EUR"
    assert saved.json()["benefit_cost_ratio"] == 2.5
    assert client.get(url).json()["amount"] == "1000.00"


def test_the_history_says_who_changed_what_and_when(as_user, member, staff, initiative):
    client = as_user(member)
    url = f"/api/initiatives/{initiative.reference}/"
    client.patch(url, {"title": "Renamed"}, format="json", HTTP_IF_MATCH='"1"')
    client.patch(url, {"factors": ["leadership", "skills"]}, format="json", HTTP_IF_MATCH='"2"')
    records = as_user(staff).get(f"{url}history/").json()["results"]
    assert records[-1]["type"] == "created"
    assert records[-1]["user"] == staff.username
    renamed = next(r for r in records if any(c["field"] == "title" for c in r["changes"]))
    assert renamed["user"] == member.username
    assert renamed["changes"] == [
        {"field": "title", "old": "Safer streets together", "new": "Renamed"}
    ]
    tags = [c for r in records for c in r["changes"] if c["field"] == "factors"]
    assert tags[0]["new"] == ["leadership", "skills"]


def test_the_history_diff_holds_across_pages(as_user, staff, initiative):
    client = as_user(staff)
    url = f"/api/initiatives/{initiative.reference}/"
    for number in range(1, 4):
        client.patch(url, {"title": f"Title {number}"}, format="json", HTTP_IF_MATCH=f'"{number}"')
    first_page = client.get(f"{url}history/?page_size=2").json()
    second_page = client.get(f"{url}history/?page_size=2&page=2").json()
    oldest_change_on_page_2 = second_page["results"][0]["changes"]
    assert first_page["count"] == 4
    assert oldest_change_on_page_2 == [
        {"field": "title", "old": "Safer streets together", "new": "Title 1"}
    ]
