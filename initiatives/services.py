"""Workflows that span several records or have side effects.

The admin, the public site and the API all call these, so that each rule lives once.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    Activity,
    ActivityKind,
    Initiative,
    Membership,
    Organisation,
    ReferenceSequence,
    ReviewStatus,
    Stage,
    StageChange,
    StageProposal,
)


class StaleEdit(Exception):
    """Someone saved the record since the editor loaded it."""

    def __init__(self, current_version):
        super().__init__(current_version)
        self.current_version = current_version


def next_reference(*, year):
    """Hand out the next `COP-<year>-<nnnn>`; locked, so never twice, never reused."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReferenceSequence.objects.get_or_create(year=year)
        except IntegrityError:
            pass  # another transaction created the year's row first
        sequence = ReferenceSequence.objects.select_for_update().get(year=year)
        sequence.last += 1
        sequence.save(update_fields=["last"])
    return f"COP-{year}-{sequence.last:04d}"


@transaction.atomic
def initiative_create(*, by, stage=Stage.PLANNED, stage_date=None, tags=None, **fields):
    """Create an initiative with its reference and the first entry of its stage history."""
    now = timezone.now()
    initiative = Initiative(created_by=by, updated_by=by, stage=stage, **fields)
    initiative.created_at = fields.get("created_at", now)
    initiative.updated_at = fields.get("updated_at", initiative.created_at)
    initiative.reference = next_reference(year=initiative.created_at.year)
    initiative.full_clean(exclude=["reference"])
    # Token-authenticated API requests have no user on the Django request, so the history
    # middleware cannot tell who created the record; say it here.
    initiative._history_user = by
    initiative.save()
    for field, items in (tags or {}).items():
        initiative_set_tags(initiative=initiative, field=field, items=items)
    StageChange.objects.create(
        initiative=initiative,
        from_stage="",
        to_stage=stage,
        changed_on=stage_date or initiative.created_at.date(),
        changed_by=by,
        reason=_("Initiative recorded."),
    )
    return initiative


def initiative_set_tags(*, initiative, field, items):
    from .models import validate_tags

    items = list(items)
    validate_tags(field, items)
    getattr(initiative, field).set(items)


@transaction.atomic
def initiative_update(*, initiative, by, expected_version, fields=None, tags=None):
    """Save edits only if nobody saved since `expected_version` was read.

    The version check and the increment are one UPDATE, so two editors racing
    cannot both succeed; the loser gets `StaleEdit` and their input is kept by the caller.
    """
    fields = dict(fields or {})
    for name, value in fields.items():
        setattr(initiative, name, value)
    initiative.full_clean(exclude=["reference"])
    now = timezone.now()
    updated = Initiative.objects.filter(pk=initiative.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=now, updated_by=by
    )
    if not updated:
        current = Initiative.objects.filter(pk=initiative.pk).values_list("version", flat=True)
        raise StaleEdit(current.first())
    initiative.version = expected_version + 1
    initiative.updated_at = now
    initiative.updated_by = by
    # A plain save writes the history row with who and what; the version is already bumped.
    initiative._history_user = by
    initiative.save()
    for field, items in (tags or {}).items():
        initiative_set_tags(initiative=initiative, field=field, items=items)
    return initiative


def initiative_touch(*, initiative, by):
    """Mark the record changed (a part of it was edited) so that open editors see they are stale."""
    Initiative.objects.filter(pk=initiative.pk).update(
        version=F("version") + 1, updated_at=timezone.now(), updated_by=by
    )
    initiative.refresh_from_db(fields=["version", "updated_at", "updated_by"])


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
    Activity.objects.create(
        initiative=initiative,
        kind=ActivityKind.STAGE,
        date=on,
        author=by,
        text=_("Stage changed from “%(from)s” to “%(to)s”. %(reason)s")
        % {"from": Stage(initiative.stage).label, "to": Stage(to_stage).label, "reason": reason},
    )
    initiative.stage = to_stage
    initiative.version += 1
    initiative.updated_at = timezone.now()
    initiative.updated_by = by
    initiative._history_user = by
    initiative.save()
    return change


@transaction.atomic
def organisation_create(*, by, **fields):
    """A new organisation, with its creator as its active admin, so someone can run it."""
    organisation = Organisation(**fields)
    organisation.full_clean()
    organisation._history_user = by
    organisation.save()
    Membership.objects.create(
        user=by,
        organisation=organisation,
        role=Membership.Role.ADMIN,
        status=Membership.Status.ACTIVE,
    )
    return organisation


@transaction.atomic
def stage_proposal_create(*, initiative, to_stage, by, reason):
    if not (reason or "").strip():
        raise ValidationError(_("Say why the stage should change."))
    _check_stage_move(initiative, to_stage, reason)
    proposal = StageProposal.objects.create(
        initiative=initiative, to_stage=to_stage, reason=reason, proposed_by=by
    )
    Activity.objects.create(
        initiative=initiative,
        kind=ActivityKind.NOTE,
        author=by,
        text=_("Proposed a stage change to “%(to)s”: %(reason)s")
        % {"to": Stage(to_stage).label, "reason": reason},
    )
    return proposal


@transaction.atomic
def stage_proposal_decide(*, proposal, by, accept, note=""):
    proposal = StageProposal.objects.select_for_update().get(pk=proposal.pk)
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


def missing_for_submission(initiative):
    """What must be filled in before review, as sentences a volunteer understands."""
    missing = []
    if not initiative.summary.strip():
        missing.append(_("a summary"))
    if not initiative.description.strip():
        missing.append(_("a description"))
    if not initiative.lead_public_body.strip():
        missing.append(_("the lead public body"))
    if not initiative.start_date:
        missing.append(_("a start date"))
    if not initiative.participations.exists():
        missing.append(_("at least one partner in the “who does what” table"))
    if not initiative.objectives.exists():
        missing.append(_("at least one objective"))
    return missing


def _case_officer_emails(initiative):
    emails = set(settings.CASE_OFFICER_EMAILS)
    if initiative.case_officer and initiative.case_officer.email:
        emails.add(initiative.case_officer.email)
    if not emails:
        emails.update(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    return sorted(emails)


def _group_emails(initiative):
    if initiative.organisation is None:
        return [initiative.created_by.email] if initiative.created_by else []
    return sorted(
        initiative.organisation.memberships.active()
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def _notify(recipients, subject, body):
    if recipients:
        # Sent once the transaction commits, so nobody hears of a change that was rolled back.
        transaction.on_commit(
            lambda: send_mail(subject, body, None, recipients, fail_silently=True)
        )


def _review_entry(initiative, by, text):
    Activity.objects.create(initiative=initiative, kind=ActivityKind.REVIEW, author=by, text=text)


def _set_review_status(initiative, by, status, **extra):
    now = timezone.now()
    fields = {"review_status": status, "updated_at": now, "updated_by": by, **extra}
    for name, value in fields.items():
        setattr(initiative, name, value)
    initiative.version += 1
    initiative._history_user = by
    initiative.save()


@transaction.atomic
def initiative_submit(*, initiative, by):
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
    _review_entry(initiative, by, _("Submitted for review."))
    _notify(
        _case_officer_emails(initiative),
        _("New submission: %(ref)s %(title)s")
        % {"ref": initiative.reference, "title": initiative.title},
        _("%(ref)s “%(title)s” was submitted for review.")
        % {"ref": initiative.reference, "title": initiative.title},
    )
    return initiative


def _check_reviewer(by):
    if not by.is_staff:
        raise PermissionError(_("Only staff review submissions."))


@transaction.atomic
def initiative_approve(*, initiative, by):
    _check_reviewer(by)
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.review_status != ReviewStatus.SUBMITTED:
        raise ValidationError(_("Only a submitted initiative can be approved."))
    _set_review_status(
        initiative, by, ReviewStatus.PUBLISHED, published_at=timezone.now(), return_reason=""
    )
    _review_entry(initiative, by, _("Approved and published."))
    _notify(
        _group_emails(initiative),
        _("Published: %(ref)s %(title)s")
        % {"ref": initiative.reference, "title": initiative.title},
        _("Your initiative %(ref)s is now published.") % {"ref": initiative.reference},
    )
    return initiative


@transaction.atomic
def initiative_return(*, initiative, by, reason):
    _check_reviewer(by)
    if not (reason or "").strip():
        raise ValidationError(_("Say what the group should change before resubmitting."))
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.review_status != ReviewStatus.SUBMITTED:
        raise ValidationError(_("Only a submitted initiative can be returned."))
    _set_review_status(initiative, by, ReviewStatus.RETURNED, return_reason=reason)
    _review_entry(initiative, by, _("Returned: %(reason)s") % {"reason": reason})
    _notify(
        _group_emails(initiative),
        _("Returned: %(ref)s %(title)s") % {"ref": initiative.reference, "title": initiative.title},
        _("Your initiative %(ref)s was returned: %(reason)s")
        % {"ref": initiative.reference, "reason": reason},
    )
    return initiative


@transaction.atomic
def initiative_archive(*, initiative, by):
    """Hide an initiative; it is kept with its history and staff can restore it."""
    if initiative.archived_at is None:
        initiative.archived_at = timezone.now()
        initiative.version += 1
        initiative.updated_by = by
        initiative._history_user = by
        initiative.save()
    return initiative


@transaction.atomic
def initiative_restore(*, initiative, by):
    if initiative.archived_at is not None:
        initiative.archived_at = None
        initiative.version += 1
        initiative.updated_by = by
        initiative._history_user = by
        initiative.save()
    return initiative


@transaction.atomic
def user_purge(*, user, by, reason):
    """Erase a person's personal data on a data-protection request.

    The account is kept but anonymised (so the records they worked on, and their
    history, stay whole and attributed to "purged-user-<id>"); their name and e-mail
    are removed from the account, from organisation contacts and their history, from
    the security log and from the sign-in attempt logs. Nothing else is deleted.
    Free text that people typed (descriptions, notes) is not rewritten.
    """
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.models import Session

    from . import audit
    from .models import ApiToken, Organisation, SecurityEvent

    if not by.is_staff:
        raise PermissionError(_("Only staff can purge personal data."))
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason for the purge (the request it answers)."))
    if user.pk == by.pk:
        raise ValidationError(_("Staff cannot purge their own account."))

    user_model = get_user_model()
    username = user.get_username()
    email = user.email
    full_name = user.get_full_name()
    placeholder = f"purged-user-{user.pk}"

    user.username = placeholder
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()

    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    ApiToken.objects.filter(user=user).update(name=placeholder)

    # Organisation contacts, now and in their history.
    historical_organisation = Organisation.history.model
    for model in (Organisation, historical_organisation):
        if email:
            model.objects.filter(contact_email__iexact=email).update(contact_email="")
        if full_name:
            model.objects.filter(contact_name__iexact=full_name).update(contact_name="")

    SecurityEvent.objects.filter(user=user).update(username=placeholder, ip_address=None)
    SecurityEvent.objects.filter(username__iexact=username).update(
        username=placeholder, ip_address=None
    )
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__iexact=username).delete()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(user_model), object_id=str(user.pk)
    ).update(object_repr=placeholder)

    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()

    audit.record_event(
        audit.USER_PURGED,
        user=by,
        detail=f"personal data of user #{user.pk} purged; reason: {reason}",
    )
    return user
