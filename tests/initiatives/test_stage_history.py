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
    # What the group can do about it: only staff correct the history.
    "before the latest entry": (
        "2018-05-01",
        "“Planned” since 2019-01-01. Give a date on or after it; if that entry is wrong, say "
        "so in the reason and your case officer will correct it.",
    ),
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


def _admin_history_post(staff, initiative, operation, data, *, opened_version=None):
    """The admin's stage history page as a browser posts it, with the version it showed."""
    client = Client()
    client.force_login(staff)
    url = reverse("admin:initiatives_initiative_stage_history", args=[initiative.pk])
    opened = initiative.version if opened_version is None else opened_version
    return client.post(
        url, {"operation": operation, "apply": "1", "opened_version": opened, **data}
    )


def _admin_verdict(response):
    if response.status_code == 302:
        return "accepted"
    return " ".join(str(m) for m in response.context["messages"])


def _record_by_admin(staff, initiative, data):
    return _admin_verdict(_admin_history_post(staff, initiative, "record", data))


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
    "a typing slip for a year": (
        {"to_stage": "pilot", "on": "0202-01-15"},
        "“Pilot” since 0202-01-15 is before 1900-01-01",
    ),
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


# Corrections keep the history's order; the doors share the version lock ------------------


def _typo_world(staff, member, organisation):
    """Planned 2020-10-08, pilot 2021-05-09 (stage pilot), and the group's open proposal."""
    initiative = make_initiative(
        by=member,
        organisation=organisation,
        stage=Stage.PILOT,
        stage_dates={Stage.PLANNED: D(2020, 10, 8), Stage.PILOT: D(2021, 5, 9)},
    )
    services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.EMBEDDED, by=member, reason="Embedded now"
    )
    initiative.refresh_from_db()
    return initiative, initiative.stage_changes.get(to_stage=Stage.PILOT)


def _correct_by_service(staff, initiative, entry, data):
    try:
        services.stage_history_correct(
            entry=entry,
            by=staff,
            on=datetime.date.fromisoformat(data["on"]),
            reason=data["reason"],
            expected_version=initiative.version,
        )
    except ValidationError as error:
        return " ".join(error.messages)
    return "accepted"


def _correct_by_api(staff, initiative, entry, data):
    response = api_client(staff).patch(
        f"/api/initiatives/{initiative.reference}/stage-history/{entry.pk}/",
        {"date": data["on"], "reason": data["reason"]},
        format="json",
        HTTP_IF_MATCH=f'"{initiative.version}"',
    )
    if response.status_code == 200:
        return "accepted"
    return " ".join(" ".join(v) for v in response.json()["details"].values())


def _correct_by_admin(staff, initiative, entry, data):
    data = {"entry": entry.pk, **data}
    return _admin_verdict(_admin_history_post(staff, initiative, "correct", data))


correction_doors = pytest.mark.parametrize(
    "door",
    [_correct_by_service, _correct_by_api, _correct_by_admin],
    ids=["service", "api", "admin"],
)


@correction_doors
def test_a_correction_that_would_move_an_entry_past_its_neighbour_is_refused_at_every_door(
    staff, member, organisation, door
):
    initiative, pilot = _typo_world(staff, member, organisation)

    verdict = door(staff, initiative, pilot, {"on": "2019-05-09", "reason": "typo fix"})

    assert "“Pilot” since 2019-05-09 is before the earlier entry “Planned” since 2020-10-08" in (
        verdict
    )
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    assert history(initiative)[-1] == (Stage.PLANNED, Stage.PILOT, D(2021, 5, 9))
    assert initiative.stage_proposals.get().status == StageProposal.Status.OPEN


@correction_doors
def test_a_correction_within_its_neighbours_is_applied_at_every_door(
    staff, member, organisation, door
):
    initiative, pilot = _typo_world(staff, member, organisation)

    assert door(staff, initiative, pilot, {"on": "2021-04-01", "reason": "minutes"}) == "accepted"

    assert history(initiative)[-1] == (Stage.PLANNED, Stage.PILOT, D(2021, 4, 1))
    # The current stage did not move: the group's proposal still waits for a decision.
    assert initiative.stage_proposals.get().status == StageProposal.Status.OPEN


def test_a_correction_that_changes_nothing_is_refused(staff, member, organisation):
    _initiative, pilot = _typo_world(staff, member, organisation)

    with pytest.raises(ValidationError, match="already says this"):
        services.stage_history_correct(entry=pilot, by=staff, reason="checked")
    with pytest.raises(ValidationError, match="already says this"):
        services.stage_history_correct(
            entry=pilot, by=staff, reason="checked", on=D(2021, 5, 9), to_stage=Stage.PILOT
        )
    assert not pilot.__class__.objects.get(pk=pilot.pk).is_confirmed


def test_a_correction_or_removal_that_moves_the_current_stage_supersedes_open_proposals(
    staff, member, organisation, django_capture_on_commit_callbacks
):
    initiative, pilot = _typo_world(staff, member, organisation)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.stage_history_remove(entry=pilot, by=staff, reason="Never piloted")

    initiative.refresh_from_db()
    assert initiative.stage == Stage.PLANNED
    proposal = initiative.stage_proposals.get()
    assert proposal.status == StageProposal.Status.SUPERSEDED
    [message] = mail.outbox
    assert member.email in message.to

    second = services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.PILOT, by=member, reason="Pilot after all"
    )
    planned = initiative.stage_changes.get()
    services.stage_history_correct(
        entry=planned, by=staff, to_stage=Stage.PILOT, reason="It was a pilot"
    )
    second.refresh_from_db()
    assert second.status == StageProposal.Status.SUPERSEDED


def test_the_group_reads_on_its_case_page_that_its_proposal_was_superseded(
    staff, member, organisation, client
):
    initiative, _pilot = _typo_world(staff, member, organisation)
    services.initiative_change_stage(initiative=initiative, to_stage=Stage.DISCONTINUED, by=staff)

    client.force_login(member)
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "The proposal to move to “Embedded” was closed as superseded" in page
    assert "the stage is now “Discontinued”" in page
    page = client.get("/fr" + initiative.get_absolute_url()).content.decode()
    assert "La proposition de passer à" in page


def _with_a_recorded_pilot(staff, embedded_on):
    """Planned 2019-01-01, embedded `embedded_on`, and a pilot of 2020-01-01 recorded since
    (so written after the other two)."""
    initiative = make_initiative(
        by=staff,
        stage=Stage.EMBEDDED,
        stage_dates={Stage.PLANNED: D(2019, 1, 1), Stage.EMBEDDED: embedded_on},
    )
    services.stage_history_record(
        initiative=initiative, to_stage=Stage.PILOT, on=D(2020, 1, 1), by=staff, reason="Minutes"
    )
    return initiative


def test_the_initiative_history_keeps_the_reason_of_each_change_to_the_stage_history(staff):
    initiative = _with_a_recorded_pilot(staff, D(2022, 6, 1))
    pilot = initiative.stage_changes.get(to_stage=Stage.PILOT)
    services.stage_history_correct(entry=pilot, by=staff, on=D(2020, 2, 1), reason="Typo")
    services.stage_history_remove(entry=pilot, by=staff, reason="Not a pilot")

    reasons = list(
        initiative.history.order_by("history_date").values_list("history_change_reason", flat=True)
    )
    assert reasons[-3:] == ["Minutes", "Typo", "Not a pilot"]


def test_a_stale_version_changes_nothing_at_any_door(staff, member, organisation):
    initiative, pilot = _typo_world(staff, member, organisation)
    opened = initiative.version
    services.stage_history_confirm(initiative=initiative, by=staff, expected_version=opened)
    initiative.refresh_from_db()
    assert initiative.version == opened + 1  # confirming is a change to the record too
    services.initiative_update(
        initiative=initiative,
        by=staff,
        expected_version=initiative.version,
        fields={"title": "Renamed"},
    )
    initiative.refresh_from_db()
    before = history(initiative)

    with pytest.raises(services.StaleEdit):
        services.stage_history_remove(
            entry=pilot, by=staff, reason="Never piloted", expected_version=opened
        )
    api = api_client(staff)
    remove = f"/api/initiatives/{initiative.reference}/stage-history/{pilot.pk}/remove/"
    assert api.post(remove, {"reason": "x"}, format="json").status_code == 428
    stale = api.post(remove, {"reason": "x"}, format="json", HTTP_IF_MATCH=f'"{opened}"')
    assert stale.status_code == 412
    record = f"/api/initiatives/{initiative.reference}/stage-history/"
    body = {"to_stage": "pilot", "date": "2020-01-01", "reason": "x"}
    assert api.post(record, body, format="json", HTTP_IF_MATCH=f'"{opened}"').status_code == 412
    confirm = f"/api/initiatives/{initiative.reference}/stage-history/confirm/"
    assert api.post(confirm, HTTP_IF_MATCH=f'"{opened}"').status_code == 412
    change = f"/api/initiatives/{initiative.reference}/stage/"
    body = {"to_stage": "embedded", "reason": "x"}
    assert api.post(change, body, format="json", HTTP_IF_MATCH=f'"{opened}"').status_code == 412

    page = _admin_history_post(
        staff,
        initiative,
        "remove",
        {"entry": pilot.pk, "reason": "Never piloted"},
        opened_version=opened,
    )
    assert page.status_code == 409
    assert "Someone else saved this initiative after you opened it" in page.content.decode()

    assert history(initiative) == before
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT


def test_the_api_stage_history_carries_the_etag_to_send_back(staff, member, organisation):
    initiative, pilot = _typo_world(staff, member, organisation)
    api = api_client(staff)

    listed = api.get(f"/api/initiatives/{initiative.reference}/stage-history/")
    assert listed["ETag"] == f'"{initiative.version}"'

    removed = api.post(
        f"/api/initiatives/{initiative.reference}/stage-history/{pilot.pk}/remove/",
        {"reason": "Never piloted"},
        format="json",
        HTTP_IF_MATCH=listed["ETag"],
    )
    assert removed.status_code == 200
    initiative.refresh_from_db()
    assert removed["ETag"] == f'"{initiative.version}"'


def test_the_admin_shows_when_a_proposed_change_took_effect(staff, member, organisation, client):
    initiative = make_initiative(
        by=member, organisation=organisation, stage_dates={Stage.PLANNED: D(2019, 1, 1)}
    )
    proposal = services.stage_proposal_create(
        initiative=initiative,
        to_stage=Stage.PILOT,
        by=member,
        reason="Running",
        effective_on=D(2020, 4, 1),
    )
    client.force_login(staff)
    for url in (
        reverse("admin:initiatives_stageproposal_changelist"),
        reverse("admin:initiatives_stageproposal_change", args=[proposal.pk]),
        reverse("admin:initiatives_initiative_change", args=[initiative.pk]),
    ):
        page = client.get(url).content.decode()
        assert "took effect on" in page.lower(), url
        assert "April 1, 2020" in page or "2020-04-01" in page, url


def test_the_admin_page_carries_the_version_it_shows(staff, client):
    initiative = make_initiative(by=staff)
    client.force_login(staff)
    url = reverse("admin:initiatives_initiative_stage_history", args=[initiative.pk])

    page = client.get(url).content.decode()

    assert f'<input type="hidden" name="opened_version" value="{initiative.version}"' in page
    assert "Opened version" not in page


def test_a_page_from_before_an_entry_was_removed_gets_the_stale_answer(staff, member, organisation):
    initiative, pilot = _typo_world(staff, member, organisation)
    opened = initiative.version
    services.stage_history_remove(
        entry=pilot, by=staff, reason="Never piloted", expected_version=opened
    )

    gone = f"/api/initiatives/{initiative.reference}/stage-history/{pilot.pk}/"
    api = api_client(staff)
    patched = api.patch(
        gone, {"date": "2021-04-01", "reason": "x"}, format="json", HTTP_IF_MATCH=f'"{opened}"'
    )
    assert patched.status_code == 412
    removed = api.post(
        gone + "remove/", {"reason": "x"}, format="json", HTTP_IF_MATCH=f'"{opened}"'
    )
    assert removed.status_code == 412
    page = _admin_history_post(
        staff,
        initiative,
        "correct",
        {"entry": pilot.pk, "on": "2021-04-01", "reason": "x"},
        opened_version=opened,
    )
    assert page.status_code == 409
    text = page.content.decode()
    assert "Someone else saved this initiative after you opened it" in text
    assert "Select a valid choice" not in text


def test_the_admin_change_stage_page_is_refused_over_someone_else_s_change(staff, client):
    initiative = make_initiative(by=staff, stage_date=D(2020, 1, 1))
    opened = initiative.version
    services.initiative_update(
        initiative=initiative, by=staff, expected_version=opened, fields={"title": "Renamed"}
    )
    client.force_login(staff)
    url = reverse("admin:initiatives_initiative_change_stage", args=[initiative.pk])
    assert f'name="opened_version" value="{opened + 1}"' in client.get(url).content.decode()

    page = client.post(
        url,
        {
            "to_stage": "pilot",
            "on": "2021-01-01",
            "reason": "",
            "apply": "1",
            "opened_version": opened,
        },
    )

    assert page.status_code == 409
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PLANNED


def test_a_correction_onto_a_neighbour_s_date_keeps_the_history_in_order(staff):
    initiative = _with_a_recorded_pilot(staff, D(2021, 1, 1))
    embedded = initiative.stage_changes.get(to_stage=Stage.EMBEDDED)

    with pytest.raises(ValidationError, match="would share its date with “Pilot” since 2020-01-01"):
        services.stage_history_correct(entry=embedded, by=staff, on=D(2020, 1, 1), reason="x")

    initiative.refresh_from_db()
    assert initiative.stage == Stage.EMBEDDED
    assert [stage for _from, stage, _on in history(initiative)] == ["planned", "pilot", "embedded"]


def test_each_superseded_proposal_has_its_own_line_on_the_case_page(
    staff, member, organisation, client
):
    initiative, _pilot = _typo_world(staff, member, organisation)
    services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.DISCONTINUED, by=member, reason="Stopped"
    )
    services.initiative_change_stage(initiative=initiative, to_stage=Stage.PLANNED, by=staff)

    client.force_login(member)
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "The proposal to move to “Embedded” was closed as superseded" in page
    assert "The proposal to move to “Discontinued” was closed as superseded" in page
