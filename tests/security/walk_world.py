"""The records and people the URL walk uses, and how to fill in each URL's parameters."""

import datetime

from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from initiatives import services
from initiatives.models import (
    AccountabilityFramework,
    Activity,
    ApiToken,
    BudgetFramework,
    Membership,
    ReviewStatus,
)
from survey.models import ColumnMapping, Job, Question, Wave
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
    UserFactory,
    add_participation,
    answer,
    make_initiative,
)

ROLES = ("anonymous", "member_a", "member_b", "staff")
TARGETS = ("draft", "published")


def build_world():
    organisation_a = OrganisationFactory(name="Group A")
    organisation_b = OrganisationFactory(name="Group B")
    member_a = MembershipFactory(organisation=organisation_a, role="admin").user
    member_b = MembershipFactory(organisation=organisation_b, role="admin").user
    joiner = MembershipFactory(organisation=organisation_a, status=Membership.Status.PENDING).user
    staff = StaffFactory()
    records = {}
    for target in TARGETS:
        initiative = make_initiative(
            by=member_a,
            organisation=organisation_a,
            title=f"A's {target}",
            review_status=ReviewStatus.PUBLISHED if target == "published" else None,
        )
        participation = add_participation(initiative)
        AccountabilityFramework.objects.create(initiative=initiative, accountable_body="Council")
        BudgetFramework.objects.create(initiative=initiative, amount=1000, currency="EUR")
        activity = Activity.objects.create(
            initiative=initiative,
            kind="document",
            date=datetime.date(2024, 3, 1),
            text="Minutes",
            file=ContentFile(b"%PDF-1.4 minutes", name="minutes.pdf"),
        )
        proposal = services.stage_proposal_create(
            initiative=initiative, to_stage="pilot", by=member_a, reason="Ready to try"
        )
        records[target] = {
            "initiative": initiative,
            "participation": participation,
            "activity": activity,
            "proposal": proposal,
            "stage_change": initiative.stage_changes.get(),
        }
    token, _key = ApiToken.issue(user=member_a, name="A's laptop")
    wave = Wave.objects.get(code="OECD-2010")
    answer(wave, "FIN", "walk-respondent", "07", "barriers", {"resources": True})
    return {
        "users": {"anonymous": None, "member_a": member_a, "member_b": member_b, "staff": staff},
        "joiner": joiner,
        "organisation_a": organisation_a,
        "membership": Membership.objects.get(user=joiner),
        "records": records,
        "token": token,
        "wave": wave,
        "question": Question.objects.get(code="barriers"),
        # Staff's own job (a failed import, so that a retry has something to do) and a mapping.
        "job": Job.objects.create(
            kind=Job.Kind.SURVEY_IMPORT, owner=staff, status=Job.Status.FAILED
        ),
        "mapping": ColumnMapping.objects.create(
            name="walk", columns="barriers[SQ001] = barriers/resources"
        ),
        "nobody": UserFactory(username="nobody-in-particular"),
    }


STAGE_HISTORY_ENTRY_ROUTES = ("api:stage-history-detail", "api:stage-history-remove")


def parameters(route, world, target):
    """Concrete values for a URL pattern's parameters, about A's draft or published record."""
    names = list(route.pattern.pattern.regex.groupindex)
    record = world["records"][target or "published"]
    initiative = record["initiative"]
    values = {}
    for name in names:
        if name in ("reference", "initiative_reference"):
            values[name] = initiative.reference
        elif (name == "pk" and route.name == "initiatives:document") or (
            name == "pk" and route.name == "api:activity-detail"
        ):
            values[name] = record["activity"].pk
        elif name == "pk" and route.name == "api:participation-detail":
            values[name] = record["participation"].pk
        elif name == "pk" and route.name == "api:proposal-decide":
            values[name] = record["proposal"].pk
        elif name == "pk" and route.name in (
            "api:stage-history-detail",
            "api:stage-history-remove",
        ):
            values[name] = record["stage_change"].pk
        elif name == "pk" and route.name == "initiatives:token_revoke":
            values[name] = world["token"].pk
        elif name == "pk" and route.name in (
            "initiatives:organisation",
            "initiatives:membership_change",
            "api:organisation-detail",
        ):
            values[name] = world["organisation_a"].pk
        elif name == "pk" and route.name in (
            "jobs:detail",
            "jobs:retry",
            "jobs:apply",
            "jobs:download",
            "api:job-detail",
        ):
            values[name] = world["job"].pk
        elif name == "name" and route.name == "api:column-mapping-detail":
            values[name] = world["mapping"].name
        elif name == "membership_pk":
            values[name] = world["membership"].pk
        elif name == "code":
            values[name] = {
                "reports:country": "FIN",
                "api:sector-detail": "07",
                "api:country-detail": "FIN",
                "api:wave-detail": world["wave"].code,
                "api:question-detail": world["question"].code,
            }[route.name]
        elif name == "uidb64":
            values[name] = urlsafe_base64_encode(force_bytes(world["nobody"].pk))
        elif name == "token":
            values[name] = default_token_generator.make_token(world["nobody"])
        else:
            raise KeyError(f"no value for parameter {name!r} of {route.name}")
    return values
