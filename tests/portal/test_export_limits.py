"""Exports are bounded: anonymous clients are rate limited, and every client runs only a
few at once; past either limit a clear 429 with Retry-After."""

import pytest
from django.core import signals
from django.db import close_old_connections

from initiatives import audit
from initiatives.models import ReviewStatus, SecurityEvent
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db

EXPORT = "/initiatives/export.csv"


@pytest.fixture(autouse=True)
def published(db):
    return make_initiative(title="Night walks", review_status=ReviewStatus.PUBLISHED)


def read(response):
    return b"".join(response.streaming_content).decode()


def test_anonymous_exports_are_rate_limited_per_address(client, settings):
    settings.EXPORT_RATE_ANON = "3/h"
    for _ in range(3):
        response = client.get(EXPORT)
        assert response.status_code == 200
        assert "Night walks" in read(response)
    refused = client.get(EXPORT)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "downloaded too many times" in refused.content.decode()
    other = client.get(EXPORT, REMOTE_ADDR="203.0.113.77")
    assert other.status_code == 200
    read(other)
    event = SecurityEvent.objects.get(kind=audit.RATE_LIMITED)
    assert event.path == EXPORT


def test_signed_in_users_are_not_rate_limited(client, settings, staff):
    settings.EXPORT_RATE_ANON = "1/h"
    client.force_login(staff)
    for _ in range(3):
        response = client.get(EXPORT)
        assert response.status_code == 200
        read(response)


def test_a_client_runs_only_a_few_exports_at_once(client, settings):
    settings.EXPORT_CONCURRENT_PER_CLIENT = 2
    first, second = client.get(EXPORT), client.get(EXPORT)  # still being read
    assert (first.status_code, second.status_code) == (200, 200)
    refused = client.get(EXPORT)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "10"
    assert "2 downloads of this export running" in refused.content.decode()
    # Another client is not held back by this one.
    elsewhere = client.get(EXPORT, REMOTE_ADDR="203.0.113.78")
    assert elsewhere.status_code == 200
    read(elsewhere)
    # A finished download gives its place back.
    assert "Night walks" in read(first)
    again = client.get(EXPORT)
    assert again.status_code == 200
    assert "Night walks" in read(again)
    read(second)


def test_a_download_closed_early_gives_its_place_back(client, settings):
    settings.EXPORT_CONCURRENT_PER_CLIENT = 1
    abandoned = client.get(EXPORT)
    assert client.get(EXPORT).status_code == 429
    # What the server does when the client goes away (without the end-of-request signal,
    # which would close this test's database connection).
    signals.request_finished.disconnect(close_old_connections)
    try:
        abandoned.close()
    finally:
        signals.request_finished.connect(close_old_connections)
    response = client.get(EXPORT)
    assert response.status_code == 200
    read(response)


def test_the_refusal_is_in_french_under_fr(client, settings):
    settings.EXPORT_CONCURRENT_PER_CLIENT = 1
    held = client.get(EXPORT)
    refused = client.get("/fr" + EXPORT)
    assert refused.status_code == 429
    assert "téléchargement" in refused.content.decode()
    read(held)
