"""The stage history as it happened: dates, reported and confirmed entries, past changes,
corrections and removals, proposals with an effective date and superseded proposals, each
through the one stage service and the doors that call it."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from initiatives import services
from initiatives.models import ApiToken, Stage, StageChange, StageProposal
from initiatives.reports.pipeline import with_days_to_embedding
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db

D = datetime.date


def history(initiative):
    return [
        (c.from_stage, c.to_stage, c.changed_on)
        for c in initiative.stage_changes.order_by("changed_on", "changed_at", "pk")
    ]


def days_to_embedding(initiative):
    rows = with_days_to_embedding(type(initiative).objects.filter(pk=initiative.pk))
    return [row["days_to_embedding"] for row in rows]


def api_client(user):
    client = APIClient()
    _, key = ApiToken.issue(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# The dates a new initiative starts with ---------------------------------------------------


def test_a_group_logs_a_long_running_pilot_with_its_real_dates(member, organisation):
    initiative = make_initiative(
        by=member,
        organisation=organisation,
        stage=Stage.PILOT,
        stage_dates={Stage.PLANNED: D(2019, 3, 1), Stage.PILOT: D(2021, 1, 15)},
    )

    assert initiative.stage == Stage.PILOT
    assert history(initiative) == [
        ("", Stage.PLANNED, D(2019, 3, 1)),
        (Stage.PLANNED, Stage.PILOT, D(2021, 1, 15)),
    ]
    assert not any(change.is_confirmed for change in initiative.stage_changes.all())


@pytest.mark.parametrize(
    ("stage", "dates", "field", "message"),
    [
        (Stage.PILOT, {Stage.PILOT: D(2999, 1, 1)}, "pilot_since", "in the future"),
        (
            Stage.PILOT,
            {Stage.PLANNED: D(2021, 3, 1), Stage.PILOT: D(2020, 1, 15)},
            "pilot_since",
            "“Pilot” since 2020-01-15 is before the earlier stage, “Planned” since 2021-03-01",
        ),
        (
            Stage.PILOT,
            {Stage.PILOT: D(2021, 1, 1), Stage.EMBEDDED: D(2022, 1, 1)},
            "embedded_since",
            "no “Embedded” date yet",
        ),
    ],
)
def test_impossible_starting_dates_are_refused_naming_the_conflict(
    member, organisation, stage, dates, field, message
):
    with pytest.raises(ValidationError) as refused:
        make_initiative(by=member, organisation=organisation, stage=stage, stage_dates=dates)

    assert message in " ".join(refused.value.message_dict[field])
    assert not StageChange.objects.exists()


def test_a_stage_change_before_the_latest_entry_names_that_entry(staff):
    initiative = make_initiative(by=staff, stage=Stage.PLANNED, stage_date=D(2026, 1, 1))

    with pytest.raises(ValidationError, match="“Planned” since 2026-01-01"):
        services.initiative_change_stage(
            initiative=initiative, to_stage=Stage.PILOT, by=staff, on=D(2025, 3, 7)
        )
    assert history(initiative) == [("", Stage.PLANNED, D(2026, 1, 1))]


# Reported and confirmed ---------------------------------------------------------------------


def test_a_case_officer_confirms_reported_dates_and_the_case_page_tells_them_apart(
    member, organisation, staff, client
):
    initiative = make_initiative(
        by=member,
        organisation=organisation,
        stage=Stage.PILOT,
        stage_dates={Stage.PLANNED: D(2019, 3, 1), Stage.PILOT: D(2021, 1, 15)},
    )
    client.force_login(member)
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert page.count("reported by the group, not yet confirmed") == 2

    assert services.stage_history_confirm(initiative=initiative, by=staff) == 2

    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "not yet confirmed" not in page
    assert all(c.confirmed_by == staff for c in initiative.stage_changes.all())
    with pytest.raises(Exception, match="Only staff"):
        services.stage_history_confirm(initiative=initiative, by=member)


def test_the_report_pages_say_which_dates_they_use(client, staff):
    make_initiative(by=staff, review_status="published")
    page = client.get(reverse("reports:maturity")).content.decode()
    assert "use the dates a group reported until a case officer confirms" in page


# Past changes, corrections, removals -----------------------------------------------------


def test_staff_record_a_past_change_in_order_and_time_to_embedding_recomputes(staff):
    initiative = make_initiative(
        by=staff,
        stage=Stage.EMBEDDED,
        stage_dates={Stage.PLANNED: D(2019, 1, 1), Stage.EMBEDDED: D(2022, 6, 1)},
    )
    assert days_to_embedding(initiative) == []

    services.stage_history_record(
        initiative=initiative,
        to_stage=Stage.PILOT,
        on=D(2020, 1, 15),
        by=staff,
        reason="Pilot year found in the council minutes",
    )

    initiative.refresh_from_db()
    assert initiative.stage == Stage.EMBEDDED
    assert history(initiative) == [
        ("", Stage.PLANNED, D(2019, 1, 1)),
        (Stage.PLANNED, Stage.PILOT, D(2020, 1, 15)),
        (Stage.PILOT, Stage.EMBEDDED, D(2022, 6, 1)),
    ]
    assert days_to_embedding(initiative) == [(D(2022, 6, 1) - D(2020, 1, 15)).days]


def test_a_past_change_that_repeats_its_neighbour_is_refused(staff):
    initiative = make_initiative(
        by=staff,
        stage=Stage.PILOT,
        stage_dates={Stage.PLANNED: D(2019, 1, 1), Stage.PILOT: D(2021, 1, 1)},
    )
    with pytest.raises(ValidationError, match="follows “Pilot” since 2021-01-01"):
        services.stage_history_record(
            initiative=initiative, to_stage=Stage.PILOT, on=D(2021, 5, 1), by=staff, reason="x"
        )
    with pytest.raises(ValidationError, match="Give the reason"):
        services.stage_history_record(
            initiative=initiative, to_stage=Stage.PILOT, on=D(2018, 5, 1), by=staff, reason=""
        )
    assert initiative.stage_changes.count() == 2


def test_corrections_and_removals_keep_their_reason_in_the_history(staff):
    initiative = make_initiative(
        by=staff,
        stage=Stage.EMBEDDED,
        stage_dates={
            Stage.PLANNED: D(2019, 1, 1),
            Stage.PILOT: D(2020, 1, 1),
            Stage.EMBEDDED: D(2022, 1, 1),
        },
    )
    pilot = initiative.stage_changes.get(to_stage=Stage.PILOT)
    services.stage_history_correct(
        entry=pilot, by=staff, on=D(2020, 7, 1), reason="The pilot began in July"
    )
    assert days_to_embedding(initiative) == [(D(2022, 1, 1) - D(2020, 7, 1)).days]

    embedded = initiative.stage_changes.get(to_stage=Stage.EMBEDDED)
    services.stage_history_remove(entry=embedded, by=staff, reason="Never embedded")

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    assert days_to_embedding(initiative) == []
    reasons = set(
        StageChange.history.filter(initiative_id=initiative.pk).values_list(
            "history_change_reason", flat=True
        )
    )
    assert {"The pilot began in July", "Never embedded"} <= reasons
    deleted = StageChange.history.get(id=embedded.pk, history_type="-")
    assert deleted.changed_on == D(2022, 1, 1)
    assert deleted.history_user == staff


def test_a_correction_that_breaks_the_order_names_the_conflicting_entry(staff):
    initiative = make_initiative(
        by=staff,
        stage=Stage.PILOT,
        stage_dates={Stage.PLANNED: D(2019, 1, 1), Stage.PILOT: D(2020, 1, 1)},
    )
    planned = initiative.stage_changes.get(to_stage=Stage.PLANNED)
    with pytest.raises(ValidationError, match="“Pilot” since 2020-01-01"):
        services.stage_history_correct(entry=planned, by=staff, to_stage=Stage.PILOT, reason="typo")
    solo = make_initiative(by=staff)
    with pytest.raises(ValidationError, match="at least one entry"):
        services.stage_history_remove(entry=solo.stage_changes.get(), by=staff, reason="x")


# Proposals ------------------------------------------------------------------------------


def test_a_proposal_on_a_draft_carries_its_effective_date_into_the_history(
    member, organisation, staff
):
    initiative = make_initiative(
        by=member, organisation=organisation, stage_dates={Stage.PLANNED: D(2019, 1, 1)}
    )
    assert initiative.review_status == "draft"
    proposal = services.stage_proposal_create(
        initiative=initiative,
        to_stage=Stage.PILOT,
        by=member,
        reason="Running since spring",
        effective_on=D(2020, 4, 1),
    )
    services.stage_proposal_decide(proposal=proposal, by=staff, accept=True)

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    assert history(initiative)[-1] == (Stage.PLANNED, Stage.PILOT, D(2020, 4, 1))
    assert initiative.stage_changes.get(to_stage=Stage.PILOT).is_confirmed


def test_a_direct_change_by_staff_supersedes_open_proposals_and_tells_the_group(
    member, organisation, staff, client
):
    initiative = make_initiative(by=member, organisation=organisation)
    proposal = services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.PILOT, by=member, reason="We started"
    )
    services.initiative_change_stage(initiative=initiative, to_stage=Stage.EMBEDDED, by=staff)

    proposal.refresh_from_db()
    assert proposal.status == StageProposal.Status.SUPERSEDED
    assert proposal.decided_by == staff
    assert proposal.decision_note == ""  # no text frozen in the staff member's language
    client.force_login(member)
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "Waiting for a case officer" not in page
    dashboard = client.get(reverse("initiatives:dashboard")).content.decode()
    assert "waiting for a case officer" not in dashboard


def test_the_group_is_told_when_its_proposal_is_superseded(
    member, organisation, staff, django_capture_on_commit_callbacks
):
    initiative = make_initiative(by=member, organisation=organisation)
    services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.PILOT, by=member, reason="We started"
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_change_stage(initiative=initiative, to_stage=Stage.EMBEDDED, by=staff)

    [message] = mail.outbox
    assert member.email in message.to
    assert "superseded" in message.body


def test_accepting_one_proposal_supersedes_the_other_open_ones(member, organisation, staff):
    initiative = make_initiative(by=member, organisation=organisation)
    first = services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.PILOT, by=member, reason="Pilot"
    )
    second = services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.EMBEDDED, by=member, reason="Embedded"
    )
    services.stage_proposal_decide(proposal=first, by=staff, accept=True)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == StageProposal.Status.ACCEPTED
    assert second.status == StageProposal.Status.SUPERSEDED


# The doors give the same verdicts -----------------------------------------------------------


def _proposal_by_site(member, initiative, data):
    client = Client()
    client.force_login(member)
    url = reverse("initiatives:stage_proposal", args=[initiative.reference])
    response = client.post(url, data)
    if response.status_code == 302:
        return "accepted"
    return " ".join(response.context["form"].non_field_errors())


def _proposal_by_api(member, initiative, data):
    body = {"to_stage": data["to_stage"], "reason": data["reason"]}
    if data.get("effective_on"):
        body["date"] = data["effective_on"]
    response = api_client(member).post(
        f"/api/initiatives/{initiative.reference}/stage/", body, format="json"
    )
    if response.status_code == 202:
        return "accepted"
    return " ".join(" ".join(v) for v in response.json()["details"].values())


PROPOSAL_CASES = {
    "in the past, after the latest entry": ("2020-05-01", "accepted"),
    "in the future": ("2999-01-01", "cannot be dated in the future"),
    "before the latest entry": ("2018-05-01", "“Planned” since 2019-01-01"),
}


@pytest.mark.parametrize("door", [_proposal_by_site, _proposal_by_api], ids=["site", "api"])
@pytest.mark.parametrize("case", PROPOSAL_CASES)
def test_a_proposal_gets_the_same_verdict_at_every_door(member, organisation, door, case):
    initiative = make_initiative(
        by=member, organisation=organisation, stage_dates={Stage.PLANNED: D(2019, 1, 1)}
    )
    date, expected = PROPOSAL_CASES[case]
    data = {"to_stage": "pilot", "reason": "Running", "effective_on": date}

    verdict = door(member, initiative, data)

    assert expected in verdict
    assert initiative.stage_proposals.count() == (1 if expected == "accepted" else 0)


def _record_by_api(staff, initiative, data):
    response = api_client(staff).post(
        f"/api/initiatives/{initiative.reference}/stage-history/",
        {"to_stage": data["to_stage"], "date": data["on"], "reason": data["reason"]},
        format="json",
    )
    if response.status_code == 201:
        return "accepted"
    return " ".join(" ".join(v) for v in response.json()["details"].values())


def _record_by_admin(staff, initiative, data):
    client = Client()
    client.force_login(staff)
    url = reverse("admin:initiatives_initiative_stage_history", args=[initiative.pk])
    response = client.post(url, {"operation": "record", "apply": "1", **data})
    if response.status_code == 302:
        return "accepted"
    return " ".join(str(m) for m in response.context["messages"])


def _record_by_service(staff, initiative, data):
    try:
        services.stage_history_record(
            initiative=initiative,
            to_stage=data["to_stage"],
            on=datetime.date.fromisoformat(data["on"]),
            by=staff,
            reason=data["reason"],
        )
    except ValidationError as error:
        return " ".join(error.messages)
    return "accepted"


RECORD_CASES = {
    "a past pilot year": ({"to_stage": "pilot", "on": "2020-01-15"}, "accepted"),
    "in the future": ({"to_stage": "pilot", "on": "2999-01-15"}, "in the future"),
    "repeating its neighbour": (
        {"to_stage": "embedded", "on": "2022-01-01"},
        "follows “Embedded” since 2021-06-01",
    ),
}


@pytest.mark.parametrize(
    "door",
    [_record_by_api, _record_by_admin, _record_by_service],
    ids=["api", "admin", "service"],
)
@pytest.mark.parametrize("case", RECORD_CASES)
def test_recording_a_past_change_gets_the_same_verdict_at_every_door(staff, door, case):
    initiative = make_initiative(
        by=staff,
        stage=Stage.EMBEDDED,
        stage_dates={Stage.PLANNED: D(2019, 1, 1), Stage.EMBEDDED: D(2021, 6, 1)},
    )
    data, expected = RECORD_CASES[case]

    verdict = door(staff, initiative, {**data, "reason": "Found in the minutes"})

    assert expected in verdict
    assert initiative.stage_changes.count() == (3 if expected == "accepted" else 2)
