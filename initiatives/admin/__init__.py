"""The staff admin: the main working surface for government staff.

Everything with a rule goes through `initiatives.services`, exactly as on the public site
and in the API: creating an initiative (its reference and first stage), saving it under
the optimistic lock, changing its stage, reviewing it, archiving it. Nothing here writes
those fields by hand.

- `initiatives`: the initiative admin (changelist, change form and inlines), with its
  actions on a selection in `initiative_actions` and its own pages (change stage, stage
  history, register import) in `initiative_pages`.
- `exports`: its "Export selected as CSV" action.
- `parts`: participations, activities and frameworks on their own, for their history pages.
- `review`: stage proposals, accepted or declined by a case officer.
- `organisations`: organisations (verification) and memberships.
- `security`: API tokens (revocation) and the security log, read-only.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .exports import initiatives_csv
from .initiatives import InitiativeAdmin
from .organisations import MembershipAdmin, OrganisationAdmin
from .parts import (
    AccountabilityFrameworkAdmin,
    ActivityAdmin,
    BudgetFrameworkAdmin,
    ParticipationAdmin,
)
from .review import StageProposalAdmin
from .security import ApiTokenAdmin, SecurityEventAdmin

admin.site.site_header = _("coprod staff admin")
admin.site.site_title = _("coprod admin")
admin.site.index_title = _("Case work")
# The side list of every table repeats the index and takes the width a changelist's
# columns need (the review queue must fit 1280 px); the breadcrumbs lead back.
admin.site.enable_nav_sidebar = False

__all__ = [
    "AccountabilityFrameworkAdmin",
    "ActivityAdmin",
    "ApiTokenAdmin",
    "BudgetFrameworkAdmin",
    "InitiativeAdmin",
    "MembershipAdmin",
    "OrganisationAdmin",
    "ParticipationAdmin",
    "SecurityEventAdmin",
    "StageProposalAdmin",
    "initiatives_csv",
]
