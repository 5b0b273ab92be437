"""One edit, one history row: whichever door an edit of the record and its tag lists comes
through, the initiative's history gains one row naming who made it and why, and the history
views show every change of that edit in it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from initiatives import history, services
from initiatives.models import Initiative
from survey.models import Item
from tests.factories import make_initiative, token_client
from tests.initiatives.test_admin import change_url, form_data
from tests.portal.helpers import initiative_form_data, item_pk

pytestmark = pytest.mark.django_db


def _items(question, *codes):
    return list(Item.objects.filter(question__code=question, code__in=codes))


def _new_rows(initiative, before):
    return list(initiative.history.filter(history_id__gt=before).order_by("history_id"))


def _last_id(initiative):
    return initiative.history.order_by("-history_id").values_list("history_id", flat=True)[0]


def _tag_codes(record, field):
    return sorted(getattr(record, field).values_list("item__code", flat=True))


def test_an_edit_of_fields_and_tags_is_one_row_with_who_and_why(staff):
    initiative = make_initiative(by=staff, stage="pilot")
    before = _last_id(initiative)

    services.initiative_update(
        initiative=initiative,
        by=staff,
        expected_version=initiative.version,
        fields={"title": "Safer streets, together"},
        tags={
            "objectives": _items("reasons", "involvement", "quality"),
            "factors": _items("factors", "leadership"),
        },
        reason="Agreed with the residents",
    )

    [row] = _new_rows(initiative, before)
    assert (row.history_type, row.history_user) == ("~", staff)
    assert row.history_change_reason == "Agreed with the residents"
    assert row.title == "Safer streets, together"
    # The row holds the tag lists as the edit left them.
    assert _tag_codes(row, "objectives") == ["involvement", "quality"]
    assert _tag_codes(row, "factors") == ["leadership"]
    found = {change.field: change for change in history.changes(row, row.prev_record)}
    assert set(found) == {"factors", "objectives", "title"}


def test_a_new_initiative_with_tags_is_one_created_row(staff):
    initiative = services.initiative_create(
        by=staff,
        title="Care circles",
        country_id="FIN",
        sector_id="03",
        level="local",
        tags={"objectives": _items("reasons", "involvement")},
    )
    [row] = initiative.history.all()
    assert (row.history_type, row.history_user) == ("+", staff)
    assert _tag_codes(row, "objectives") == ["involvement"]


def test_setting_one_tag_list_is_one_row(staff):
    initiative = make_initiative(by=staff)
    before = _last_id(initiative)
    services.initiative_set_tags(
        initiative=initiative, field="factors", items=_items("factors", "leadership"), by=staff
    )
    [row] = _new_rows(initiative, before)
    assert _tag_codes(row, "factors") == ["leadership"]


def test_a_site_edit_is_one_row_with_the_editors_note(client, member, organisation):
    initiative = make_initiative(by=member, organisation=organisation, title="Parents online")
    before = _last_id(initiative)
    client.force_login(member)
    data = initiative_form_data(
        organisation,
        initiative,
        title="Parents online, together",
        objectives=[item_pk("reasons", "involvement"), item_pk("reasons", "quality")],
        factors=[item_pk("factors", "leadership")],
        change_reason="The city joined",
    )

    response = client.post(reverse("initiatives:edit", args=[initiative.reference]), data)

    assert response.status_code == 302
    [row] = _new_rows(initiative, before)
    assert (row.history_user, row.history_change_reason) == (member, "The city joined")
    assert row.title == "Parents online, together"
    assert _tag_codes(row, "objectives") == ["involvement", "quality"]
    assert _tag_codes(row, "factors") == ["leadership"]


def test_an_api_patch_is_one_row_and_the_trail_shows_it_whole(staff):
    initiative = make_initiative(by=staff)
    before = _last_id(initiative)
    client = token_client(staff)
    url = f"/api/initiatives/{initiative.reference}/"

    response = client.patch(
        url,
        {
            "title": "Renamed",
            "factors": ["leadership", "skills"],
            "change_reason": "As agreed on the phone",
        },
        format="json",
        HTTP_IF_MATCH=f'"{initiative.version}"',
    )

    assert response.status_code == 200
    [row] = _new_rows(initiative, before)
    assert (row.history_user, row.history_change_reason) == (staff, "As agreed on the phone")
    latest = client.get(f"{url}history/").json()["results"][0]
    assert latest["reason"] == "As agreed on the phone"
    assert latest["user"] == staff.username
    assert latest["changes"] == [
        {"field": "factors", "old": [], "new": ["leadership", "skills"]},
        {"field": "title", "old": "Safer streets together", "new": "Renamed"},
    ]


def test_an_admin_edit_is_one_row_and_its_history_page_shows_it(staff_client, staff):
    initiative = make_initiative(by=staff)
    before = _last_id(initiative)
    objectives = [item.pk for item in _items("reasons", "involvement")]
    data = form_data(
        staff_client,
        initiative,
        title="Renamed",
        objectives=objectives,
        change_reason="Checked with the group",
    )

    response = staff_client.post(change_url(initiative), data)

    assert response.status_code == 302
    [row] = _new_rows(initiative, before)
    assert (row.history_user, row.history_change_reason) == (staff, "Checked with the group")
    page = staff_client.get(
        reverse("admin:initiatives_initiative_history", args=[initiative.pk])
    ).content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    edit = body.split("<tr>")[1]
    assert "Checked with the group" in edit
    assert "Safer streets together &rarr; Renamed" in edit
    assert "Objectives:</strong> — &rarr;" in edit


def test_the_reason_alone_changes_nothing(staff_client, staff):
    initiative = make_initiative(by=staff)
    before = _last_id(initiative)
    data = form_data(staff_client, initiative, change_reason="Just looking")
    assert staff_client.post(change_url(initiative), data).status_code == 302
    assert not _new_rows(initiative, before)
    initiative.refresh_from_db()
    assert initiative.version == 1


def test_a_stage_change_shows_its_reason_in_every_history_view(staff_client, staff):
    initiative = make_initiative(by=staff, stage="pilot", stage_date=datetime.date(2024, 1, 1))
    response = staff_client.post(
        reverse("admin:initiatives_initiative_change_stage", args=[initiative.pk]),
        {
            "apply": "1",
            "to_stage": "embedded",
            "on": timezone.localdate().isoformat(),
            "reason": "Funded by the city",
        },
    )
    assert response.status_code == 302
    row = Initiative.objects.get(pk=initiative.pk).history.first()
    assert row.history_change_reason == "Funded by the city"

    page = staff_client.get(
        reverse("admin:initiatives_initiative_history", args=[initiative.pk])
    ).content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    stage_row = body.split("<tr>")[1]
    assert "Funded by the city" in stage_row
    assert "Pilot &rarr; Embedded" in stage_row
    assert "None" not in body

    trail = token_client(staff).get(f"/api/initiatives/{initiative.reference}/history/").json()
    latest = trail["results"][0]
    assert latest["reason"] == "Funded by the city"
    assert {"field": "stage", "old": "pilot", "new": "embedded"} in latest["changes"]
    assert trail["results"][-1]["reason"] is None


def test_the_admin_asks_for_the_reason_above_the_save_buttons(staff_client, staff):
    initiative = make_initiative(by=staff)
    page = staff_client.get(change_url(initiative)).content.decode()
    assert page.count('name="change_reason"') == 1
    assert page.index('name="change_reason"') < page.index('name="_save"')
    assert page.index('name="change_reason"') > page.index("participations-TOTAL_FORMS")
