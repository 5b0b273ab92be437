"""Checks on uploaded documents, by their content rather than their name."""

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
    if not any(head.startswith(signature) for signature in SIGNATURES):
        raise ValidationError(_("The file's content does not match its type."), code="bad_content")
