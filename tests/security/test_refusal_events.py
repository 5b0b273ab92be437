"""Repeated refusals are one security event per client, kind and minute, with a count."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from initiatives import audit
from initiatives.models import SecurityEvent

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 3, 2, 12, 0, 5, tzinfo=datetime.UTC)


@pytest.fixture
def clock(monkeypatch):
    now = {"value": NOON}
    monkeypatch.setattr(audit.timezone, "now", lambda: now["value"])
    return now


def test_a_flood_of_refusals_is_one_row_with_a_count(clock, member):
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(member)
    for _ in range(40):
        assert client.get("/reports/readiness/").status_code == 403
    refusals = SecurityEvent.objects.filter(kind=audit.PERMISSION_DENIED)
    assert refusals.count() == 1
    event = refusals.get()
    assert event.count == 40
    assert event.ip_address == "203.0.113.9"
    assert event.minute == NOON.replace(second=0)


def test_each_client_and_minute_has_its_own_row(clock, rf):
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):
        request = rf.get("/x", REMOTE_ADDR=address)
        audit.record_event(audit.RATE_LIMITED, request=request, detail="GET /x")
    clock["value"] = NOON + datetime.timedelta(minutes=1)
    audit.record_event(audit.RATE_LIMITED, request=rf.get("/x", REMOTE_ADDR="203.0.113.1"))
    rows = SecurityEvent.objects.filter(kind=audit.RATE_LIMITED).order_by("minute", "ip_address")
    assert [(r.ip_address, r.minute.minute, r.count) for r in rows] == [
        ("203.0.113.1", 0, 2),
        ("203.0.113.2", 0, 1),
        ("203.0.113.1", 1, 1),
    ]


def test_other_events_are_kept_one_by_one(clock, rf):
    for _ in range(3):
        audit.record_event(audit.SIGN_IN_FAILED, request=rf.get("/", REMOTE_ADDR="203.0.113.1"))
    assert SecurityEvent.objects.filter(kind=audit.SIGN_IN_FAILED).count() == 3
    assert timezone.now() == NOON
