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
from .organisations import organisation_create
from .people import user_purge
from .review import initiative_approve, initiative_return, initiative_submit, missing_for_submission
from .stages import initiative_change_stage, stage_proposal_create, stage_proposal_decide

__all__ = [
    "StaleEdit",
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
    "missing_for_submission",
    "next_reference",
    "organisation_create",
    "stage_proposal_create",
    "stage_proposal_decide",
    "user_purge",
]
