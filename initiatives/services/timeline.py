"""Timeline entries written by people: notes, meetings, contacts and documents.

Each entry is public, shared with the group or internal (`Visibility`); who may give which
is `rules.writable_visibilities`, and an entry given no visibility takes the writer's
default (`rules.default_visibility`). Writing an entry moves the initiative's version on,
under the same lock as every other write (`claim_version`), so that an editor who has the
record open learns that it changed. Stage and review entries are written by their own
workflows (`stages`, `review`), never here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import rules
from ..models import Activity, ActivityKind
from .common import claim_version

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..models import Initiative

#: The kinds people write; the others record what a workflow did.
WRITTEN_KINDS = (
    ActivityKind.NOTE,
    ActivityKind.MEETING,
    ActivityKind.DOCUMENT,
    ActivityKind.CONTACT,
)


def check_entry_writer(*, by: User, initiative: Initiative, visibility: str) -> None:
    """Refuse a writer who may not add to this timeline, or not with this visibility."""
    if not rules.check(by, "initiatives.add_timeline_entry", initiative):
        raise PermissionDenied(_("Only members of the owner organisation and staff add entries."))
    if visibility not in rules.writable_visibilities(by, initiative):
        raise ValidationError(
            {"visibility": _("You cannot give an entry this visibility.")},
            code="visibility_not_allowed",
        )


def write_activity(*, activity: Activity, by: User, values: dict[str, Any]) -> Activity:
    """Check and save one entry with `values`; the caller holds the initiative's version."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("write the entry inside the transaction that claimed the version")
    for name, value in values.items():
        setattr(activity, name, value)
    if not activity.visibility:
        activity.visibility = rules.default_visibility(by, activity.initiative)
    if activity.kind not in WRITTEN_KINDS:
        raise ValidationError(
            {"kind": _("Stage and review entries are written by the workflows.")},
            code="workflow_kind",
        )
    check_entry_writer(by=by, initiative=activity.initiative, visibility=activity.visibility)
    if activity.author_id is None and activity.pk is None:
        activity.author = by
    activity.full_clean()
    activity._history_user = by
    activity.save()
    return activity


@transaction.atomic
def activity_create(
    *, initiative: Initiative, by: User, expected_version: int | None, **fields: Any
) -> Activity:
    """Add an entry to the timeline; `visibility` left out takes the writer's default."""
    fields.setdefault("visibility", "")
    activity = Activity(initiative=initiative, author=by)
    claim_version(initiative=initiative, by=by, expected_version=expected_version)
    return write_activity(activity=activity, by=by, values=fields)


@transaction.atomic
def activity_update(
    *, activity: Activity, by: User, expected_version: int | None, **fields: Any
) -> Activity:
    """Change an entry people wrote (the admin offers this); the author stays who wrote it."""
    initiative = activity.initiative
    claim_version(initiative=initiative, by=by, expected_version=expected_version)
    current = Activity.objects.select_for_update().get(pk=activity.pk, initiative=initiative)
    current.initiative = initiative
    if current.kind not in WRITTEN_KINDS:
        raise ValidationError(
            _("Stage and review entries are the record of what happened; they are not edited."),
            code="workflow_entry",
        )
    # Whoever may not write the entry's present visibility may not change it either: a
    # group member cannot reach an internal note through an edit.
    check_entry_writer(by=by, initiative=initiative, visibility=current.visibility)
    return write_activity(activity=current, by=by, values=fields)
