import datetime

import factory
from django.contrib.auth import get_user_model

from initiatives import services
from initiatives.models import (
    Initiative,
    Membership,
    Organisation,
    OrganisationKind,
    Participation,
)
from survey.models import Country, Item, Respondent, Response, Sector, Wave


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery-staple")


class StaffFactory(UserFactory):
    """A superuser: for tests about something other than who may do it."""

    is_staff = True
    is_superuser = True
    username = factory.Sequence(lambda n: f"officer{n}")


def staff_in_role(role, **fields):
    """A staff account whose only permissions are its role's (None: a role-less account).

    The roles are seeded by a migration; a test that flushed the database gets them back.
    """
    from django.apps import apps
    from django.contrib.auth.models import Group

    from initiatives.roles import sync_roles

    user = UserFactory(is_staff=True, **fields)
    if role is not None:
        if not Group.objects.filter(name=role).exists():
            sync_roles(apps)
        user.groups.add(Group.objects.get(name=role))
    return user


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Neighbourhood Group {n}")
    kind = OrganisationKind.CITIZENS_GROUP
    country = factory.LazyFunction(lambda: Country.objects.get(code="FIN"))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.MEMBER
    status = Membership.Status.ACTIVE


class WaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wave
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TEST-{n}")
    title = "Test wave"
    year = 2024


def token_client(user):
    """An API client that signs in with a fresh token of `user` (anonymous for None)."""
    from rest_framework.test import APIClient

    from initiatives.models import ApiToken

    client = APIClient()
    if user is not None:
        _, key = ApiToken.issue(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def document_entry(initiative, *, by, visibility, text):
    """A timeline entry with a small PDF, made through the timeline service."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return services.activity_create(
        initiative=initiative,
        by=by,
        expected_version=None,
        kind="document",
        visibility=visibility,
        text=text,
        file=SimpleUploadedFile(f"{visibility}.pdf", b"%PDF-1.4 tiny", "application/pdf"),
    )


def make_initiative(*, by=None, stage="planned", review_status=None, **fields):
    """An initiative made the way the product makes them: through the service."""
    defaults = {
        "title": "Safer streets together",
        "summary": "Residents and police walk the neighbourhood.",
        "description": "Monthly walks and a shared log of problems.",
        "country": Country.objects.get(code="FIN"),
        "sector": Sector.objects.get(code="03"),
        "level": "local",
        "lead_public_body": "Helsinki Police Department",
        "start_date": datetime.date(2024, 1, 15),
    }
    defaults.update(fields)
    initiative = services.initiative_create(by=by, stage=stage, **defaults)
    if review_status:
        Initiative.objects.filter(pk=initiative.pk).update(review_status=review_status)
        initiative.refresh_from_db()
    return initiative


def add_participation(initiative, phase="design", partner_type="citizen", level="group"):
    return Participation.objects.create(
        initiative=initiative, phase=phase, partner_type=partner_type, level=level
    )


def answer(wave, country, respondent, sector, question, ticks):
    """Record one respondent's answers to a question for a sector: {item code: yes/no}."""
    person, _ = Respondent.objects.get_or_create(
        wave=wave, code=respondent, defaults={"country_id": country}
    )
    for code, affirmative in ticks.items():
        Response.objects.create(
            respondent=person,
            sector_id=sector,
            item=Item.objects.get(question__code=question, code=code),
            affirmative=affirmative,
        )
