import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from initiatives.models import ApiToken

HIGH_RATES = {"anon": "100000/minute", "user": "100000/minute"}


@pytest.fixture(autouse=True)
def _generous_throttles(settings):
    """Throttles stay on, with rates no test reaches; the throttle test sets its own."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": HIGH_RATES}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user():
    """An APIClient authenticated with a fresh token of `user` (or anonymous for None)."""

    def make(user):
        client = APIClient()
        if user is not None:
            _, key = ApiToken.issue(user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def roles(db, staff, member, other_member):
    """The four roles of the permission table: anonymous, members of A and B, staff."""
    return {"anonymous": None, "member_a": member, "member_b": other_member, "staff": staff}


@pytest.fixture
def client_as(as_user, roles):
    return lambda role: as_user(roles[role])
