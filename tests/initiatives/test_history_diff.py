"""One diff for both doors: the admin's history page and the API's audit trail tell the same
changes, including those a workflow makes and no form edits."""

import pytest

from initiatives import history, services
from initiatives.models import Initiative
from tests.factories import make_initiative, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed(staff, organisation):
    initiative = make_initiative(by=staff, organisation=organisation, title="Care circles")
    services.initiative_change_stage(
        initiative=initiative, to_stage="pilot", by=staff, reason="Running in two towns"
    )
    return Initiative.objects.get(pk=initiative.pk)


def test_a_stage_change_is_a_change_of_stage_in_the_diff(changed):
    newest, older = changed.history.all()[:2]
    found = {change.field: (change.old, change.new) for change in history.changes(newest, older)}
    assert found["stage"] == ("planned", "pilot")
    assert "updated_at" not in found
    readable = history.changes(newest, older, readable=True)
    assert [(c.old, c.new) for c in readable if c.field == "stage"] == [("Planned", "Pilot")]


def test_creation_lists_what_was_set_and_nothing_empty(changed):
    first = changed.history.order_by("history_date", "history_id").first()
    found = {change.field: change.new for change in history.changes(first, None)}
    assert found["title"] == "Care circles"
    assert all(value not in (None, "") for value in found.values())


def test_the_api_and_the_admin_tell_the_same_stage_change(changed, staff, client):
    trail = token_client(staff).get(f"/api/initiatives/{changed.reference}/history/").json()
    api_stage = [c for r in trail["results"] for c in r["changes"] if c["field"] == "stage"]
    # Newest first: the change to pilot, then the creation at planned.
    assert api_stage == [
        {"field": "stage", "old": "planned", "new": "pilot"},
        {"field": "stage", "old": None, "new": "planned"},
    ]

    client.force_login(staff)
    page = client.get(f"/admin/initiatives/initiative/{changed.pk}/history/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Planned" in text
    assert "Pilot" in text
