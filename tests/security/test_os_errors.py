"""Python's PermissionError is an operating-system error (an unreadable file), not a domain
refusal: it is never answered as a 403, and the server error page names no path. Domain
refusals raise Django's PermissionDenied."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.fields.files import FieldFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from initiatives.api import OrganisationViewSet
from initiatives.models import Activity, ActivityKind, ReviewStatus
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
MEDIA_PATH = "/srv/coprod/media/documents/2026/minutes.txt"


def _unreadable(*args, **kwargs):
    raise PermissionError(13, "Permission denied", MEDIA_PATH)


def test_an_unreadable_document_is_a_server_error_that_names_no_path(monkeypatch, organisation):
    initiative = make_initiative(organisation=organisation, review_status=ReviewStatus.PUBLISHED)
    document = Activity.objects.create(
        initiative=initiative,
        kind=ActivityKind.DOCUMENT,
        text="Minutes",
        file=SimpleUploadedFile("minutes.txt", b"We met."),
    )
    monkeypatch.setattr(FieldFile, "open", _unreadable)
    url = reverse(
        "initiatives:document", kwargs={"reference": initiative.reference, "pk": document.pk}
    )
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 500
    body = response.content.decode()
    assert "/srv/coprod" not in body
    assert "Permission denied" not in body


def test_the_api_does_not_turn_an_os_error_into_a_403(monkeypatch):
    monkeypatch.setattr(OrganisationViewSet, "list", _unreadable)
    response = APIClient(raise_request_exception=False).get("/api/organisations/")
    assert response.status_code == 500
    assert "/srv/coprod" not in response.content.decode()


def test_the_api_says_why_a_domain_refusal_was_made(monkeypatch):
    def refuse(self, request, *args, **kwargs):
        raise PermissionDenied("Only the organisation's admins manage its members.")

    monkeypatch.setattr(OrganisationViewSet, "list", refuse)
    response = APIClient().get("/api/organisations/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert response.json()["message"] == "Only the organisation's admins manage its members."


def test_no_code_raises_or_catches_permission_error_as_a_domain_error():
    offenders = []
    for folder in ("initiatives", "survey", "coprod_site", "core"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.search(r"\bPermissionError\b", code):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
