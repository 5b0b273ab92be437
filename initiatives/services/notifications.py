"""Who is told of a workflow's outcome, and how: every e-mail of coprod goes through `notify`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from ..rules import case_officers

if TYPE_CHECKING:
    from ..models import Initiative

logger = logging.getLogger("coprod.notifications")


def _case_officer_emails(initiative: Initiative) -> list[str]:
    emails = set(settings.CASE_OFFICER_EMAILS)
    if initiative.case_officer and initiative.case_officer.email:
        emails.add(initiative.case_officer.email)
    if not emails:
        emails.update(case_officers().exclude(email="").values_list("email", flat=True))
    return sorted(emails)


def _group_emails(initiative: Initiative) -> list[str]:
    if initiative.organisation is None:
        return [initiative.created_by.email] if initiative.created_by else []
    return sorted(
        initiative.organisation.memberships.active()
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def single_line(text: object) -> str:
    """`text` on one line: an e-mail header cannot hold a newline (Django refuses to send it),
    and titles and names are typed by people, who sometimes paste one in."""
    return " ".join(str(text).split())


def notify(recipients: Iterable[str], subject: str, body: str) -> None:
    """E-mail `recipients` once the current transaction commits.

    Sent after the commit, so that nobody hears of a change that was rolled back; the
    subject is made single-line. A failed send does not undo the change the person just
    saved, but it is logged with its traceback, never swallowed.
    """
    recipients = sorted({address for address in recipients if address})
    if not recipients:
        return
    subject = single_line(subject)

    def send() -> None:
        try:
            send_mail(subject, body, None, recipients, fail_silently=False)
        except Exception:
            logger.exception(
                "notification not sent: %r to %d recipient(s)", subject, len(recipients)
            )

    transaction.on_commit(send)
