"""The metrics endpoint: request, database and cache figures, for the operations team only."""

import pytest

from core import metrics

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def test_without_a_token_configured_there_is_no_metrics_page(client):
    assert client.get("/metrics").status_code == 404


def test_the_metrics_need_the_token(client, metrics_on):
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_requests_database_and_cache_are_measured(client, metrics_on):
    client.get("/reports/maturity/")
    client.get("/reports/maturity/")
    response = client.get("/metrics", **metrics_on)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    text = response.content.decode()
    # Request rate and latency per view.
    assert "django_http_requests_latency_seconds_by_view_method_bucket{" in text
    assert 'view="reports:maturity"' in text
    # Database query count and timing.
    assert "django_db_query_duration_seconds_bucket{" in text
    assert "django_db_execute_total{" in text
    # The report and page cache.
    assert 'coprod_cache_operation_seconds_bucket{le="0.001",operation="page_get"}' in text
    assert 'coprod_page_cache_requests_total{result="hit"}' in text


def test_a_job_queue_can_report_its_depth(client, metrics_on):
    metrics.watch_queue_depth("emails", lambda: 7)
    text = client.get("/metrics", **metrics_on).content.decode()
    assert 'coprod_job_queue_depth{queue="emails"} 7.0' in text
