"""Organisations and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Membership, Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def organisation_create(*, by: User, **fields: Any) -> Organisation:
    """A new organisation, with its creator as its active admin, so someone can run it."""
    organisation = Organisation(**fields)
    organisation.full_clean()
    organisation._history_user = by
    organisation.save()
    Membership.objects.create(
        user=by,
        organisation=organisation,
        role=Membership.Role.ADMIN,
        status=Membership.Status.ACTIVE,
    )
    return organisation


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, by: User, fields: dict[str, Any] | None = None
) -> Organisation:
    """Save changes to an organisation's details.

    fields: the values to set; None when the caller (an admin form) already set them on the
    instance. Renaming takes the verified badge off (see `Organisation.save`), unless the
    same change says `verified` and comes from someone who may verify organisations.
    """
    may_verify = by.has_perm("initiatives.verify_organisation_badge")
    stored = type(organisation).objects.filter(pk=organisation.pk)
    was_verified = stored.values_list("verified", flat=True).first()
    if fields is not None:
        for name, value in fields.items():
            setattr(organisation, name, value)
        says_verified = fields.get("verified") is True
    else:
        says_verified = organisation.verified
    if organisation.verified != was_verified and not may_verify:
        raise ValidationError({"verified": _("Only staff verify organisations.")})
    organisation.full_clean()
    organisation._history_user = by
    organisation.save(keep_verified=may_verify and says_verified)
    return organisation
