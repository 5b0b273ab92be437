"""What every workflow shares: the rule check and the version lock (its error, `StaleEdit`,
lives in `core.locking`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import F, Model
from django.utils import timezone

from core.locking import StaleEdit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..models import Initiative

__all__ = ["StaleEdit", "claim_version", "lock_at_version", "require"]


def require(by: User | None, permission: str, obj: Model | None, message: str) -> None:
    """Refuse the workflow unless `by` holds the rule (`initiatives/rules.py`).

    `by=None` is the system itself (seeding, imports, migrations), which holds every rule.
    """
    if by is not None and not by.has_perm(permission, obj):
        raise PermissionDenied(message)


def claim_version(*, initiative: Initiative, by: User | None, expected_version: int | None) -> int:
    """Move the initiative to its next version if it is still at `expected_version`.

    One conditional UPDATE (`... WHERE version = expected`): of two writers holding the same
    version, exactly one wins and the other gets `StaleEdit`. `expected_version=None` means
    the caller had no version to offer (a write that cannot conflict with an edit, such as a
    new timeline entry from a form without one); the row is then bumped unconditionally, which
    still tells every open editor that the record changed. Call it inside the transaction that
    performs the write, so that a refused write changes nothing. Returns the new version and
    updates `initiative` in memory.
    """
    from ..models import Initiative

    rows = Initiative.objects.filter(pk=initiative.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    now = timezone.now()
    if not rows.update(version=F("version") + 1, updated_at=now, updated_by=by):
        current = Initiative.objects.filter(pk=initiative.pk).values_list("version", flat=True)
        raise StaleEdit(current.first())
    initiative.version = Initiative.objects.values_list("version", flat=True).get(pk=initiative.pk)
    initiative.updated_at = now
    initiative.updated_by = by
    return initiative.version


def lock_at_version(initiative: Initiative, expected_version: int | None) -> Initiative:
    """The initiative locked for the transaction (`SELECT ... FOR UPDATE`), if it is still at
    `expected_version`; `StaleEdit` otherwise (None: the caller had no version to offer).

    For workflows that must read the record before they know what to write (the stage
    history is checked whole); they move the version on themselves when they save.
    """
    from ..models import Initiative

    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleEdit(locked.version)
    return locked
