"""Memberships: asking to join, accepting or refusing, roles, leaving and removal.

An organisation always keeps at least one active admin. Every workflow here that can change
who is admin first locks the organisation's row (`SELECT ... FOR UPDATE`), then reads the
memberships again and checks the rule and the caller's rights on what it reads. Two admins
removing each other therefore run one after the other: the second finds that it is no
longer an admin and is refused. The organisation row is the first lock each of them takes
(several rows: in the order of their ids), so they cannot deadlock with each other.

Who manages members: the organisation's active admins, and staff who may change any record
(`initiatives.manage_members` in `initiatives/rules.py`). A person may always leave an
organisation, or withdraw their request to join, unless they are its last admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..models import Membership, Organisation
from ..rules import forget_memberships
from .notifications import notify

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MANAGE_MEMBERS = "initiatives.manage_members"


def _lock_organisations(*pks: int | None) -> list[Organisation]:
    """Lock the organisations' rows, always in the order of their ids."""
    ordered = sorted({pk for pk in pks if pk is not None})
    locked = {o.pk: o for o in Organisation.objects.select_for_update().filter(pk__in=ordered)}
    return [locked[pk] for pk in ordered if pk in locked]


def _locked(membership: Membership) -> Membership:
    """The organisation, locked, and the membership as it is now (the caller's copy may be
    older than the lock)."""
    _lock_organisations(membership.organisation_id)
    current = (
        Membership.objects.select_related("user", "organisation")
        .filter(pk=membership.pk, organisation_id=membership.organisation_id)
        .first()
    )
    if current is None:
        raise ValidationError(
            _("This person is no longer listed in the organisation."), code="gone"
        )
    return current


def _check_manager(by: User | None, organisation: Organisation) -> None:
    if not (by is not None and by.has_perm(MANAGE_MEMBERS, organisation)):
        raise PermissionDenied(_("Only the organisation's admins manage its members."))


def _is_active_admin(membership: Membership) -> bool:
    return (
        membership.status == Membership.Status.ACTIVE and membership.role == Membership.Role.ADMIN
    )


def _other_admins(organisation_id: int, membership: Membership) -> bool:
    return (
        Membership.objects.active()
        .filter(organisation_id=organisation_id, role=Membership.Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )


def check_keeps_an_admin(membership: Membership, *, removed: bool = False) -> None:
    """Refuse a change of `membership` (its new role and status, or its removal) that would
    leave the organisation it belonged to without an active admin.

    Reads the stored membership. Without the lock this is the early check that forms use for
    a clear message; the workflows below call it again under the lock.
    """
    if membership.pk is None:
        return
    stored = Membership.objects.filter(pk=membership.pk).first()
    if stored is None or not _is_active_admin(stored):
        return
    stays = (
        not removed
        and _is_active_admin(membership)
        and membership.organisation_id == stored.organisation_id
    )
    if not stays and not _other_admins(stored.organisation_id, stored):
        raise ValidationError(
            _("An organisation needs at least one admin: make someone else admin first."),
            code="last_admin",
        )


def _name(membership: Membership) -> str:
    return membership.user.get_full_name() or membership.user.get_username()


@transaction.atomic
def membership_request(*, user: User, organisation: Organisation, link: str = "") -> Membership:
    """Ask to join `organisation`; its admins are told, with `link` to the page to answer."""
    exists = _("You are already a member of “%(name)s”, or have asked to join it.") % {
        "name": organisation.name
    }
    if Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ValidationError(exists, code="exists")
    try:
        # A double click sends the request twice: the second waits for the first and then
        # meets the unique constraint. The savepoint keeps the transaction usable.
        with transaction.atomic():
            membership = Membership.objects.create(user=user, organisation=organisation)
    except IntegrityError:
        raise ValidationError(exists, code="exists") from None
    forget_memberships(user)
    admins = Membership.objects.active().filter(
        organisation=organisation, role=Membership.Role.ADMIN
    )
    notify(
        admins.values_list("user__email", flat=True),
        _("%(user)s asks to join %(name)s")
        % {"user": user.get_username(), "name": organisation.name},
        _("Accept or decline the request on %(url)s") % {"url": link}
        if link
        else _("Accept or decline the request on the organisation's page."),
    )
    return membership


@transaction.atomic
def membership_accept(*, membership: Membership, by: User | None) -> Membership:
    membership = _locked(membership)
    _check_manager(by, membership.organisation)
    if membership.status != Membership.Status.PENDING:
        raise ValidationError(
            _("%(name)s is already a member.") % {"name": _name(membership)}, code="active"
        )
    membership.status = Membership.Status.ACTIVE
    membership.save(update_fields=["status"])
    forget_memberships(membership.user)
    organisation = membership.organisation
    notify(
        [membership.user.email],
        _("You are now a member of %(name)s") % {"name": organisation.name},
        _("Your request to join %(name)s was accepted.") % {"name": organisation.name},
    )
    return membership


@transaction.atomic
def membership_refuse(*, membership: Membership, by: User | None) -> None:
    """Decline a request to join (the request is deleted; the person may ask again)."""
    membership = _locked(membership)
    _check_manager(by, membership.organisation)
    if membership.status != Membership.Status.PENDING:
        raise ValidationError(
            _("%(name)s is already a member; remove them instead.") % {"name": _name(membership)},
            code="active",
        )
    membership.delete()
    forget_memberships(membership.user)


@transaction.atomic
def membership_set_role(*, membership: Membership, by: User | None, role: str) -> Membership:
    membership = _locked(membership)
    _check_manager(by, membership.organisation)
    if role not in Membership.Role.values:
        raise ValidationError(_("Choose a valid role."), code="invalid")
    membership.role = role
    check_keeps_an_admin(membership)
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User | None) -> None:
    """Remove a member, or (when `by` is the member) leave the organisation."""
    membership = _locked(membership)
    if by is None or membership.user_id != by.pk:
        _check_manager(by, membership.organisation)
    check_keeps_an_admin(membership, removed=True)
    membership.delete()
    forget_memberships(membership.user)
    if by is not None and by.pk == membership.user_id:
        forget_memberships(by)


@transaction.atomic
def membership_save(*, membership: Membership, by: User | None) -> Membership:
    """Save a membership as edited in the admin (any role, status, person or organisation),
    under the same lock and rules as the workflows above."""
    stored = Membership.objects.filter(pk=membership.pk).values_list("organisation_id", flat=True)
    previous = stored.first() if membership.pk else None
    organisations = _lock_organisations(membership.organisation_id, previous)
    for organisation in organisations:
        _check_manager(by, organisation)
    check_keeps_an_admin(membership)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        raise ValidationError(
            _("This person is already listed in this organisation."), code="exists"
        ) from None
    forget_memberships(membership.user)
    return membership
