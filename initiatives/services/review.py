"""Submitting for review, approving and returning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import rules
from ..models import Activity, ActivityEvent, ActivityKind, Initiative, ReviewStatus, Visibility
from .notifications import _case_officer_emails, _group_emails, notify

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import User


class Missing(str):
    """One thing to fill in before review: a phrase a volunteer understands, which also
    names the part of the record it is about (`field`), so that a form can mark it."""

    field: str

    def __new__(cls, text: str, field: str) -> Self:
        missing = super().__new__(cls, text)
        missing.field = field
        return missing


#: The record's fields `missing_for_submission` asks for (besides the "who does what" table).
SUBMISSION_FIELDS = ("summary", "description", "lead_public_body", "start_date", "objectives")


def missing_for_submission(initiative: Initiative) -> list[str]:
    """What must be filled in before review, as phrases a volunteer understands."""
    missing: list[str] = []
    if not initiative.summary.strip():
        missing.append(Missing(_("a summary"), "summary"))
    if not initiative.description.strip():
        missing.append(Missing(_("a description"), "description"))
    if not initiative.lead_public_body.strip():
        missing.append(Missing(_("the lead public body"), "lead_public_body"))
    if not initiative.start_date:
        missing.append(Missing(_("a start date"), "start_date"))
    if not initiative.participations.exists():
        missing.append(
            Missing(_("at least one partner in the “who does what” table"), "participations")
        )
    if not initiative.objectives.exists():
        missing.append(Missing(_("at least one objective"), "objectives"))
    return missing


def _review_entry(initiative: Initiative, by: User, event: str, **params: object) -> None:
    # Review entries carry return reasons: the group and staff read them, the public never.
    Activity.for_event(
        event,
        params,
        initiative=initiative,
        kind=ActivityKind.REVIEW,
        visibility=Visibility.GROUP,
        author=by,
    ).save()


def _set_review_status(
    initiative: Initiative, by: User, status: ReviewStatus, **extra: str | datetime
) -> None:
    now = timezone.now()
    fields = {"review_status": status, "updated_at": now, "updated_by": by, **extra}
    for name, value in fields.items():
        setattr(initiative, name, value)
    initiative.version += 1
    initiative._history_user = by
    initiative.save()


@transaction.atomic
def initiative_submit(*, initiative: Initiative, by: User) -> Initiative:
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.review_status not in (ReviewStatus.DRAFT, ReviewStatus.RETURNED):
        raise ValidationError(_("Only a draft or a returned initiative can be submitted."))
    missing = missing_for_submission(initiative)
    if missing:
        raise ValidationError(
            _("Before submitting, add: %(missing)s.") % {"missing": "; ".join(missing)},
            code="incomplete",
        )
    _set_review_status(initiative, by, ReviewStatus.SUBMITTED, submitted_at=timezone.now())
    _review_entry(initiative, by, ActivityEvent.SUBMITTED)
    notify(
        _case_officer_emails(initiative),
        _("New submission: %(ref)s %(title)s")
        % {"ref": initiative.reference, "title": initiative.title},
        _("%(ref)s “%(title)s” was submitted for review.")
        % {"ref": initiative.reference, "title": initiative.title},
    )
    return initiative


def _check_reviewer(by: User) -> None:
    if not rules.can_review(by):
        raise PermissionDenied(_("Only staff review submissions."))


@transaction.atomic
def initiative_approve(*, initiative: Initiative, by: User) -> Initiative:
    _check_reviewer(by)
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.review_status != ReviewStatus.SUBMITTED:
        raise ValidationError(_("Only a submitted initiative can be approved."))
    _set_review_status(
        initiative, by, ReviewStatus.PUBLISHED, published_at=timezone.now(), return_reason=""
    )
    _review_entry(initiative, by, ActivityEvent.APPROVED)
    notify(
        _group_emails(initiative),
        _("Published: %(ref)s %(title)s")
        % {"ref": initiative.reference, "title": initiative.title},
        _("Your initiative %(ref)s is now published.") % {"ref": initiative.reference},
    )
    return initiative


@transaction.atomic
def initiative_return(*, initiative: Initiative, by: User, reason: str) -> Initiative:
    _check_reviewer(by)
    if not (reason or "").strip():
        raise ValidationError(_("Say what the group should change before resubmitting."))
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.review_status != ReviewStatus.SUBMITTED:
        raise ValidationError(_("Only a submitted initiative can be returned."))
    _set_review_status(initiative, by, ReviewStatus.RETURNED, return_reason=reason)
    _review_entry(initiative, by, ActivityEvent.RETURNED, reason=reason)
    notify(
        _group_emails(initiative),
        _("Returned: %(ref)s %(title)s") % {"ref": initiative.reference, "title": initiative.title},
        _("Your initiative %(ref)s was returned: %(reason)s")
        % {"ref": initiative.reference, "reason": reason},
    )
    return initiative
