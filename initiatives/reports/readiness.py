"""Embedding readiness: the six checks a pilot should meet before it is embedded (README)."""

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.utils.translation import gettext_lazy

from ..models import (
    AccountabilityFramework,
    BudgetFramework,
    EvidenceLevel,
    Initiative,
    Participation,
    PartnerType,
    Stage,
)
from .common import percent

ENGAGED_PARTNERS = (PartnerType.CITIZEN, PartnerType.USER)
EVIDENCE_ENOUGH = (EvidenceLevel.MONITORED, EvidenceLevel.FORMALLY_EVALUATED)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    next_step: str


# The rule, in the order shown to people; README "Embedding readiness" says the same.
READINESS_CHECKS = (
    Check(
        "leadership",
        gettext_lazy("Senior leadership commitment recorded"),
        gettext_lazy(
            "Record the commitment of senior public officials (tag the success factor "
            "“Leadership and commitment from senior public officials”)."
        ),
    ),
    Check(
        "engagement",
        gettext_lazy("Citizens or service users take part in at least two phases"),
        gettext_lazy(
            "Involve citizens or service users in at least two of the phases commission, "
            "design, deliver and assess, and record it in “who does what”."
        ),
    ),
    Check(
        "accountability",
        gettext_lazy("Accountable body named and roles written down"),
        gettext_lazy(
            "Name the accountable body and write down roles and responsibilities in the "
            "accountability framework."
        ),
    ),
    Check(
        "funding",
        gettext_lazy("Funding secured beyond the pilot"),
        gettext_lazy("Secure funding beyond the pilot and record it in the budget framework."),
    ),
    Check(
        "evidence",
        gettext_lazy("Evidence at least monitored"),
        gettext_lazy(
            "Monitor the results (or have them formally evaluated) and record the level of "
            "evidence in the budget framework."
        ),
    ),
    Check(
        "barriers",
        gettext_lazy("Barriers met are listed and each is addressed"),
        gettext_lazy(
            "List the barriers the initiative met and, for each one, record that it is addressed."
        ),
    ),
)


def _engaged_phases():
    """Distinct phases in which citizens or service users take part, as a subquery."""
    phases = (
        Participation.objects.filter(initiative=OuterRef("pk"), partner_type__in=ENGAGED_PARTNERS)
        .order_by()
        .values("initiative")
        .annotate(phases=Count("phase", distinct=True))
        .values("phases")
    )
    return Subquery(phases, output_field=IntegerField())


def _barriers_all_addressed():
    barriers = Initiative.barriers.through.objects.filter(initiative=OuterRef("pk"))
    addressed = Initiative.barriers_addressed.through.objects.filter(
        initiative=OuterRef(OuterRef("pk"))
    ).values("item")
    return Exists(barriers) & ~Exists(barriers.exclude(item__in=addressed))


def with_readiness(queryset):
    """Annotate each readiness check (`check_<key>`, a boolean) and `readiness_score`."""
    leadership = Initiative.factors.through.objects.filter(
        initiative=OuterRef("pk"), item__question__code="factors", item__code="leadership"
    )
    accountability = AccountabilityFramework.objects.filter(
        initiative=OuterRef("pk"), roles_written=True
    ).exclude(accountable_body="")
    budgets = BudgetFramework.objects.filter(initiative=OuterRef("pk"))
    annotated = queryset.annotate(
        engaged_phases=_engaged_phases(),
        check_leadership=Exists(leadership),
        check_accountability=Exists(accountability),
        check_funding=Exists(budgets.filter(funded_beyond_pilot=True)),
        check_evidence=Exists(budgets.filter(evidence_level__in=EVIDENCE_ENOUGH)),
        check_barriers=_barriers_all_addressed(),
    ).annotate(
        check_engagement=Case(When(engaged_phases__gte=2, then=Value(True)), default=Value(False))
    )
    score = sum(
        (
            Case(When(**{f"check_{check.key}": True}, then=Value(1)), default=Value(0))
            for check in READINESS_CHECKS
        ),
        start=Value(0),
    )
    return annotated.annotate(readiness_score=score)


@dataclass
class Readiness:
    initiative: Initiative

    @property
    def checks(self):
        """(check, met) in the order of the rule."""
        return [
            (check, bool(getattr(self.initiative, f"check_{check.key}")))
            for check in READINESS_CHECKS
        ]

    @property
    def missing(self):
        return [check for check, met in self.checks if not met]

    @property
    def score(self):
        return self.initiative.readiness_score

    @property
    def out_of(self):
        return len(READINESS_CHECKS)

    @property
    def ready(self):
        return self.score == self.out_of


def pilots_by_readiness(queryset):
    """The pilots of `queryset` annotated with their checks, readiest first.

    A queryset, so that a page of it is one query with LIMIT and the whole list can be
    streamed; wrap each initiative in `Readiness` to read its checks.
    """
    return (
        with_readiness(queryset.filter(stage=Stage.PILOT))
        .select_related("country", "sector")
        .order_by("-readiness_score", "reference")
    )


def readiness_of(initiative):
    """The checklist of one pilot; None when the initiative is not a pilot. One query."""
    if initiative.stage != Stage.PILOT:
        return None
    annotated = with_readiness(Initiative.objects.filter(pk=initiative.pk)).first()
    return Readiness(annotated) if annotated else None


@dataclass
class ReadinessSummary:
    pilots: int
    ready: int
    counts: dict

    @property
    def cells(self):
        """(check, pilots meeting it, share of pilots) in the order of the rule."""
        return [
            (check, self.counts[check.key], percent(self.counts[check.key], self.pilots))
            for check in READINESS_CHECKS
        ]


def readiness_summary(queryset):
    """How many pilots meet each check, and how many meet them all; one query."""
    annotated = with_readiness(queryset.filter(stage=Stage.PILOT).order_by())
    aggregates = {
        check.key: Count("pk", filter=Q(**{f"check_{check.key}": True}))
        for check in READINESS_CHECKS
    }
    counts = annotated.aggregate(
        pilots=Count("pk"),
        ready=Count("pk", filter=Q(readiness_score=len(READINESS_CHECKS))),
        **aggregates,
    )
    return ReadinessSummary(pilots=counts.pop("pilots"), ready=counts.pop("ready"), counts=counts)
