"""Checks on uploaded documents, by their content rather than their name."""

import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Leading bytes of the document types a case file may hold.
SIGNATURES = {
    b"%PDF-": "PDF",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"PK\x03\x04": "Office document (OOXML/ODF)",
}
TEXT_EXTENSIONS = (".txt", ".csv", ".md")
ALLOWED_EXTENSIONS = (".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx", ".pptx", ".odt", ".ods")
# The content each name must have: a file is refused when its bytes are of another type
# than its name says, so that what is downloaded is what the name promises.
EXPECTED_SIGNATURE = {
    ".pdf": b"%PDF-",
    ".png": b"\x89PNG\r\n\x1a\n",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".docx": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
    ".pptx": b"PK\x03\x04",
    ".odt": b"PK\x03\x04",
    ".ods": b"PK\x03\x04",
}


def _is_office_package(upload):
    """An OOXML or OpenDocument file is a ZIP with its own manifest, not any ZIP."""
    try:
        with zipfile.ZipFile(upload) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)
    return "[Content_Types].xml" in names or "mimetype" in names


def _looks_like_text(head):
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def validate_document(upload):
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The file is %(size)d bytes; the limit is %(limit)d bytes."),
            params={"size": upload.size, "limit": limit},
            code="too_large",
        )
    name = (upload.name or "").lower()
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if name.endswith(TEXT_EXTENSIONS):
        if _looks_like_text(head):
            return
        raise ValidationError(_("The file is not plain text."), code="bad_type")
    if not name.endswith(ALLOWED_EXTENSIONS):
        raise ValidationError(
            _("Accepted documents: PDF, PNG, JPEG, Office/OpenDocument files and plain text."),
            code="bad_type",
        )
    extension = "." + name.rsplit(".", 1)[-1]
    expected = EXPECTED_SIGNATURE[extension]
    if not head.startswith(expected) or (
        expected == b"PK\x03\x04" and not _is_office_package(upload)
    ):
        raise ValidationError(_("The file's content does not match its type."), code="bad_content")
