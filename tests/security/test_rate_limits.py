"""Sign-up, password reset, submission and the other costly forms are rate limited per
user or client address; so is anonymous API use (DRF throttles). A forged
X-Forwarded-For header does not buy a fresh allowance."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from initiatives import audit
from initiatives.models import SecurityEvent
from tests.factories import make_initiative
from tests.security.urlwalk import all_route_names


@pytest.fixture
def limit(settings):
    def set_limit(name, rate):
        settings.RATELIMITS = {**settings.RATELIMITS, name: rate}

    return set_limit


@pytest.mark.parametrize("name", sorted(django_settings.RATELIMITS))
def test_every_rate_limited_view_exists(name):
    # A renamed URL would silently lose its limit; this names it.
    assert name in all_route_names()


def _post_until_refused(client, url, data, times, **extra):
    statuses = [client.post(url, data, **extra).status_code for _ in range(times)]
    return statuses


def test_sign_up_is_limited_per_address_with_a_429_page(client, limit, db):
    limit("initiatives:signup", "3/h")
    url = reverse("initiatives:signup")
    statuses = _post_until_refused(client, url, {"username": ""}, 4)
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    response = client.post(url, {"username": ""})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert response["Retry-After"]
    refusals = SecurityEvent.objects.filter(kind=audit.RATE_LIMITED)
    assert sum(refusals.values_list("count", flat=True)) == 2
    assert refusals.count() <= 2  # one row per minute


def test_a_forged_forwarded_for_does_not_reset_the_sign_up_limit(client, limit, db):
    limit("initiatives:signup", "2/h")
    url = reverse("initiatives:signup")
    statuses = [
        client.post(url, {}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)
    ]
    assert statuses[2] == 429


def test_another_address_still_signs_up_when_one_is_limited(limit, db):
    limit("initiatives:signup", "1/h")
    url = reverse("initiatives:signup")
    first = Client(REMOTE_ADDR="192.0.2.1")
    assert first.post(url, {}).status_code != 429
    assert first.post(url, {}).status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.2").post(url, {}).status_code != 429


def test_reading_the_sign_up_page_is_not_counted(client, limit, db):
    limit("initiatives:signup", "1/h")
    url = reverse("initiatives:signup")
    for _ in range(3):
        assert client.get(url).status_code == 200


def test_password_reset_is_limited(client, limit, db, mailoutbox, member):
    limit("password_reset", "2/h")
    url = reverse("password_reset")
    statuses = _post_until_refused(client, url, {"email": member.email}, 3)
    assert statuses[:2] == [302, 302]
    assert statuses[2] == 429
    assert len(mailoutbox) == 2  # the refused request sent no e-mail


def test_submission_is_limited_per_user(client, limit, member, organisation):
    limit("initiatives:submit", "2/h")
    initiative = make_initiative(by=member, organisation=organisation)
    client.force_login(member)
    url = reverse("initiatives:submit", kwargs={"reference": initiative.reference})
    statuses = _post_until_refused(client, url, {}, 3)
    assert 429 not in statuses[:2]
    assert statuses[2] == 429


def test_limits_can_be_turned_off_for_tests_and_benchmarks(client, limit, settings, db):
    settings.RATELIMIT_ENABLE = False
    limit("initiatives:signup", "1/h")
    url = reverse("initiatives:signup")
    assert 429 not in _post_until_refused(client, url, {}, 3)


@pytest.fixture
def api_rates(settings):
    def set_rates(anon, user="1000/minute"):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
        }

    return set_rates


def test_anonymous_api_use_is_throttled_per_address(client, api_rates, db):
    api_rates("3/minute")
    statuses = [client.get("/api/vocabulary/sectors/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    forged = client.get("/api/vocabulary/sectors/", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert forged.status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.77").get("/api/vocabulary/sectors/").status_code == 200


def test_signed_in_api_use_has_its_own_larger_allowance(client, api_rates, member):
    api_rates("1/minute", "5/minute")
    client.force_login(member)
    statuses = [client.get("/api/vocabulary/sectors/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
