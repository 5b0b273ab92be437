"""Workflows that span several records or have side effects.

The admin, the public site and the API all call these, so that each rule lives once. One
module per concern; everything is importable from `initiatives.services`.
"""

from .common import StaleEdit, claim_version
from .initiatives import (
    check_initial_stage,
    check_owner,
    creatable_stages,
    initiative_archive,
    initiative_create,
    initiative_restore,
    initiative_set_tags,
    initiative_touch,
    initiative_update,
    next_reference,
)
from .memberships import (
    check_keeps_an_admin,
    membership_accept,
    membership_refuse,
    membership_remove,
    membership_request,
    membership_save,
    membership_set_role,
)
from .notifications import notify
from .organisations import organisation_create, organisation_update
from .parts import (
    FRAMEWORKS,
    CellTaken,
    framework_save,
    participation_create,
    participation_delete,
    participation_update,
    participations_replace,
    write_framework,
    write_grid,
    write_participation,
)
from .people import user_purge
from .review import initiative_approve, initiative_return, initiative_submit, missing_for_submission
from .stages import (
    STAGE_ORDER,
    check_history,
    check_initial_history,
    initiative_change_stage,
    since_field,
    stage_dates_from,
    stage_history_confirm,
    stage_history_correct,
    stage_history_record,
    stage_history_remove,
    stage_history_replace,
    stage_proposal_create,
    stage_proposal_decide,
)
from .timeline import (
    WRITTEN_KINDS,
    activity_create,
    activity_update,
    check_entry_writer,
    write_activity,
)

__all__ = [
    "CellTaken",
    "FRAMEWORKS",
    "STAGE_ORDER",
    "StaleEdit",
    "WRITTEN_KINDS",
    "activity_create",
    "activity_update",
    "check_entry_writer",
    "check_history",
    "check_initial_history",
    "check_initial_stage",
    "check_keeps_an_admin",
    "check_owner",
    "claim_version",
    "creatable_stages",
    "framework_save",
    "initiative_approve",
    "initiative_archive",
    "initiative_change_stage",
    "initiative_create",
    "initiative_restore",
    "initiative_return",
    "initiative_set_tags",
    "initiative_submit",
    "initiative_touch",
    "initiative_update",
    "membership_accept",
    "membership_refuse",
    "membership_remove",
    "membership_request",
    "membership_save",
    "membership_set_role",
    "missing_for_submission",
    "next_reference",
    "notify",
    "organisation_create",
    "organisation_update",
    "participation_create",
    "participation_delete",
    "participation_update",
    "participations_replace",
    "since_field",
    "stage_dates_from",
    "stage_history_confirm",
    "stage_history_correct",
    "stage_history_record",
    "stage_history_remove",
    "stage_history_replace",
    "stage_proposal_create",
    "stage_proposal_decide",
    "user_purge",
    "write_activity",
    "write_framework",
    "write_grid",
    "write_participation",
]
