"""Who is told of a workflow's outcome, and how."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction


def _case_officer_emails(initiative):
    emails = set(settings.CASE_OFFICER_EMAILS)
    if initiative.case_officer and initiative.case_officer.email:
        emails.add(initiative.case_officer.email)
    if not emails:
        emails.update(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    return sorted(emails)


def _group_emails(initiative):
    if initiative.organisation is None:
        return [initiative.created_by.email] if initiative.created_by else []
    return sorted(
        initiative.organisation.memberships.active()
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def _notify(recipients, subject, body):
    if recipients:
        # Sent once the transaction commits, so nobody hears of a change that was rolled back.
        transaction.on_commit(
            lambda: send_mail(subject, body, None, recipients, fail_silently=True)
        )
