import pytest

from tests.factories import MembershipFactory, OrganisationFactory, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs about a second per user on these machines; tests make hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit and throttle counters live in the cache; one test's requests must not
    # use up the next test's allowance.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Pages link their CSS through the static storage; the hashed manifest only exists
    # after collectstatic, which a test run does not do.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


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
