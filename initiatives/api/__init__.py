"""Initiatives, their parts, their workflows and their history, over the API.

Reading follows `Initiative.objects.visible_to` (others' drafts are 404), writing follows
`editable_by` (403 for a visible record one may not change); every change goes through
`initiatives.services`, so the rules are the same as on the site and in the admin.

- `initiatives`: the record, its workflows and its frameworks;
- `parts`: participations, timeline entries and stage proposals under one initiative;
- `history`: the audit trail, for the group and staff;
- `organisations`: organisations;
- `common`: path parameters, the initiative looked up with the caller's rights.
"""

from .history import HistoryViewSet
from .initiatives import InitiativeViewSet
from .organisations import OrganisationViewSet
from .parts import (
    ActivityViewSet,
    ParticipationViewSet,
    StageHistoryViewSet,
    StageProposalViewSet,
)

__all__ = [
    "ActivityViewSet",
    "HistoryViewSet",
    "InitiativeViewSet",
    "OrganisationViewSet",
    "ParticipationViewSet",
    "StageHistoryViewSet",
    "StageProposalViewSet",
]
