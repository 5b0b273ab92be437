import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from initiatives import services
from initiatives.models import Activity, Initiative, ReviewStatus, Stage, StageChange
from survey.models import Item
from tests.factories import add_participation, make_initiative

pytestmark = pytest.mark.django_db


def test_references_follow_the_year_and_never_repeat(staff):
    first = make_initiative(by=staff)
    second = make_initiative(by=staff)
    year = first.created_at.year
    assert first.reference == f"COP-{year}-0001"
    assert second.reference == f"COP-{year}-0002"
    second.delete()
    assert make_initiative(by=staff).reference == f"COP-{year}-0003"


def test_creation_records_the_first_stage(staff):
    initiative = make_initiative(by=staff, stage=Stage.PILOT)
    [change] = initiative.stage_changes.all()
    assert (change.from_stage, change.to_stage) == ("", Stage.PILOT)


def test_stage_change_writes_history_and_timeline(staff):
    initiative = make_initiative(by=staff, stage=Stage.PILOT, stage_date=datetime.date(2024, 1, 1))
    services.initiative_change_stage(
        initiative=initiative,
        to_stage=Stage.EMBEDDED,
        by=staff,
        reason="Funded for good",
        on=datetime.date(2025, 3, 1),
    )
    initiative.refresh_from_db()
    assert initiative.stage == Stage.EMBEDDED
    change = initiative.stage_changes.last()
    assert (change.from_stage, change.to_stage, change.changed_by) == ("pilot", "embedded", staff)
    assert initiative.activities.filter(kind="stage").exists()


def test_stage_change_dated_before_the_previous_one_is_refused(staff):
    initiative = make_initiative(by=staff, stage=Stage.PILOT, stage_date=datetime.date(2025, 1, 1))
    latest = "before the latest entry of the stage history, “Pilot” since 2025-01-01"
    with pytest.raises(ValidationError, match=latest):
        services.initiative_change_stage(
            initiative=initiative,
            to_stage=Stage.EMBEDDED,
            by=staff,
            on=datetime.date(2024, 12, 31),
        )


def test_stage_change_to_the_same_stage_is_refused(staff):
    initiative = make_initiative(by=staff, stage=Stage.PILOT)
    with pytest.raises(ValidationError, match="already"):
        services.initiative_change_stage(initiative=initiative, to_stage=Stage.PILOT, by=staff)
    assert StageChange.objects.filter(initiative=initiative).count() == 1


def test_leaving_discontinued_needs_a_reason(staff):
    initiative = make_initiative(by=staff, stage=Stage.DISCONTINUED)
    with pytest.raises(ValidationError, match="reason"):
        services.initiative_change_stage(initiative=initiative, to_stage=Stage.PILOT, by=staff)
    services.initiative_change_stage(
        initiative=initiative, to_stage=Stage.PILOT, by=staff, reason="New funding"
    )
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT


def test_stale_update_is_refused_and_changes_nothing(staff):
    initiative = make_initiative(by=staff)
    opened_version = initiative.version
    first = Initiative.objects.get(pk=initiative.pk)
    services.initiative_update(
        initiative=first, by=staff, expected_version=opened_version, fields={"title": "First"}
    )
    second = Initiative.objects.get(pk=initiative.pk)
    with pytest.raises(services.StaleEdit):
        services.initiative_update(
            initiative=second, by=staff, expected_version=opened_version, fields={"title": "Lost"}
        )
    initiative.refresh_from_db()
    assert initiative.title == "First"
    assert initiative.version == opened_version + 1


def test_update_keeps_history_with_who(staff):
    initiative = make_initiative(by=staff)
    services.initiative_update(
        initiative=initiative,
        by=staff,
        expected_version=initiative.version,
        fields={"title": "Renamed"},
    )
    latest = initiative.history.first()
    assert latest.title == "Renamed"
    assert latest.history_user == staff


def test_tags_must_belong_to_their_question(staff):
    initiative = make_initiative(by=staff)
    barrier = Item.objects.get(question__code="barriers", code="resources")
    with pytest.raises(ValidationError):
        services.initiative_set_tags(initiative=initiative, field="objectives", items=[barrier])
    services.initiative_set_tags(initiative=initiative, field="barriers", items=[barrier])
    assert list(initiative.barriers.all()) == [barrier]


def test_submit_says_what_is_missing(member, organisation):
    initiative = make_initiative(by=member, organisation=organisation, summary="")
    with pytest.raises(ValidationError) as excinfo:
        services.initiative_submit(initiative=initiative, by=member)
    message = str(excinfo.value)
    assert "a summary" in message
    assert "who does what" in message
    assert "objective" in message
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.DRAFT


def _complete(initiative):
    add_participation(initiative)
    initiative.objectives.set([Item.objects.get(question__code="reasons", code="quality")])


def test_submit_approve_cycle_notifies_and_lands_in_timeline(
    member, organisation, staff, django_capture_on_commit_callbacks
):
    initiative = make_initiative(by=member, organisation=organisation)
    _complete(initiative)
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_submit(initiative=initiative, by=member)
    assert [staff.email] in [m.to for m in mail.outbox]
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_approve(initiative=initiative, by=staff)
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.PUBLISHED
    assert member.email in mail.outbox[-1].to
    texts = list(initiative.activities.filter(kind="review").values_list("text", flat=True))
    assert texts == ["Submitted for review.", "Approved and published."]


def test_return_needs_a_reason_and_keeps_it(member, organisation, staff):
    initiative = make_initiative(by=member, organisation=organisation)
    _complete(initiative)
    services.initiative_submit(initiative=initiative, by=member)
    with pytest.raises(ValidationError):
        services.initiative_return(initiative=initiative, by=staff, reason=" ")
    services.initiative_return(initiative=initiative, by=staff, reason="Add the budget")
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.RETURNED
    assert initiative.return_reason == "Add the budget"
    # A returned initiative can be submitted again.
    services.initiative_submit(initiative=initiative, by=member)


def test_only_staff_review(member, organisation):
    initiative = make_initiative(by=member, organisation=organisation)
    _complete(initiative)
    services.initiative_submit(initiative=initiative, by=member)
    with pytest.raises(PermissionDenied):
        services.initiative_approve(initiative=initiative, by=member)


def test_archive_hides_and_restore_brings_back(staff):
    initiative = make_initiative(by=staff)
    services.initiative_archive(
        initiative=initiative, by=staff, expected_version=initiative.version
    )
    assert not Initiative.objects.active().filter(pk=initiative.pk).exists()
    assert Initiative.objects.filter(pk=initiative.pk).exists()
    services.initiative_restore(
        initiative=initiative, by=staff, expected_version=initiative.version
    )
    assert Initiative.objects.active().filter(pk=initiative.pk).exists()


def _archived_by_someone_else(initiative, staff):
    """Archive the record through another copy, as a second person would; `initiative`
    stays the copy its holder found, still active."""
    other_copy = Initiative.objects.get(pk=initiative.pk)
    services.initiative_archive(initiative=other_copy, by=staff, expected_version=None)
    return other_copy.version


def test_an_archive_that_comes_second_changes_nothing_and_is_not_refused(
    member, organisation, staff
):
    initiative = make_initiative(by=staff, organisation=organisation)
    archived_at_version = _archived_by_someone_else(initiative, staff)
    history = Initiative.history.filter(id=initiative.pk).count()

    services.initiative_archive(initiative=initiative, by=member, expected_version=None)

    saved = Initiative.objects.get(pk=initiative.pk)
    assert saved.is_archived
    assert saved.version == archived_at_version
    assert Initiative.history.filter(id=initiative.pk).count() == history
    assert initiative.version == archived_at_version  # the caller's copy now shows it


def test_an_archive_that_comes_second_with_the_old_version_is_stale(member, organisation, staff):
    initiative = make_initiative(by=staff, organisation=organisation)
    found_at = initiative.version
    archived_at_version = _archived_by_someone_else(initiative, staff)
    with pytest.raises(services.StaleEdit) as stale:
        services.initiative_archive(initiative=initiative, by=member, expected_version=found_at)
    assert stale.value.current_version == archived_at_version


def test_an_already_archived_record_is_still_refused_to_an_outsider(
    other_member, organisation, staff
):
    initiative = make_initiative(by=staff, organisation=organisation)
    _archived_by_someone_else(initiative, staff)
    with pytest.raises(PermissionDenied):
        services.initiative_archive(initiative=initiative, by=other_member, expected_version=None)


def test_stage_proposal_accepted_changes_stage(member, organisation, staff):
    initiative = make_initiative(by=staff, organisation=organisation, stage=Stage.PILOT)
    proposal = services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.EMBEDDED, by=member, reason="Now in the budget"
    )
    services.stage_proposal_decide(proposal=proposal, by=staff, accept=True)
    initiative.refresh_from_db()
    assert initiative.stage == Stage.EMBEDDED
    assert Activity.objects.filter(initiative=initiative, kind="stage").exists()
