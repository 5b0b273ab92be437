"""Uploaded documents are checked by content, size-limited, kept under MEDIA_ROOT (not
the static root, not served by URL), and downloaded only by those who may see the
initiative, as attachments."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from initiatives.models import Activity, Initiative
from initiatives.validators import validate_document
from tests.factories import make_initiative

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64
LINUX_ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64


def _zip(**members):
    """A ZIP of the members, dated 2026-01-01: the same bytes (and test ids) in every process
    that collects this file, as pytest-xdist requires of its workers."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, content in members.items():
            member = zipfile.ZipInfo(name.replace("__", "/"), date_time=(2026, 1, 1, 0, 0, 0))
            package.writestr(member, content)
    return buffer.getvalue()


DOCX = _zip(**{"[Content_Types].xml": "<Types/>", "word__document.xml": "<w/>"})
ODT = _zip(mimetype="application/vnd.oasis.opendocument.text", **{"content.xml": "<x/>"})
PLAIN_ZIP = _zip(**{"payload.exe": WINDOWS_EXE.decode("latin-1")})


def upload(name, content):
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", PDF),
        ("REPORT.PDF", PDF),
        ("photo.png", PNG),
        ("photo.jpg", JPEG),
        ("photo.jpeg", JPEG),
        ("minutes.docx", DOCX),
        ("minutes.odt", ODT),
        ("notes.txt", "Réunion du 3 mars — compte rendu\n".encode()),
        ("table.csv", b"a,b\n1,2\n"),
        ("readme.md", b"# Notes\n"),
    ],
)
def test_real_documents_are_accepted(name, content):
    validate_document(upload(name, content))


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("report.pdf", WINDOWS_EXE, "bad_content"),  # renamed Windows executable
        ("minutes.docx", LINUX_ELF, "bad_content"),  # renamed Linux executable
        ("photo.png", PDF, "bad_content"),  # a PDF calling itself a picture
        ("report.pdf", PNG, "bad_content"),
        ("report.pdf", b"<html><script>alert(1)</script></html>", "bad_content"),
        ("minutes.docx", PLAIN_ZIP, "bad_content"),  # any ZIP is not an Office file
        ("minutes.docx", b"PK\x03\x04truncated", "bad_content"),
        ("page.html", b"<html></html>", "bad_type"),
        ("image.svg", b"<svg onload='alert(1)'/>", "bad_type"),
        ("setup.exe", PDF, "bad_type"),  # right bytes, forbidden name
        ("report.pdf.exe", PDF, "bad_type"),
        ("report", PDF, "bad_type"),
        ("notes.txt", b"plain\x00text with a NUL", "bad_type"),
        ("notes.txt", b"\xff\xfe\x00b\x00i\x00n", "bad_type"),  # not UTF-8
        ("notes.txt", WINDOWS_EXE, "bad_type"),
    ],
)
def test_disguised_or_forbidden_files_are_refused(name, content, code):
    with pytest.raises(ValidationError) as refused:
        validate_document(upload(name, content))
    assert refused.value.code == code


def test_oversize_files_are_refused_before_reading_them(settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    validate_document(upload("report.pdf", PDF + b" " * (1000 - len(PDF))))
    with pytest.raises(ValidationError) as refused:
        validate_document(upload("report.pdf", PDF + b" " * 1001))
    assert refused.value.code == "too_large"


def test_the_default_limit_is_ten_megabytes():
    assert settings.DOCUMENT_MAX_BYTES == 10 * 1024 * 1024
    with pytest.raises(ValidationError):
        validate_document(upload("big.pdf", PDF + b"\x00" * (10 * 1024 * 1024)))


def test_validation_leaves_the_file_ready_to_store():
    document = upload("minutes.docx", DOCX)
    validate_document(document)
    assert document.read() == DOCX


@pytest.fixture
def draft(member, organisation):
    return make_initiative(by=member, organisation=organisation)


def _attach(initiative, name="minutes.pdf", content=PDF):
    return Activity.objects.create(
        initiative=initiative, kind="document", text="Minutes", file=ContentFile(content, name)
    )


def test_documents_are_stored_under_media_root_outside_the_static_root(draft):
    activity = _attach(draft)
    path = Path(activity.file.path).resolve()
    media_root = Path(settings.MEDIA_ROOT).resolve()
    assert path.is_relative_to(media_root)
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert not media_root.is_relative_to(Path(settings.STATIC_ROOT).resolve())


def test_documents_have_no_public_url(client, draft):
    activity = _attach(draft)
    assert client.get(f"/media/{activity.file.name}").status_code == 404
    assert client.get(f"/static/{activity.file.name}").status_code == 404


def _download_url(activity, initiative=None):
    reference = (initiative or activity.initiative).reference
    return reverse("initiatives:document", kwargs={"reference": reference, "pk": activity.pk})


def test_own_organisation_downloads_a_draft_document_as_an_attachment(client, member, draft):
    activity = _attach(draft)
    client.force_login(member)
    response = client.get(_download_url(activity))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize("who", ["anonymous", "other_member"])
def test_others_get_404_for_a_draft_document(client, draft, other_member, who):
    activity = _attach(draft)
    if who == "other_member":
        client.force_login(other_member)
    assert client.get(_download_url(activity)).status_code == 404


def test_a_document_cannot_be_fetched_through_another_initiative(client, other_member, draft):
    secret = _attach(draft)
    theirs = make_initiative(by=other_member, organisation=other_member.organisations.get())
    client.force_login(other_member)
    # Their own initiative's reference with the id of our document: no IDOR.
    assert client.get(_download_url(secret, initiative=theirs)).status_code == 404


def test_published_documents_are_public_attachments(client, draft, staff):
    activity = _attach(draft)
    Initiative.objects.filter(pk=draft.pk).update(review_status="published")
    response = client.get(_download_url(activity))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]


def test_archived_initiatives_documents_are_hidden(client, member, draft, staff):
    from initiatives import services

    activity = _attach(draft)
    services.initiative_archive(initiative=draft, by=staff, expected_version=draft.version)
    client.force_login(member)
    assert client.get(_download_url(activity)).status_code == 404


def test_the_site_refuses_a_renamed_executable_and_stores_nothing(client, member, draft):
    client.force_login(member)
    url = reverse("initiatives:activity_add", kwargs={"reference": draft.reference})
    response = client.post(
        url,
        {
            "kind": "document",
            "date": "2024-02-01",
            "text": "Our plan",
            "file": upload("plan.pdf", WINDOWS_EXE),
        },
    )
    assert response.status_code == 400
    assert not Activity.objects.filter(initiative=draft, kind="document").exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
