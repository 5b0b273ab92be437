"""Personal data: purging a person on a data-protection request."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def user_purge(*, user: User, by: User, reason: str) -> User:
    """Erase a person's personal data on a data-protection request.

    The account is kept but anonymised (so the records they worked on, and their
    history, stay whole and attributed to "purged-user-<id>"); their name and e-mail
    are removed from the account, from organisation contacts and their history, from
    the security log, the admin log and the sign-in attempt logs, wherever coprod or
    Django wrote them into a text (an admin log line, an event's detail). Nothing else
    is deleted.
    Free text that people typed (descriptions, notes) is not rewritten.
    """
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.models import Session

    from .. import audit
    from ..models import ApiToken, Organisation, SecurityEvent

    if not by.has_perm("initiatives.purge_person"):
        raise PermissionDenied(_("Only administrators can purge personal data."))
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason for the purge (the request it answers)."))
    if user.pk == by.pk:
        raise ValidationError(_("Staff cannot purge their own account."))

    user_model = get_user_model()
    username = user.get_username()
    email = user.email
    full_name = user.get_full_name()
    placeholder = f"purged-user-{user.pk}"

    user.username = placeholder
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()

    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    ApiToken.objects.filter(user=user).update(name=placeholder)

    # Organisation contacts, now and in their history.
    historical_organisation = Organisation.history.model
    for model in (Organisation, historical_organisation):
        if email:
            model.objects.filter(contact_email__iexact=email).update(contact_email="")
        if full_name:
            model.objects.filter(contact_name__iexact=full_name).update(contact_name="")

    SecurityEvent.objects.filter(user=user).update(username=placeholder, ip_address=None)
    SecurityEvent.objects.filter(username__iexact=username).update(
        username=placeholder, ip_address=None
    )
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__iexact=username).delete()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(user_model), object_id=str(user.pk)
    ).update(object_repr=placeholder)

    # Text that coprod and Django wrote themselves and that names the person: the
    # admin log ("ana@example.org in Care circles", change messages), the security log's
    # details ("revoked by ana@example.org"), token names.
    identities = [value for value in (email, username, full_name) if value and value.strip()]
    for model, fields in (
        (LogEntry, ("object_repr", "change_message")),
        (SecurityEvent, ("detail", "path")),
        (ApiToken, ("name",)),
    ):
        _replace_mentions(model, fields, identities, placeholder)

    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()

    audit.record_event(
        audit.USER_PURGED,
        user=by,
        detail=f"personal data of user #{user.pk} purged; reason: {reason}",
    )
    return user


def _replace_mentions(
    model: type[Model], fields: Sequence[str], identities: Sequence[str], placeholder: str
) -> None:
    """Replace every mention of the identities, in any case, in these text columns."""
    if not identities:
        return
    # Longest first: a member's username is their e-mail, which contains shorter names.
    pattern = re.compile(
        "|".join(re.escape(value) for value in sorted(identities, key=len, reverse=True)),
        re.IGNORECASE,
    )
    mentions = Q()
    for field in fields:
        for value in identities:
            mentions |= Q(**{f"{field}__icontains": value})
    for row in model._default_manager.filter(mentions).only("pk", *fields):
        for field in fields:
            setattr(row, field, pattern.sub(placeholder, getattr(row, field)))
        row.save(update_fields=fields)
