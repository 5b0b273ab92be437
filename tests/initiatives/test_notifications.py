"""Every e-mail goes through one notifier: single-line subjects, sent after the commit, and a
failed send is logged with its traceback instead of being swallowed."""

import logging
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from initiatives import services
from initiatives.services.notifications import single_line
from survey.models import Item
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    add_participation,
    make_initiative,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp.example.org:25 refused the connection")


def _submittable(member, organisation, title):
    initiative = make_initiative(by=member, organisation=organisation, title=title)
    add_participation(initiative)
    initiative.objectives.set([Item.objects.get(question__code="reasons", code="quality")])
    return initiative


def test_single_line_joins_every_kind_of_line_break():
    assert single_line("Safer\nstreets\r\ntogether\r") == "Safer streets together"
    assert single_line("  tabs\tand\u2028separators ") == "tabs and separators"


def test_a_newline_in_a_title_does_not_stop_the_e_mails(
    member, organisation, staff, django_capture_on_commit_callbacks
):
    initiative = _submittable(member, organisation, "Safer streets\r\nBcc: victim@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_submit(initiative=initiative, by=member)
    [message] = mail.outbox
    assert "\n" not in message.subject
    assert "\r" not in message.subject
    assert message.subject.endswith("Safer streets Bcc: victim@example.org")
    assert message.to == [staff.email]
    assert "victim@example.org" not in message.message().get("Bcc", "")


def test_a_newline_in_an_organisation_name_does_not_stop_the_join_request(
    client, user, django_capture_on_commit_callbacks
):
    organisation = OrganisationFactory(name="Espoo\nParents")
    admin = MembershipFactory(organisation=organisation, role="admin", status="active").user
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("initiatives:organisation_join"), {"organisation": organisation.pk}
        )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [admin.email]
    assert message.subject == f"{user.username} asks to join Espoo Parents"


def test_a_failed_send_is_logged_and_the_change_is_kept(
    settings, member, organisation, staff, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.initiatives.test_notifications.RefusingBackend"
    initiative = _submittable(member, organisation, "Safer streets")
    with (
        caplog.at_level(logging.ERROR, logger="coprod.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.initiative_submit(initiative=initiative, by=member)
    initiative.refresh_from_db()
    assert initiative.review_status == "submitted"
    [record] = [r for r in caplog.records if r.name == "coprod.notifications"]
    assert record.levelno == logging.ERROR
    assert "Safer streets" in record.getMessage()
    assert record.exc_info
    assert isinstance(record.exc_info[1], ConnectionRefusedError)


def test_nothing_is_sent_when_the_change_is_rolled_back(member, organisation):
    # No on-commit callbacks run in a test transaction that is rolled back.
    initiative = _submittable(member, organisation, "Safer streets")
    services.initiative_submit(initiative=initiative, by=member)
    assert mail.outbox == []


def test_every_e_mail_goes_through_the_notifier():
    callers = []
    for path in [*ROOT.glob("initiatives/**/*.py"), *ROOT.glob("survey/**/*.py")]:
        text = path.read_text()
        if re.search(r"\bsend_mail\(|fail_silently=True|\bEmailMessage\(", text):
            callers.append(str(path.relative_to(ROOT)))
    assert callers == ["initiatives/services/notifications.py"]
