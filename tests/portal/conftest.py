import pytest

from initiatives.models import ReviewStatus
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    add_participation,
    make_initiative,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher takes a good fraction of a second per user on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def published(db, organisation):
    initiative = make_initiative(
        title="Safer streets together",
        organisation=organisation,
        review_status=ReviewStatus.PUBLISHED,
    )
    add_participation(initiative, "design", "citizen", "group")
    add_participation(initiative, "deliver", "professional", "collective")
    return initiative


@pytest.fixture
def draft(db, organisation):
    return make_initiative(title="Own group draft", organisation=organisation)


@pytest.fixture
def other_organisation(db, other_member):
    return other_member.organisations.get()


@pytest.fixture
def other_draft(db, other_organisation):
    return make_initiative(title="Someone else's draft", organisation=other_organisation)


@pytest.fixture
def other_published(db, other_organisation):
    return make_initiative(
        title="Someone else's published",
        organisation=other_organisation,
        review_status=ReviewStatus.PUBLISHED,
    )


@pytest.fixture
def group_admin(db, organisation):
    return MembershipFactory(organisation=organisation, role="admin").user


@pytest.fixture
def lonely_org(db):
    return OrganisationFactory(name="Lonely Group")


@pytest.fixture
def as_user(client):
    """Sign a client in as a user (or stay anonymous with None)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in
