"""Review in the admin: the queue, approve and return, case officers, stage proposals,
organisations, tokens."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from initiatives import services
from initiatives.models import (
    ActivityKind,
    ApiToken,
    Initiative,
    Membership,
    ReviewStatus,
    SecurityEvent,
    Stage,
    StageProposal,
)
from survey.models import Item
from tests.factories import MembershipFactory, StaffFactory, add_participation, make_initiative

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:initiatives_initiative_changelist")
PROPOSALS = reverse("admin:initiatives_stageproposal_changelist")


def listed(response):
    return [initiative.reference for initiative in response.context["cl"].result_list]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def submitted(member, organisation, **fields):
    """An initiative the group filled in and submitted, as on the public site."""
    initiative = make_initiative(by=member, organisation=organisation, **fields)
    add_participation(initiative)
    services.initiative_set_tags(
        initiative=initiative,
        field="objectives",
        items=Item.objects.filter(question__code="reasons", code="involvement"),
    )
    return services.initiative_submit(initiative=initiative, by=member)


def act(client, action, *initiatives, url=CHANGELIST, **data):
    selection = [initiative.pk for initiative in initiatives]
    return client.post(
        url, {"action": action, "_selected_action": selection, "index": 0, **data}, follow=True
    )


def test_review_queue_lists_submissions_oldest_first(staff_client, member, organisation):
    newer = submitted(member, organisation, title="Newer")
    older = submitted(member, organisation, title="Older")
    Initiative.objects.filter(pk=older.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=3)
    )
    make_initiative(by=member, organisation=organisation, title="Still a draft")

    response = staff_client.get(CHANGELIST, {"queue": "waiting"})

    assert listed(response) == [older.reference, newer.reference]
    assert "waiting" in response.context["cl"].list_display
    page = response.content.decode()
    assert "3 days" in page
    assert "0 days" in page


def test_the_officer_column_shows_names_as_its_filter_does(staff_client, member, organisation):
    officer = StaffFactory(first_name="Grace", last_name="Okafor", username="g.okafor")
    submitted(member, organisation, case_officer=officer)
    page = staff_client.get(CHANGELIST).content.decode()
    assert "Grace Okafor" in page
    assert ">g.okafor<" not in page


def test_approve_publishes_notes_the_timeline_and_tells_the_group(
    staff_client, staff, member, organisation, django_capture_on_commit_callbacks
):
    initiative = submitted(member, organisation)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff_client, "approve_selected", initiative, apply="1")

    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.PUBLISHED
    assert initiative.published_at is not None
    entry = initiative.activities.filter(kind=ActivityKind.REVIEW).last()
    assert (entry.text, entry.author) == ("Approved and published.", staff)
    [message] = mail.outbox
    assert message.to == [member.email]
    assert initiative.reference in message.subject
    assert any("1 initiative approved" in m for m in messages_of(response))


def test_approving_a_draft_is_refused_with_a_message(staff_client, member, organisation):
    draft = make_initiative(by=member, organisation=organisation)

    response = act(staff_client, "approve_selected", draft, apply="1")

    draft.refresh_from_db()
    assert draft.review_status == ReviewStatus.DRAFT
    assert any(draft.reference in m and "submitted" in m for m in messages_of(response))


def test_return_asks_the_reason_then_returns(
    staff_client, member, organisation, django_capture_on_commit_callbacks
):
    initiative = submitted(member, organisation)
    mail.outbox.clear()

    page = act(staff_client, "return_selected", initiative)
    assert page.templates[0].name == "admin/initiatives/action_form.html"
    assert "reason" in page.context["form"].fields

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            CHANGELIST,
            {
                "action": "return_selected",
                "_selected_action": [initiative.pk],
                "reason": "Add the budget figures.",
                "apply": "1",
            },
        )

    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.RETURNED
    assert initiative.return_reason == "Add the budget figures."
    assert initiative.activities.filter(
        kind=ActivityKind.REVIEW, text__contains="Add the budget figures."
    ).exists()
    [message] = mail.outbox
    assert "Add the budget figures." in message.body


def test_return_without_a_reason_stays_on_the_page(staff_client, member, organisation):
    initiative = submitted(member, organisation)
    response = staff_client.post(
        CHANGELIST,
        {"action": "return_selected", "_selected_action": [initiative.pk], "apply": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.SUBMITTED


def test_change_page_of_a_submission_offers_the_decision(staff_client, member, organisation):
    initiative = submitted(member, organisation)
    url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    page = staff_client.get(url).content.decode()
    assert 'value="approve_selected"' in page
    assert 'value="return_selected"' in page


def test_assign_to_me_and_my_cases(staff_client, staff, member, organisation):
    mine = submitted(member, organisation, title="Mine")
    theirs = submitted(member, organisation, title="Theirs", case_officer=StaffFactory())
    unassigned = submitted(member, organisation, title="Nobody's")

    act(staff_client, "assign_to_me", mine)

    mine.refresh_from_db()
    assert mine.case_officer == staff
    assert mine.version == 3  # created 1, submitted 2, assigned 3: open editors are stale
    assert listed(staff_client.get(CHANGELIST, {"officer": "me"})) == [mine.reference]
    assert listed(staff_client.get(CHANGELIST, {"officer": "none"})) == [unassigned.reference]
    officer = theirs.case_officer
    assert listed(staff_client.get(CHANGELIST, {"officer": officer.pk})) == [theirs.reference]


def test_assign_case_officer_asks_whom(staff_client, member, organisation):
    initiative = submitted(member, organisation)
    colleague = StaffFactory()

    page = act(staff_client, "assign_case_officer", initiative)
    assert page.context["form"]["case_officer"].value() is not None

    staff_client.post(
        CHANGELIST,
        {
            "action": "assign_case_officer",
            "_selected_action": [initiative.pk],
            "case_officer": colleague.pk,
            "apply": "1",
        },
    )
    initiative.refresh_from_db()
    assert initiative.case_officer == colleague


# Stage proposals -----------------------------------------------------------------------


def proposal(member, organisation, to_stage=Stage.EMBEDDED):
    # Recorded already at "pilot" (which only staff or the system may do), then the group
    # proposes the next stage.
    initiative = make_initiative(
        by=None,
        organisation=organisation,
        stage=Stage.PILOT,
        stage_date=datetime.date(2023, 5, 1),
    )
    return services.stage_proposal_create(
        initiative=initiative, to_stage=to_stage, by=member, reason="The council funds it now."
    )


def test_open_proposals_are_listed_and_accepting_changes_the_stage(
    staff_client, staff, member, organisation
):
    accepted = proposal(member, organisation)
    declined = proposal(member, organisation)
    StageProposal.objects.filter(pk=declined.pk).update(status="declined")

    page = staff_client.get(PROPOSALS)
    assert [p.pk for p in page.context["cl"].result_list] == [accepted.pk]

    response = act(staff_client, "accept_selected", accepted, url=PROPOSALS)

    accepted.refresh_from_db()
    assert (accepted.status, accepted.decided_by) == ("accepted", staff)
    initiative = accepted.initiative
    initiative.refresh_from_db()
    assert initiative.stage == Stage.EMBEDDED
    assert initiative.stage_changes.last().reason == "The council funds it now."
    assert any("1 proposal accepted" in m for m in messages_of(response))


def test_declining_a_proposal_asks_for_a_note(staff_client, member, organisation):
    open_proposal = proposal(member, organisation)

    page = act(staff_client, "decline_selected", open_proposal, url=PROPOSALS)
    assert "note" in page.context["form"].fields

    staff_client.post(
        PROPOSALS,
        {
            "action": "decline_selected",
            "_selected_action": [open_proposal.pk],
            "note": "Wait for the evaluation.",
            "apply": "1",
        },
    )
    open_proposal.refresh_from_db()
    assert (open_proposal.status, open_proposal.decision_note) == (
        "declined",
        "Wait for the evaluation.",
    )
    assert open_proposal.initiative.stage == Stage.PILOT


# Organisations, members, tokens --------------------------------------------------------


def test_verify_organisation_records_who_did_it(staff_client, staff, organisation):
    url = reverse("admin:initiatives_organisation_changelist")
    act(staff_client, "verify_selected", organisation, url=url)
    organisation.refresh_from_db()
    assert organisation.verified
    assert organisation.history.first().history_user == staff


def test_accept_request_to_join(staff_client, organisation):
    pending = MembershipFactory(organisation=organisation, status=Membership.Status.PENDING)
    url = reverse("admin:initiatives_membership_changelist")
    act(staff_client, "accept_selected", pending, url=url)
    pending.refresh_from_db()
    assert pending.status == Membership.Status.ACTIVE


def test_token_admin_never_shows_the_hash_and_revokes(staff_client, staff, member):
    token, key = ApiToken.issue(user=member, name="laptop")
    url = reverse("admin:initiatives_apitoken_change", args=[token.pk])

    page = staff_client.get(url).content.decode()
    assert token.prefix in page
    assert token.key_hash not in page
    assert key not in page

    changelist = reverse("admin:initiatives_apitoken_changelist")
    act(staff_client, "revoke_selected", token, url=changelist)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert SecurityEvent.objects.filter(kind="token_revoked", user=member).exists()


def test_approving_asks_for_confirmation_first(staff_client, member, organisation):
    initiative = submitted(member, organisation)
    response = staff_client.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [initiative.pk], "index": 0}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "published on the public site at once" in page
    assert initiative.reference in page
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.SUBMITTED  # nothing until confirmed


def test_the_admin_index_counts_the_case_work_and_hides_the_parts(
    staff_client, staff, member, organisation
):
    submitted(member, organisation)
    submitted(member, organisation, case_officer=staff)
    page = staff_client.get("/admin/").content.decode()
    assert "2 waiting" in page
    assert "1 case<" in page
    assert "0 open" in page
    # Parts edited on the initiative's page are not listed as tables of their own.
    assert "/admin/initiatives/participation/" not in page
    assert "/admin/initiatives/budgetframework/" not in page
    assert staff_client.get("/admin/initiatives/participation/").status_code == 200
