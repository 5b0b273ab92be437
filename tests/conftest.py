import pytest

from tests.factories import MembershipFactory, OrganisationFactory, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def organisation(db):
    return OrganisationFactory()


@pytest.fixture
def member(db, organisation):
    return MembershipFactory(organisation=organisation).user


@pytest.fixture
def other_member(db):
    return MembershipFactory(organisation=OrganisationFactory(name="Other Group")).user


@pytest.fixture
def user(db):
    return UserFactory()
