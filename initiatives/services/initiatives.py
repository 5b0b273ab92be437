"""Recording an initiative and saving its edits under the version lock; archiving."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Initiative, ReferenceSequence, Stage, StageChange
from .common import StaleEdit


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
    from ..models import validate_tags

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
