"""Workflows that span several records or have side effects.

The admin, the public site and the API all call these, so that each rule lives once. One
module per concern; everything is importable from `initiatives.services`.
"""

from .common import StaleEdit, claim_version
from .initiatives import (
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
from .people import user_purge
from .review import initiative_approve, initiative_return, initiative_submit, missing_for_submission
from .stages import initiative_change_stage, stage_proposal_create, stage_proposal_decide

__all__ = [
    "StaleEdit",
    "check_keeps_an_admin",
    "claim_version",
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
    "stage_proposal_create",
    "stage_proposal_decide",
    "user_purge",
]
