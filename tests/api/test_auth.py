import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from initiatives.models import ApiToken
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db


def test_a_token_signs_the_client_in_and_records_its_use(member, organisation):
    draft = make_initiative(by=member, organisation=organisation)
    token, key = ApiToken.issue(user=member, name="register sync")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"/api/initiatives/{draft.reference}/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Token nothex00.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Token 0123abcd.wrong-secret-wrong-secret-wrong",
        "Token",
        "Token one two",
        "Token \u00e9t\u00e9",
    ],
)
def test_a_wrong_token_is_refused_with_401(member, header):
    ApiToken.issue(user=member, name="real")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/initiatives/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_with_the_right_prefix_but_another_secret_is_refused(member):
    token, _key = ApiToken.issue(user=member, name="real")
    forged = f"{token.prefix}.{'x' * 43}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {forged}")
    assert client.get("/api/initiatives/").status_code == 401


def test_a_revoked_token_is_refused(member):
    token, key = ApiToken.issue(user=member, name="old")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/initiatives/")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


def test_the_token_of_a_disabled_account_is_refused(member):
    _, key = ApiToken.issue(user=member, name="old")
    member.is_active = False
    member.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/initiatives/").status_code == 401


def test_session_clients_must_send_the_csrf_token(member, organisation):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member)
    body = {"title": "By session", "country": "FIN", "sector": "07", "level": "local"}
    body["organisation"] = organisation.pk
    refused = client.post("/api/initiatives/", body, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    secret = "a" * 32  # what the site's CSRF cookie holds: 32 letters and digits
    client.cookies["csrftoken"] = secret
    accepted = client.post("/api/initiatives/", body, format="json", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 201


def test_anonymous_writes_are_refused_with_401():
    response = APIClient().post("/api/initiatives/", {"title": "x"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_clients_over_the_rate_get_429(settings, member):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "3/minute"},
    }
    cache.clear()
    anonymous = APIClient()
    assert [anonymous.get("/api/vocabulary/sectors/").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    throttled = anonymous.get("/api/vocabulary/sectors/")
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0

    _, key = ApiToken.issue(user=member, name="sync")
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    codes = [token_client.get("/api/vocabulary/sectors/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # Each token has its own allowance.
    _, other_key = ApiToken.issue(user=member, name="another program")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {other_key}")
    assert other.get("/api/vocabulary/sectors/").status_code == 200


def _with_rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/minute", "user": "1000/minute", **rates},
    }
    cache.clear()


def test_token_use_is_written_after_the_response_outside_the_request_transaction(member):
    """A long request must not hold the token's row: the UPDATE is not in the view's
    transaction (ATOMIC_REQUESTS) but after it, at the depth the test itself runs at."""
    from django.db import connection

    token, key = ApiToken.issue(user=member, name="sync")
    outside = len(connection.atomic_blocks)
    depths = []

    def watch(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and ApiToken._meta.db_table in sql:
            depths.append(len(connection.atomic_blocks))
        return execute(sql, params, many, context)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with connection.execute_wrapper(watch):
        assert client.get("/api/initiatives/").status_code == 200
    assert depths == [outside]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_use_is_written_at_most_once_per_interval(member):
    token, key = ApiToken.issue(user=member, name="sync")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/initiatives/")
    token.refresh_from_db()
    first = token.last_used_at
    client.get("/api/initiatives/")
    token.refresh_from_db()
    assert token.last_used_at == first  # a second request within the interval writes nothing

    earlier = first - ApiToken.USE_RECORDING_INTERVAL
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client.get("/api/initiatives/")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_invalid_tokens_are_throttled_per_client_address(settings, member):
    _with_rates(settings, token_failures="3/hour")
    _, key = ApiToken.issue(user=member, name="real")
    guessing = APIClient(REMOTE_ADDR="203.0.113.7")
    guessing.credentials(HTTP_AUTHORIZATION="Token 0123abcd.wrong-secret-wrong-secret-wrong")
    codes = [guessing.get("/api/initiatives/").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    refused = guessing.get("/api/initiatives/")
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # From that address even a good key is not looked at until the window ends...
    guessing.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert guessing.get("/api/initiatives/").status_code == 429
    # ...while another address is not affected.
    elsewhere = APIClient(REMOTE_ADDR="198.51.100.2")
    elsewhere.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert elsewhere.get("/api/initiatives/").status_code == 200


def test_invalid_tokens_are_logged_without_a_row_per_attempt(settings, member, caplog):
    from initiatives.models import SecurityEvent

    _with_rates(settings, token_failures="3/hour")
    guessing = APIClient(REMOTE_ADDR="203.0.113.7")
    guessing.credentials(HTTP_AUTHORIZATION="Token 0123abcd.wrong-secret-wrong-secret-wrong")
    with caplog.at_level("WARNING", logger="coprod.security"):
        for _ in range(10):
            guessing.get("/api/initiatives/")
    lines = [r.getMessage() for r in caplog.records if r.name == "coprod.security"]
    assert (
        len([line for line in lines if line.startswith("invalid API token from 203.0.113.7")]) == 1
    )
    assert len([line for line in lines if "throttled" in line]) == 1
    events = SecurityEvent.objects.filter(ip_address="203.0.113.7")
    assert list(events.values_list("kind", flat=True)) == ["rate_limited"]
    assert "3 invalid API tokens" in events.get().detail


def test_a_token_prefix_already_held_is_drawn_again(member, monkeypatch):
    from initiatives.models import security

    held, _key = ApiToken.issue(user=member, name="first")
    draws = iter([held.prefix, held.prefix, "0badc0de"])
    monkeypatch.setattr(security.secrets, "token_hex", lambda n: next(draws))
    token, key = ApiToken.issue(user=member, name="second")
    assert token.prefix == "0badc0de"
    assert key.startswith("0badc0de.")
    assert ApiToken.objects.filter(user=member).count() == 2
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/organisations/").status_code == 200


def test_a_token_prefix_collision_on_the_account_page_is_no_server_error(
    client, member, monkeypatch
):
    from initiatives.models import security

    held, _key = ApiToken.issue(user=member, name="first")
    draws = iter([held.prefix, "0badc0de"])
    monkeypatch.setattr(security.secrets, "token_hex", lambda n: next(draws))
    client.force_login(member)
    response = client.post("/account/", {"token-name": "second"})
    assert response.status_code == 200
    assert response.context["new_key"].startswith("0badc0de.")
