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
    token, key = ApiToken.issue(user=member, name="real")
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


def test_a_token_prefix_already_held_is_drawn_again(member, monkeypatch):
    from initiatives import models

    held, _key = ApiToken.issue(user=member, name="first")
    draws = iter([held.prefix, held.prefix, "0badc0de"])
    monkeypatch.setattr(models.secrets, "token_hex", lambda n: next(draws))
    token, key = ApiToken.issue(user=member, name="second")
    assert token.prefix == "0badc0de" and key.startswith("0badc0de.")
    assert ApiToken.objects.filter(user=member).count() == 2
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/organisations/").status_code == 200


def test_a_token_prefix_collision_on_the_account_page_is_no_server_error(
    client, member, monkeypatch
):
    from initiatives import models

    held, _key = ApiToken.issue(user=member, name="first")
    draws = iter([held.prefix, "0badc0de"])
    monkeypatch.setattr(models.secrets, "token_hex", lambda n: next(draws))
    client.force_login(member)
    response = client.post("/account/", {"token-name": "second"})
    assert response.status_code == 200
    assert response.context["new_key"].startswith("0badc0de.")
