"""Sign-in brute force is locked out with a clear page, and every security event lands
in the audit log (SecurityEvent) that staff read in the admin."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import path

from coprod_site import urls as site_urls
from initiatives import audit
from initiatives.models import SecurityEvent

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _lockout_after_three(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_ENABLED = True


def _kinds():
    return list(SecurityEvent.objects.order_by("pk").values_list("kind", flat=True))


def test_admin_sign_in_and_failure_are_recorded(client, staff):
    client.post("/admin/login/", {"username": staff.username, "password": "wrong"})
    client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert _kinds() == [audit.SIGN_IN_FAILED, audit.SIGN_IN]
    failed, signed_in = SecurityEvent.objects.order_by("pk")
    assert failed.username == staff.username
    assert failed.user is None
    assert failed.ip_address == "127.0.0.1"
    assert signed_in.user == staff
    assert "wrong" not in failed.detail


def test_admin_sign_in_locks_after_the_failure_limit_with_a_clear_page(client, staff):
    for _ in range(3):
        client.post("/admin/login/", {"username": staff.username, "password": "wrong"})
    # Even the right password is refused while the lock lasts.
    response = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Sign-in temporarily locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=audit.LOCKOUT, username=staff.username).exists()


def test_lockout_is_logged_to_the_security_logger(client, staff, caplog):
    with caplog.at_level("WARNING", logger="coprod.security"):
        for _ in range(3):
            client.post("/admin/login/", {"username": staff.username, "password": "wrong"})
    assert any("locked out" in record.getMessage() for record in caplog.records)


def test_lockout_is_per_account_and_address_not_global(client, staff, user):
    for _ in range(3):
        client.post("/admin/login/", {"username": staff.username, "password": "wrong"})
    other = client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    assert other.status_code == 200  # a normal "wrong password" form, not the lock page


def test_forged_forwarded_for_does_not_escape_the_lockout(client, staff):
    for n in range(3):
        client.post(
            "/admin/login/",
            {"username": staff.username, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    response = client.post(
        "/admin/login/",
        {"username": staff.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 429


def test_behind_one_trusted_proxy_the_client_address_is_recorded(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    from django.test import Client

    proxied = Client(HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.44")
    proxied.post("/admin/login/", {"username": staff.username, "password": "wrong"})
    assert SecurityEvent.objects.get().ip_address == "192.0.2.44"


def _refuse(request):
    raise PermissionDenied


urlpatterns = [path("refuse/", _refuse), *site_urls.urlpatterns]


@pytest.mark.urls(__name__)
def test_permission_denied_is_recorded_even_though_the_view_transaction_rolls_back(client, member):
    client.force_login(member)
    response = client.get("/refuse/?x=1")
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind=audit.PERMISSION_DENIED)
    assert event.user == member
    assert event.detail == "GET /refuse/?x=1"


def test_csrf_failure_is_recorded_as_permission_denied(member):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    response = strict.post("/i18n/setlang/", {"language": "fr"})
    assert response.status_code == 403
    assert SecurityEvent.objects.filter(kind=audit.PERMISSION_DENIED, user=member).exists()


def test_record_event_keeps_who_where_and_what(rf, member):
    request = rf.get("/api/initiatives/export.csv", REMOTE_ADDR="192.0.2.1")
    request.user = member
    event = audit.record_event(audit.DATA_EXPORT, request=request, detail="42 rows")
    event.refresh_from_db()
    assert (event.kind, event.user, event.username) == (audit.DATA_EXPORT, member, member.username)
    assert event.ip_address == "192.0.2.1"
    assert event.path == "/api/initiatives/export.csv"
    assert event.detail == "42 rows"


def test_record_event_survives_a_failing_database(db, monkeypatch, caplog):
    from django.db import DatabaseError

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(SecurityEvent.objects, "create", broken)
    with caplog.at_level("INFO", logger="coprod.security"):
        assert audit.record_event(audit.LOCKOUT, username="someone") is None
    assert any("lockout" in r.getMessage() for r in caplog.records)


def test_a_staff_csv_download_is_recorded_once_as_a_data_export(client, staff):
    client.force_login(staff)
    response = client.get("/admin/survey/response/export/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    client.get("/initiatives/export.csv")
    exports = SecurityEvent.objects.filter(kind=audit.DATA_EXPORT, user=staff)
    assert exports.count() == 2
    assert exports.filter(path__startswith="/admin/survey/response/export/").count() == 1


def test_a_public_csv_download_is_not_an_audit_event(client, member):
    client.force_login(member)
    client.get("/initiatives/export.csv")
    assert not SecurityEvent.objects.filter(kind=audit.DATA_EXPORT).exists()


def test_changing_the_case_of_the_address_does_not_buy_more_attempts(client, user):
    """One identity per person: the lockout reads the address as the sign-in does."""
    user.username = user.email = "ana.virtanen@example.fi"
    user.set_password(PASSWORD)
    user.save()
    for typed in ("Ana.Virtanen@Example.fi", "ANA.VIRTANEN@EXAMPLE.FI", " ana.virtanen@example.fi"):
        client.post("/accounts/login/", {"username": typed, "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "ana.VIRTANEN@example.fi", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_right_password_in_any_case_signs_in_before_the_limit(client, user):
    user.username = user.email = "ana.virtanen@example.fi"
    user.set_password(PASSWORD)
    user.save()
    client.post("/accounts/login/", {"username": "Ana.Virtanen@Example.fi", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "ANA.Virtanen@example.FI", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
