"""The initiative admin: the list staff work from, the case file, stages, archiving, export."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from initiatives import services
from initiatives.admin.forms import InitiativeChangeForm
from initiatives.models import (
    Initiative,
    Participation,
    SecurityEvent,
    Stage,
    StageChange,
)
from survey.models import Country, Item, Sector
from tests.factories import StaffFactory, add_participation, make_initiative

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:initiatives_initiative_changelist")
ADD = reverse("admin:initiatives_initiative_add")


def change_url(initiative):
    return reverse("admin:initiatives_initiative_change", args=[initiative.pk])


def listed(response):
    return {initiative.reference for initiative in response.context["cl"].result_list}


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def _value(bound_field):
    value = bound_field.value()
    return "" if value is None else value


def form_data(client, initiative, **changes):
    """What the browser posts back from the change page as it was served, with `changes`.

    Formsets are posted with their existing rows only; add rows with `with_new_participation`.
    """
    response = client.get(change_url(initiative))
    form = response.context["adminform"].form
    data = {name: _value(form[name]) for name in form.fields}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = _value(management[name])
        data[management.add_prefix("TOTAL_FORMS")] = formset.initial_form_count()
        for row in formset.initial_forms:
            for name in row.fields:
                data[row.add_prefix(name)] = _value(row[name])
    data.update(changes)
    return data


def with_new_participation(data, initiative, phase="deliver", partner_type="user"):
    i = int(data["participations-TOTAL_FORMS"])
    data["participations-TOTAL_FORMS"] = i + 1
    data.update(
        {
            f"participations-{i}-initiative": initiative.pk,
            f"participations-{i}-phase": phase,
            f"participations-{i}-partner_type": partner_type,
            f"participations-{i}-level": "individual",
        }
    )
    return data


# The changelist ------------------------------------------------------------------------


def test_changelist_shows_the_working_columns_and_hides_archived(staff_client, staff):
    active = make_initiative(by=staff, title="Safer streets", case_officer=staff)
    archived = make_initiative(by=staff, title="Old scheme")
    services.initiative_archive(initiative=archived, by=staff, expected_version=archived.version)

    response = staff_client.get(CHANGELIST)

    assert listed(response) == {active.reference}
    headers = [str(h["text"]) for h in response.context["result_headers"]]
    assert headers[1:] == [
        "reference",
        "title",
        "country",
        "sector",
        "maturity stage",
        "review status",
        "case officer",
        "updated at",
    ]
    assert listed(staff_client.get(CHANGELIST, {"archived": "yes"})) == {archived.reference}
    both = {active.reference, archived.reference}
    assert listed(staff_client.get(CHANGELIST, {"archived": "all"})) == both


def test_changelist_filters_and_search(staff_client, staff, organisation):
    fin = make_initiative(by=staff, title="Kallio walks", organisation=organisation)
    can = make_initiative(
        by=staff,
        title="Home support",
        country=Country.objects.get(code="CAN"),
        sector=Sector.objects.get(code="10"),
        stage=Stage.PILOT,
    )
    add_participation(fin, phase="design", partner_type="citizen")
    add_participation(can, phase="deliver", partner_type="cso")

    def refs(**params):
        return listed(staff_client.get(CHANGELIST, params))

    assert refs(country__code__exact="CAN") == {can.reference}
    assert refs(sector__code__exact="10") == {can.reference}
    assert refs(stage__exact="pilot") == {can.reference}
    assert refs(review_status__exact="draft") == {fin.reference, can.reference}
    assert refs(phase="design") == {fin.reference}
    assert refs(partner_type="cso") == {can.reference}
    assert refs(q=organisation.name) == {fin.reference}
    assert refs(q=can.reference) == {can.reference}
    assert refs(q="home supp") == {can.reference}
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    assert refs(updated_at__gte=str(today)) == {fin.reference, can.reference}


def test_country_and_sector_filters_offer_what_initiatives_use(staff_client, staff):
    def offered(field):
        response = staff_client.get(CHANGELIST)
        specs = response.context["cl"].filter_specs
        spec = next(s for s in specs if getattr(s, "field_path", None) == field)
        return {str(pk) for pk, _label in spec.lookup_choices}

    make_initiative(by=staff)
    make_initiative(
        by=staff, country=Country.objects.get(code="CAN"), sector=Sector.objects.get(code="10")
    )
    assert offered("country") == {"FIN", "CAN"}
    assert offered("sector") == {"03", "10"}
    # The lists are kept between pages until an initiative changes.
    make_initiative(
        by=staff, country=Country.objects.get(code="GBR"), sector=Sector.objects.get(code="07")
    )
    assert offered("country") == {"FIN", "CAN", "GBR"}
    assert offered("sector") == {"03", "10", "07"}


def test_changelist_costs_the_same_queries_for_5_and_50_initiatives(
    staff_client, staff, organisation
):
    def make(count):
        for i in range(count):
            initiative = make_initiative(
                by=staff, title=f"Initiative {i}", organisation=organisation, case_officer=staff
            )
            add_participation(initiative)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(CHANGELIST)
        assert response.status_code == 200
        return len(captured), len(response.context["cl"].result_list)

    make(5)
    few, shown = queries()
    assert shown == 5
    make(45)
    many, shown = queries()
    assert shown == 50
    assert many == few


# Adding and editing --------------------------------------------------------------------


def test_adding_goes_through_the_service(staff_client, staff):
    involvement = Item.objects.get(question__code="reasons", code="involvement")
    response = staff_client.post(
        ADD,
        {
            "title": "Parents' cafés",
            "country": "FRA",
            "sector": "09",
            "level": "local",
            "objectives": [involvement.pk],
            "initial_stage": "pilot",
            "pilot_since": "2024-09-02",
            "participations-TOTAL_FORMS": 1,
            "participations-INITIAL_FORMS": 0,
            "participations-0-phase": "design",
            "participations-0-partner_type": "user",
            "participations-0-level": "group",
            "accountability-TOTAL_FORMS": 0,
            "accountability-INITIAL_FORMS": 0,
            "budget-TOTAL_FORMS": 0,
            "budget-INITIAL_FORMS": 0,
            "activities-TOTAL_FORMS": 1,
            "activities-INITIAL_FORMS": 0,
            "activities-0-kind": "meeting",
            "activities-0-visibility": "group",
            "activities-0-date": "2024-09-05",
            "activities-0-text": "First café.",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    initiative = Initiative.objects.get(title="Parents' cafés")
    assert initiative.reference == f"COP-{timezone.now().year}-0001"
    assert (initiative.stage, initiative.created_by, initiative.version) == ("pilot", staff, 1)
    [first] = initiative.stage_changes.all()
    assert (first.to_stage, first.changed_on) == ("pilot", datetime.date(2024, 9, 2))
    assert list(initiative.objectives.all()) == [involvement]
    assert initiative.participations.get().partner_type == "user"
    assert initiative.activities.get().author == staff


def test_tag_lists_offer_only_their_questions_items(staff_client, staff):
    initiative = make_initiative(by=staff)
    form = staff_client.get(change_url(initiative)).context["adminform"].form
    codes = {
        name: {item.question.code for item in form.fields[name].queryset}
        for name in form.fields
        if name in Initiative.TAG_QUESTIONS
    }
    assert codes == {
        "objectives": {"reasons"},
        "barriers": {"barriers"},
        "barriers_addressed": {"barriers"},
        "factors": {"factors"},
    }
    # An item of another question is refused, and nothing is saved.
    resources = Item.objects.get(question__code="barriers", code="resources")
    response = staff_client.post(
        change_url(initiative), form_data(staff_client, initiative, objectives=[resources.pk])
    )
    assert response.status_code == 200
    assert "objectives" in response.context["adminform"].form.errors
    assert not initiative.objectives.exists()


def test_edit_saves_record_and_inlines_under_one_new_version(staff_client, staff):
    initiative = make_initiative(by=staff)
    data = with_new_participation(
        form_data(staff_client, initiative, title="Safer streets, together"), initiative
    )

    response = staff_client.post(change_url(initiative), data)

    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.title == "Safer streets, together"
    assert initiative.version == 2
    assert initiative.updated_by == staff
    assert initiative.participations.filter(partner_type="user").exists()
    latest = initiative.history.first()
    assert (latest.title, latest.history_user) == ("Safer streets, together", staff)


def test_saving_an_unchanged_form_changes_nothing(staff_client, staff):
    initiative = make_initiative(by=staff)
    response = staff_client.post(change_url(initiative), form_data(staff_client, initiative))
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.version == 1


def test_stale_edit_is_refused_with_the_input_kept_and_nothing_written(staff_client, staff):
    initiative = make_initiative(by=staff)
    opened = staff_client.get(change_url(initiative)).context["adminform"].form
    assert opened.initial["opened_version"] == 1
    data = with_new_participation(form_data(staff_client, initiative, title="My title"), initiative)
    # Meanwhile, a colleague saves.
    services.initiative_update(
        initiative=Initiative.objects.get(pk=initiative.pk),
        by=StaffFactory(),
        expected_version=1,
        fields={"title": "Their title"},
    )

    response = staff_client.post(change_url(initiative), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "Someone else saved this initiative after you opened it" in errors[0]
    assert b"Someone else saved this initiative" in response.content
    assert response.context["adminform"].form["title"].value() == "My title"
    initiative.refresh_from_db()
    assert (initiative.title, initiative.version) == ("Their title", 2)
    assert not initiative.participations.exists()


def test_a_save_racing_past_the_form_check_is_rolled_back(staff_client, staff, user, monkeypatch):
    initiative = make_initiative(by=staff)
    data = with_new_participation(form_data(staff_client, initiative, title="My title"), initiative)
    original_clean = InitiativeChangeForm.clean

    def clean_then_someone_saves(form):
        cleaned = original_clean(form)
        Initiative.objects.filter(pk=initiative.pk).update(version=5, title="Their title")
        return cleaned

    monkeypatch.setattr(InitiativeChangeForm, "clean", clean_then_someone_saves)
    response = staff_client.post(change_url(initiative), data, follow=True)

    assert "Someone else saved this initiative" in messages_of(response)[0]
    # Nothing of the form was written. (The simulated rival write was made inside the same
    # transaction here, so it went with the rollback too.)
    initiative.refresh_from_db()
    assert initiative.title != "My title"
    assert not Participation.objects.exists()


def test_history_page_shows_who_changed_what_and_cannot_revert(staff_client, staff):
    initiative = make_initiative(by=staff, stage=Stage.PILOT, stage_date=datetime.date(2024, 1, 1))
    staff_client.post(change_url(initiative), form_data(staff_client, initiative, title="Renamed"))
    services.initiative_change_stage(initiative=initiative, to_stage=Stage.EMBEDDED, by=staff)
    history_url = reverse("admin:initiatives_initiative_history", args=[initiative.pk])

    response = staff_client.get(history_url)

    assert response.status_code == 200
    page = response.content.decode()
    assert staff.username in page
    assert "Safer streets together" in page
    assert "Renamed" in page
    assert "Maturity stage:</strong>" in page
    assert "Embedded" in page
    old = initiative.history.last()
    version_url = reverse(
        "admin:initiatives_initiative_simple_history", args=[initiative.pk, old.history_id]
    )
    assert staff_client.get(version_url).status_code == 200
    assert staff_client.post(version_url, {"title": "Back"}).status_code == 403


# Stage ---------------------------------------------------------------------------------


def test_change_stage_button_asks_then_moves_the_stage(staff_client, staff):
    initiative = make_initiative(by=staff, stage=Stage.PILOT, stage_date=datetime.date(2023, 1, 1))
    url = reverse("admin:initiatives_initiative_change_stage", args=[initiative.pk])
    assert url.encode() in staff_client.get(change_url(initiative)).content

    page = staff_client.get(url)
    assert page.status_code == 200
    assert "reason" in page.context["form"].fields

    response = staff_client.post(
        url,
        {"to_stage": "embedded", "on": "2025-02-01", "reason": "In the budget", "apply": "1"},
        follow=True,
    )

    initiative.refresh_from_db()
    assert initiative.stage == Stage.EMBEDDED
    change = initiative.stage_changes.last()
    assert (change.from_stage, change.changed_on, change.reason, change.changed_by) == (
        "pilot",
        datetime.date(2025, 2, 1),
        "In the budget",
        staff,
    )
    assert any("now at the stage" in message for message in messages_of(response))


def test_refused_stage_change_is_shown_as_a_message(staff_client, staff):
    initiative = make_initiative(by=staff, stage=Stage.DISCONTINUED)
    url = reverse("admin:initiatives_initiative_change_stage", args=[initiative.pk])

    response = staff_client.post(url, {"to_stage": "pilot", "on": "2025-02-01", "apply": "1"})

    assert response.status_code == 200
    assert any("Give a reason" in message for message in messages_of(response))
    initiative.refresh_from_db()
    assert initiative.stage == Stage.DISCONTINUED
    assert StageChange.objects.filter(initiative=initiative).count() == 1


def test_change_stage_action_moves_each_selected_and_reports_refusals(staff_client, staff):
    pilot = make_initiative(by=staff, stage=Stage.PILOT, stage_date=datetime.date(2023, 1, 1))
    embedded = make_initiative(by=staff, stage=Stage.EMBEDDED)
    selection = {"action": "change_stage_selected", "_selected_action": [pilot.pk, embedded.pk]}

    page = staff_client.post(CHANGELIST, {**selection, "index": 0})
    assert page.status_code == 200
    assert page.templates[0].name == "admin/initiatives/action_form.html"

    response = staff_client.post(
        CHANGELIST,
        {**selection, "to_stage": "embedded", "on": "2024-06-30", "reason": "", "apply": "1"},
        follow=True,
    )

    pilot.refresh_from_db()
    assert pilot.stage == Stage.EMBEDDED
    found = messages_of(response)
    assert any(embedded.reference in m and "already" in m for m in found)
    assert any("1 initiative moved" in m for m in found)


# Archiving instead of deleting ---------------------------------------------------------


def test_delete_archives_and_restore_brings_back(staff_client, staff):
    initiative = make_initiative(by=staff)
    delete_url = reverse("admin:initiatives_initiative_delete", args=[initiative.pk])

    confirmation = staff_client.get(delete_url)
    assert confirmation.status_code == 200
    assert b"Yes, archive it" in confirmation.content

    response = staff_client.post(delete_url, {"post": "yes"}, follow=True)

    initiative.refresh_from_db()
    assert initiative.archived_at is not None
    assert any("archived" in message for message in messages_of(response))
    assert initiative.reference not in listed(response)
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )

    staff_client.post(
        CHANGELIST + "?archived=yes",
        {"action": "restore_selected", "_selected_action": [initiative.pk], "index": 0},
    )
    initiative.refresh_from_db()
    assert initiative.archived_at is None
    assert Initiative.objects.filter(pk=initiative.pk).exists()


def test_archive_action_keeps_everything(staff_client, staff):
    initiative = make_initiative(by=staff)
    add_participation(initiative)
    staff_client.post(
        CHANGELIST, {"action": "archive_selected", "_selected_action": [initiative.pk], "index": 0}
    )
    initiative.refresh_from_db()
    assert initiative.is_archived
    assert initiative.participations.count() == 1


def test_archiving_an_initiative_someone_archived_meanwhile_changes_nothing(staff_client, staff):
    initiative = make_initiative(by=staff)
    services.initiative_archive(initiative=initiative, by=staff, expected_version=None)
    version = Initiative.objects.get(pk=initiative.pk).version

    response = staff_client.post(
        CHANGELIST + "?archived=yes",
        {"action": "archive_selected", "_selected_action": [initiative.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    saved = Initiative.objects.get(pk=initiative.pk)
    assert saved.is_archived
    assert saved.version == version


# CSV export ----------------------------------------------------------------------------


def test_csv_export_has_codes_labels_and_neutralised_cells(staff_client, staff):
    initiative = make_initiative(
        by=staff, title='=HYPERLINK("http://evil")', stage=Stage.PILOT, case_officer=staff
    )
    add_participation(initiative, phase="design", partner_type="citizen")
    add_participation(initiative, phase="commission", partner_type="professional")
    services.initiative_set_tags(
        initiative=initiative,
        field="objectives",
        items=Item.objects.filter(question__code="reasons", code__in=["quality", "involvement"]),
    )
    other = make_initiative(by=staff, title="Not selected")

    response = staff_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [initiative.pk], "index": 0}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["reference"] == initiative.reference
    assert row["title"] == '\'=HYPERLINK("http://evil")'
    assert (row["country code"], row["country"]) == ("FIN", "Finland")
    assert (row["sector code"], row["sector"]) == ("03", "Public order and safety")
    assert (row["maturity stage code"], row["maturity stage"]) == ("pilot", "Pilot")
    assert (row["review status code"], row["review status"]) == ("draft", "Draft")
    assert row["case officer"] == staff.username
    assert row["who does what"] == "commission:professional|design:citizen"
    assert row["objectives"] == "involvement|quality"
    assert other.reference not in text
    assert SecurityEvent.objects.filter(kind="data_export", user=staff).exists()


def test_export_selected_as_xlsx_has_the_same_table_with_typed_cells(staff_client, staff):
    import openpyxl

    initiative = make_initiative(by=staff, title="=1+1", start_date=datetime.date(2024, 5, 1))
    make_initiative(by=staff, title="Not selected")

    response = staff_client.post(
        CHANGELIST, {"action": "export_xlsx", "_selected_action": [initiative.pk], "index": 0}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))["initiatives"]
    header, *rows = [list(row) for row in sheet.iter_rows()]
    [row] = rows
    cells = dict(zip([cell.value for cell in header], row, strict=True))
    assert cells["reference"].value == initiative.reference
    assert (cells["title"].value, cells["title"].data_type) == ("=1+1", "s")
    assert (cells["sector code"].value, cells["sector code"].data_type) == ("03", "s")
    assert cells["start date"].value == datetime.datetime(2024, 5, 1)
    assert cells["start date"].is_date
    assert SecurityEvent.objects.filter(kind="data_export", user=staff).exists()


# History -------------------------------------------------------------------------------


def _earlier(initiative, hours):
    """Move the history written so far back in time, as if it had happened `hours` ago."""
    recent = initiative.history.filter(
        history_date__gt=timezone.now() - datetime.timedelta(minutes=1)
    )
    recent.update(history_date=timezone.now() - datetime.timedelta(hours=hours))


def test_history_reads_as_one_row_per_edit_with_readable_values(staff_client, staff):
    from survey.models import Item

    initiative = make_initiative(by=staff, stage="pilot")
    _earlier(initiative, 2)
    # One edit of the record and two of its tag lists: three saves, one row.
    services.initiative_update(
        initiative=initiative,
        by=staff,
        expected_version=initiative.version,
        fields={"title": "Safer streets, together"},
        tags={
            "objectives": list(Item.objects.filter(question__code="reasons")[:2]),
            "factors": list(Item.objects.filter(question__code="factors")[:1]),
        },
    )
    _earlier(initiative, 1)
    initiative.refresh_from_db()
    services.initiative_change_stage(
        initiative=initiative,
        to_stage="embedded",
        by=staff,
        reason="Funded by the city from next year.",
        on=timezone.localdate(),
    )
    page = staff_client.get(
        f"/admin/initiatives/initiative/{initiative.pk}/history/"
    ).content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = body.split("<tr>")[1:]
    assert len(rows) == 3  # the stage change, the edit, the creation
    stage, edit, created = rows
    assert "Funded by the city from next year." in stage  # the change reason
    assert "Pilot &rarr; Embedded" in stage
    assert "Safer streets together &rarr; Safer streets, together" in edit
    assert "Objectives:</strong> — &rarr;" in edit
    assert "Success factors" in edit
    assert "Created" in created
    assert "None" not in body
    assert "[]" not in body
    assert "+00:00" not in body


def test_a_long_stage_reason_fits_the_history_row(staff):
    initiative = make_initiative(by=staff, stage="pilot")
    reason = "Funded by the city. " * 20
    services.initiative_change_stage(
        initiative=initiative, to_stage="embedded", by=staff, reason=reason, on=timezone.localdate()
    )
    row = initiative.history.order_by("-history_date").first()
    assert len(row.history_change_reason) <= 100
    assert initiative.stage_changes.last().reason == reason
