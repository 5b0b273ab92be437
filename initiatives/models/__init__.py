"""The case record of a co-production initiative and everything kept with it.

One module per concern, every model re-exported here (`from initiatives.models import
Initiative`; the migrations name `initiatives.models.reviewing_staff` and
`initiatives.models.document_path`):

- `common`: the length limits and the choices the models share;
- `organisations`: organisations and their memberships;
- `initiative`: the initiative itself, its reference numbers and its tag rules;
- `parts`: who does what, the accountability and budget frameworks;
- `stages`: the stage history and the stage changes groups propose;
- `timeline`: the case timeline and the words of its events;
- `security`: API tokens and security events.
"""

from .common import (
    LONG_TEXT_LIMIT,
    PARTICIPANTS_LIMIT,
    EvidenceLevel,
    Level,
    OrganisationKind,
    ParticipationLevel,
    PartnerType,
    Phase,
    ReviewStatus,
    Stage,
    long_text,
)
from .initiative import (
    Initiative,
    InitiativeQuerySet,
    ReferenceSequence,
    reviewing_staff,
    validate_tags,
)
from .organisations import Membership, MembershipQuerySet, Organisation
from .parts import AccountabilityFramework, BudgetFramework, Participation
from .security import ApiToken, SecurityEvent
from .stages import StageChange, StageProposal
from .timeline import (
    EVENT_TEXTS,
    Activity,
    ActivityEvent,
    ActivityKind,
    ActivityQuerySet,
    Visibility,
    document_path,
)

__all__ = [
    "EVENT_TEXTS",
    "LONG_TEXT_LIMIT",
    "PARTICIPANTS_LIMIT",
    "AccountabilityFramework",
    "Activity",
    "ActivityEvent",
    "ActivityKind",
    "ActivityQuerySet",
    "ApiToken",
    "BudgetFramework",
    "EvidenceLevel",
    "Initiative",
    "InitiativeQuerySet",
    "Level",
    "Membership",
    "MembershipQuerySet",
    "Organisation",
    "OrganisationKind",
    "Participation",
    "ParticipationLevel",
    "PartnerType",
    "Phase",
    "ReferenceSequence",
    "ReviewStatus",
    "SecurityEvent",
    "Stage",
    "StageChange",
    "StageProposal",
    "Visibility",
    "document_path",
    "long_text",
    "reviewing_staff",
    "validate_tags",
]
