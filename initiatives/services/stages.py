"""The maturity stage: direct changes by staff and proposals by groups."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from ..models import (
    Activity,
    ActivityEvent,
    ActivityKind,
    Initiative,
    Stage,
    StageChange,
    StageProposal,
    Visibility,
)
from .common import require


def _check_stage_move(initiative, to_stage, reason):
    if to_stage not in Stage.values:
        raise ValidationError(_("Unknown stage “%(stage)s”.") % {"stage": to_stage})
    if to_stage == initiative.stage:
        raise ValidationError(
            _("The initiative is already at the stage “%(stage)s”.")
            % {"stage": Stage(to_stage).label}
        )
    if initiative.stage == Stage.DISCONTINUED and not (reason or "").strip():
        raise ValidationError(_("Give a reason to move an initiative out of “Discontinued”."))


@transaction.atomic
def initiative_change_stage(*, initiative, to_stage, by, reason="", on=None):
    """Move the maturity stage, writing the stage history and the timeline with it."""
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    require(by, "initiatives.review_case", initiative, _("Only staff change the stage."))
    _check_stage_move(initiative, to_stage, reason)
    on = on or timezone.localdate()
    if isinstance(on, datetime.datetime):
        on = on.date()
    if on > timezone.localdate():
        raise ValidationError(_("A stage change cannot be dated in the future."))
    previous = initiative.stage_changes.order_by("-changed_on").first()
    if previous and on < previous.changed_on:
        raise ValidationError(
            _("The date is before the previous stage change (%(date)s).")
            % {"date": previous.changed_on.isoformat()}
        )
    change = StageChange.objects.create(
        initiative=initiative,
        from_stage=initiative.stage,
        to_stage=to_stage,
        changed_on=on,
        changed_by=by,
        reason=reason,
    )
    Activity.for_event(
        ActivityEvent.STAGE_CHANGED,
        {"from": initiative.stage, "to": to_stage, "reason": reason},
        initiative=initiative,
        kind=ActivityKind.STAGE,
        date=on,
        author=by,
    ).save()
    initiative.stage = to_stage
    initiative.version += 1
    initiative.updated_at = timezone.now()
    initiative.updated_by = by
    initiative._history_user = by
    # The history row says why, as the stage history does (its column holds 100 characters;
    # the stage history keeps the whole reason).
    initiative._change_reason = Truncator(reason).chars(100)
    initiative.save()
    return change


@transaction.atomic
def stage_proposal_create(*, initiative, to_stage, by, reason):
    require(
        by,
        "initiatives.change_case",
        initiative,
        _("Only the group's members propose a stage change."),
    )
    if not (reason or "").strip():
        raise ValidationError(_("Say why the stage should change."))
    _check_stage_move(initiative, to_stage, reason)
    proposal = StageProposal.objects.create(
        initiative=initiative, to_stage=to_stage, reason=reason, proposed_by=by
    )
    # A proposal is the group's business with its case officer, as on the case page.
    Activity.for_event(
        ActivityEvent.STAGE_PROPOSED,
        {"to": to_stage, "reason": reason},
        initiative=initiative,
        kind=ActivityKind.NOTE,
        visibility=Visibility.GROUP,
        author=by,
    ).save()
    return proposal


@transaction.atomic
def stage_proposal_decide(*, proposal, by, accept, note=""):
    proposal = StageProposal.objects.select_for_update().get(pk=proposal.pk)
    require(
        by, "initiatives.review_case", proposal.initiative, _("Only staff decide stage proposals.")
    )
    if proposal.status != StageProposal.Status.OPEN:
        raise ValidationError(_("This proposal was already decided."))
    proposal.status = StageProposal.Status.ACCEPTED if accept else StageProposal.Status.DECLINED
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.decision_note = note
    proposal.save()
    if accept:
        initiative_change_stage(
            initiative=proposal.initiative,
            to_stage=proposal.to_stage,
            by=by,
            reason=proposal.reason,
        )
    return proposal
