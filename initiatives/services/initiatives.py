"""Recording an initiative and saving its edits under the version lock; archiving."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from .. import rules
from ..models import Initiative, ReferenceSequence, Stage
from . import stages
from .common import StaleEdit, claim_version, require

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from survey.models import Item

    from ..models import Organisation

#: {tag field: the items it holds}, as the forms, the serializers and the import give them.
Tags = Mapping[str, Iterable["Item"]]


def next_reference(*, year: int) -> str:
    """Hand out the next `COP-<year>-<nnnn>`; locked, so never twice, never reused."""
    return next_references(year=year, count=1)[0]


def next_references(*, year: int, count: int) -> list[str]:
    """Hand out the next `count` references of `year` in one locked update (a batch of an
    import), in order; as `next_reference`, never twice, never reused."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReferenceSequence.objects.get_or_create(year=year)
        except IntegrityError:
            pass  # another transaction created the year's row first
        sequence = ReferenceSequence.objects.select_for_update().get(year=year)
        first = sequence.last + 1
        sequence.last += count
        sequence.save(update_fields=["last"])
    return [f"COP-{year}-{number:04d}" for number in range(first, sequence.last + 1)]


def creatable_stages(by: User | None) -> list[str]:
    """The stages a person may record a new initiative at: any. A group's dates are
    *reported* until a case officer confirms them (`services.stages`)."""
    return list(Stage.values)


def check_initial_stage(*, by: User | None, stage: str) -> None:
    if stage not in creatable_stages(by):
        raise ValidationError(
            {"stage": _("Unknown stage “%(stage)s”.") % {"stage": stage}},
            code="unknown_stage",
        )


def check_owner(
    *, by: User | None, organisation: Organisation | None, current: Organisation | None = None
) -> None:
    """Groups record and move initiatives only into organisations they are active in."""
    if by is None or rules.can_change_any(by):
        return
    if organisation is not None and organisation == current:
        return
    if organisation is None or organisation.pk not in rules.active_organisation_ids(by):
        raise ValidationError(
            {"organisation": _("Choose an organisation you are an active member of.")},
            code="not_a_member",
        )


#: The foreign keys of a new initiative that a batch checks against what it read once.
LOOKED_UP = ("country", "sector", "organisation", "created_by", "updated_by")


def initiative_build(
    *,
    by: User | None,
    stage: str = Stage.PLANNED,
    stage_date: datetime.date | None = None,
    stage_dates: Mapping[str, datetime.date | None] | None = None,
    history: Sequence[tuple[str, datetime.date]] | None = None,
    tags: Tags | None = None,
    looked_up: bool = False,
    **fields: Any,
) -> tuple[Initiative, list[tuple[str, datetime.date]]]:
    """The new initiative as `initiative_create` checks it, not saved yet, and the stage
    history it starts with ([(stage, date)]); see `initiative_create` for the arguments.

    `looked_up=True` says the caller checked the foreign keys (`LOOKED_UP`) against what
    the database holds, read once for many records (an import's batch): `full_clean` then
    does not look each one up again, nor ask the database about the check constraint, whose
    rule `Initiative.clean` states and the insert enforces.
    """
    check_initial_stage(by=by, stage=stage)
    check_owner(by=by, organisation=fields.get("organisation"))
    now = timezone.now()
    if history:
        stages.check_history(history)
        steps, stage = list(history), history[-1][0]
    else:
        dates = dict(stage_dates or {})
        if not dates.get(stage):
            # The day it is recorded (a record dated ahead, as generated data may be, starts
            # today: a stage never begins in the future).
            recorded = min(fields.get("created_at", now).date(), timezone.localdate())
            dates[stage] = stage_date or recorded
        steps = stages.check_initial_history(stage=stage, dates=dates)
    initiative = Initiative(created_by=by, updated_by=by, stage=stage, **fields)
    initiative.created_at = fields.get("created_at", now)
    initiative.updated_at = fields.get("updated_at", initiative.created_at)
    if looked_up:
        initiative.full_clean(exclude=["reference", *LOOKED_UP], validate_constraints=False)
    else:
        initiative.full_clean(exclude=["reference"])
    initiative.clean_tags(tags or {})
    return initiative, steps


@transaction.atomic
def initiative_create(
    *,
    by: User | None,
    stage: str = Stage.PLANNED,
    stage_date: datetime.date | None = None,
    stage_dates: Mapping[str, datetime.date | None] | None = None,
    history: Sequence[tuple[str, datetime.date]] | None = None,
    tags: Tags | None = None,
    reason: str = "",
    **fields: Any,
) -> Initiative:
    """Create an initiative with its reference and the stage history it starts with.

    `stage` is where it is today and `stage_dates` ({stage: date}) when each stage began
    (`stages.check_initial_history`); `stage_date` alone dates the current stage, and with
    neither the history starts on the day it is recorded. `history` ([(stage, date)] in
    order, as an import gives it) states the whole history instead; its last stage is the
    current one. `reason` is kept on the history row of the creation.
    """
    initiative, steps = initiative_build(
        by=by,
        stage=stage,
        stage_date=stage_date,
        stage_dates=stage_dates,
        history=history,
        tags=tags,
        **fields,
    )
    initiative.reference = next_reference(year=initiative.created_at.year)
    _save_as_one_edit(initiative, tags=tags or {}, by=by, reason=reason, created=True)
    stages.write_initial_history(initiative=initiative, steps=steps, by=by)
    return initiative


def _save_as_one_edit(
    initiative: Initiative,
    *,
    tags: Tags,
    by: User | None,
    reason: str,
    created: bool = False,
    save: bool = True,
) -> None:
    """Save the record (unless not `save`) and set its tag lists, writing one history row
    for all of it.

    simple-history would write a row at the save and at each tag list set (a removal and an
    addition each); one edit is one row, written once everything is saved, so that it holds
    the record and its tag lists as they now are.
    """
    # Token-authenticated API requests have no user on the Django request, so the history
    # middleware cannot tell who made the edit; say it here.
    initiative._history_user = by
    # The history row's reason column holds 100 characters.
    initiative._change_reason = Truncator(reason).chars(100) if reason else None
    initiative.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        if save:
            initiative.save()
        for field, items in tags.items():
            getattr(initiative, field).set(items)
    finally:
        del initiative.skip_history_when_saving  # type: ignore[attr-defined]
    Initiative.edit_history.write(initiative, created=created)


def initiative_set_tags(
    *,
    initiative: Initiative,
    field: str,
    items: Iterable[Item],
    by: User | None = None,
    reason: str = "",
) -> None:
    """Set one tag list (checked against its survey question), as one history row."""
    from ..models import validate_tags

    items = list(items)
    validate_tags(field, items)
    initiative.refresh_from_db()  # the history row records the record as it is saved
    _save_as_one_edit(initiative, tags={field: items}, by=by, reason=reason, save=False)


def _locked_copy(initiative: Initiative) -> Initiative:
    """The row as it is now; the caller holds its lock (through `claim_version`)."""
    return Initiative.objects.select_for_update().get(pk=initiative.pk)


def _show(initiative: Initiative, current: Initiative) -> Initiative:
    """Make the caller's object the saved record, so that it does not go on as a stale copy."""
    for field in Initiative._meta.concrete_fields:
        setattr(initiative, field.attname, getattr(current, field.attname))
    return initiative


@transaction.atomic
def initiative_update(
    *,
    initiative: Initiative,
    by: User | None,
    expected_version: int | None,
    fields: Mapping[str, Any] | None = None,
    tags: Tags | None = None,
    reason: str = "",
) -> Initiative:
    """Save edits only if nobody saved since `expected_version` was read.

    The version check and the increment are one UPDATE (`claim_version`), so two editors
    racing cannot both succeed; the loser gets `StaleEdit` and their input is kept by the
    caller. The edits are then applied to the row as it is in the database, never to a copy
    the caller may have read earlier.

    The record and its tag lists make one history row, naming `by` and keeping `reason`
    (the editor's note, if any).
    """
    require(by, "initiatives.change_case", initiative, _("You cannot change this initiative."))
    fields = dict(fields or {})
    tags = dict(tags or {})
    if "organisation" in fields:
        check_owner(by=by, organisation=fields["organisation"], current=initiative.organisation)
    claim_version(initiative=initiative, by=by, expected_version=expected_version)
    current = _locked_copy(initiative)
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean(exclude=["reference"])
    current.clean_tags(tags)
    # The version is already bumped (`claim_version`).
    _save_as_one_edit(current, tags=tags, by=by, reason=reason)
    return _show(initiative, current)


def initiative_touch(*, initiative: Initiative, by: User | None) -> None:
    """Mark the record changed (a part of it was edited) so that open editors see they are stale."""
    Initiative.objects.filter(pk=initiative.pk).update(
        version=F("version") + 1, updated_at=timezone.now(), updated_by=by
    )
    initiative.refresh_from_db(fields=["version", "updated_at", "updated_by"])


def _set_archived(
    *, initiative: Initiative, by: User | None, expected_version: int | None, archived: bool
) -> Initiative:
    if archived:
        rule, refusal = "initiatives.change_case", _("You cannot archive this initiative.")
    else:
        rule, refusal = "initiatives.restore_case", _("Only staff restore initiatives.")
    current = _locked_copy(initiative)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit(current.version)
    if current.is_archived == archived:
        # Someone did it first: nothing to write, nothing lost. The right is judged on the
        # record as the caller found it: once archived, only staff hold rights on it, so
        # judging it as it is now would refuse a member whose archive merely came second.
        require(by, rule, initiative, refusal)
        return _show(initiative, current)
    require(by, rule, current, refusal)
    claim_version(initiative=current, by=by, expected_version=current.version)
    current.archived_at = timezone.now() if archived else None
    current._history_user = by
    current.save()
    return _show(initiative, current)


@transaction.atomic
def initiative_archive(
    *, initiative: Initiative, by: User | None, expected_version: int | None
) -> Initiative:
    """Hide an initiative; it is kept with its history and staff can restore it.

    `expected_version` is the version the person saw (None: whatever it is now). The row is
    locked and read afresh, so an edit saved meanwhile is kept, never overwritten by an old
    copy; if it moved past `expected_version`, `StaleEdit` and nothing changes.
    """
    return _set_archived(
        initiative=initiative, by=by, expected_version=expected_version, archived=True
    )


@transaction.atomic
def initiative_restore(
    *, initiative: Initiative, by: User | None, expected_version: int | None
) -> Initiative:
    """Bring an archived initiative back, under the same rules as `initiative_archive`."""
    return _set_archived(
        initiative=initiative, by=by, expected_version=expected_version, archived=False
    )
