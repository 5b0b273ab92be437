"""Logging and keeping an initiative through the site."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from initiatives.models import (
    AccountabilityFramework,
    Activity,
    BudgetFramework,
    Initiative,
    Participation,
    ReviewStatus,
    StageProposal,
)
from tests.factories import add_participation, make_initiative
from tests.parallel import archived_right_after_lookup
from tests.portal.helpers import initiative_form_data, item_pk


def _edit(initiative):
    return reverse("initiatives:edit", kwargs={"reference": initiative.reference})


def test_a_member_logs_an_initiative_with_its_grid_tags_and_frameworks(
    client, member, organisation
):
    client.force_login(member)
    data = initiative_form_data(
        organisation,
        barriers=[item_pk("barriers", "resources"), item_pk("barriers", "evidence")],
        barriers_addressed=[item_pk("barriers", "resources")],
        factors=[item_pk("factors", "leadership")],
        **{
            "accountability-accountable_body": "Espoo city board",
            "accountability-roles_written": "on",
            "budget-amount": "25000",
            "budget-currency": "eur",
        },
    )
    response = client.post(reverse("initiatives:create"), data)
    initiative = Initiative.objects.get(title="Parents online")
    assert response.status_code == 302
    assert response["Location"] == initiative.get_absolute_url()
    assert initiative.review_status == ReviewStatus.DRAFT
    assert initiative.organisation == organisation
    assert initiative.reference.startswith("COP-")
    cells = set(initiative.participations.values_list("phase", "partner_type", "level", "role"))
    assert cells == {
        ("design", "citizen", "group", "Parents choose the topics"),
        ("deliver", "professional", "individual", ""),
    }
    assert list(initiative.objectives.values_list("code", flat=True)) == ["involvement"]
    assert set(initiative.barriers.values_list("code", flat=True)) == {"resources", "evidence"}
    assert list(initiative.factors.values_list("code", flat=True)) == ["leadership"]
    assert initiative.accountability.accountable_body == "Espoo city board"
    assert initiative.accountability.roles_written is True
    assert initiative.budget.currency == "EUR"
    assert initiative.stage_changes.count() == 1


def test_empty_optional_sections_do_not_create_frameworks(client, member, organisation):
    client.force_login(member)
    client.post(reverse("initiatives:create"), initiative_form_data(organisation))
    initiative = Initiative.objects.get(title="Parents online")
    assert not AccountabilityFramework.objects.filter(initiative=initiative).exists()
    assert not BudgetFramework.objects.filter(initiative=initiative).exists()


def test_a_user_without_a_group_is_sent_to_create_or_join_one(client, user):
    client.force_login(user)
    response = client.get(reverse("initiatives:create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("initiatives:account")


def test_a_member_cannot_file_an_initiative_under_another_organisation(
    client, member, other_organisation
):
    client.force_login(member)
    response = client.post(reverse("initiatives:create"), initiative_form_data(other_organisation))
    assert response.status_code == 400
    assert not Initiative.objects.filter(title="Parents online").exists()


def test_invalid_input_is_listed_in_an_error_summary_and_kept(client, member, organisation):
    client.force_login(member)
    data = initiative_form_data(
        organisation,
        title="",
        start_date="2024-05-01",
        end_date="2024-01-01",
        barriers_addressed=[item_pk("barriers", "evidence")],
        **{"cell-assess-user-role": "Rates the service"},
    )
    response = client.post(reverse("initiatives:create"), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in page
    assert 'href="#id_title"' in page
    assert "Choose a participation level, or clear the role." in page
    assert "also ticked as met" in page
    assert "Rates the service" in page  # the user's input is kept
    assert not Initiative.objects.exists()


def test_tags_from_another_question_are_refused(client, member, organisation):
    client.force_login(member)
    data = initiative_form_data(organisation, objectives=[item_pk("barriers", "resources")])
    response = client.post(reverse("initiatives:create"), data)
    assert response.status_code == 400
    assert not Initiative.objects.exists()


def test_editing_replaces_the_grid_and_bumps_the_version(client, member, published):
    client.force_login(member)
    before = published.version
    data = initiative_form_data(
        published.organisation,
        published,
        title="Safer streets, together",
        **{"cell-design-citizen-level": "", "cell-design-citizen-role": ""},
    )
    data["cell-assess-community_group-level"] = "collective"
    response = client.post(_edit(published), data)
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.title == "Safer streets, together"
    assert published.version > before
    assert published.review_status == ReviewStatus.PUBLISHED  # edits go live at once
    assert set(published.participations.values_list("phase", "partner_type")) == {
        ("deliver", "professional"),
        ("assess", "community_group"),
    }
    assert published.history.first().title == "Safer streets, together"
    assert published.history.first().history_user == member


def test_a_stale_edit_is_refused_and_the_input_kept(client, member, published, staff):
    client.force_login(member)
    opened_at = published.version
    # Someone else saves in the meantime.
    client_b_data = initiative_form_data(published.organisation, published, title="Theirs")
    other = client.__class__()
    other.force_login(staff)
    assert other.post(_edit(published), client_b_data).status_code == 302

    mine = initiative_form_data(
        published.organisation,
        title="Mine, typed carefully",
        version=str(opened_at),
    )
    response = client.post(_edit(published), mine)
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this initiative" in page
    assert "Mine, typed carefully" in page
    assert f'href="{published.get_absolute_url()}" target="_blank"' in page
    published.refresh_from_db()
    assert published.title == "Theirs"


def test_a_record_archived_as_the_edit_is_saved_gives_the_stale_page(client, member, published):
    # The record and the member's right to change it are read in one statement: archived
    # right after, the save meets the moved version (409, input kept), never a 403.
    client.force_login(member)
    data = initiative_form_data(published.organisation, published, title="Mine, typed carefully")
    with archived_right_after_lookup(published):
        response = client.post(_edit(published), data)
    assert response.status_code == 409
    assert "Mine, typed carefully" in response.content.decode()
    assert Initiative.objects.get(pk=published.pk).title != "Mine, typed carefully"


def test_editing_only_the_grid_makes_open_editors_stale(client, member, published):
    client.force_login(member)
    opened_at = published.version
    grid_only = initiative_form_data(
        published.organisation,
        published,
        title=published.title,
        **{"cell-commission-cso-level": "group"},
    )
    assert client.post(_edit(published), grid_only).status_code == 302
    stale = initiative_form_data(published.organisation, title="Late", version=str(opened_at))
    assert client.post(_edit(published), stale).status_code == 409


def test_save_and_submit_sends_it_for_review_and_tells_case_officers(
    client, member, organisation, staff, django_capture_on_commit_callbacks
):
    client.force_login(member)
    data = initiative_form_data(organisation, submit="1")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("initiatives:create"), data)
    initiative = Initiative.objects.get(title="Parents online")
    assert response.status_code == 302
    assert initiative.review_status == ReviewStatus.SUBMITTED
    assert initiative.activities.filter(kind="review").exists()
    assert [message.to for message in mail.outbox] == [[staff.email]]
    assert initiative.reference in mail.outbox[0].subject


def test_submit_says_precisely_what_is_missing(client, member, organisation):
    client.force_login(member)
    initiative = make_initiative(organisation=organisation, summary="", start_date=None)
    response = client.post(
        reverse("initiatives:submit", kwargs={"reference": initiative.reference}), follow=True
    )
    page = response.content.decode()
    assert "a summary" in page
    assert "a start date" in page
    assert "at least one partner" in page
    assert "at least one objective" in page
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.DRAFT


def test_a_returned_initiative_shows_what_staff_asked_for_on_the_dashboard(
    client, member, organisation
):
    initiative = make_initiative(organisation=organisation, review_status=ReviewStatus.RETURNED)
    Initiative.objects.filter(pk=initiative.pk).update(return_reason="Add the budget, please.")
    client.force_login(member)
    page = client.get(reverse("initiatives:dashboard")).content.decode()
    assert "Add the budget, please." in page
    assert "at least one objective" in page  # what is still missing


def test_dashboard_offers_submission_when_nothing_is_missing(client, member, organisation):
    initiative = make_initiative(organisation=organisation)
    add_participation(initiative)
    initiative.objectives.add(item_pk("reasons", "quality"))
    client.force_login(member)
    page = client.get(reverse("initiatives:dashboard")).content.decode()
    submit_url = reverse("initiatives:submit", kwargs={"reference": initiative.reference})
    assert f'action="{submit_url}"' in page


def test_dashboard_lists_only_the_users_organisations(client, member, draft, other_draft):
    client.force_login(member)
    page = client.get(reverse("initiatives:dashboard")).content.decode()
    assert draft.reference in page
    assert other_draft.reference not in page


def test_members_add_timeline_entries_and_documents(client, member, published):
    client.force_login(member)
    url = reverse("initiatives:activity_add", kwargs={"reference": published.reference})
    response = client.post(
        url,
        {
            "kind": "document",
            "date": "2025-02-01",
            "text": "Evaluation report",
            "file": SimpleUploadedFile("report.pdf", b"%PDF-1.4 tiny", "application/pdf"),
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get(initiative=published, kind="document")
    assert activity.author == member
    page = client.get(published.get_absolute_url()).content.decode()
    document_url = reverse(
        "initiatives:document", kwargs={"reference": published.reference, "pk": activity.pk}
    )
    assert document_url in page
    assert "/media/" not in page


def test_a_document_whose_content_does_not_match_its_name_is_refused(client, member, published):
    client.force_login(member)
    url = reverse("initiatives:activity_add", kwargs={"reference": published.reference})
    response = client.post(
        url,
        {
            "kind": "document",
            "date": "2025-02-01",
            "text": "Not really a PDF",
            "file": SimpleUploadedFile("evil.pdf", b"MZ\x90\x00 executable"),
        },
    )
    assert response.status_code == 400
    assert "does not match its type" in response.content.decode()
    assert not Activity.objects.filter(initiative=published, kind="document").exists()


def test_a_member_proposes_a_stage_change_for_a_case_officer(client, member, published):
    client.force_login(member)
    url = reverse("initiatives:stage_proposal", kwargs={"reference": published.reference})
    response = client.post(url, {"to_stage": "pilot", "reason": "We started in March."})
    assert response.status_code == 302
    proposal = StageProposal.objects.get(initiative=published)
    assert proposal.to_stage == "pilot"
    assert proposal.status == "open"
    published.refresh_from_db()
    assert published.stage == "planned"  # only a case officer confirms it
    page = client.get(published.get_absolute_url()).content.decode()
    assert "Waiting for a case officer" in page


def test_a_stage_proposal_needs_a_reason(client, member, published):
    client.force_login(member)
    url = reverse("initiatives:stage_proposal", kwargs={"reference": published.reference})
    response = client.post(url, {"to_stage": "pilot", "reason": ""})
    assert response.status_code == 400
    assert not StageProposal.objects.exists()


def test_the_edit_form_shows_the_current_grid(client, member, published):
    client.force_login(member)
    page = client.get(_edit(published)).content.decode()
    assert 'name="cell-design-citizen-level"' in page
    assert '<option value="group" selected>' in page
    assert f'name="version" value="{published.version}"' in page


@pytest.mark.parametrize("field", ["objectives", "barriers", "factors"])
def test_the_form_offers_the_survey_vocabulary_as_checkboxes(client, member, field):
    client.force_login(member)
    page = client.get(reverse("initiatives:create")).content.decode()
    assert f'type="checkbox" name="{field}"' in page


def test_participations_are_unique_per_cell(client, member, published):
    client.force_login(member)
    data = initiative_form_data(published.organisation, published, title=published.title)
    client.post(_edit(published), data)
    assert (
        Participation.objects.filter(
            initiative=published, phase="design", partner_type="citizen"
        ).count()
        == 1
    )
    assert len(mail.outbox) == 0


def test_a_refused_submission_marks_each_missing_field_and_links_it(client, member, organisation):
    client.force_login(member)
    initiative = make_initiative(organisation=organisation, summary="", start_date=None)
    response = client.post(
        reverse("initiatives:submit", kwargs={"reference": initiative.reference})
    )
    assert response.status_code == 400
    page = response.content.decode()
    summary = page[
        page.index('class="error-summary"') : page.index(
            "</div>", page.index('class="error-summary"')
        )
    ]
    for anchor in ("#id_summary", "#id_start_date", "#id_objectives_0"):
        assert f'href="{anchor}"' in summary, anchor
    # The field itself says what is needed and is marked invalid for assistive technology.
    summary_field = re.search(r'<textarea[^>]*name="summary"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in summary_field
    assert "Needed before submitting for review: a summary." in page
    assert "Needed before submitting for review: at least one partner" in page
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.DRAFT


def test_the_dashboard_costs_the_same_queries_for_two_drafts_or_ten(client, member, organisation):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(member)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("initiatives:dashboard")).status_code == 200
        return len(captured)

    for _ in range(2):
        make_initiative(organisation=organisation, summary="")
    with_two = queries()
    for _ in range(8):
        draft = make_initiative(organisation=organisation)
        add_participation(draft)
    assert queries() == with_two
