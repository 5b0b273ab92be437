"""Organisations and their members."""

from django.db import transaction

from ..models import Membership, Organisation


@transaction.atomic
def organisation_create(*, by, **fields):
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
